//! `ifctl disable` / `ifctl enable`: the kill switch for automatic recovery.

use std::time::Duration;

use crate::cli::{CliError, Context, Failure};
use crate::config::Component;
use crate::exit;
use crate::journal::{NewEvent, format_ts};
use crate::recovery::state::{self, MAX_DISABLE};

pub const DISABLE_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl disable --for 2h --reason \"maintenance window INC-4711\"\n",
    "  ifctl disable --component redis --for 30m --reason \"replica resync\"\n",
    "  ifctl disable --all-targets --for 1h --reason \"network change\"\n",
    "  ifctl --target staging disable --for 4h --reason \"load test\"\n",
    "\n",
    "Stops automatic recovery (serve's loop) for one component or, without --component, for all.\n",
    "It expires by itself (at most 72 h; disable again for longer) and shows in health output.\n",
    "`ifctl recover` by an operator still works, with a warning. With targets, a window is per\n",
    "target (--target, IFCTL_TARGET, default_target) or for every one (--all-targets).\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    disabled\n",
    "  1    the journal could not be written\n",
    "  2    usage or configuration error"
);

pub const ENABLE_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl enable\n",
    "  ifctl enable --component redis\n",
    "  ifctl enable --all-targets\n",
    "\n",
    "Ends a disable window early.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    enabled (or was not disabled)\n",
    "  1    the journal could not be written\n",
    "  2    usage or configuration error"
);

#[derive(Debug, clap::Args)]
pub struct DisableArgs {
    /// Only this component [default: all]
    #[arg(long, short = 'c', value_enum, value_name = "C")]
    pub component: Option<Component>,
    /// How long, e.g. 30m, 2h (at most 72h)
    #[arg(long = "for", value_parser = humantime::parse_duration, value_name = "DUR")]
    pub duration: Duration,
    /// Why (journaled, shown in health output)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Disable it on every target of the config
    #[arg(long)]
    pub all_targets: bool,
}

#[derive(Debug, clap::Args)]
pub struct EnableArgs {
    /// Only this component [default: all]
    #[arg(long, short = 'c', value_enum, value_name = "C")]
    pub component: Option<Component>,
    /// Enable it on every target of the config
    #[arg(long)]
    pub all_targets: bool,
}

/// The targets a kill-switch command acts on: every one with --all-targets, else the chosen one.
fn scope(ctx: &Context, all_targets: bool) -> Result<Vec<crate::config::Resolved>, CliError> {
    if !all_targets {
        return Ok(vec![ctx.config()?]);
    }
    if ctx.global.target.is_some() {
        return Err(CliError::usage("--all-targets and --target exclude each other"));
    }
    ctx.fleet()
}

/// ` on target `prod``, or nothing without targets.
fn on(resolved: &crate::config::Resolved) -> String {
    resolved.config.target.as_ref().map_or(String::new(), |t| format!(" on target `{t}`"))
}

pub fn disable(ctx: &Context, args: DisableArgs) -> Result<u8, Failure> {
    let duration = chrono::Duration::from_std(args.duration).unwrap_or(MAX_DISABLE);
    if duration <= chrono::Duration::zero() || duration > MAX_DISABLE {
        return Err(CliError::usage("`--for` must be more than 0 and at most 72h").into());
    }
    if args.reason.trim().is_empty() {
        return Err(CliError::usage("`--reason` must say why").into());
    }
    let until = crate::journal::now() + duration;
    for resolved in scope(ctx, args.all_targets)? {
        let mut event = NewEvent::new(state::DISABLED, "disabled")
            .details(serde_json::json!({"until": format_ts(&until), "reason": args.reason}));
        if let Some(c) = args.component {
            event = event.component(c.name());
        }
        ctx.journal(&resolved).append(event)?;
        crate::hooks::crash_point("disable.recorded");
        let what = args.component.map_or("every component".to_string(), |c| format!("`{c}`"));
        ctx.printer.line(&format!(
            "Automatic recovery of {what}{} is disabled until {} ({}).",
            on(&resolved),
            crate::cli::time::human(&until),
            args.reason
        ))?;
    }
    Ok(exit::SUCCESS)
}

pub fn enable(ctx: &Context, args: EnableArgs) -> Result<u8, Failure> {
    for resolved in scope(ctx, args.all_targets)? {
        let mut event = NewEvent::new(state::ENABLED, "enabled");
        if let Some(c) = args.component {
            event = event.component(c.name());
        }
        ctx.journal(&resolved).append(event)?;
        crate::hooks::crash_point("disable.recorded");
        let what = args.component.map_or("every component".to_string(), |c| format!("`{c}`"));
        ctx.printer.line(&format!("Automatic recovery of {what}{} is enabled.", on(&resolved)))?;
    }
    Ok(exit::SUCCESS)
}
