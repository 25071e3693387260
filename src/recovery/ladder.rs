//! The escalation ladder (DESIGN §6): one round of recovery for an unhealthy component. A round
//! goes up the strategies that apply to the failure seen, in escalation order and without waiting,
//! each verified by a fresh health check, and stops at the first that heals, at the first that
//! needs approval (queued once), or where the policy refuses (budget, back-off, disable window).
//! `recover` and `serve` both walk it; between rounds the policy's back-off applies.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Component, Config};
use crate::health::Secrets;
use crate::journal::{Journal, JournalError};
use crate::offload::{self, JOURNAL_DEADLINE};
use crate::snapshot::Progress;

use super::policy::{self, Verdict};
use super::{AttemptResult, Failure, Plan, PlanError, Strategy, applicable, execute, state};

/// What one rung of the round came to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Attempted(AttemptResult),
    /// Needs approval: queued (or already queued) under this action id; the round stops here.
    Queued {
        strategy: Strategy,
        action_id: String,
        new: bool,
        plan: Plan,
    },
    /// Not configured (e.g. no restart command): skipped.
    NotConfigured {
        strategy: Strategy,
        why: String,
    },
    /// Configured, but cannot be planned now (the server it must look at is down, nothing is
    /// broken, the only snapshot is too old): skipped.
    CannotPlan {
        strategy: Strategy,
        why: String,
    },
    /// The policy refused; the round stops here.
    Refused {
        strategy: Strategy,
        reason: String,
        until: Option<DateTime<Utc>>,
    },
}

impl Step {
    pub fn recovered(&self) -> bool {
        matches!(self, Step::Attempted(r) if r.success || r.outcome == "degraded")
    }
}

/// Who walks the ladder, and with what.
pub struct Walker<'a> {
    pub config: Arc<Config>,
    pub secrets: &'a Secrets,
    pub journal: &'a Journal,
    pub reason: Option<&'a str>,
    /// A person's `recover`: not held by the back-off between rounds or a disable window.
    pub manual: bool,
    pub progress: &'a dyn Progress,
    /// serve's stop signal: no further rung once it fires.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Walker<'_> {
    /// Walks one round for `component`'s `failure`; `on_step` sees each step as it happens.
    pub async fn round(
        &self,
        component: Component,
        failure: Failure,
        on_step: &mut dyn FnMut(&Step),
    ) -> Result<Vec<Step>, JournalError> {
        let rung = policy::rung;
        let candidates = applicable(component, failure);
        // Continue the incident's round when a rung above its last attempt applies; else begin anew.
        let st = self.state().await?;
        let mut floor = policy::incident(&st, component).last().map(|a| rung(a.strategy));
        if !candidates.iter().any(|c| floor.is_none_or(|f| rung(*c) > f)) {
            floor = None;
        }
        let mut steps = Vec::new();
        for strategy in candidates.into_iter().filter(|c| floor.is_none_or(|f| rung(*c) > f)) {
            let stopping = self.stop.as_ref().is_some_and(|s| *s.borrow());
            if stopping || execute::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let st = self.state().await?;
            let step = match policy::check(&self.config, &st, strategy, self.manual) {
                Verdict::Refused { reason, until } => Step::Refused { strategy, reason, until },
                verdict => match self.plan(strategy).await {
                    Err(PlanError::NotConfigured(why)) => Step::NotConfigured { strategy, why },
                    Err(why) => Step::CannotPlan { strategy, why: why.to_string() },
                    Ok(plan) if verdict == Verdict::NeedsApproval => {
                        let (action_id, new) = self.queue(st, plan.clone()).await?;
                        Step::Queued { strategy, action_id, new, plan }
                    }
                    Ok(plan) => Step::Attempted(
                        super::attempt(
                            &self.config,
                            self.secrets,
                            &plan,
                            None,
                            self.reason,
                            self.journal,
                            self.progress,
                        )
                        .await?,
                    ),
                },
            };
            on_step(&step);
            let last = matches!(step, Step::Refused { .. } | Step::Queued { .. }) || step.recovered();
            steps.push(step);
            if last {
                break;
            }
        }
        Ok(steps)
    }

    async fn state(&self) -> Result<state::RecoveryState, JournalError> {
        offload::recovery_state(self.journal, &self.config).await
    }

    /// The plan, prepared off the async threads (a rollback plan verifies an archive).
    async fn plan(&self, strategy: Strategy) -> Result<Plan, PlanError> {
        let config = self.config.clone();
        offload::run(format!("planning {}", strategy.qualified()), std::time::Duration::from_secs(600), move || {
            execute::plan(&config, strategy)
        })
        .await
        .map_err(|stalled| PlanError::Failed(stalled.to_string()))?
    }

    async fn queue(&self, st: state::RecoveryState, plan: Plan) -> Result<(String, bool), JournalError> {
        let (journal, config, reason) = (self.journal.clone(), self.config.clone(), self.reason.map(String::from));
        offload::run("queueing an approval request", JOURNAL_DEADLINE, move || {
            super::queue_for_approval(&journal, &config, &st, &plan, reason.as_deref())
        })
        .await
        .map_err(|stalled| stalled.journal_error("append to", self.journal.path()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing the probes see leads serve to change OpenWebUI's default model by itself, or to
    /// restart a Redis whose credentials or ACL are the problem.
    #[test]
    fn ladders_never_hold_a_model_switch_and_auth_needs_a_person() {
        use Failure::*;
        for failure in [Down, Slow, Memory, Disk, Auth, Data, Error] {
            assert!(!applicable(Component::Openwebui, failure).contains(&Strategy::ModelFailover), "{failure:?}");
        }
        assert!(applicable(Component::Redis, Auth).is_empty());
        assert!(crate::recovery::needs_approval(&Config::default(), Strategy::ModelFailover));
    }

    /// A breach is classified by the measure that breached, whatever the reason's words say.
    #[test]
    fn threshold_failures_are_classified_by_the_breaching_measure() {
        use crate::config::Levels;
        use crate::health::{ComponentReport, Measure, Unit};
        let judged = |name: &'static str, what: &str| {
            let mut report = ComponentReport::new(Component::System, true);
            report.judge(
                Measure::new("system_memory_used_percent", "", 10.0, Unit::Percent).levels(Levels::new(80.0, 90.0)),
                "memory",
            );
            report.judge(Measure::new(name, "", 99.0, Unit::Percent).levels(Levels::new(80.0, 90.0)), what);
            Failure::from_report(&report)
        };
        assert_eq!(judged("system_disk_used_percent", "use of the memory-mapped volume"), Failure::Disk);
        assert_eq!(judged("redis_memory_used_percent", "disk-backed cache"), Failure::Memory);
        assert_eq!(judged("chromadb_query_latency", "memory query"), Failure::Slow);
    }
}
