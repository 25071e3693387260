//! `ifctl health watch`: probe on an interval; a live table on a terminal, one line per status
//! change when piped. Circuit breakers keep a dead backend from being hammered.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::cli::{CliError, Context, Failure};
use crate::config::{Component, ProcessEnv};
use crate::exit;
use crate::health::{
    self, Breaker, BreakerState, BreakerView, ComponentReport, HealthReport, Probes, Problem, Secrets, Status,
    Transition, apply_dependencies,
};

use super::{check::selected, view};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl health watch                       live table, every 5 s, until Ctrl-C\n",
    "  ifctl health watch --interval 1s --count 10\n",
    "  ifctl health watch | tee -a health.log   each component's state, then one line per change\n",
    "  ifctl --output json health watch         the same as JSON objects, one per line\n",
    "\n",
    "A component that fails `health.breaker_failures` probes in a row opens its circuit breaker:\n",
    "it is not probed for an eighth of `health.breaker_open_for`, then one trial probe decides\n",
    "(half-open); each failed trial doubles the wait, up to `health.breaker_open_for`.\n",
    "Status changes are written to the journal, not every round.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0-3  with --count: the Nagios status of the last round (0 healthy, 1 degraded, 2 unhealthy, 3 unknown)\n",
    "  3    bad flags or configuration\n",
    "  130  interrupted (Ctrl-C)"
);

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Watch only this component (repeatable) [default: all]
    #[arg(long = "component", short = 'c', value_enum, value_name = "C")]
    pub components: Vec<Component>,
    /// Time between rounds, e.g. 1s, 30s [default: health.interval, 5s]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub interval: Option<Duration>,
    /// Stop after N rounds [default: run until Ctrl-C]
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Deadline of each probe [default: health.timeout, 2s]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub timeout: Option<Duration>,
}

pub fn run(ctx: &Context, args: WatchArgs) -> Result<u8, Failure> {
    let resolved = ctx.config().map_err(|e| e.exit_code(exit::health::UNKNOWN))?;
    let config = &resolved.config;
    let interval = args.interval.unwrap_or(config.health.interval);
    let timeout = args.timeout.unwrap_or(config.health.timeout);
    if interval.is_zero() || timeout.is_zero() || args.count == Some(0) {
        return Err(CliError::usage("`--interval`, `--timeout` and `--count` must be greater than zero")
            .exit_code(exit::health::UNKNOWN)
            .into());
    }
    let components = selected(&args.components);
    let probes = Probes::new(config, Secrets::from_env(config, &ProcessEnv), timeout);
    let journal = ctx.journal(&resolved);
    let mut watcher = Watcher {
        breakers: components
            .iter()
            .map(|c| (*c, Breaker::new(config.health.breaker_failures, config.health.breaker_open_for)))
            .collect(),
        last: BTreeMap::new(),
        known: health::last_journaled(journal.path(), journal.target(), &components),
        shown: BTreeMap::new(),
        shown_breakers: BTreeMap::new(),
    };
    let live = ctx.printer.stdout_is_tty() && !ctx.printer.json();

    crate::cli::runtime().block_on(async {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut round = 0u64;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = tokio::signal::ctrl_c() => return Ok(exit::INTERRUPTED),
            }
            let report = tokio::select! {
                report = watcher.round(&probes, &components) => report,
                _ = tokio::signal::ctrl_c() => return Ok(exit::INTERRUPTED),
            };
            round += 1;
            let recorded = watcher.known.clone();
            let changes = health::transitions(&watcher.known, &report);
            for change in &changes {
                if let Err(e) = journal.append(change.event()) {
                    ctx.printer.warn(&format!("status change not journaled: {e}"));
                }
                watcher.known.insert(change.component, change.to);
            }
            if live {
                ctx.printer.clear_screen()?;
                ctx.printer.out(&view::table(&report, true, ctx.printer.color()))?;
                let next = match args.count {
                    Some(n) if round >= n => String::new(),
                    _ => format!(" Next round in {}; Ctrl-C to stop.", humantime::format_duration(interval)),
                };
                ctx.printer
                    .line(&format!("Round {round} at {}.{next}", crate::cli::time::human(&report.checked_at)))?;
            } else {
                // Printed relative to what this run has printed: the first round shows every
                // component's state (a log piped to a file starts with it), later ones changes.
                for mut change in health::transitions(&watcher.shown, &report) {
                    if change.from.is_none() {
                        change.from = recorded.get(&change.component).copied();
                    }
                    print_change(ctx, &report, &change)?;
                    watcher.shown.insert(change.component, change.to);
                }
                for (component, view) in watcher.breaker_changes(&report) {
                    print_breaker(ctx, &report, component, &view)?;
                }
            }
            if args.count.is_some_and(|n| round >= n) {
                return Ok::<u8, Failure>(report.status.code());
            }
        }
    })
}

