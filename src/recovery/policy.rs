//! Whether a recovery may run now: disable windows, the attempt budget per rolling hour, the
//! back-off between rounds of the escalation ladder, and approval. The same rules for `recover`,
//! `approve` and `serve`.
//!
//! An incident is a component's failed attempts since it was last seen healthy or last recovered.
//! Within an incident, strategies run as a ladder: one round goes up the applicable strategies in
//! escalation order without waiting; a new round (back at the bottom) waits a back-off that doubles
//! per round from `backoff_initial_seconds` up to `cooldown_seconds` — a crash-loop back-off.
//! Real actions count against `max_attempts_per_hour`; plain retries (`reconnect`, `query_retry`,
//! `collection_reload`, which only reads) do not. A person's `recover` is not held by the back-off, only by the budget.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::{Component, Config};

use super::state::{Attempt, RecoveryState};
use super::{RecoveryView, Strategy, escalation, needs_approval};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    NeedsApproval,
    Refused { reason: String, until: Option<DateTime<Utc>> },
}

/// Position of a strategy in its component's escalation order.
pub(super) fn rung(strategy: Strategy) -> usize {
    escalation(strategy.component()).iter().position(|s| *s == strategy).unwrap_or(0)
}

/// The attempts of the component's current incident, oldest first: those after it was last seen
/// healthy or last recovered successfully, within the hour.
pub fn incident(state: &RecoveryState, component: Component) -> Vec<&Attempt> {
    let hour_ago = state.now - Duration::hours(1);
    let healthy_at = state
        .transitions
        .iter()
        .filter(|t| t.1 == component && t.2 == crate::health::Status::Healthy)
        .map(|t| t.0)
        .max();
    let recovered_at = state.attempts.iter().filter(|a| a.component == component && a.success).map(|a| a.ts).max();
    let start = [Some(hour_ago), healthy_at, recovered_at].into_iter().flatten().max().unwrap_or(hour_ago);
    state.attempts.iter().filter(|a| a.component == component && a.ts > start).collect()
}

/// Rounds of the ladder in an incident: a round begins when an attempt is not above the previous
/// one in escalation order.
pub fn rounds(attempts: &[&Attempt]) -> u32 {
    let mut rounds = 0;
    let mut previous: Option<usize> = None;
    for a in attempts {
        if previous.is_none_or(|p| rung(a.strategy) <= p) {
            rounds += 1;
        }
        previous = Some(rung(a.strategy));
    }
    rounds
}

/// The wait before round `rounds + 1`: `initial · 2^(rounds-1)`, at most `cooldown_seconds`.
pub fn backoff(config: &Config, rounds: u32) -> Duration {
    let r = &config.recovery;
    let initial = r.backoff_initial_seconds.max(1);
    let grown = initial.saturating_mul(1u64 << rounds.saturating_sub(1).min(32));
    Duration::seconds(grown.min(r.cooldown_seconds.max(initial)) as i64)
}

/// Whether `strategy` would begin a new round (it is not above the incident's last attempt).
fn starts_round(state: &RecoveryState, strategy: Strategy) -> bool {
    incident(state, strategy.component()).last().is_none_or(|last| rung(strategy) <= rung(last.strategy))
}

/// The policy's view of one component now.
pub fn view(config: &Config, state: &RecoveryState, component: Component) -> RecoveryView {
    let r = &config.recovery;
    let counted = state.counted_attempts(component, Duration::seconds(r.healthy_reset_seconds as i64));
    let suspended_until = (r.max_attempts_per_hour > 0 && counted.len() as u32 >= r.max_attempts_per_hour)
        .then(|| counted.first().map(|a| a.ts + Duration::hours(1)))
        .flatten();
    let incident = incident(state, component);
    let round = rounds(&incident);
    // When the next round of the ladder may start: a back-off after the incident's last attempt.
    let cooldown_until = incident.last().map(|last| last.ts + backoff(config, round)).filter(|t| *t > state.now);
    let disabled = state.disabled(component).cloned();
    let next_attempt_at =
        [suspended_until, cooldown_until, disabled.as_ref().map(|d| d.until)].into_iter().flatten().max();
    RecoveryView {
        suspended_until,
        cooldown_until,
        next_attempt_at,
        round,
        disabled,
        pending: state
            .pending()
            .iter()
            .filter(|p| p.plan.component == component)
            .map(|p| p.action_id.clone())
            .collect(),
        attempts_last_hour: counted.len() as u32,
        automatic_off: r.max_attempts_per_hour == 0,
        degraded_mode: super::degraded::active(config, state, component),
    }
}

