//! Degraded modes: after a failed recovery of a component (or `graceful_degradation`), what still
//! works and what does not, until the component is healthy again. Derived from the journal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Component, Config};
use crate::health::Status;

use super::Strategy;
use super::state::RecoveryState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegradedMode {
    pub since: DateTime<Utc>,
    pub available: Vec<String>,
    pub lost: Vec<String>,
}

/// What a component's outage costs, unless the config says otherwise
/// (`[recovery.degraded_modes.<component>]`).
pub fn capabilities(config: &Config, component: Component) -> (Vec<String>, Vec<String>) {
    if let Some(custom) = config.recovery.degraded_modes.get(component.name()) {
        return (custom.available.clone(), custom.lost.clone());
    }
    let (available, lost): (&[&str], &[&str]) = match component {
        Component::Redis => (
            &["chat through OpenWebUI (no shared sessions or cache)", "semantic search"],
            &["response cache", "websocket fan-out across OpenWebUI workers", "rate limiting"],
        ),
        Component::Chromadb => {
            (&["chat without retrieval", "cache"], &["semantic search", "RAG answers with citations"])
        }
        Component::Openwebui => (&["vector search API", "cache"], &["the web chat UI"]),
        Component::System => (&["reads"], &["writes to full disks", "new snapshots"]),
    };
    (available.iter().map(|s| s.to_string()).collect(), lost.iter().map(|s| s.to_string()).collect())
}

/// Active when the component's last recovery attempt failed (or entered degraded mode) and it has
/// not been healthy since.
pub fn active(config: &Config, state: &RecoveryState, component: Component) -> Option<DegradedMode> {
    let last = state.attempts.iter().rev().find(|a| a.component == component && !a.unfinished)?;
    if last.success && last.strategy != Strategy::GracefulDegradation {
        return None;
    }
    let healed = state.transitions.iter().any(|(ts, c, s)| *c == component && *s == Status::Healthy && *ts > last.ts);
    if healed {
        return None;
    }
    let (available, lost) = capabilities(config, component);
    Some(DegradedMode { since: last.ts, available, lost })
}
