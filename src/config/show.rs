//! The flattened view behind `ifctl config show`: every resolved key, its value and its source.

use serde::Serialize;

use super::{Environment, Resolved, Secret, Source};

#[derive(Debug, Clone, Serialize)]
pub struct ShownValue {
    pub key: String,
    /// The value as TOML would write it; secrets are masked.
    pub value: serde_json::Value,
    pub source: String,
}

/// Every leaf key of the resolved config with its source, plus the state of each secret.
pub fn shown_values(resolved: &Resolved, env: &dyn Environment) -> Vec<ShownValue> {
    let tree = serde_json::to_value(&resolved.config).unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    flatten("", &tree, resolved, &mut out);
    let c = &resolved.config;
    let secrets = [
        ("redis.password", &c.redis.password_env, c.redis.password_file.as_deref()),
        ("chromadb.token", &c.chromadb.token_env, c.chromadb.token_file.as_deref()),
        ("openwebui.api_key", &c.openwebui.api_key_env, c.openwebui.api_key_file.as_deref()),
        ("openwebui.token", &c.openwebui.token_env, c.openwebui.token_file.as_deref()),
        ("openwebui.email", &c.openwebui.email_env, None),
        ("openwebui.password", &c.openwebui.password_env, c.openwebui.password_file.as_deref()),
    ];
    for (key, env_name, file) in secrets {
        let (value, source) = if env.var(env_name).is_some() {
            ("********".to_string(), format!("env {env_name}"))
        } else if let Some(path) = file {
            match Secret::lookup(env, "", Some(path)) {
                Ok(_) => ("********".to_string(), format!("file {}", path.display())),
                Err(e) => (format!("(unreadable: {e})"), format!("file {}", path.display())),
            }
        } else {
            ("(not set)".to_string(), format!("env {env_name}"))
        };
        out.push(ShownValue { key: key.to_string(), value: serde_json::Value::String(value), source });
    }
    out
}

fn flatten(prefix: &str, value: &serde_json::Value, resolved: &Resolved, out: &mut Vec<ShownValue>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() && !is_levels(map) => {
            for (key, inner) in map {
                let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&full, inner, resolved, out);
            }
        }
        _ => {
            let source = match resolved.source_of(prefix) {
                Source::Default => "default".to_string(),
                other => other.to_string(),
            };
            out.push(ShownValue { key: prefix.to_string(), value: value.clone(), source });
        }
    }
}

/// `{degraded, unhealthy}` pairs read best on one line.
fn is_levels(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.len() == 2 && map.contains_key("degraded") && map.contains_key("unhealthy")
}
