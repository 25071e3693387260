//! `ifctl snapshot restore`.

use std::path::PathBuf;

use crate::cli::progress::Bars;
use crate::cli::table::new_table;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::NewEvent;
use crate::snapshot::create::{CreateOptions, create};
use crate::snapshot::fetch::fetch;
use crate::snapshot::repo::Repository;
use crate::snapshot::restore::{Plan, RestoreOptions, execute, prepare};
use crate::snapshot::seal::Keys;
use crate::snapshot::{ChromaSource, SnapshotError};

use super::bulk_client;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot restore snap-20261124T220000Z --dry-run\n",
    "  ifctl snapshot restore snap-20261124T220000Z --collection sergio_humor\n",
    "  ifctl snapshot restore /mnt/backup/snap-20261124T220000Z.tar.gz --yes   # scripts\n",
    "  ifctl snapshot restore snap-20261124T220000Z --repo s3://backups/ifctl --identity key.txt\n",
    "\n",
    "A snapshot in object storage is downloaded to a private temporary file under the state\n",
    "dir, an encrypted one (.tar.gz.age) decrypted there — a wrong key or an altered file fails\n",
    "here, exit 4, before anything else happens.\n",
    "Order of work: verify every checksum and Parquet file (nothing is touched on a mismatch);\n",
    "back up the live collections that will be replaced as a snapshot `pre-restore-<time>`\n",
    "(unless --no-backup); for each collection load a staging collection with the saved\n",
    "distance space, HNSW parameters and metadata, check its count and ids, then swap it in by\n",
    "rename. Between the two renames (milliseconds) the name is absent; a restore interrupted\n",
    "there is repaired by the next restore, and the journal records each collection swapped.\n",
    "Asks for confirmation on a terminal; with stdin not a terminal it refuses unless --yes.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    restored (or, with --dry-run, the plan was printed)\n",
    "  1    the restore failed (collections not yet swapped are as they were)\n",
    "  2    usage or configuration error, or no confirmation\n",
    "  3    Chroma or the object store was unreachable (or refused the credentials)\n",
    "  4    integrity failure: the archive does not verify or decrypt; nothing was changed\n",
    "  6    another operation holds the lock on a collection or on the destination (see --wait)\n",
    "  130  interrupted"
);

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Snapshot name (in the repository) or path to a .tar.gz / .tar.gz.age
    #[arg(value_name = "NAME|PATH")]
    pub snapshot: String,
    /// Restore only this collection (repeatable) [default: all in the snapshot]
    #[arg(long = "collection", value_name = "C")]
    pub collections: Vec<String>,
    /// Verify and print what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not snapshot the live collections before replacing them
    #[arg(long)]
    pub no_backup: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Snapshot repository (a directory, or s3://…, gs://…, az://…); a remote one's backup goes
    /// to snapshots.dir [default: snapshots.repository, else snapshots.dir]
    #[arg(long = "repo", visible_alias = "dest", value_name = "REPO")]
    pub dest: Option<String>,
    /// age identity file for an encrypted snapshot [default: snapshots.encryption.identity_file]
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Records per add request (also capped at 32 MiB per request)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch_size: usize,
    /// Wait for another operation on the same collection (or destination) instead of exiting 6
    #[arg(long)]
    pub wait: bool,
    /// Restore even if it changes a live collection's dimension or distance space, or applies
    /// HNSW parameters beyond ef_construction 2000, ef_search 10000, max_neighbors 128
    #[arg(long)]
    pub allow_index_change: bool,
}

