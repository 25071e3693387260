//! `ifctl config show`.

pub mod show;

use crate::cli::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print every resolved setting and where it came from (secrets masked)
    #[command(after_long_help = show::AFTER_HELP)]
    Show(show::ShowArgs),
}

pub fn run(ctx: &Context, command: ConfigCommand) -> Result<u8, Failure> {
    match command {
        ConfigCommand::Show(args) => show::run(ctx, args),
    }
}
