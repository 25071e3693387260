//! Recovery state derived from the journal — the single source of truth: attempts in the rolling
//! hour, pending approvals, disable windows, recent health transitions.
//!
//! Reads backwards from the end and stops at the horizon, and only parses lines whose `kind` is
//! relevant, so the cost depends on the last hours of the journal, not on its size.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Component;
use crate::health::Status;
use crate::journal::{Event, NewestFirst, line_second, string_field, to_second, ts_finder};

use super::{Plan, Strategy};

/// The longest `disable --for`: disable windows older than this cannot still be active.
pub const MAX_DISABLE: Duration = Duration::hours(72);

pub const ATTEMPT: &str = "recovery.attempt";
/// Written before a real action runs (write-ahead): an action whose `recovery.attempt` never
/// follows (ifctl killed in between) still counts against the budget and closes its approval.
pub const STARTED: &str = "recovery.started";
/// serve found the budget spent (journaled once per suspension).
pub const SUSPENDED: &str = "recovery.suspended";
pub const PENDING: &str = "recovery.pending";
pub const GRANTED: &str = "approval.granted";
pub const DENIED: &str = "approval.denied";
pub const DISABLED: &str = "recovery.disabled";
pub const ENABLED: &str = "recovery.enabled";
pub const TRANSITION: &str = "health.transition";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub ts: DateTime<Utc>,
    pub component: Component,
    pub strategy: Strategy,
    pub success: bool,
    pub action_id: Option<String>,
    /// Begun (`recovery.started`) but its end never journaled: in flight, or ifctl was killed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unfinished: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pending {
    pub action_id: String,
    pub ts: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub plan: Plan,
    pub plan_hash: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disable {
    /// `None`: every component.
    pub component: Option<Component>,
    pub until: DateTime<Utc>,
    pub reason: String,
    pub by: String,
}

/// How an action id was closed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Closed {
    pub kind: String,
    pub ts: DateTime<Utc>,
    pub by: String,
}

#[derive(Debug, Clone, Default)]
pub struct RecoveryState {
    pub now: DateTime<Utc>,
    /// Attempts within the horizon, oldest first.
    pub attempts: Vec<Attempt>,
    /// Approval requests within the horizon, by action id (closed or not; see `closed`).
    pub requests: BTreeMap<String, Pending>,
    pub closed: HashMap<String, Closed>,
    /// The newest disable/enable per scope (`None` = global) within `MAX_DISABLE`.
    pub disables: HashMap<Option<Component>, Option<Disable>>,
    /// Health transitions within the horizon, oldest first.
    pub transitions: Vec<(DateTime<Utc>, Component, Status)>,
    /// Journal lines read (for the benchmark and curiosity).
    pub lines_read: u64,
}