/// Decides for `strategy` now. `manual`: an operator's `recover`, which neither a disable window
/// nor the back-off between rounds stops (the operator is acting), but the budget does.
pub fn check(config: &Config, state: &RecoveryState, strategy: Strategy, manual: bool) -> Verdict {
    let component = strategy.component();
    let view = view(config, state, component);
    if let (Some(d), false) = (&view.disabled, manual) {
        return Verdict::Refused {
            reason: format!("auto-recovery is disabled until {} ({})", crate::journal::format_ts(&d.until), d.reason),
            until: Some(d.until),
        };
    }
    if view.automatic_off && !manual {
        return Verdict::Refused {
            reason: format!("automatic recovery of {component} is off (`recovery.max_attempts_per_hour = 0`)"),
            until: None,
        };
    }
    if let Some(until) = view.suspended_until.filter(|_| !(manual && strategy.is_free())) {
        return Verdict::Refused {
            reason: format!(
                "{component} is recovery-suspended: {} attempts in the last hour (limit {}); next attempt allowed at {}",
                view.attempts_last_hour,
                config.recovery.max_attempts_per_hour,
                crate::journal::format_ts(&until)
            ),
            until: Some(until),
        };
    }
    if let (Some(until), false) = (view.cooldown_until, manual) {
        if starts_round(state, strategy) {
            return Verdict::Refused {
                reason: format!(
                    "{component}: round {} of recovery failed; backing off, next round at {}",
                    view.round,
                    crate::journal::format_ts(&until)
                ),
                until: Some(until),
            };
        }
    }
    if needs_approval(config, strategy) { Verdict::NeedsApproval } else { Verdict::Allowed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Status;
    use crate::recovery::state::{Attempt, Disable};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().with_timezone(&Utc) + Duration::seconds(secs)
    }

    fn attempt(secs: i64, strategy: Strategy, success: bool) -> Attempt {
        Attempt { ts: at(secs), component: strategy.component(), strategy, success, action_id: None, unfinished: false }
    }

    fn config() -> Config {
        let mut config = Config::default();
        config.recovery.needs_approval.clear();
        config
    }

    #[test]
    fn the_budget_counts_real_actions_not_retries() {
        let mut state = RecoveryState { now: at(1800), ..Default::default() };
        state.attempts = (0..10).map(|i| attempt(i * 60, Strategy::Reconnect, false)).collect();
        assert_eq!(view(&config(), &state, Component::Redis).attempts_last_hour, 0);
        // Re-resolving Chroma's collections only reads: a flapping Chroma keeps its budget.
        state.attempts = (0..10).map(|i| attempt(i * 60, Strategy::CollectionReload, false)).collect();
        assert_eq!(view(&config(), &state, Component::Chromadb).attempts_last_hour, 0);
        state.attempts = vec![
            attempt(0, Strategy::Restart, false),
            attempt(600, Strategy::Restart, false),
            attempt(1200, Strategy::Restart, false),
        ];
        match check(&config(), &state, Strategy::Restart, true) {
            Verdict::Refused { until, reason } => {
                assert_eq!(until, Some(at(3600)));
                assert!(reason.contains("recovery-suspended"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Allowed, "a person may still retry");
        assert!(matches!(check(&config(), &state, Strategy::Reconnect, false), Verdict::Refused { .. }));
        state.now = at(3601);
        assert_eq!(check(&config(), &state, Strategy::Restart, true), Verdict::Allowed, "the oldest left the window");
    }

    #[test]
    fn rounds_go_up_the_ladder_without_waiting_and_back_off_between_rounds() {
        let config = config();
        let mut state = RecoveryState { now: at(2), ..Default::default() };
        state.attempts = vec![attempt(0, Strategy::Reconnect, false)];
        assert_eq!(check(&config, &state, Strategy::Restart, false), Verdict::Allowed, "the next rung: no wait");
        assert!(
            matches!(check(&config, &state, Strategy::Reconnect, false), Verdict::Refused { until: Some(u), .. } if u == at(5)),
            "a new round waits 5 s"
        );
        assert_eq!(check(&config, &state, Strategy::Reconnect, true), Verdict::Allowed, "a person is not held");
        // Back-offs double per round up to cooldown_seconds.
        let waits: Vec<i64> = (1..=9).map(|r| backoff(&config, r).num_seconds()).collect();
        assert_eq!(waits, vec![5, 10, 20, 40, 80, 160, 300, 300, 300]);
        state.attempts = vec![
            attempt(0, Strategy::Reconnect, false),
            attempt(3, Strategy::Restart, false),
            attempt(10, Strategy::Reconnect, false),
            attempt(12, Strategy::Restart, false),
        ];
        state.now = at(13);
        let v = view(&config, &state, Component::Redis);
        assert_eq!((v.round, v.cooldown_until), (2, Some(at(22))), "round 2 failed: 10 s after its last attempt");
        // Healthy again ends the incident: the next failure starts at round 1 with no wait.
        state.transitions = vec![(at(14), Component::Redis, Status::Healthy)];
        state.now = at(20);
        assert_eq!(view(&config, &state, Component::Redis).round, 0);
        assert_eq!(check(&config, &state, Strategy::Reconnect, false), Verdict::Allowed);
    }

    #[test]
    fn zero_attempts_per_hour_means_nothing_automatic() {
        let mut config = config();
        config.recovery.max_attempts_per_hour = 0;
        let state = RecoveryState { now: at(0), ..Default::default() };
        assert!(
            matches!(check(&config, &state, Strategy::Reconnect, false), Verdict::Refused { reason, .. } if reason.contains("is off"))
        );
        assert_eq!(check(&config, &state, Strategy::Restart, true), Verdict::Allowed);
    }

    #[test]
    fn a_healthy_period_resets_the_budget() {
        let mut state = RecoveryState { now: at(2400), ..Default::default() };
        state.attempts = vec![
            attempt(0, Strategy::Restart, true),
            attempt(300, Strategy::Restart, true),
            attempt(600, Strategy::Restart, true),
        ];
        state.transitions =
            vec![(at(660), Component::Redis, Status::Healthy), (at(1320), Component::Redis, Status::Unhealthy)];
        assert_eq!(check(&config(), &state, Strategy::Restart, true), Verdict::Allowed, "11 minutes healthy >= 10");
        state.transitions =
            vec![(at(660), Component::Redis, Status::Healthy), (at(900), Component::Redis, Status::Unhealthy)];
        assert!(
            matches!(check(&config(), &state, Strategy::Restart, true), Verdict::Refused { .. }),
            "4 minutes is not enough"
        );
    }

    #[test]
    fn disable_stops_automatic_not_manual_and_approval_is_asked() {
        let mut state = RecoveryState { now: at(0), ..Default::default() };
        state.disables.insert(
            None,
            Some(Disable { component: None, until: at(1800), reason: "maintenance".into(), by: "op".into() }),
        );
        assert!(matches!(check(&config(), &state, Strategy::Reconnect, false), Verdict::Refused { .. }));
        assert_eq!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Allowed);
        assert_eq!(check(&Config::default(), &state, Strategy::Restart, true), Verdict::NeedsApproval);
        state.now = at(1860);
        assert_eq!(check(&config(), &state, Strategy::Reconnect, false), Verdict::Allowed, "expired by itself");
    }
}
