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
    "\n",
    "Stops automatic recovery (serve's loop) for one component or, without --component, for all.\n",
    "It expires by itself (at most 72 h; disable again for longer) and shows in health output.\n",
    "`ifctl recover` by an operator still works, with a warning.\n",
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
}

#[derive(Debug, clap::Args)]
pub struct EnableArgs {
    /// Only this component [default: all]
    #[arg(long, short = 'c', value_enum, value_name = "C")]
    pub component: Option<Component>,
}

pub fn disable(ctx: &Context, args: DisableArgs) -> Result<u8, Failure> {
    let duration = chrono::Duration::from_std(args.duration).unwrap_or(MAX_DISABLE);
    if duration <= chrono::Duration::zero() || duration > MAX_DISABLE {
        return Err(CliError::usage("`--for` must be more than 0 and at most 72h").into());
    }
    if args.reason.trim().is_empty() {
        return Err(CliError::usage("`--reason` must say why").into());
    }
    let resolved = ctx.config()?;
    let until = crate::journal::now() + duration;
    let mut event = NewEvent::new(state::DISABLED, "disabled")
        .details(serde_json::json!({"until": format_ts(&until), "reason": args.reason}));
    if let Some(c) = args.component {
        event = event.component(c.name());
    }
    ctx.journal(&resolved).append(event)?;
    crate::hooks::crash_point("disable.recorded");
    let scope = args.component.map_or("every component".to_string(), |c| format!("`{c}`"));
    ctx.printer.line(&format!(
        "Automatic recovery of {scope} is disabled until {} ({}).",
        crate::cli::time::human(&until),
        args.reason
    ))?;
    Ok(exit::SUCCESS)
}

pub fn enable(ctx: &Context, args: EnableArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let mut event = NewEvent::new(state::ENABLED, "enabled");
    if let Some(c) = args.component {
        event = event.component(c.name());
    }
    ctx.journal(&resolved).append(event)?;
    crate::hooks::crash_point("disable.recorded");
    let scope = args.component.map_or("every component".to_string(), |c| format!("`{c}`"));
    ctx.printer.line(&format!("Automatic recovery of {scope} is enabled."))?;
    Ok(exit::SUCCESS)
}