/// State kept between rounds.
struct Watcher {
    breakers: BTreeMap<Component, Breaker>,
    /// The last report of each component, shown again while its breaker is open.
    last: BTreeMap<Component, ComponentReport>,
    /// The last status recorded in the journal, to detect changes.
    known: BTreeMap<Component, Status>,
    /// The status last printed (piped output), per component.
    shown: BTreeMap<Component, Status>,
    /// Breaker states last reported, to print their changes.
    shown_breakers: BTreeMap<Component, BreakerState>,
}

impl Watcher {
    /// Breakers whose state differs from the one last shown (all closed at the start).
    fn breaker_changes(&mut self, report: &HealthReport) -> Vec<(Component, BreakerView)> {
        let mut changed = Vec::new();
        for c in &report.components {
            let Some(view) = c.breaker else { continue };
            let before = self.shown_breakers.insert(c.component, view.state).unwrap_or(BreakerState::Closed);
            if before != view.state {
                changed.push((c.component, view));
            }
        }
        changed
    }

    async fn round(&mut self, probes: &Probes, components: &[Component]) -> HealthReport {
        let started = Instant::now();
        let checked_at = crate::journal::now();
        let now = Instant::now();
        let due: Vec<Component> =
            components.iter().copied().filter(|c| self.breakers.get_mut(c).is_some_and(|b| b.allow(now))).collect();
        let fresh = futures_util::future::join_all(due.iter().map(|c| probes.probe(*c))).await;
        let now = Instant::now();
        for report in fresh {
            let failed = matches!(report.status, Status::Unhealthy | Status::Unknown);
            if let Some(breaker) = self.breakers.get_mut(&report.component) {
                breaker.record(!failed, now);
            }
            self.last.insert(report.component, report);
        }
        let mut reports = Vec::new();
        for component in components {
            let breaker = &self.breakers[component];
            let mut report = self
                .last
                .get(component)
                .cloned()
                .unwrap_or_else(|| ComponentReport::new(*component, probes.critical(*component)));
            if !due.contains(component) {
                let view = breaker.view(now);
                let earlier = report.reason.clone().unwrap_or_else(|| "failing".into());
                report.problem = Some(Problem::CircuitOpen);
                report.reason = Some(format!(
                    "circuit open after {} failed probes, not probed (last: {earlier}); trial in {:.0}s",
                    view.consecutive_failures,
                    view.retry_in_s.unwrap_or(0.0)
                ));
                report.latency_ms = 0.0;
            }
            report.breaker = Some(breaker.view(now));
            reports.push(report);
        }
        apply_dependencies(&mut reports, &probes.dependencies());
        let mut report = HealthReport::new(reports, checked_at, started.elapsed().as_secs_f64() * 1000.0);
        report.attach_recovery(&probes.config);
        report
    }
}

fn print_change(ctx: &Context, report: &HealthReport, change: &Transition) -> Result<(), Failure> {
    if ctx.printer.json() {
        let component = report.get(change.component);
        ctx.printer.json_line(&serde_json::json!({
            "ts": report.checked_at, "component": change.component, "event": "status",
            "from": change.from, "to": change.to,
            "reason": change.reason, "caused_by": change.caused_by,
            "breaker": component.and_then(|c| c.breaker), "overall": report.status,
        }))?;
        return Ok(());
    }
    let reason = change.reason.as_deref().map_or(String::new(), |r| format!(": {r}"));
    let what = match change.from {
        Some(from) if from == change.to => format!("{} (as last recorded){reason}", view::paint(change.to)),
        Some(from) => format!("{} -> {}{reason}", from.as_str(), view::paint(change.to)),
        None => format!("(first seen) -> {}{reason}", view::paint(change.to)),
    };
    ctx.printer.line(&format!(
        "{} {} {what} [overall {}]",
        crate::cli::time::human(&report.checked_at),
        change.component,
        report.status
    ))?;
    Ok(())
}

fn print_breaker(
    ctx: &Context,
    report: &HealthReport,
    component: Component,
    view: &BreakerView,
) -> Result<(), Failure> {
    if ctx.printer.json() {
        ctx.printer.json_line(&serde_json::json!({
            "ts": report.checked_at, "component": component, "event": "breaker", "breaker": view,
        }))?;
        return Ok(());
    }
    let detail = match view.state {
        BreakerState::Open => format!(
            " after {} failed probes; not probed for {:.0}s",
            view.consecutive_failures,
            view.retry_in_s.unwrap_or(0.0)
        ),
        BreakerState::HalfOpen => ": one trial probe".to_string(),
        BreakerState::Closed => ": probing normally".to_string(),
    };
    ctx.printer.line(&format!(
        "{} {component} circuit breaker {}{detail}",
        crate::cli::time::human(&report.checked_at),
        view.state.as_str()
    ))?;
    Ok(())
}
