//! Recovery (DESIGN §6): strategies per component in escalation order, a policy (budget,
//! cooldown, disable windows, approvals) derived from the journal, and plans whose hash an
//! approval must match.

pub mod degraded;
pub mod execute;
pub mod ladder;
pub mod policy;
pub mod state;

use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

use crate::config::{Component, Config};
use crate::health::{ComponentReport, Problem};

/// Strategy names are part of the CLI (`recover --strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Strategy {
    Reconnect,
    FlushUnexpiring,
    Restart,
    QueryRetry,
    CollectionReload,
    SnapshotRollback,
    IndexRebuild,
    TokenRefresh,
    ModelFailover,
    GracefulDegradation,
    DiskCleanup,
    MemoryRelief,
    ProcessRestart,
}

impl Strategy {
    pub const ALL: [Strategy; 13] = [
        Strategy::Reconnect,
        Strategy::FlushUnexpiring,
        Strategy::Restart,
        Strategy::QueryRetry,
        Strategy::CollectionReload,
        Strategy::SnapshotRollback,
        Strategy::IndexRebuild,
        Strategy::TokenRefresh,
        Strategy::ModelFailover,
        Strategy::GracefulDegradation,
        Strategy::DiskCleanup,
        Strategy::MemoryRelief,
        Strategy::ProcessRestart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Reconnect => "reconnect",
            Strategy::FlushUnexpiring => "flush_unexpiring",
            Strategy::Restart => "restart",
            Strategy::QueryRetry => "query_retry",
            Strategy::CollectionReload => "collection_reload",
            Strategy::SnapshotRollback => "snapshot_rollback",
            Strategy::IndexRebuild => "index_rebuild",
            Strategy::TokenRefresh => "token_refresh",
            Strategy::ModelFailover => "model_failover",
            Strategy::GracefulDegradation => "graceful_degradation",
            Strategy::DiskCleanup => "disk_cleanup",
            Strategy::MemoryRelief => "memory_relief",
            Strategy::ProcessRestart => "process_restart",
        }
    }

    /// The component a strategy belongs to.
    pub fn component(self) -> Component {
        use Strategy::*;
        match self {
            Reconnect | FlushUnexpiring | Restart => Component::Redis,
            QueryRetry | CollectionReload | SnapshotRollback | IndexRebuild => Component::Chromadb,
            TokenRefresh | ModelFailover | GracefulDegradation => Component::Openwebui,
            DiskCleanup | MemoryRelief | ProcessRestart => Component::System,
        }
    }

    /// A step that changes nothing in the stack — a plain retry of a connection or query,
    /// re-resolving Chroma's collections (reads only), or entering OpenWebUI's degraded mode — so
    /// it does not count against the hourly budget. (A flapping Chroma once spent its budget of 3
    /// on reloads in minutes, leaving nothing for a real action; the chaos suite showed it.)
    pub fn is_free(self) -> bool {
        matches!(
            self,
            Strategy::Reconnect | Strategy::QueryRetry | Strategy::CollectionReload | Strategy::GracefulDegradation
        )
    }

    /// The strategy `redis.restart` names (as `recovery.needs_approval` does).
    pub fn from_qualified(name: &str) -> Option<Strategy> {
        let (component, strategy) = name.split_once('.')?;
        let strategy = <Strategy as clap::ValueEnum>::from_str(strategy, false).ok()?;
        (strategy.component().name() == component).then_some(strategy)
    }

    /// `redis.restart`, as `recovery.needs_approval` names it.
    pub fn qualified(self) -> String {
        format!("{}.{}", self.component(), self.name())
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every strategy of a component, in escalation order.
pub fn escalation(component: Component) -> &'static [Strategy] {
    use Strategy::*;
    match component {
        Component::Redis => &[Reconnect, FlushUnexpiring, Restart],
        Component::Chromadb => &[QueryRetry, CollectionReload, SnapshotRollback, IndexRebuild],
        Component::Openwebui => &[TokenRefresh, ModelFailover, GracefulDegradation],
        Component::System => &[DiskCleanup, MemoryRelief, ProcessRestart],
    }
}

