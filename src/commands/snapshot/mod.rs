//! `ifctl snapshot create | list | restore | verify | prune`.

pub mod create;
pub mod list;
pub mod prune;
pub mod restore;
pub mod unlock;
pub mod verify;

use crate::cli::{CliError, Context, ErrorKind, Failure};
use crate::clients::chroma::ChromaClient;
use crate::config::Config;
use crate::snapshot::SnapshotError;
use crate::snapshot::repo::Repository;
use crate::snapshot::repo_lock::LockRecord;

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
    /// Delete old snapshots by a retention policy (and abort unfinished uploads)
    #[command(after_long_help = prune::AFTER_HELP)]
    Prune(prune::PruneArgs),
    /// Remove a repository's lock left by a process that is gone (journaled, with a reason)
    #[command(after_long_help = unlock::AFTER_HELP)]
    Unlock(unlock::UnlockArgs),
}

pub fn run(ctx: &Context, command: SnapshotCommand) -> Result<u8, Failure> {
    match command {
        SnapshotCommand::Create(args) => create::run(ctx, args),
        SnapshotCommand::List(args) => list::run(ctx, args),
        SnapshotCommand::Restore(args) => restore::run(ctx, args),
        SnapshotCommand::Verify(args) => verify::run(ctx, args),
        SnapshotCommand::Prune(args) => prune::run(ctx, args),
        SnapshotCommand::Unlock(args) => unlock::run(ctx, args),
    }
}

/// `--repo` (alias `--dest`): where the snapshot verbs work.
#[derive(Debug, clap::Args)]
pub struct RepoArg {
    /// Snapshot repository: a directory, file:///path, s3://bucket/prefix, gs://…, az://…
    /// [default: snapshots.repository, else snapshots.dir]
    #[arg(long = "repo", visible_alias = "dest", value_name = "REPO")]
    pub repo: Option<String>,
}

impl RepoArg {
    pub fn open(&self, config: &Config) -> Result<Repository, SnapshotError> {
        let spec = self.repo.clone().unwrap_or_else(|| config.snapshot_repository());
        Repository::open(&spec, &config.snapshots)
    }
}

/// Journals that a stale repository lock was taken over, and says so on stderr.
pub fn journal_takeover(ctx: &Context, journal: &crate::journal::Journal, repo: &str, old: &LockRecord, why: &str) {
    ctx.printer.warn(&format!("took over the lock on `{repo}` from {} ({why})", old.describe()));
    let event = crate::journal::NewEvent::new("snapshot.lock_taken_over", "ok").details(serde_json::json!({
        "repository": repo, "why": why,
        "previous": {"host": old.host, "pid": old.pid, "user": old.user, "action": old.action,
            "since": old.since, "refreshed": old.refreshed},
    }));
    if let Err(e) = journal.append(event) {
        ctx.printer.warn(&format!("the takeover was not journaled: {e}"));
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
            SnapshotError::Unreachable(_) | SnapshotError::Store(_) => ErrorKind::Unreachable,
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