/// Reads the state of `target` as of `now`, looking back `horizon` (attempts, approvals,
/// transitions) and `MAX_DISABLE` (disable windows). A target's state is its own events and those
/// without a target — written before the config had targets, about the one stack there was — so
/// adding targets never forgets a disable window or a spent budget (it may apply them to more
/// stacks than before, the safe side). `None` (a config without targets) reads only those.
pub fn derive(
    journal: &Path,
    now: DateTime<Utc>,
    horizon: Duration,
    target: Option<&str>,
) -> std::io::Result<RecoveryState> {
    let mut state = RecoveryState { now, ..RecoveryState::default() };
    // Timestamps are UTC RFC 3339; their first 19 characters (to the second) compare as text,
    // so most lines are judged without parsing a date.
    let short = to_second(now - horizon);
    let long = to_second(now - MAX_DISABLE.max(horizon));
    let ts_key = ts_finder();
    let kind_key = memchr::memmem::FinderRev::new(b"\"kind\":\"");
    let mut newest_first = Vec::new();
    for line in NewestFirst::open(journal)? {
        let line = line?;
        state.lines_read += 1;
        let Some(ts) = line_second(&line, &ts_key) else { continue };
        if ts < long.as_str() {
            break;
        }
        let Some(kind) = string_field(&line, &kind_key) else { continue };
        let wanted = match kind {
            DISABLED | ENABLED => true,
            ATTEMPT | STARTED | PENDING | GRANTED | DENIED | TRANSITION => ts >= short.as_str(),
            _ => false,
        };
        if wanted
            && let Ok(event) = serde_json::from_slice::<Event>(&line)
            && (event.target.is_none() || event.target.as_deref() == target)
        {
            newest_first.push(event);
        }
    }
    for event in newest_first.iter() {
        if matches!(event.kind.as_str(), DISABLED | ENABLED) {
            let scope = event.component.as_deref().and_then(parse_component);
            state.disables.entry(scope).or_insert_with(|| {
                (event.kind == DISABLED).then(|| Disable {
                    component: scope,
                    until: event.details.get("until").and_then(|u| u.as_str()).and_then(parse_ts).unwrap_or(event.ts),
                    reason: event.details.get("reason").and_then(|r| r.as_str()).unwrap_or_default().to_string(),
                    by: event.user.clone(),
                })
            });
        }
    }
    // Begun actions by attempt id, until their `recovery.attempt` is seen.
    let mut begun: BTreeMap<String, Attempt> = BTreeMap::new();
    for event in newest_first.into_iter().rev() {
        let component = event.component.as_deref().and_then(parse_component);
        let detail = |key: &str| event.details.get(key).cloned().unwrap_or(serde_json::Value::Null);
        match event.kind.as_str() {
            STARTED => {
                let (Some(component), Ok(strategy), Some(id)) = (
                    component,
                    serde_json::from_value::<Strategy>(detail("strategy")),
                    detail("attempt_id").as_str().map(String::from),
                ) else {
                    continue;
                };
                let action_id = detail("action_id").as_str().map(String::from);
                if let Some(action) = &action_id {
                    state.close_executed(action, &event);
                }
                begun.insert(
                    id,
                    Attempt { ts: event.ts, component, strategy, success: false, action_id, unfinished: true },
                );
            }
            ATTEMPT => {
                let (Some(component), Ok(strategy)) =
                    (component, serde_json::from_value::<Strategy>(detail("strategy")))
                else {
                    continue;
                };
                if let Some(id) = detail("attempt_id").as_str() {
                    begun.remove(id);
                }
                state.attempts.push(Attempt {
                    ts: event.ts,
                    component,
                    strategy,
                    success: event.outcome == "success",
                    action_id: detail("action_id").as_str().map(String::from),
                    unfinished: false,
                });
                if let Some(id) = detail("action_id").as_str() {
                    state.close_executed(id, &event);
                }
            }
            PENDING => {
                let (Some(id), Ok(plan)) =
                    (detail("action_id").as_str().map(String::from), serde_json::from_value::<Plan>(detail("plan")))
                else {
                    continue;
                };
                let expires_at = detail("expires_at").as_str().and_then(parse_ts).unwrap_or(event.ts);
                state.requests.insert(
                    id.clone(),
                    Pending {
                        action_id: id,
                        ts: event.ts,
                        expires_at,
                        plan_hash: detail("plan_hash").as_str().unwrap_or_default().to_string(),
                        plan,
                        reason: detail("reason").as_str().map(String::from),
                    },
                );
            }
            GRANTED | DENIED => {
                if let Some(id) = detail("action_id").as_str() {
                    let kind = if event.kind == GRANTED { "approved" } else { "denied" };
                    state.closed.entry(id.to_string()).or_insert(Closed {
                        kind: kind.into(),
                        ts: event.ts,
                        by: event.user.clone(),
                    });
                    if event.kind == DENIED {
                        state.closed.insert(
                            id.to_string(),
                            Closed { kind: "denied".into(), ts: event.ts, by: event.user.clone() },
                        );
                    }
                }
            }
            TRANSITION => {
                if let (Some(component), Ok(to)) = (component, serde_json::from_value::<Status>(detail("to"))) {
                    state.transitions.push((event.ts, component, to));
                }
            }
            _ => {}
        }
    }
    state.attempts.extend(begun.into_values());
    state.attempts.sort_by_key(|a| a.ts);
    Ok(state)
}

/// [`derive`] for the stack `config` describes: its journal, the policy's horizon, its target.
pub fn derive_for(config: &crate::config::Config, now: DateTime<Utc>) -> std::io::Result<RecoveryState> {
    derive(&config.journal_path(), now, super::horizon(config), config.target.as_deref())
}