/// The strategies that can help with a failure, in escalation order.
pub fn applicable(component: Component, failure: Failure) -> Vec<Strategy> {
    use Strategy::*;
    let list: &[Strategy] = match (component, failure) {
        (Component::Redis, Failure::Memory) => &[FlushUnexpiring, Restart],
        // Credentials or ACL: neither a new connection nor a restart changes them.
        (Component::Redis, Failure::Auth) => &[],
        (Component::Redis, _) => &[Reconnect, Restart],
        (Component::Chromadb, Failure::Data) => &[CollectionReload, SnapshotRollback],
        (Component::Chromadb, Failure::Slow | Failure::Error) => {
            &[QueryRetry, CollectionReload, IndexRebuild, SnapshotRollback]
        }
        (Component::Chromadb, _) => &[QueryRetry, CollectionReload],
        (Component::Openwebui, Failure::Auth) => &[TokenRefresh, GracefulDegradation],
        // The probe never tests a model, so no failure it sees calls for another default model:
        // `model_failover` runs only when a person names it (and, by default, approves it).
        (Component::Openwebui, _) => &[GracefulDegradation],
        (Component::System, Failure::Disk) => &[DiskCleanup],
        (Component::System, Failure::Memory) => &[MemoryRelief, ProcessRestart],
        (Component::System, _) => &[DiskCleanup, MemoryRelief, ProcessRestart],
    };
    list.to_vec()
}

/// What kind of failure a recovery addresses (`recover --failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    Down,
    Slow,
    Memory,
    Disk,
    Auth,
    Data,
    Error,
}

impl Failure {
    /// The failure a health report shows. A threshold breach is classified by the measure that
    /// breached at the report's status (its stable metric name), not by the reason's wording.
    pub fn from_report(report: &ComponentReport) -> Failure {
        match report.problem {
            Some(Problem::Unreachable | Problem::Timeout | Problem::CircuitOpen) => Failure::Down,
            // A certificate is a matter of trust, like credentials: restarting the server fixes neither.
            Some(Problem::Auth | Problem::Tls) => Failure::Auth,
            Some(Problem::Data) => Failure::Data,
            Some(Problem::Threshold) => {
                let breached = report.measures.iter().find(|m| {
                    m.levels.is_some_and(|l| crate::health::Status::from_levels(m.value, &l) == report.status)
                });
                match breached.map(|m| m.name) {
                    Some(name) if name.contains("_disk_") => Failure::Disk,
                    Some(name) if name.contains("_memory_") => Failure::Memory,
                    _ => Failure::Slow,
                }
            }
            _ => Failure::Error,
        }
    }
}

/// Whether a strategy needs an operator's approval under this config.
pub fn needs_approval(config: &Config, strategy: Strategy) -> bool {
    config.recovery.needs_approval.iter().any(|s| *s == strategy.qualified())
}

/// Exactly what a recovery will do. Its hash is what an approval approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub component: Component,
    pub strategy: Strategy,
    /// Each step in words, e.g. `run \`systemctl restart redis-server\``.
    pub actions: Vec<String>,
    /// The machine form of the steps (commands, patterns, snapshot, collections).
    pub params: serde_json::Value,
}

impl Plan {
    pub fn hash(&self) -> String {
        let text = crate::journal::canonical_json(&serde_json::to_value(self).expect("plans serialize"));
        hex::encode(Sha256::digest(text.as_bytes()))[..16].to_string()
    }
}

/// What a component's recovery state looks like in health output.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecoveryView {
    /// The attempt budget is spent: `recovery-suspended` until then.
    pub suspended_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Backing off between rounds of the escalation ladder until then.
    pub cooldown_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The earliest time an automatic attempt may run (budget, back-off, disable window).
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Rounds of the ladder in the current incident.
    pub round: u32,
    /// `max_attempts_per_hour = 0`: nothing is tried automatically.
    pub automatic_off: bool,
    pub disabled: Option<state::Disable>,
    pub pending: Vec<String>,
    pub attempts_last_hour: u32,
    pub degraded_mode: Option<degraded::DegradedMode>,
}

impl RecoveryView {
    pub fn is_empty(&self) -> bool {
        *self == RecoveryView::default()
    }
}

/// The horizon the policy needs: the rolling hour, cooldown and reset period, plus one approval
/// lifetime so a request that just expired is still recognised (and refused as expired).
pub fn horizon(config: &Config) -> chrono::Duration {
    let r = &config.recovery;
    let window = 3600.max(r.cooldown_seconds as i64).max(r.healthy_reset_seconds as i64);
    chrono::Duration::seconds(window + r.approval_ttl_seconds as i64)
}

/// The result of one attempt, as journaled.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptResult {
    pub component: Component,
    pub strategy: Strategy,
    pub success: bool,
    pub outcome: &'static str,
    pub duration_ms: f64,
    pub actions: Vec<String>,
    pub error: Option<String>,
    pub status_after: crate::health::Status,
    pub reason_after: Option<String>,
    pub action_id: Option<String>,
}

