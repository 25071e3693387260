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
    "\n",
    "Probes run concurrently, each with its own deadline: a hung server fails at the deadline,\n",
    "a refused connection fails at once. The overall status is the worst of the critical\n",
    "components. Status changes are written to the journal (`ifctl history --kind health`).\n",
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
}

pub fn run(ctx: &Context, args: CheckArgs) -> Result<u8, Failure> {
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
    let previous = health::last_journaled(journal.path(), &components);
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

/// The components asked for, in the canonical order, without repeats.
pub fn selected(asked: &[Component]) -> Vec<Component> {
    Component::ALL.into_iter().filter(|c| asked.is_empty() || asked.contains(c)).collect()
}
