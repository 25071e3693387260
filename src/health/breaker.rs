//! A circuit breaker per component, so `watch` and `serve` do not hammer a dead backend:
//! closed → open after N consecutive failures → half-open (one trial probe) after a wait.

use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// The value of `ifctl_circuit_breaker_state`: 0 closed, 1 half-open, 2 open.
    pub fn code(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

/// What reports show of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BreakerView {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    /// Seconds until an open breaker lets one trial probe through.
    pub retry_in_s: Option<f64>,
}

/// An open breaker's first wait is this fraction of `open_for`; each failed trial doubles it up to
/// `open_for`. A short outage is noticed seconds after it ends; a long one is probed rarely.
const FIRST_WAIT_DIVISOR: u32 = 8;

#[derive(Debug, Clone)]
pub struct Breaker {
    state: BreakerState,
    failures: u32,
    opened_at: Option<Instant>,
    /// Half-open trials that failed since the breaker last closed.
    failed_trials: u32,
    threshold: u32,
    open_for: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Breaker {
        Breaker {
            state: BreakerState::Closed,
            failures: 0,
            opened_at: None,
            failed_trials: 0,
            threshold: threshold.max(1),
            open_for,
        }
    }

    /// How long the breaker stays open now: an eighth of `open_for`, doubled per failed trial,
    /// at most `open_for`.
    fn wait(&self) -> Duration {
        let first = self.open_for / FIRST_WAIT_DIVISOR;
        first.saturating_mul(1u32 << self.failed_trials.min(16)).min(self.open_for)
    }

    /// Whether to probe now. An open breaker turns half-open once its wait is over.
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed | BreakerState::HalfOpen => true,
            BreakerState::Open => {
                let waited = self.opened_at.is_none_or(|at| now.duration_since(at) >= self.wait());
                if waited {
                    self.state = BreakerState::HalfOpen;
                }
                waited
            }
        }
    }

    /// Records a probe's outcome: success closes; a failure counts, and opens the breaker at the
    /// threshold or when the half-open trial fails.
    pub fn record(&mut self, success: bool, now: Instant) {
        if success {
            self.state = BreakerState::Closed;
            self.failures = 0;
            self.opened_at = None;
            self.failed_trials = 0;
            return;
        }
        self.failures = self.failures.saturating_add(1);
        if self.state == BreakerState::HalfOpen {
            self.failed_trials = self.failed_trials.saturating_add(1);
        }
        if self.state == BreakerState::HalfOpen || self.failures >= self.threshold {
            self.state = BreakerState::Open;
            self.opened_at = Some(now);
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn view(&self, now: Instant) -> BreakerView {
        let retry_in_s = match (self.state, self.opened_at) {
            (BreakerState::Open, Some(at)) => Some(self.wait().saturating_sub(now.duration_since(at)).as_secs_f64()),
            _ => None,
        };
        BreakerView { state: self.state, consecutive_failures: self.failures, retry_in_s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_half_opens_after_an_eighth_of_the_wait() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(32));
        for i in 0..2 {
            assert!(b.allow(t0));
            b.record(false, t0);
            assert_eq!(b.state(), BreakerState::Closed, "after {} failures", i + 1);
        }
        b.record(false, t0);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allow(t0 + Duration::from_secs(3)));
        assert_eq!(b.view(t0 + Duration::from_secs(1)).retry_in_s, Some(3.0));
        assert!(b.allow(t0 + Duration::from_secs(4)));
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }

    #[test]
    fn each_failed_trial_doubles_the_wait_up_to_open_for_and_success_resets_it() {
        let mut t = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(32));
        b.record(false, t);
        let mut waits = Vec::new();
        for _ in 0..6 {
            let mut waited = 0;
            while !b.allow(t) {
                t += Duration::from_secs(1);
                waited += 1;
            }
            waits.push(waited);
            b.record(false, t);
            assert_eq!(b.state(), BreakerState::Open, "a failed trial reopens");
        }
        assert_eq!(waits, [4, 8, 16, 32, 32, 32]);
        assert!(b.allow(t + Duration::from_secs(32)));
        b.record(true, t + Duration::from_secs(32));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.view(t).consecutive_failures, 0);
        b.record(false, t + Duration::from_secs(33));
        assert!(b.allow(t + Duration::from_secs(37)), "closed again: the next opening starts short");
    }
}
