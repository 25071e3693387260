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
pub mod targets;
pub mod validate;

use crate::cli::{Context, Failure};

const GROUP_HEALTH: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl health check\n",
    "  ifctl health check --format nagios -c redis\n",
    "  ifctl health watch --interval 2s\n",
    "\n",
    "EXIT STATUS: see `ifctl health check --help` (Nagios codes: 0 healthy, 1 degraded, 2 unhealthy,\n",
    "3 unknown or bad flags)."
);

const GROUP_SNAPSHOT: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot create --wait\n",
    "  ifctl snapshot list\n",
    "  ifctl snapshot restore snap-20261124T023000Z --dry-run\n",
    "  ifctl snapshot verify snap-20261124T023000Z --deep\n",
    "  ifctl snapshot prune --keep-daily 7 --keep-weekly 4\n",
    "\n",
    "EXIT STATUS: each subcommand's --help lists its own; in short:\n",
    "  0    success\n",
    "  1    the operation failed\n",
    "  2    usage error (unknown snapshot, refused without --yes)\n",
    "  3    Chroma unreachable\n",
    "  4    integrity failure (checksum, archive, staging check)\n",
    "  6    another operation holds the destination or collection lock (--wait queues)"
);

const GROUP_JOURNAL: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl journal verify\n",
    "  ifctl journal verify --anchor 1200:3f9c…\n",
    "  ifctl journal rotate\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the chain verifies (verify) / rotated (rotate)\n",
    "  1    the journal could not be read or written\n",
    "  2    usage error\n",
    "  4    the chain is broken, cut off or rewritten (verify)"
);

const GROUP_CONFIG: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl config show\n",
    "  ifctl --output json config show\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the configuration loads; it was printed\n",
    "  2    the configuration is invalid (file, line, key and reason are printed)"
);

const COMPLETIONS_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl completions bash > /etc/bash_completion.d/ifctl\n",
    "  ifctl completions zsh > \"${fpath[1]}/_ifctl\"\n",
    "  ifctl completions fish > ~/.config/fish/completions/ifctl.fish\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the script was printed\n",
    "  2    unknown shell"
);

const MAN_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl man /usr/local/share/man/man1\n",
    "  ifctl man ./man && man ./man/ifctl-snapshot-restore.1\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the pages were written\n",
    "  1    the directory could not be written\n",
    "  2    usage error"
);

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check the health of Redis, Chroma, OpenWebUI and the host
    #[command(subcommand, after_long_help = GROUP_HEALTH)]
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
    #[command(after_long_help = history::AFTER_HELP)]
    History(history::HistoryArgs),
    /// Snapshots of Chroma collections: create, list, restore, verify, prune
    #[command(subcommand, after_long_help = GROUP_SNAPSHOT)]
    Snapshot(snapshot::SnapshotCommand),
    /// Move collection metadata to a new schema (checkpointed, verified, rolled back on loss)
    #[command(after_long_help = migrate::AFTER_HELP)]
    Migrate(migrate::MigrateArgs),
    /// Check migrated collections: ids, fields, types, neighbours, dimensions, citations
    #[command(after_long_help = validate::AFTER_HELP)]
    Validate(validate::ValidateArgs),
    /// Work with the audit journal
    #[command(subcommand, after_long_help = GROUP_JOURNAL)]
    Journal(journal::JournalCommand),
    /// Inspect the resolved configuration
    #[command(subcommand, after_long_help = GROUP_CONFIG)]
    Config(config::ConfigCommand),
    /// List the config's named targets (stacks) and where each value came from
    #[command(after_long_help = targets::AFTER_HELP)]
    Targets(targets::TargetsArgs),
    /// Print a shell completion script
    #[command(after_long_help = COMPLETIONS_HELP)]
    Completions(completions::CompletionsArgs),
    /// Write man pages for every command into a directory
    #[command(after_long_help = MAN_HELP)]
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
        Command::Targets(args) => targets::run(ctx, args),
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man(args) => man::run(ctx, args),
    }
}
