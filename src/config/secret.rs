//! Secrets (passwords, tokens) come from an environment variable or a file, never from config text,
//! and never print: `Debug` and `Display` are masked.

use std::fmt;
use std::path::Path;

use super::Environment;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads the secret from the variable `env_name`, else from `file` (first line, trimmed).
    pub fn lookup(env: &dyn Environment, env_name: &str, file: Option<&Path>) -> Result<Option<Secret>, String> {
        if !env_name.is_empty() {
            if let Some(value) = env.var(env_name) {
                return Ok(Some(Secret(value)));
            }
        }
        match file {
            None => Ok(None),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(Secret(text.lines().next().unwrap_or("").trim().to_string()))),
                Err(e) => Err(format!("cannot read secret file `{}`: {e}", path.display())),
            },
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}
