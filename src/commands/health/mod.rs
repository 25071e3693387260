//! `ifctl health check | watch`.

pub mod check;
mod view;
pub mod watch;

use crate::cli::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum HealthCommand {
    /// Probe every component once and exit with a Nagios status code
    #[command(after_long_help = check::AFTER_HELP)]
    Check(check::CheckArgs),
    /// Probe repeatedly, redraw a live table (or print status changes when piped)
    #[command(after_long_help = watch::AFTER_HELP)]
    Watch(watch::WatchArgs),
}

pub fn run(ctx: &Context, command: HealthCommand) -> Result<u8, Failure> {
    match command {
        HealthCommand::Check(args) => check::run(ctx, args),
        HealthCommand::Watch(args) => watch::run(ctx, args),
    }
}
