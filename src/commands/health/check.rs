//! `ifctl health check`: probe once, render, exit with the Nagios code.

use std::time::Duration;

use crate::cli::{CliError, Context, Failure};
use crate::config::{Component, ProcessEnv};
use crate::exit;
use crate::health::{self, Probes, Secrets, render};

use super::view;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl health check\n",
    "  ifctl health check --component redis --component chromadb --timeout 500ms\n",
    "  ifctl health check --format prometheus > /var/lib/node_exporter/textfile/ifctl.prom\n",
    "  ifctl health check --format nagios        # NRPE / Icinga check command\n",
    "  ifctl --output json health check | jq .status\n",
    "  ifctl health check --all-targets            every `[targets.*]` stack, one table\n",
    "  ifctl health check --target prod --format nagios\n",
    "\n",
    "Probes run concurrently, each with its own deadline: a hung server fails at the deadline,\n",
    "a refused connection fails at once. The overall status is the worst of the critical\n",
    "components. Status changes are written to the journal (`ifctl history --kind health`).\n",
    "--all-targets probes every target of the config at once under the same deadlines: one table\n",
    "with a TARGET column, JSON `{status, targets: [{target, ...}]}`, Prometheus samples labelled\n",
    "`target`, one Nagios line; the exit code is the worst of all targets.\n",
    "\n",
    "EXIT STATUS (Nagios plugin convention):\n",
    "  0    healthy: every critical component is healthy\n",
    "  1    degraded: a critical component is degraded, none is unhealthy\n",
    "  2    unhealthy: a critical component is unhealthy\n",
    "  3    unknown: the status could not be determined, or bad flags or configuration"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Prometheus,
    Nagios,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Check only this component (repeatable) [default: all]
    #[arg(long = "component", short = 'c', value_enum, value_name = "C")]
    pub components: Vec<Component>,
    /// Output format [default: table, or json with --output json]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Deadline of each probe, e.g. 500ms, 2s [default: health.timeout, 2s]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// Check every target of the config at once (`[targets.*]`)
    #[arg(long)]
    pub all_targets: bool,
}

pub fn run(ctx: &Context, args: CheckArgs) -> Result<u8, Failure> {
    let nagios = args.format == Some(Format::Nagios) && !ctx.printer.json();
    let outcome = check(ctx, args);
    // A Nagios check shows only stdout: an UNKNOWN must say why there, not only on stderr.
    if nagios && let Err(Failure::Error(error)) = &outcome {
        let reason = error.message.replace(['\n', '\r'], " ").replace('|', "/");
        ctx.printer.line(&format!("IFCTL UNKNOWN - {reason}"))?;
    }
    outcome
}

fn check(ctx: &Context, args: CheckArgs) -> Result<u8, Failure> {
    if args.all_targets {
        if ctx.global.target.is_some() {
            return Err(CliError::usage("--all-targets and --target exclude each other")
                .exit_code(exit::health::UNKNOWN)
                .into());
        }
        return fleet(ctx, args);
    }
    // Nagios convention: a configuration problem is UNKNOWN (3), not the general usage code.
    let resolved = ctx.config().map_err(|e| e.exit_code(exit::health::UNKNOWN))?;
    let config = &resolved.config;
    let components = selected(&args.components);
    let timeout = args.timeout.unwrap_or(config.health.timeout);
    if timeout.is_zero() {
        return Err(CliError::usage("`--timeout` must be greater than zero").exit_code(exit::health::UNKNOWN).into());
    }
    let probes = Probes::new(config, Secrets::from_env(config, &ProcessEnv), timeout);
    let mut report = crate::cli::runtime().block_on(probes.check(&components));
    report.attach_recovery(config);

    let journal = ctx.journal(&resolved);
    let previous = health::last_journaled(journal.path(), journal.target(), &components);
    for transition in health::transitions(&previous, &report) {
        if let Err(e) = journal.append(transition.event()) {
            ctx.printer.warn(&format!("status change not journaled: {e}"));
            break;
        }
    }

    let format = args.format.unwrap_or(if ctx.printer.json() { Format::Json } else { Format::Table });
    match format {
        Format::Table => ctx.printer.out(&view::table(&report, ctx.printer.stdout_is_tty(), ctx.printer.color()))?,
        Format::Json => ctx.printer.json_value(&report)?,
        Format::Prometheus => ctx.printer.out(&render::prometheus(&report))?,
        Format::Nagios => ctx.printer.line(&render::nagios(&report))?,
    }
    Ok(report.status.code())
}