impl RecoveryState {
    /// The approved action `action_id` ran (or began to): it cannot be approved again.
    fn close_executed(&mut self, action_id: &str, event: &Event) {
        self.closed
            .insert(action_id.to_string(), Closed { kind: "executed".into(), ts: event.ts, by: event.user.clone() });
    }

    /// The active disable window for a component (its own, else the global one).
    pub fn disabled(&self, component: Component) -> Option<&Disable> {
        [Some(component), None]
            .iter()
            .filter_map(|scope| self.disables.get(scope).and_then(Option::as_ref))
            .find(|d| d.until > self.now)
    }

    /// Open approval requests: not approved, denied, executed or expired.
    pub fn pending(&self) -> Vec<&Pending> {
        self.requests.values().filter(|p| !self.closed.contains_key(&p.action_id) && p.expires_at > self.now).collect()
    }

    /// Attempts of a component in the last hour that still count against its budget: real actions,
    /// not plain retries; a period of `healthy_reset` spent healthy gives the budget back.
    pub fn counted_attempts(&self, component: Component, healthy_reset: Duration) -> Vec<&Attempt> {
        let hour_ago = self.now - Duration::hours(1);
        let reset_at = self.last_reset(component, healthy_reset);
        self.attempts
            .iter()
            .filter(|a| a.component == component && !a.strategy.is_free())
            .filter(|a| a.ts > hour_ago && reset_at.is_none_or(|r| a.ts > r))
            .collect()
    }

    /// The end of the latest healthy period at least `healthy_reset` long.
    fn last_reset(&self, component: Component, healthy_reset: Duration) -> Option<DateTime<Utc>> {
        let mine: Vec<&(DateTime<Utc>, Component, Status)> =
            self.transitions.iter().filter(|t| t.1 == component).collect();
        let mut reset = None;
        for (i, (ts, _, status)) in mine.iter().enumerate() {
            if *status != Status::Healthy {
                continue;
            }
            let end = mine.get(i + 1).map_or(self.now, |next| next.0);
            if end - *ts >= healthy_reset {
                reset = Some(end);
            }
        }
        reset
    }
}

/// The string value of a top-level `"key":"value"` in a canonical JSON line, without parsing the
/// line. Keys are sorted, so `details` (which may hold the same key) comes before `kind` and `ts`:
/// the last occurrence is the top-level one.
fn parse_component(name: &str) -> Option<Component> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Identity, Journal, NewEvent};

    fn attempt(journal: &Journal) {
        journal
            .append(NewEvent::new(ATTEMPT, "failure").component("redis").details(serde_json::json!({
                "strategy": "restart", "attempt_id": uuid::Uuid::now_v7().to_string(),
            })))
            .unwrap();
    }

    /// A target's state is its own events and those written before the config had targets;
    /// never another target's.
    #[test]
    fn a_target_counts_its_own_and_untargeted_events_never_another_targets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let untargeted = Journal::new(&path, Identity::current());
        attempt(&untargeted);
        let prod = untargeted.clone().with_target(Some("prod".into()));
        attempt(&prod);
        attempt(&prod);
        untargeted
            .clone()
            .with_target(Some("staging".into()))
            .append(
                NewEvent::new(DISABLED, "disabled")
                    .details(serde_json::json!({"until": "2999-01-01T00:00:00Z", "reason": "staging only"})),
            )
            .unwrap();
        let now = crate::journal::now();
        let hour = Duration::hours(2);
        let count = |target: Option<&str>| {
            derive(&path, now, hour, target).unwrap().counted_attempts(Component::Redis, Duration::hours(1)).len()
        };
        assert_eq!(count(Some("prod")), 3, "its two and the one from before targets");
        assert_eq!(count(Some("staging")), 1, "only the one from before targets");
        assert_eq!(count(None), 1, "without targets: the untargeted ones, as always");
        assert!(derive(&path, now, hour, Some("staging")).unwrap().disabled(Component::Redis).is_some());
        assert!(derive(&path, now, hour, Some("prod")).unwrap().disabled(Component::Redis).is_none());
    }
}
