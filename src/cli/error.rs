//! The error a command ends with: a message, hints, and the exit code scripts see.

use serde::Serialize;

use crate::config::ConfigError;
use crate::exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Usage,
    Config,
    Failed,
    Unreachable,
    Integrity,
    Refused,
    Interrupted,
}

#[derive(Debug, Clone)]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
    pub exit_code: u8,
    /// The config key at fault, for config errors.
    pub key: Option<String>,
}

impl CliError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> CliError {
        let exit_code = match kind {
            ErrorKind::Usage | ErrorKind::Config => exit::USAGE,
            ErrorKind::Failed => exit::FAILURE,
            ErrorKind::Unreachable => exit::UNREACHABLE,
            ErrorKind::Integrity => exit::INTEGRITY,
            ErrorKind::Refused => exit::REFUSED,
            ErrorKind::Interrupted => exit::INTERRUPTED,
        };
        CliError { kind, message: message.into(), hints: Vec::new(), exit_code, key: None }
    }

    pub fn failed(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Failed, message)
    }

    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Usage, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hints.push(hint.into());
        self
    }

    pub fn exit_code(mut self, code: u8) -> CliError {
        self.exit_code = code;
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": {
            "kind": self.kind, "message": self.message, "hints": self.hints,
            "key": self.key, "exit_code": self.exit_code,
        }})
    }
}

impl From<ConfigError> for CliError {
    fn from(err: ConfigError) -> CliError {
        let key = err.key().map(String::from);
        // `config show` would fail with the same error: say where to look instead.
        let hint = match &err {
            ConfigError::Read { path, .. } => format!("check that `{}` exists and is readable", path.display()),
            ConfigError::Syntax { path, line, .. } => {
                format!("fix line {line} of `{}`, then run again", path.display())
            }
            ConfigError::Invalid { key, .. } if key == "target" || key == "default_target" => {
                "`ifctl targets` lists the targets the config file defines".to_string()
            }
            ConfigError::Invalid { origin, key, .. } => {
                format!("fix `{key}` in {origin}, then run again; `ifctl config show` lists every value once it loads")
            }
            ConfigError::Insecure { path, .. } => {
                format!("check who changed `{}` and whether its commands are still yours", path.display())
            }
        };
        let mut error = CliError::new(ErrorKind::Config, err.to_string()).hint(hint);
        error.key = key;
        error
    }
}

impl From<crate::journal::JournalError> for CliError {
    fn from(err: crate::journal::JournalError) -> CliError {
        CliError::failed(err.to_string())
    }
}