/// `--all-targets`: every target probed concurrently, each under its own config and deadlines,
/// transitions journaled per target, one rendering of all.
fn fleet(ctx: &Context, args: CheckArgs) -> Result<u8, Failure> {
    let fleet = ctx.fleet().map_err(|e| e.exit_code(exit::health::UNKNOWN))?;
    let components = selected(&args.components);
    if args.timeout.is_some_and(|t| t.is_zero()) {
        return Err(CliError::usage("`--timeout` must be greater than zero").exit_code(exit::health::UNKNOWN).into());
    }
    let started = std::time::Instant::now();
    let checks = fleet.iter().map(|resolved| {
        let config = &resolved.config;
        let timeout = args.timeout.unwrap_or(config.health.timeout);
        let probes = Probes::new(config, Secrets::from_env(config, &ProcessEnv), timeout);
        let components = components.clone();
        async move { probes.check(&components).await }
    });
    let reports = crate::cli::runtime().block_on(futures_util::future::join_all(checks));
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut named: Vec<(String, health::HealthReport)> = Vec::new();
    for (resolved, mut report) in fleet.iter().zip(reports) {
        report.attach_recovery(&resolved.config);
        let journal = ctx.journal(resolved);
        let previous = health::last_journaled(journal.path(), journal.target(), &components);
        for transition in health::transitions(&previous, &report) {
            if let Err(e) = journal.append(transition.event()) {
                ctx.printer.warn(&format!("status change not journaled: {e}"));
                break;
            }
        }
        named.push((resolved.config.target_name().to_string(), report));
    }
    let status = named.iter().fold(health::Status::Healthy, |worst, (_, r)| worst.worst(r.status));
    let format = args.format.unwrap_or(if ctx.printer.json() { Format::Json } else { Format::Table });
    match format {
        Format::Table => ctx.printer.out(&view::fleet_table(
            &named,
            status,
            duration_ms,
            ctx.printer.stdout_is_tty(),
            ctx.printer.color(),
        ))?,
        Format::Json => {
            let targets: Vec<serde_json::Value> = named
                .iter()
                .map(|(name, report)| {
                    let mut doc = serde_json::to_value(report).expect("reports serialize");
                    if let Some(map) = doc.as_object_mut() {
                        map.insert("target".into(), serde_json::json!(name));
                    }
                    doc
                })
                .collect();
            ctx.printer.json_value(&serde_json::json!({
                "status": status,
                "checked_at": crate::journal::now(),
                "duration_ms": duration_ms,
                "targets": targets,
            }))?
        }
        Format::Prometheus => {
            let parts: Vec<(&str, String)> =
                named.iter().map(|(name, report)| (name.as_str(), render::prometheus(report))).collect();
            ctx.printer.out(&render::prometheus_fleet(&parts))?
        }
        Format::Nagios => {
            let reports: Vec<(&str, &health::HealthReport)> = named.iter().map(|(n, r)| (n.as_str(), r)).collect();
            ctx.printer.line(&render::nagios_fleet(&reports, status))?
        }
    }
    Ok(status.code())
}

/// The components asked for, in the canonical order, without repeats.
pub fn selected(asked: &[Component]) -> Vec<Component> {
    Component::ALL.into_iter().filter(|c| asked.is_empty() || asked.contains(c)).collect()
}