/// Why a strategy cannot be planned now; each kind has its exit status and its way forward.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlanError {
    /// The config lacks what the strategy needs (exit 2): the message names the key.
    #[error("{0}")]
    NotConfigured(String),
    /// The server the plan must look at did not answer (exit 3).
    #[error("{0}")]
    Unreachable(String),
    /// Acting would be unsafe or pointless now — nothing is broken, or the only data to restore
    /// is too old (exit 6).
    #[error("{0}")]
    Refused(String),
    /// Anything else (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl PlanError {
    fn chroma(what: String, e: crate::clients::http::HttpError) -> PlanError {
        if matches!(
            e,
            crate::clients::http::HttpError::Unreachable { .. } | crate::clients::http::HttpError::Timeout { .. }
        ) {
            PlanError::Unreachable(format!("{what}: {e}"))
        } else {
            PlanError::Failed(format!("{what}: {e}"))
        }
    }
}

/// Executes a plan, verifies with a fresh health check, and journals `recovery.attempt`.
pub async fn attempt(
    config: &Config,
    secrets: &crate::health::Secrets,
    plan: &Plan,
    action_id: Option<&str>,
    reason: Option<&str>,
    journal: &crate::journal::Journal,
    progress: &dyn crate::snapshot::Progress,
) -> Result<AttemptResult, crate::journal::JournalError> {
    let started = std::time::Instant::now();
    // Write-ahead for real actions: if ifctl dies before the outcome is journaled, the journal
    // still says the action began — the budget counts it and its approval is spent.
    let attempt_id = uuid::Uuid::now_v7().to_string();
    // Fail-open like the rest of recovery (README, "A full disk — decided"): an action that frees
    // the disk must run even when this record cannot be written; the outcome event says so.
    let mut write_ahead_error = None;
    if !plan.strategy.is_free() {
        let begun = crate::journal::NewEvent::new(state::STARTED, "started").component(plan.component.name()).details(
            serde_json::json!({
                "attempt_id": attempt_id, "strategy": plan.strategy, "action_id": action_id,
                "plan_hash": plan.hash(), "reason": reason,
            }),
        );
        write_ahead_error = crate::offload::append(journal, begun).await.err().map(|e| e.to_string());
    }
    let done = execute::execute(config, secrets, plan, journal, progress).await;
    crate::hooks::crash_point(format_args!("recovery.executed.{}", plan.strategy.name()));
    let after = execute::verify(config, secrets, plan.component).await;
    let degraded_mode = plan.strategy == Strategy::GracefulDegradation;
    let success = done.is_ok() && after.status == crate::health::Status::Healthy && !degraded_mode;
    let outcome = if degraded_mode && done.is_ok() {
        "degraded"
    } else if success {
        "success"
    } else {
        "failure"
    };
    let (actions, details, error) = match done {
        Ok(d) => (d.actions, d.details, None),
        Err(e) => (Vec::new(), serde_json::json!({}), Some(e)),
    };
    let result = AttemptResult {
        component: plan.component,
        strategy: plan.strategy,
        success,
        outcome,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        actions,
        error,
        status_after: after.status,
        reason_after: after.reason.clone(),
        action_id: action_id.map(String::from),
    };
    let event = crate::journal::NewEvent::new(state::ATTEMPT, outcome).component(plan.component.name()).details(
        serde_json::json!({
            "attempt_id": attempt_id, "strategy": plan.strategy, "action_id": action_id, "plan_hash": plan.hash(),
            "reason": reason, "write_ahead_error": write_ahead_error, "duration_ms": result.duration_ms, "actions": result.actions, "error": result.error,
            "status_after": result.status_after, "reason_after": result.reason_after, "details": details,
        }),
    );
    crate::offload::append(journal, event).await?;
    Ok(result)
}

/// Journals `recovery.pending` for a plan unless an identical plan is already pending; returns the
/// action id and whether it is new. `recover` and `serve` both queue through here, so a plan is
/// queued once, not once per attempt or tick.
pub fn queue_for_approval(
    journal: &crate::journal::Journal,
    config: &Config,
    state: &state::RecoveryState,
    plan: &Plan,
    reason: Option<&str>,
) -> Result<(String, bool), crate::journal::JournalError> {
    let hash = plan.hash();
    if let Some(existing) = state.pending().into_iter().find(|p| p.plan_hash == hash) {
        return Ok((existing.action_id.clone(), false));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let expires_at = crate::journal::now() + chrono::Duration::seconds(config.recovery.approval_ttl_seconds as i64);
    journal.append(
        crate::journal::NewEvent::new(state::PENDING, "pending").component(plan.component.name()).details(
            serde_json::json!({
                "action_id": id, "strategy": plan.strategy, "plan": plan, "plan_hash": hash,
                "expires_at": crate::journal::format_ts(&expires_at), "reason": reason,
            }),
        ),
    )?;
    Ok((id, true))
}
