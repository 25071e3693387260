//! `ifctl snapshot create | list | restore | verify | prune`.

pub mod create;
pub mod list;
pub mod prune;
pub mod restore;
pub mod verify;

use crate::cli::{CliError, Context, ErrorKind, Failure};
use crate::clients::chroma::ChromaClient;
use crate::config::Config;
use crate::snapshot::SnapshotError;

#[derive(Debug, clap::Subcommand)]
pub enum SnapshotCommand {
    /// Export Chroma collections to a verified tar.gz of Parquet files
    #[command(after_long_help = create::AFTER_HELP)]
    Create(create::CreateArgs),
    /// List the snapshots in the destination
    #[command(after_long_help = list::AFTER_HELP)]
    List(list::ListArgs),
    /// Restore collections from a snapshot (verified first, swapped in by rename)
    #[command(after_long_help = restore::AFTER_HELP)]
    Restore(restore::RestoreArgs),
    /// Check a snapshot: checksums, structure, Parquet files, row counts
    #[command(after_long_help = verify::AFTER_HELP)]
    Verify(verify::VerifyArgs),
    /// Delete old snapshots by a retention policy
    #[command(after_long_help = prune::AFTER_HELP)]
    Prune(prune::PruneArgs),
}

pub fn run(ctx: &Context, command: SnapshotCommand) -> Result<u8, Failure> {
    match command {
        SnapshotCommand::Create(args) => create::run(ctx, args),
        SnapshotCommand::List(args) => list::run(ctx, args),
        SnapshotCommand::Restore(args) => restore::run(ctx, args),
        SnapshotCommand::Verify(args) => verify::run(ctx, args),
        SnapshotCommand::Prune(args) => prune::run(ctx, args),
    }
}

/// A Chroma client for bulk work.
pub fn bulk_client(config: &Config) -> ChromaClient {
    ChromaClient::bulk(config)
}

impl From<SnapshotError> for CliError {
    fn from(err: SnapshotError) -> CliError {
        let kind = match &err {
            SnapshotError::Usage(_) => ErrorKind::Usage,
            SnapshotError::Unreachable(_) => ErrorKind::Unreachable,
            SnapshotError::Integrity(_) => ErrorKind::Integrity,
            SnapshotError::Locked(_) => ErrorKind::Refused,
            SnapshotError::Interrupted => ErrorKind::Interrupted,
            _ => ErrorKind::Failed,
        };
        let code = err.exit_code();
        let mut error = CliError::new(kind, err.to_string()).exit_code(code);
        if matches!(err, SnapshotError::Unreachable(_)) {
            error = error.hint("is Chroma running? `ifctl health check --component chromadb` says more");
        }
        error
    }
}

impl From<SnapshotError> for Failure {
    fn from(err: SnapshotError) -> Failure {
        Failure::Error(err.into())
    }
}

/// Megabytes for people: `41.2 MiB`.
pub fn size(bytes: u64) -> String {
    crate::health::fmt_value(bytes as f64, crate::health::Unit::Bytes)
}
