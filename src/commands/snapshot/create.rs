//! `ifctl snapshot create`.

use crate::cli::progress::Bars;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::NewEvent;
use crate::snapshot::create::{Cancel, CreateOptions, LockHooks, create, create_remote};
use crate::snapshot::repo::Repository;
use crate::snapshot::repo_lock::LockRecord;
use crate::snapshot::seal::Sealing;
use crate::snapshot::{ChromaSource, default_name};

use super::{bulk_client, size};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot create\n",
    "  ifctl snapshot create --name before-migration --collection sergio_humor\n",
    "  ifctl -q snapshot create --wait          # from cron: silent, waits for another run's lock\n",
    "  ifctl --output json snapshot create | jq -r .path\n",
    "  ifctl snapshot create --repo s3://backups/ifctl --encrypt   # off-host, age-encrypted\n",
    "\n",
    "Each collection is exported page by page (by id, so no row is skipped or repeated) to\n",
    "collections/<name>.parquet, with metadata.json and checksums.sha256, packed as\n",
    "<name>.tar.gz (<name>.tar.gz.age when encrypted). The archive appears under its name only\n",
    "when complete: in a directory by rename, in object storage (s3://, gs://, az://) as a\n",
    "multipart upload completed at the end and aborted on any failure. Repository: --repo,\n",
    "else IFCTL_SNAPSHOT_REPO / `snapshots.repository`, else `snapshots.dir`\n",
    "(IFCTL_SNAPSHOT_DIR), else <state_dir>/snapshots. Object-storage credentials come from\n",
    "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …), never the config file.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the snapshot was written\n",
    "  1    the export or upload failed (nothing that looks like a snapshot is left behind)\n",
    "  2    usage or configuration error (bad name, unknown collection, name taken, no such\n",
    "       bucket, --encrypt without a key)\n",
    "  3    Chroma, or the object store, was unreachable or refused the credentials\n",
    "  6    another process holds the repository's lock (named; use --wait)\n",
    "  130  interrupted"
);

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Snapshot name [default: snap-<UTC time>, e.g. snap-20261124T220000Z]
    #[arg(long)]
    pub name: Option<String>,
    /// Export only this collection (repeatable) [default: every collection]
    #[arg(long = "collection", value_name = "C")]
    pub collections: Vec<String>,
    #[command(flatten)]
    pub repo: super::RepoArg,
    /// Wait for another snapshot's lock on the repository instead of failing
    #[arg(long)]
    pub wait: bool,
    /// Records fetched per request [default: about 4 MB of JSON per page: 460 records of 384
    /// dimensions, at most 1000]. Smaller pages hold less memory and take longer
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,
    /// Encrypt with age (`<name>.tar.gz.age`) to snapshots.encryption.recipients or its
    /// passphrase_file (encryption is on anyway when recipients are configured)
    #[arg(long)]
    pub encrypt: bool,
    /// Encrypt to this age recipient (`age1…`; repeatable) instead of the configured ones
    #[arg(long = "recipient", value_name = "AGE1…")]
    pub recipients: Vec<String>,
}

pub fn run(ctx: &Context, args: CreateArgs) -> Result<u8, Failure> {
    let resolved = ctx.acting_config()?;
    let config = &resolved.config;
    if args.page_size == Some(0) {
        return Err(CliError::usage("`--page-size` must be at least 1").into());
    }
    let repo = args.repo.open(config)?;
    let sealing =
        Sealing::from_config(&args.recipients, &config.snapshots.encryption, args.encrypt)?.map(std::sync::Arc::new);
    // A directory is its own work space; a remote repository's export is staged under the state
    // dir (private) and streamed up from there.
    let dest = match &repo {
        Repository::Local(dir) => dir.clone(),
        Repository::Remote(_) => config.state_dir.join("tmp"),
    };
    // A default name is a base: the create picks `snap-<time>`, `-2`, … under the lock.
    let name = args.name.clone().unwrap_or_else(|| default_name(crate::journal::now()));
    let opts = CreateOptions {
        name,
        dest,
        collections: args.collections,
        page_size: args.page_size,
        wait: args.wait,
        journal_head: crate::journal::anchor::RecordedHead::of(&config.journal_path()),
        target: config.target.clone(),
        sealing,
        pick_free_name: args.name.is_none(),
    };
    let chroma = bulk_client(config);
    let bars = Bars::new(ctx.printer.progress_allowed());
    let journal = ctx.journal(&resolved);
    let created = crate::cli::runtime().block_on(async {
        let version = chroma.version().await.ok();
        let source = ChromaSource {
            url: config.chromadb.url.clone(),
            version,
            tenant: config.chromadb.tenant.clone(),
            database: config.chromadb.database.clone(),
        };
        match &repo {
            Repository::Local(_) => tokio::select! {
                created = create(&chroma, source, &opts, &bars, |msg| ctx.printer.status(msg)) => created,
                _ = tokio::signal::ctrl_c() => Err(crate::snapshot::SnapshotError::Interrupted),
            },
            // Interrupted, it aborts its upload and releases the repository lock before it exits.
            Repository::Remote(remote) => {
                let stale_after = config.snapshots.lock_stale_after;
                let mut on_wait = |msg: &str| ctx.printer.status(msg);
                let mut on_takeover = |old: &LockRecord, why: &str| {
                    super::journal_takeover(ctx, &journal, &remote.url, old, why);
                };
                let hooks = LockHooks { on_wait: &mut on_wait, on_takeover: &mut on_takeover };
                let mut cancel: Cancel = Box::pin(async {
                    let _ = tokio::signal::ctrl_c().await;
                });
                create_remote(remote, &chroma, source, &opts, stale_after, &bars, hooks, &mut cancel).await
            }
        }
    })?;
    let manifest = &created.manifest;
    let collections: Vec<serde_json::Value> = manifest
        .collections
        .iter()
        .map(|c| {
            serde_json::json!({"name": c.name, "rows": c.rows_exported, "count_at_start": c.count_at_start,
                "bytes": c.bytes, "sha256": c.sha256})
        })
        .collect();
    let summary = serde_json::json!({
        "name": manifest.name, "path": created.path, "repository": repo.describe(),
        "encrypted": opts.sealing.is_some(), "created_at": manifest.created_at,
        "bytes": created.bytes, "sha256": created.sha256, "rows": manifest.total_rows(),
        "seconds": created.seconds, "collections": collections,
    });
    if let Err(e) =
        journal.append(NewEvent::new("snapshot.created", "ok").component("chromadb").details(summary.clone()))
    {
        ctx.printer.warn(&format!("the snapshot was written but not journaled: {e}"));
    }
    for c in manifest.collections.iter().filter(|c| c.count_at_start != c.rows_exported) {
        ctx.printer.warn(&format!(
            "collection `{}` changed during the export: {} records at the start, {} exported",
            c.name, c.count_at_start, c.rows_exported
        ));
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&summary)?;
    } else {
        ctx.printer.line(&format!(
            "Created snapshot `{}` ({} collections, {} rows, {}) in {:.1} s: {}",
            manifest.name,
            manifest.collections.len(),
            manifest.total_rows(),
            size(created.bytes),
            created.seconds,
            created.path.display()
        ))?;
    }
    Ok(exit::SUCCESS)
}
