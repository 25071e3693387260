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
                Ok(_) if others_can_read(path) => Err(format!(
                    "secret file `{}` is readable by every user; run `chmod 600 {}` (or 640 with a group)",
                    path.display(),
                    path.display()
                )),
                Ok(text) => Ok(Some(Secret(text.lines().next().unwrap_or("").trim().to_string()))),
                Err(e) => Err(format!("cannot read secret file `{}`: {e}", path.display())),
            },
        }
    }
}

fn others_can_read(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
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

/// Masks the password (or a lone token) in the userinfo of every URL in `text`:
/// `redis://:pw@host` → `redis://:***@host`, `http://user:pw@h` → `http://user:***@h`,
/// `https://token@h` → `https://***@h`. Every output, log line and journal event passes through
/// this, so a credential written into a URL never leaves the process in clear.
pub fn redact_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>' | '\\'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        let Some(split) = authority.rfind('@') else {
            rest = tail; // no userinfo: scan on from here (`x://redis://u:p@h` has a second URL)
            continue;
        };
        match authority[..split].split_once(':') {
            Some((user, _)) => {
                out.push_str(user);
                out.push_str(":***");
            }
            None => out.push_str("***"),
        }
        out.push_str(&authority[split..]);
        rest = &tail[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// [`redact_userinfo`] on every string (and key) of a JSON value.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(clean) = redact_userinfo(s) {
                *s = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| k.contains("://")) {
                let entries = std::mem::take(map);
                *map = entries.into_iter().map(|(k, v)| (redact_userinfo(&k).into_owned(), v)).collect();
            }
            map.values_mut().for_each(redact_json);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_masked_in_every_url_of_a_text() {
        let cases = [
            (
                "cannot reach redis://:hunter2@10.0.0.5:6379/0: refused",
                "cannot reach redis://:***@10.0.0.5:6379/0: refused",
            ),
            (
                "`http://ops:pa:ss@chroma:8000` and https://tok3n@h/x?q=1",
                "`http://ops:***@chroma:8000` and https://***@h/x?q=1",
            ),
            ("{\"url\":\"rediss://u:p%40ss@h\"}", "{\"url\":\"rediss://u:***@h\"}"),
            ("redis://host:6379 has no userinfo; nor does a:b@c", "redis://host:6379 has no userinfo; nor does a:b@c"),
            ("a://@", "a://***@"),
            ("ends with ://", "ends with ://"),
        ];
        for (text, want) in cases {
            assert_eq!(redact_userinfo(text), want, "{text}");
        }
        let mut v = serde_json::json!({"a": ["redis://:x@h"], "redis://:y@h": 1});
        redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["redis://:***@h"], "redis://:***@h": 1}));
    }

    proptest::proptest! {
        /// Whatever surrounds it, a password in a URL's userinfo never survives.
        #[test]
        fn no_password_survives(before in "[ -~]{0,20}", user in "[a-z]{0,6}", pw in "[A-Za-z0-9]{8,16}", after in "[ -~]{0,20}") {
            let text = format!("{before}redis://{user}:{pw}@host:6379{after}");
            let clean = redact_userinfo(&text);
            proptest::prop_assert!(!clean.contains(&format!(":{pw}@")), "{}", clean);
        }
    }
}
