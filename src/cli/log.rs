//! serve's log lines on stderr: text for people, or JSON lines (`--log-format json`) for Fluent
//! Bit / Loki, carrying the same correlation id as the journal events of the process.
#![allow(clippy::print_stderr)]

use crate::config::Component;
use crate::serve::Log;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct StderrLog {
    pub format: LogFormat,
    pub correlation_id: String,
    pub quiet: bool,
}

impl Log for StderrLog {
    fn log(&self, level: &'static str, component: Option<Component>, message: &str, fields: serde_json::Value) {
        if self.quiet && level == "info" {
            return;
        }
        let ts = crate::journal::format_ts(&crate::journal::now());
        match self.format {
            LogFormat::Json => {
                let mut line = serde_json::json!({
                    "ts": ts, "level": level, "msg": message, "component": component,
                    "correlation_id": self.correlation_id,
                });
                if let (Some(map), serde_json::Value::Object(extra)) = (line.as_object_mut(), fields) {
                    for (k, v) in extra {
                        map.entry(k).or_insert(v);
                    }
                }
                crate::config::redact_json(&mut line);
                eprintln!("{line}");
            }
            LogFormat::Text => {
                let component = component.map_or(String::new(), |c| format!(" {c}:"));
                let extra = match &fields {
                    serde_json::Value::Object(m) if !m.is_empty() => format!(" {fields}"),
                    _ => String::new(),
                };
                let line = format!("{ts} {level:<5}{component} {message}{extra}");
                eprintln!("{}", crate::config::redact_userinfo(&line));
            }
        }
    }
}
