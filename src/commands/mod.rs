//! One module per command group, one file per leaf command. Commands translate arguments into a
//! call to the core, journal what happened and render the result; they decide nothing else.

pub mod approve;
pub mod completions;
pub mod config;
pub mod disable;
pub mod health;
pub mod history;
pub mod journal;
pub mod man;
pub mod migrate;
pub mod recover;
pub mod serve;
pub mod snapshot;
pub mod validate;

use crate::cli::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check the health of Redis, Chroma, OpenWebUI and the host
    #[command(subcommand)]
    Health(health::HealthCommand),
    /// Run a recovery strategy for a component (by policy, verified, journaled)
    #[command(after_long_help = recover::AFTER_HELP)]
    Recover(recover::RecoverArgs),
    /// Approve, list or deny recoveries waiting for approval
    #[command(after_long_help = approve::AFTER_HELP)]
    Approve(approve::ApproveArgs),
    /// Disable automatic recovery for a while (the kill switch)
    #[command(after_long_help = disable::DISABLE_HELP)]
    Disable(disable::DisableArgs),
    /// End a disable window early
    #[command(after_long_help = disable::ENABLE_HELP)]
    Enable(disable::EnableArgs),
    /// The long-running loop: checks, recovery by policy, /livez /readyz /status /metrics
    #[command(after_long_help = serve::AFTER_HELP)]
    Serve(serve::ServeArgs),
    /// Show journal events: health transitions, recoveries, snapshots, migrations
    #[command(after_long_help = crate::exit::GENERAL_HELP)]
    History(history::HistoryArgs),
    /// Snapshots of Chroma collections: create, list, restore, verify, prune
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Move collection metadata to a new schema (checkpointed, verified, rolled back on loss)
    #[command(after_long_help = migrate::AFTER_HELP)]
    Migrate(migrate::MigrateArgs),
    /// Check migrated collections: ids, fields, types, neighbours, dimensions, citations
    #[command(after_long_help = validate::AFTER_HELP)]
    Validate(validate::ValidateArgs),
    /// Work with the audit journal
    #[command(subcommand)]
    Journal(journal::JournalCommand),
    /// Inspect the resolved configuration
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print a shell completion script
    #[command(after_long_help = crate::exit::GENERAL_HELP)]
    Completions(completions::CompletionsArgs),
    /// Write man pages for every command into a directory
    #[command(after_long_help = crate::exit::GENERAL_HELP)]
    Man(man::ManArgs),
}

/// Runs a parsed command; `Ok` carries the exit code.
pub fn run(ctx: &Context, command: Command) -> Result<u8, Failure> {
    match command {
        Command::Health(cmd) => health::run(ctx, cmd),
        Command::Recover(args) => recover::run(ctx, args),
        Command::Approve(args) => approve::run(ctx, args),
        Command::Disable(args) => disable::disable(ctx, args),
        Command::Enable(args) => disable::enable(ctx, args),
        Command::Serve(args) => serve::run(ctx, args),
        Command::History(args) => history::run(ctx, args),
        Command::Snapshot(cmd) => snapshot::run(ctx, cmd),
        Command::Migrate(args) => migrate::run(ctx, args),
        Command::Validate(args) => validate::run(ctx, args),
        Command::Journal(cmd) => journal::run(ctx, cmd),
        Command::Config(cmd) => config::run(ctx, cmd),
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man(args) => man::run(ctx, args),
    }
}
