//! `ifctl snapshot create`.

use std::path::PathBuf;

use crate::cli::progress::Bars;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::NewEvent;
use crate::snapshot::create::{CreateOptions, create};
use crate::snapshot::{ChromaSource, default_name};

use super::{bulk_client, size};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot create\n",
    "  ifctl snapshot create --name before-migration --collection sergio_humor\n",
    "  ifctl -q snapshot create --wait          # from cron: silent, waits for another run's lock\n",
    "  ifctl --output json snapshot create | jq -r .path\n",
    "\n",
    "Each collection is exported page by page (by id, so no row is skipped or repeated) to\n",
    "collections/<name>.parquet, with metadata.json and checksums.sha256, packed as\n",
    "<dest>/<name>.tar.gz. The archive appears under its name only when complete. Default\n",
    "destination: `snapshots.dir` (IFCTL_SNAPSHOT_DIR), else <state_dir>/snapshots.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the snapshot was written\n",
    "  1    the export failed (nothing that looks like a snapshot is left behind)\n",
    "  2    usage or configuration error (bad name, unknown collection, name taken)\n",
    "  3    Chroma was unreachable\n",
    "  6    another process holds the destination's lock (use --wait)\n",
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
    /// Directory to write to [default: snapshots.dir]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// Wait for another snapshot's lock on the destination instead of failing
    #[arg(long)]
    pub wait: bool,
    /// Records fetched per request [default: about 4 MB of JSON per page: 460 records of 384
    /// dimensions, at most 1000]. Smaller pages hold less memory and take longer
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,
}

pub fn run(ctx: &Context, args: CreateArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let config = &resolved.config;
    if args.page_size == Some(0) {
        return Err(CliError::usage("`--page-size` must be at least 1").into());
    }
    let dest = args.dest.unwrap_or_else(|| config.snapshot_dir());
    let opts = CreateOptions {
        name: args.name.unwrap_or_else(|| crate::snapshot::unique_name(&dest, &default_name(crate::journal::now()))),
        dest,
        collections: args.collections,
        page_size: args.page_size,
        wait: args.wait,
        journal_head: crate::journal::anchor::RecordedHead::of(&config.journal_path()),
    };
    let chroma = bulk_client(config);
    let bars = Bars::new(ctx.printer.progress_allowed());
    let created = crate::cli::runtime().block_on(async {
        let version = chroma.version().await.ok();
        let source = ChromaSource {
            url: config.chromadb.url.clone(),
            version,
            tenant: config.chromadb.tenant.clone(),
            database: config.chromadb.database.clone(),
        };
        tokio::select! {
            created = create(&chroma, source, &opts, &bars, |msg| ctx.printer.status(msg)) => created,
            _ = tokio::signal::ctrl_c() => Err(crate::snapshot::SnapshotError::Interrupted),
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
        "name": manifest.name, "path": created.path, "created_at": manifest.created_at,
        "bytes": created.bytes, "sha256": created.sha256, "rows": manifest.total_rows(),
        "seconds": created.seconds, "collections": collections,
    });
    if let Err(e) = ctx
        .journal(&resolved)
        .append(NewEvent::new("snapshot.created", "ok").component("chromadb").details(summary.clone()))
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
