//! `serve` (DESIGN §9): one loop per component, each on a thread of its own — probe, breaker,
//! transitions, recovery by the escalation ladder — so a hung backend or a long recovery never
//! delays another component; blocking work (journal, locks, plans, `statvfs`) goes to the blocking
//! pool with a deadline; an HTTP server on its own thread only reads the latest state. Every loop
//! beats a heartbeat: `/livez` fails when one stops (the loop itself is stuck), `/readyz` when a
//! component's last result is older than three intervals.

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
use crate::offload::{self, JOURNAL_DEADLINE};
use crate::recovery::{self, Failure, ladder, policy, state};

/// Where serve's log lines go; the CLI prints them (text or JSON lines).
pub trait Log: Send + Sync {
    fn log(&self, level: &'static str, component: Option<Component>, message: &str, fields: serde_json::Value);
}

/// A target's loops log through this: every line says which target it is about.
pub struct TargetLog {
    pub inner: Arc<dyn Log>,
    pub target: String,
}

impl Log for TargetLog {
    fn log(&self, level: &'static str, component: Option<Component>, message: &str, fields: serde_json::Value) {
        let mut fields = fields;
        if let Some(map) = fields.as_object_mut() {
            map.insert("target".into(), serde_json::json!(self.target));
        }
        self.inner.log(level, component, &format!("[{}] {message}", self.target), fields);
    }
}

/// Every target serve watches: one [`Shared`] each. `labelled`: the config has targets, so
/// metrics carry a `target` label and `/status` and `/readyz` answer per target.
pub struct Fleet {
    pub members: Vec<Arc<Shared>>,
    pub labelled: bool,
    /// Events about serve itself (started, stopped, reloads) carry no target.
    pub journal: Journal,
}

impl Fleet {
    /// The member watching target `name`.
    pub fn member(&self, name: &str) -> Option<&Arc<Shared>> {
        self.members.iter().find(|m| m.config().target_name() == name)
    }
}

/// The state every loop writes and the HTTP handlers read.
pub struct Shared {
    pub config: RwLock<Arc<Config>>,
    /// Bumped on every config reload; loops rebuild their probes when it changes.
    pub generation: std::sync::atomic::AtomicU64,
    /// Wakes the loops on a reload, so a shorter interval applies now, not after the old tick.
    pub reloaded: tokio::sync::watch::Sender<u64>,
    pub components: RwLock<BTreeMap<Component, ComponentReport>>,
    pub checked_at: RwLock<BTreeMap<Component, DateTime<Utc>>>,
    /// `ifctl_recovery_attempts_total{component,strategy,result}`.
    pub attempts: Mutex<BTreeMap<(Component, String, String), u64>>,
    pub started_at: DateTime<Utc>,
    pub started: Instant,
    pub journal: Journal,
    pub secrets: RwLock<Secrets>,
    /// Each loop's latest sign of life, and whether it is running a recovery then.
    pub beats: RwLock<BTreeMap<Component, Beat>>,
    /// The suspension each component was last logged for (logged once, not every tick).
    told_suspended: Mutex<BTreeMap<Component, Option<DateTime<Utc>>>>,
}

/// A loop's sign of life.
#[derive(Debug, Clone, Copy)]
pub struct Beat {
    pub at: Instant,
    pub recovering: bool,
}

/// The longest a recovery may run before its loop counts as stuck.
pub const RECOVERY_LIMIT: std::time::Duration = std::time::Duration::from_secs(3600);

impl Shared {
    pub fn new(config: Config, secrets: Secrets, journal: Journal) -> Arc<Shared> {
        Arc::new(Shared {
            config: RwLock::new(Arc::new(config)),
            generation: std::sync::atomic::AtomicU64::new(0),
            reloaded: tokio::sync::watch::Sender::new(0),
            components: RwLock::new(BTreeMap::new()),
            checked_at: RwLock::new(BTreeMap::new()),
            attempts: Mutex::new(BTreeMap::new()),
            started_at: crate::journal::now(),
            started: Instant::now(),
            journal,
            secrets: RwLock::new(secrets),
            beats: RwLock::new(BTreeMap::new()),
            told_suspended: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    /// Replaces the config (SIGHUP); the loops pick it up at their next tick.
    pub fn reload(&self, config: Config, secrets: Secrets) {
        *self.config.write().expect("config lock") = Arc::new(config);
        *self.secrets.write().expect("secrets lock") = secrets;
        let generation = self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.reloaded.send_replace(generation);
    }

    fn beat(&self, component: Component, recovering: bool) {
        self.beats.write().expect("beats lock").insert(component, Beat { at: Instant::now(), recovering });
    }

    /// Loops that have shown no sign of life for longer than a tick can take (three intervals,
    /// the probe deadline and a journal deadline), or recovered for longer than `RECOVERY_LIMIT`.
    pub fn stuck(&self) -> Vec<(Component, std::time::Duration)> {
        let config = self.config();
        let limit = config.health.interval * 3 + config.health.timeout + crate::offload::JOURNAL_DEADLINE;
        let beats = self.beats.read().expect("beats lock");
        Component::ALL
            .iter()
            .filter_map(|c| {
                let beat = beats.get(c).copied().unwrap_or(Beat { at: self.started, recovering: false });
                let silent = beat.at.elapsed();
                (silent > if beat.recovering { RECOVERY_LIMIT } else { limit }).then_some((*c, silent))
            })
            .collect()
    }

    /// Components whose latest result is older than three intervals (or that were never checked
    /// in that long): their status cannot be vouched for.
    pub fn stale(&self) -> Vec<Component> {
        let config = self.config();
        let limit = chrono::Duration::from_std(config.health.interval * 3).unwrap_or(chrono::Duration::MAX);
        let now = crate::journal::now();
        let checked = self.checked_at.read().expect("lock");
        Component::ALL
            .iter()
            .filter(|c| now - checked.get(c).copied().unwrap_or(self.started_at) > limit)
            .copied()
            .collect()
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

/// Runs one component's loop on a thread of its own, with its own runtime, until `stop` fires.
pub fn spawn_loop(
    shared: Arc<Shared>,
    component: Component,
    log: Arc<dyn Log>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let name = match &shared.config().target {
        Some(target) => format!("ifctl-{target}-{component}"),
        None => format!("ifctl-{component}"),
    };
    std::thread::Builder::new().name(name).spawn(move || {
        crate::cli::runtime().block_on(component_loop(shared, component, log, stop));
    })
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
    let path = shared.journal.path().to_path_buf();
    let target = shared.journal.target().map(String::from);
    let mut known: Option<Status> = offload::run("reading the last journaled status", JOURNAL_DEADLINE, move || {
        crate::health::last_journaled(&path, target.as_deref(), &[component]).get(&component).copied()
    })
    .await
    .ok()
    .flatten();
    let mut last: Option<ComponentReport> = None;
    let mut interval = tokio::time::interval(shared.config().health.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reloaded = shared.reloaded.subscribe();
    loop {
        shared.beat(component, false);
        tokio::select! {
            _ = interval.tick() => {}
            _ = reloaded.changed() => {}
            _ = stop.changed() => return,
        }
        shared.beat(component, false);
        crate::hooks::hang_point(format_args!("serve.loop.{component}"));
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
        shared.beat(component, false);
        report.breaker = Some(breaker.view(Instant::now()));
        if let Ok(st) = offload::recovery_state(&shared.journal, &config).await {
            let view = policy::view(&config, &st, component);
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
            if let Err(e) = offload::append(&shared.journal, change.event()).await {
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
        // An open circuit spares the server probes, not recovery: the ladder keeps its own pace,
        // and a round that heals closes the circuit (the attempt verified with a fresh probe).
        if config.serve.auto_recover && report.status == Status::Unhealthy {
            shared.beat(component, true);
            if auto_recover(&shared, &config, &report, &log, &stop).await {
                breaker.record(true, Instant::now());
            }
        }
    }
}

/// One round of the escalation ladder for an unhealthy component, by the same policy as
/// `recover`; true when a step healed it.
async fn auto_recover(
    shared: &Arc<Shared>,
    config: &Arc<Config>,
    report: &ComponentReport,
    log: &Arc<dyn Log>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> bool {
    let component = report.component;
    // OpenWebUI down because Redis is: Redis's own loop recovers Redis.
    let deps = shared.report();
    if deps.get(component).is_some_and(|r| !r.caused_by.is_empty()) {
        return false;
    }
    // Exclusive with `recover` and `approve` (and other serves) on this host; busy: they decide.
    let path = shared.journal.path().to_path_buf();
    let scoped = config.scoped(component);
    let lock = offload::run("taking the recovery lock", JOURNAL_DEADLINE, move || {
        crate::snapshot::lock::acquire_recovery(&path, &scoped, "ifctl serve")
    })
    .await;
    let Ok(Ok(_lock)) = lock else {
        return false;
    };
    let secrets = shared.secrets.read().expect("secrets lock").clone();
    let walker = ladder::Walker {
        config: config.clone(),
        secrets: &secrets,
        journal: &shared.journal,
        reason: Some("serve"),
        manual: false,
        progress: recovery::execute::quiet(),
        stop: Some(stop.clone()),
    };
    let mut newly_suspended = None;
    let mut on_step = |step: &ladder::Step| match step {
        ladder::Step::Attempted(result) => {
            *shared
                .attempts
                .lock()
                .expect("attempts lock")
                .entry((component, result.strategy.name().to_string(), result.outcome.to_string()))
                .or_default() += 1;
            log.log(
                if result.success { "info" } else { "warn" },
                Some(component),
                &format!("{} {}: now {}", result.strategy.qualified(), result.outcome, result.status_after),
                serde_json::json!({"duration_ms": result.duration_ms, "actions": result.actions, "error": result.error}),
            );
        }
        ladder::Step::Queued { strategy, action_id, new: true, .. } => log.log(
            "warn",
            Some(component),
            &format!("{} needs approval: ifctl approve {action_id}", strategy.qualified()),
            serde_json::json!({"action_id": action_id}),
        ),
        // Once per suspension, not once per tick: logged and journaled.
        ladder::Step::Refused { strategy, reason, until } if reason.contains("suspended") => {
            let mut told = shared.told_suspended.lock().expect("told lock");
            if told.get(&component) != Some(until) {
                told.insert(component, *until);
                log.log(
                    "warn",
                    Some(component),
                    &format!("{} not tried: {reason}", strategy.qualified()),
                    serde_json::json!({"until": until}),
                );
                newly_suspended =
                    Some(NewEvent::new(state::SUSPENDED, "suspended").component(component.name()).details(
                        serde_json::json!({"strategy": strategy.qualified(), "reason": reason, "until": until}),
                    ));
            }
        }
        _ => {}
    };
    let round = walker.round(component, Failure::from_report(report), &mut on_step).await;
    if let Some(event) = newly_suspended
        && let Err(e) = offload::append(&shared.journal, event).await
    {
        log.log("error", Some(component), "suspension not journaled", serde_json::json!({"error": e.to_string()}));
    }
    match round {
        Ok(steps) => steps.iter().any(ladder::Step::recovered),
        Err(e) => {
            log.log("error", Some(component), "recovery not journaled", serde_json::json!({"error": e.to_string()}));
            false
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
