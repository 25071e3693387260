//! Whether a recovery may run now: disable windows, the attempt budget per rolling hour, the
//! cooldown after a failure, and approval. The same rules for `recover`, `approve` and `serve`.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::{Component, Config};

use super::state::RecoveryState;
use super::{RecoveryView, Strategy, needs_approval};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    NeedsApproval,
    Refused { reason: String, until: Option<DateTime<Utc>> },
}

/// The policy's view of one component now.
pub fn view(config: &Config, state: &RecoveryState, component: Component) -> RecoveryView {
    let r = &config.recovery;
    let counted = state.counted_attempts(component, Duration::seconds(r.healthy_reset_seconds as i64));
    let suspended_until = (counted.len() as u32 >= r.max_attempts_per_hour && r.max_attempts_per_hour > 0)
        .then(|| counted.first().map(|a| a.ts + Duration::hours(1)))
        .flatten();
    let cooldown_until = state
        .attempts
        .iter()
        .rev()
        .find(|a| a.component == component)
        .filter(|a| !a.success)
        .map(|a| a.ts + Duration::seconds(r.cooldown_seconds as i64))
        .filter(|until| *until > state.now);
    RecoveryView {
        suspended_until,
        cooldown_until,
        disabled: state.disabled(component).cloned(),
        pending: state
            .pending()
            .iter()
            .filter(|p| p.plan.component == component)
            .map(|p| p.action_id.clone())
            .collect(),
        attempts_last_hour: counted.len() as u32,
        degraded_mode: super::degraded::active(config, state, component),
    }
}

/// Decides for `strategy` now. `manual`: an operator's `recover`, which a disable window does
/// not stop (the operator is acting), but the budget and cooldown do.
pub fn check(config: &Config, state: &RecoveryState, strategy: Strategy, manual: bool) -> Verdict {
    let component = strategy.component();
    let view = view(config, state, component);
    if let (Some(d), false) = (&view.disabled, manual) {
        return Verdict::Refused {
            reason: format!("auto-recovery is disabled until {} ({})", crate::journal::format_ts(&d.until), d.reason),
            until: Some(d.until),
        };
    }
    if let Some(until) = view.suspended_until {
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
    if let Some(until) = view.cooldown_until {
        return Verdict::Refused {
            reason: format!(
                "{component} is cooling down after a failed attempt; next attempt allowed at {}",
                crate::journal::format_ts(&until)
            ),
            until: Some(until),
        };
    }
    if needs_approval(config, strategy) { Verdict::NeedsApproval } else { Verdict::Allowed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Status;
    use crate::recovery::state::{Attempt, Disable};

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(min)
    }

    fn attempt(min: i64, success: bool) -> Attempt {
        Attempt { ts: at(min), component: Component::Redis, strategy: Strategy::Reconnect, success, action_id: None }
    }

    fn config() -> Config {
        Config::default()
    }

    #[test]
    fn budget_of_three_per_rolling_hour() {
        let mut state = RecoveryState { now: at(30), ..Default::default() };
        state.attempts = vec![attempt(0, true), attempt(10, true), attempt(20, true)];
        match check(&config(), &state, Strategy::Reconnect, true) {
            Verdict::Refused { until, reason } => {
                assert_eq!(until, Some(at(60)));
                assert!(reason.contains("recovery-suspended"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        state.now = at(61);
        assert_eq!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Allowed, "the oldest left the window");
    }

    #[test]
    fn cooldown_after_a_failure() {
        let mut state = RecoveryState { now: at(3), ..Default::default() };
        state.attempts = vec![attempt(0, false)];
        assert!(
            matches!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Refused { until: Some(u), .. } if u == at(5))
        );
        state.now = at(5) + Duration::seconds(1);
        assert_eq!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Allowed);
    }

    #[test]
    fn a_healthy_period_resets_the_budget() {
        let mut state = RecoveryState { now: at(40), ..Default::default() };
        state.attempts = vec![attempt(0, true), attempt(5, true), attempt(10, true)];
        state.transitions =
            vec![(at(11), Component::Redis, Status::Healthy), (at(22), Component::Redis, Status::Unhealthy)];
        assert_eq!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Allowed, "11 minutes healthy >= 10");
        state.transitions =
            vec![(at(11), Component::Redis, Status::Healthy), (at(15), Component::Redis, Status::Unhealthy)];
        assert!(
            matches!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Refused { .. }),
            "4 minutes is not enough"
        );
    }

    #[test]
    fn disable_stops_automatic_not_manual_and_approval_is_asked() {
        let mut state = RecoveryState { now: at(0), ..Default::default() };
        state.disables.insert(
            None,
            Some(Disable { component: None, until: at(30), reason: "maintenance".into(), by: "op".into() }),
        );
        assert!(matches!(check(&config(), &state, Strategy::Reconnect, false), Verdict::Refused { .. }));
        assert_eq!(check(&config(), &state, Strategy::Reconnect, true), Verdict::Allowed);
        assert_eq!(check(&config(), &state, Strategy::Restart, true), Verdict::NeedsApproval);
        state.now = at(31);
        assert_eq!(check(&config(), &state, Strategy::Reconnect, false), Verdict::Allowed, "expired by itself");
    }
}
