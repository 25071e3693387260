//! Status transitions: what `health check`, `watch` and `serve` write to the journal — a change,
//! never every tick. The last known status of each component is read back from the journal.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::config::Component;
use crate::journal::{NewEvent, NewestFirst};

use super::{HealthReport, Status};

/// How far back to look for a component's last journaled status before treating it as new.
const LOOKBACK_LINES: usize = 20_000;

pub const KIND: &str = "health.transition";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Transition {
    pub component: Component,
    pub from: Option<Status>,
    pub to: Status,
    pub reason: Option<String>,
    pub caused_by: Vec<Component>,
}

impl Transition {
    pub fn event(&self) -> NewEvent {
        NewEvent::new(KIND, self.to.as_str()).component(self.component.name()).details(serde_json::json!({
            "from": self.from, "to": self.to, "reason": self.reason, "caused_by": self.caused_by,
        }))
    }
}

/// Components whose status differs from the last one known.
pub fn transitions(previous: &BTreeMap<Component, Status>, report: &HealthReport) -> Vec<Transition> {
    report
        .components
        .iter()
        .filter(|c| previous.get(&c.component) != Some(&c.status))
        .map(|c| Transition {
            component: c.component,
            from: previous.get(&c.component).copied(),
            to: c.status,
            reason: c.reason.clone(),
            caused_by: c.caused_by.clone(),
        })
        .collect()
}

/// The last journaled status of each wanted component of `target`, reading from the end of the
/// journal.
pub fn last_journaled(journal: &Path, target: Option<&str>, wanted: &[Component]) -> BTreeMap<Component, Status> {
    let mut found = BTreeMap::new();
    let Ok(lines) = NewestFirst::open(journal) else { return found };
    #[derive(serde::Deserialize)]
    struct Head {
        kind: String,
        component: Option<Component>,
        #[serde(default)]
        target: Option<String>,
        details: Option<Details>,
    }
    #[derive(serde::Deserialize)]
    struct Details {
        to: Option<Status>,
    }
    for line in lines.take(LOOKBACK_LINES) {
        let Ok(line) = line else { break };
        let Ok(head) = serde_json::from_slice::<Head>(&line) else { continue };
        if head.kind != KIND || head.target.as_deref() != target {
            continue;
        }
        if let (Some(component), Some(Details { to: Some(to) })) = (head.component, head.details) {
            if wanted.contains(&component) {
                found.entry(component).or_insert(to);
            }
        }
        if wanted.iter().all(|c| found.contains_key(c)) {
            break;
        }
    }
    found
}