pub fn run(ctx: &Context, args: RestoreArgs) -> Result<u8, Failure> {
    let resolved = ctx.acting_config()?;
    let config = &resolved.config;
    let repo = super::RepoArg { repo: args.dest.clone() }.open(config)?;
    // The backup of the live collections stays on this host when the repository is remote.
    let dest = match &repo {
        Repository::Local(dir) => dir.clone(),
        Repository::Remote(_) => config.snapshot_dir(),
    };
    let keys = Keys::from_config(args.identity.clone(), &config.snapshots.encryption);
    let runtime = crate::cli::runtime();
    let fetched = runtime.block_on(fetch(&repo, &args.snapshot, &keys, &config.state_dir.join("tmp")))?;
    let opts = RestoreOptions {
        batch_rows: args.batch_size.max(1),
        allow_index_change: args.allow_index_change,
        ..RestoreOptions::of(config, &fetched.archive, &args.collections)
    };
    let chroma = bulk_client(config);
    let journal = ctx.journal(&resolved);
    let prepared = runtime.block_on(prepare(&chroma, &opts)).map_err(|e| fetched.explain(e))?;
    let plan = &prepared.plan;
    // Restoring one stack's snapshot into another is legitimate (staging from prod) but never
    // an accident nobody saw.
    let taken_from = prepared.verified.unpacked.manifest.target.as_deref();
    if taken_from.is_some() && taken_from != config.target.as_deref() {
        ctx.printer.warn(&format!(
            "`{}` was taken from target `{}`; restoring it into {}",
            plan.snapshot,
            taken_from.unwrap_or_default(),
            config.target.as_ref().map_or("this stack".to_string(), |t| format!("target `{t}`"))
        ));
    }
    if args.dry_run {
        show_plan(ctx, plan, true)?;
        return Ok(exit::SUCCESS);
    }
    if !args.yes {
        if !ctx.printer.can_prompt() {
            return Err(CliError::usage("refusing to restore without confirmation: stdin is not a terminal")
                .hint("pass --yes to confirm (cron, CI, scripts), or --dry-run to see the plan")
                .into());
        }
        show_plan(ctx, plan, false)?;
        let replacing = plan.items.iter().filter(|i| i.live_count.is_some()).count();
        if !ctx.printer.confirm(&format!(
            "Restore {} collections from `{}`, replacing {replacing} live ones?",
            plan.items.len(),
            plan.snapshot
        )) {
            return Err(CliError::usage("not confirmed; nothing was changed").into());
        }
    }
    journal.append(NewEvent::new("snapshot.restore_started", "started").component("chromadb").details(
        serde_json::json!({"snapshot": plan.snapshot, "archive": fetched.source, "plan": plan.items, "repairs": plan.repairs}),
    ))?;
    let bars = Bars::new(ctx.printer.progress_allowed());
    let outcome: Result<_, SnapshotError> = runtime.block_on(async {
        tokio::select! {
            done = async {
                let backup = if args.no_backup || plan.items.iter().all(|i| i.live_count.is_none()) {
                    None
                } else {
                    let live: Vec<String> =
                        plan.items.iter().filter(|i| i.live_count.is_some()).map(|i| i.name.clone()).collect();
                    let backup_opts = CreateOptions {
                        name: crate::snapshot::unique_name(
                            &dest,
                            &format!("pre-restore-{}", crate::journal::now().format("%Y%m%dT%H%M%SZ")),
                        ),
                        dest: dest.clone(),
                        collections: live,
                        page_size: None,
                        wait: true,
                        journal_head: crate::journal::anchor::RecordedHead::of(journal.path()),
                        target: config.target.clone(),
                        sealing: None,
                        pick_free_name: true,
                    };
                    let source = ChromaSource {
                        url: config.chromadb.url.clone(),
                        version: chroma.version().await.ok(),
                        tenant: config.chromadb.tenant.clone(),
                        database: config.chromadb.database.clone(),
                    };
                    Some(create(&chroma, source, &backup_opts, &bars, |m| ctx.printer.status(m)).await?)
                };
                if let Some(b) = &backup {
                    ctx.printer.status(&format!(
                        "Backed up the live collections as `{}` in `{}` (undo: `ifctl snapshot restore {} --repo {}`).",
                        b.manifest.name,
                        dest.display(),
                        b.manifest.name,
                        dest.display()
                    ));
                }
                let results = execute(&chroma, &prepared, opts.batch_rows, args.wait, false, &journal, &bars).await?;
                Ok((backup, results))
            } => done,
            _ = tokio::signal::ctrl_c() => Err(SnapshotError::Interrupted),
        }
    });
    let (backup, results) = match outcome {
        Ok(done) => done,
        Err(e) => {
            let _ = journal.append(
                NewEvent::new("snapshot.restored", "failed")
                    .component("chromadb")
                    .details(serde_json::json!({"snapshot": plan.snapshot, "error": e.to_string()})),
            );
            return Err(e.into());
        }
    };
    let summary = serde_json::json!({
        "snapshot": plan.snapshot, "archive": fetched.source,
        "backup": backup.as_ref().map(|b| serde_json::json!({"name": b.manifest.name, "path": b.path})),
        "collections": results,
    });
    journal.append(NewEvent::new("snapshot.restored", "ok").component("chromadb").details(summary.clone()))?;
    if ctx.printer.json() {
        ctx.printer.json_value(&summary)?;
    } else {
        for r in &results {
            let before = r.before.map_or("absent".to_string(), |n| format!("{n} records"));
            ctx.printer.line(&format!("Restored `{}`: {before} -> {} records.", r.name, r.after))?;
        }
        ctx.printer.line(&format!("Restored {} collections from `{}`.", results.len(), plan.snapshot))?;
    }
    Ok(exit::SUCCESS)
}

fn show_plan(ctx: &Context, plan: &Plan, dry_run: bool) -> Result<(), Failure> {
    if ctx.printer.json() {
        if dry_run {
            ctx.printer.json_value(&serde_json::json!({"dry_run": true, "plan": plan}))?;
        }
        return Ok(());
    }
    let mut table = new_table(
        &["COLLECTION", "ACTION", "LIVE NOW", "IN SNAPSHOT", "SPACE", "DIMENSION"],
        ctx.printer.stdout_is_tty(),
    );
    let change = |live: Option<String>, saved: Option<String>| match (live, saved) {
        (Some(l), Some(s)) if l != s => format!("{l} -> {s}"),
        (_, Some(s)) => s,
        (Some(l), None) => l,
        (None, None) => "-".into(),
    };
    for i in &plan.items {
        table.add_row(vec![
            i.name.clone(),
            i.action.to_string(),
            i.live_count.map_or("absent".into(), |n| n.to_string()),
            i.rows.to_string(),
            change(i.live_space.clone(), i.space.clone()),
            change(i.live_dimension.map(|d| d.to_string()), i.dimension.map(|d| d.to_string())),
        ]);
    }
    let verb = if dry_run { "would restore" } else { "will restore" };
    let s = &plan.source;
    ctx.printer.line(&format!(
        "Snapshot `{}` (taken {} from {}, tenant `{}`, database `{}`) is intact; {verb}:",
        plan.snapshot,
        crate::cli::time::human(&plan.created_at),
        s.url,
        s.tenant,
        s.database
    ))?;
    ctx.printer.line(&table.to_string())?;
    for r in &plan.repairs {
        ctx.printer
            .line(&format!("Leftover of an interrupted restore: `{}` ({}: {}).", r.leftover, r.collection, r.action))?;
    }
    if dry_run {
        ctx.printer.line("Dry run: nothing was changed.")?;
    }
    Ok(())
}
