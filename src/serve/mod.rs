//! `serve` (DESIGN §9): one loop per component — probe, breaker, transitions, recovery by policy —
//! so a hung backend never delays another component, and an HTTP server that only reads the
//! latest state, so it never waits on a probe.

pub mod http;
mod process;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Component, Config};
use crate::health::{
    Breaker, ComponentReport, HealthReport, Probes, Problem, Secrets, Status, Transition, apply_dependencies,
};
use crate::journal::{Journal, NewEvent};
use crate::recovery::{self, Failure, policy, state};

/// Where serve's log lines go; the CLI prints them (text or JSON lines).
pub trait Log: Send + Sync {
    fn log(&self, level: &'static str, component: Option<Component>, message: &str, fields: serde_json::Value);
}

/// The state every loop writes and the HTTP handlers read.
pub struct Shared {
    pub config: RwLock<Arc<Config>>,
    /// Bumped on every config reload; loops rebuild their probes when it changes.
    pub generation: std::sync::atomic::AtomicU64,
    pub components: RwLock<BTreeMap<Component, ComponentReport>>,
    pub checked_at: RwLock<BTreeMap<Component, DateTime<Utc>>>,
    /// `ifctl_recovery_attempts_total{component,strategy,result}`.
    pub attempts: Mutex<BTreeMap<(Component, String, String), u64>>,
    pub started_at: DateTime<Utc>,
    pub started: Instant,
    pub journal: Journal,
    pub secrets: RwLock<Secrets>,
}

impl Shared {
    pub fn new(config: Config, secrets: Secrets, journal: Journal) -> Arc<Shared> {
        Arc::new(Shared {
            config: RwLock::new(Arc::new(config)),
            generation: std::sync::atomic::AtomicU64::new(0),
            components: RwLock::new(BTreeMap::new()),
            checked_at: RwLock::new(BTreeMap::new()),
            attempts: Mutex::new(BTreeMap::new()),
            started_at: crate::journal::now(),
            started: Instant::now(),
            journal,
            secrets: RwLock::new(secrets),
        })
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    /// Replaces the config (SIGHUP); the loops pick it up at their next tick.
    pub fn reload(&self, config: Config, secrets: Secrets) {
        *self.config.write().expect("config lock") = Arc::new(config);
        *self.secrets.write().expect("secrets lock") = secrets;
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The latest report of every component, with dependencies applied and the roll-up.
    pub fn report(&self) -> HealthReport {
        let mut components: Vec<ComponentReport> =
            self.components.read().expect("components lock").values().cloned().collect();
        let config = self.config();
        let deps = BTreeMap::from([(Component::Openwebui, config.openwebui.depends_on.clone())]);
        apply_dependencies(&mut components, &deps);
        let checked_at = self.checked_at.read().expect("lock").values().max().copied().unwrap_or(self.started_at);
        HealthReport::new(components, checked_at, 0.0)
    }
}

/// What `/status` shows besides the components.
#[derive(Debug, Clone, Serialize)]
pub struct StatusDoc {
    pub status: Status,
    pub version: &'static str,
    pub started_at: DateTime<Utc>,
    pub interval_s: f64,
    pub auto_recover: bool,
    pub components: Vec<ComponentReport>,
    pub pending_approvals: Vec<state::Pending>,
    pub checked_at: BTreeMap<Component, DateTime<Utc>>,
}

/// One component's loop until `stop` fires. An attempt in progress finishes (or is journaled as
/// interrupted by the caller's deadline).
pub async fn component_loop(
    shared: Arc<Shared>,
    component: Component,
    log: Arc<dyn Log>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut generation = u64::MAX;
    let mut probes: Option<Probes> = None;
    let mut breaker = Breaker::new(3, std::time::Duration::from_secs(30));
    let mut known: Option<Status> =
        crate::health::last_journaled(shared.journal.path(), &[component]).get(&component).copied();
    let mut last: Option<ComponentReport> = None;
    let mut interval = tokio::time::interval(shared.config().health.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let current = shared.generation.load(std::sync::atomic::Ordering::SeqCst);
        let config = shared.config();
        if current != generation {
            generation = current;
            let secrets = shared.secrets.read().expect("secrets lock").clone();
            probes = Some(Probes::new(&config, secrets, config.health.timeout));
            breaker = Breaker::new(config.health.breaker_failures, config.health.breaker_open_for);
            interval = tokio::time::interval(config.health.interval);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval.tick().await;
        }
        let probes = probes.as_ref().expect("built above");
        let now = Instant::now();
        let mut report = if breaker.allow(now) {
            let report = probes.probe(component).await;
            breaker.record(!matches!(report.status, Status::Unhealthy | Status::Unknown), Instant::now());
            report
        } else {
            let mut held = last.clone().unwrap_or_else(|| ComponentReport::new(component, config.critical(component)));
            let view = breaker.view(now);
            held.problem = Some(Problem::CircuitOpen);
            held.reason = Some(format!(
                "circuit open after {} failed probes, not probed; trial in {:.0}s",
                view.consecutive_failures,
                view.retry_in_s.unwrap_or(0.0)
            ));
            held
        };
        report.breaker = Some(breaker.view(Instant::now()));
        let rstate = state::derive(shared.journal.path(), crate::journal::now(), recovery::horizon(&config)).ok();
        if let Some(st) = &rstate {
            let view = policy::view(&config, st, component);
            report.recovery = (!view.is_empty()).then_some(view);
        }
        last = Some(report.clone());
        shared.components.write().expect("components lock").insert(component, report.clone());
        shared.checked_at.write().expect("lock").insert(component, crate::journal::now());

        // A status change: journal it (not every tick) and log it.
        if known != Some(report.status) {
            let deps_view = shared.report();
            let reported = deps_view.get(component).cloned().unwrap_or_else(|| report.clone());
            let change = Transition {
                component,
                from: known,
                to: report.status,
                reason: reported.reason.clone(),
                caused_by: reported.caused_by.clone(),
            };
            if let Err(e) = shared.journal.append(change.event()) {
                log.log(
                    "error",
                    Some(component),
                    "status change not journaled",
                    serde_json::json!({"error": e.to_string()}),
                );
            }
            log.log(
                if report.status == Status::Healthy { "info" } else { "warn" },
                Some(component),
                &format!("{} -> {}", known.map_or("(first seen)", |s| s.as_str()), report.status),
                serde_json::json!({"reason": report.reason, "caused_by": reported.caused_by}),
            );
            known = Some(report.status);
        }
        if config.serve.auto_recover
            && report.status == Status::Unhealthy
            && report.problem != Some(Problem::CircuitOpen)
        {
            auto_recover(&shared, &config, &report, &log).await;
        }
    }
}

/// One automatic recovery decision for an unhealthy component, by the same policy as `recover`.
async fn auto_recover(shared: &Arc<Shared>, config: &Config, report: &ComponentReport, log: &Arc<dyn Log>) {
    let component = report.component;
    // OpenWebUI down because Redis is: Redis's own loop recovers Redis.
    let deps = shared.report();
    if deps.get(component).is_some_and(|r| !r.caused_by.is_empty()) {
        return;
    }
    // Exclusive with `recover` and `approve` (and other serves) on this host; busy: they decide.
    let Ok(_lock) = crate::snapshot::lock::acquire_recovery(shared.journal.path(), component.name(), "ifctl serve")
    else {
        return;
    };
    // The state is read under the lock: an attempt or approval made meanwhile counts.
    let Ok(st) = state::derive(shared.journal.path(), crate::journal::now(), recovery::horizon(config)) else {
        return;
    };
    let st = &st;
    let strategy = recovery::next_strategy(component, Failure::from_report(report), st);
    let plan = match recovery::execute::plan(config, strategy) {
        Ok(plan) => plan,
        Err(_) => return, // not configured (e.g. no restart command): nothing to do automatically
    };
    match policy::check(config, st, strategy, false) {
        policy::Verdict::Refused { .. } => {}
        policy::Verdict::NeedsApproval => {
            match recovery::queue_for_approval(&shared.journal, config, st, &plan, Some("serve")) {
                Ok((id, true)) => log.log(
                    "warn",
                    Some(component),
                    &format!("{} needs approval: ifctl approve {id}", strategy.qualified()),
                    serde_json::json!({"action_id": id}),
                ),
                Ok((_, false)) => {}
                Err(e) => log.log(
                    "error",
                    Some(component),
                    "approval request not journaled",
                    serde_json::json!({"error": e.to_string()}),
                ),
            }
        }
        policy::Verdict::Allowed => {
            log.log(
                "info",
                Some(component),
                &format!("recovering with {}", strategy.qualified()),
                serde_json::json!({}),
            );
            let secrets = shared.secrets.read().expect("secrets lock").clone();
            match recovery::attempt(
                config,
                &secrets,
                &plan,
                None,
                Some("serve"),
                &shared.journal,
                recovery::execute::quiet(),
            )
            .await
            {
                Ok(result) => {
                    *shared
                        .attempts
                        .lock()
                        .expect("attempts lock")
                        .entry((component, strategy.name().to_string(), result.outcome.to_string()))
                        .or_default() += 1;
                    log.log(
                        if result.success { "info" } else { "warn" },
                        Some(component),
                        &format!("{} {}: now {}", strategy.qualified(), result.outcome, result.status_after),
                        serde_json::json!({"duration_ms": result.duration_ms, "actions": result.actions, "error": result.error}),
                    );
                }
                Err(e) => log.log(
                    "error",
                    Some(component),
                    "recovery not journaled",
                    serde_json::json!({"error": e.to_string()}),
                ),
            }
        }
    }
}

/// Journals that serve stopped, and that a recovery in flight was interrupted, if one was.
pub fn journal_stop(shared: &Shared, interrupted: &[Component]) {
    for component in interrupted {
        let _ = shared.journal.append(
            NewEvent::new("recovery.interrupted", "interrupted")
                .component(component.name())
                .details(serde_json::json!({"by": "shutdown"})),
        );
    }
}
