//! Secrets (passwords, tokens) come from an environment variable or a file, never from config text,
//! and never print: `Debug` and `Display` are masked.

use std::fmt;
use std::path::Path;

use super::Environment;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret value; from now on every output of this process masks it.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The secret itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads the secret from the variable `env_name`, else from `file` (first line, trimmed).
    pub fn lookup(env: &dyn Environment, env_name: &str, file: Option<&Path>) -> Result<Option<Secret>, String> {
        if !env_name.is_empty() {
            if let Some(value) = env.var(env_name) {
                return Ok(Some(Secret::new(value)));
            }
        }
        file.map(Secret::from_file).transpose()
    }

    /// The first line of `path`, trimmed — refused when every user may read the file.
    pub fn from_file(path: &Path) -> Result<Secret, String> {
        let text = Secret::read_private(path)?;
        Ok(Secret::new(text.lines().next().unwrap_or("").trim()))
    }

    /// The whole text of a secret file (a key file), refused when every user may read it. The
    /// text itself is not remembered for masking: it is never printed.
    pub fn read_private(path: &Path) -> Result<String, String> {
        match std::fs::read_to_string(path) {
            Ok(_) if others_can_read(path) => Err(format!(
                "secret file `{}` is readable by every user; run `chmod 600 {}` (or 640 with a group)",
                path.display(),
                path.display()
            )),
            Ok(text) => Ok(text),
            Err(e) => Err(format!("cannot read secret file `{}`: {e}", path.display())),
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

/// Secret values this process knows — passwords written into configured URLs, and the secrets read
/// from the environment or files — masked wherever they appear, even where no URL shape is left to
/// recognise (a password with a space or a quote, a raw URL in a parse error).
static KNOWN: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Values shorter than this are not masked by value: replacing every `ab` in all output would
/// garble it, and a secret that short protects nothing.
pub const MIN_MASKED_LEN: usize = 4;

/// Remembers a secret value so every output masks it.
pub fn remember(value: &str) {
    let value = value.trim();
    if value.len() < MIN_MASKED_LEN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_string());
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Remembers the password in a configured URL, read leniently (it may not even parse): what is
/// between `://` (or the first `:` after it) and the last `@`, raw and percent-decoded, and the
/// value of a `pass`/`password` query parameter (`unix:///run/redis.sock?pass=…`).
pub fn remember_url_secrets(raw: &str) {
    let Some((_, rest)) = raw.split_once("://") else { return };
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        let secret = userinfo.split_once(':').map_or(userinfo, |(_, pw)| pw);
        remember(secret);
        remember(&percent_decode(secret));
    }
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            if let Some(("pass" | "password", value)) = pair.split_once('=') {
                remember(value);
                remember(&percent_decode(value));
            }
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every remembered secret value in `text` replaced by `mask`.
pub fn mask_values<'a>(text: std::borrow::Cow<'a, str>, mask: &str) -> std::borrow::Cow<'a, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    if known.iter().all(|k| !text.contains(k.as_str())) {
        return text;
    }
    let mut owned = text.into_owned();
    for k in known.iter() {
        owned = owned.replace(k.as_str(), mask);
    }
    std::borrow::Cow::Owned(owned)
}

/// Masks the password (or a lone token) in the userinfo of every URL in `text`:
/// `redis://:pw@host` → `redis://:***@host`, `http://user:pw@h` → `http://user:***@h`,
/// `https://token@h` → `https://***@h`. Every output, log line and journal event passes through
/// this, so a credential written into a URL never leaves the process in clear.
pub fn redact_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    mask_values(redact_url_shapes(text), "***")
}

fn redact_url_shapes(text: &str) -> std::borrow::Cow<'_, str> {
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
            ("x://redis://u:pw4x@h", "x://redis://u:***@h"),
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
