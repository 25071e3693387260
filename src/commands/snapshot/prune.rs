//! `ifctl snapshot prune`.

use crate::cli::table::new_table;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::NewEvent;
use crate::snapshot::SnapshotError;
use crate::snapshot::list::Listed;
use crate::snapshot::prune::{Protected, Retention, plan};
use crate::snapshot::repo::Repository;
use crate::snapshot::repo_lock;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot prune --keep-last 7 --dry-run\n",
    "  ifctl snapshot prune --keep-daily 7 --keep-weekly 4\n",
    "  ifctl snapshot prune --repo s3://backups/ifctl --keep-daily 14\n",
    "\n",
    "Like restic's `forget`: a snapshot is kept when any rule keeps it — one of the newest N\n",
    "(--keep-last), the newest of each of the last N days (--keep-daily) or ISO weeks\n",
    "(--keep-weekly). The newest snapshot and unreadable archives are never deleted, and\n",
    "neither is what recovery still needs: the snapshot a waiting migration checkpoint works\n",
    "from, safety backups (pre-restore-, pre-rollback-, pre-migrate-) that the journal mentions\n",
    "in the last 7 days, and (in a directory; rollback does not read object storage) the\n",
    "newest snapshot that `snapshot_rollback` can use.\n",
    "In object storage, prune also aborts the multipart uploads of creates that died before\n",
    "finishing (invisible to list, but billed), recorded under <prefix>/.ifctl/uploads/.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    pruned (or, with --dry-run, the plan was printed)\n",
    "  1    a snapshot could not be deleted\n",
    "  2    usage or configuration error (no rule given, no such bucket)\n",
    "  3    the object store was unreachable or refused the credentials\n",
    "  6    another process holds the repository's lock (named)"
);

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Keep the N newest snapshots
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Keep the newest snapshot of each of the last N days
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<usize>,
    /// Keep the newest snapshot of each of the last N weeks
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<usize>,
    /// Print what would be deleted; delete nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub repo: super::RepoArg,
}

pub fn run(ctx: &Context, args: PruneArgs) -> Result<u8, Failure> {
    let retention = Retention { keep_last: args.keep_last, keep_daily: args.keep_daily, keep_weekly: args.keep_weekly };
    if retention.is_empty() {
        return Err(CliError::usage("give at least one of --keep-last, --keep-daily, --keep-weekly").into());
    }
    let resolved = ctx.acting_config()?;
    let config = &resolved.config;
    let repo = args.repo.open(config)?;
    match &repo {
        Repository::Local(dir) => {
            let _lock = if args.dry_run {
                None
            } else {
                Some(crate::snapshot::lock::acquire(dir, "ifctl snapshot prune", false, |_| {})?)
            };
            let snapshots = crate::snapshot::list::list(dir)
                .map_err(|e| CliError::failed(format!("cannot list `{}`: {e}", dir.display())))?;
            let delete = |s: &Listed| {
                std::fs::remove_file(&s.path)
                    .map_err(|e| SnapshotError::Failed(format!("cannot delete `{}`: {e}", s.path.display())))
            };
            let deleted = prune(ctx, &resolved, &args, &repo, &snapshots, Vec::new(), |s| async move { delete(s) });
            crate::cli::runtime().block_on(deleted)
        }
        Repository::Remote(remote) => crate::cli::runtime().block_on(async {
            let lock = if args.dry_run {
                None
            } else {
                let stale_after = config.snapshots.lock_stale_after;
                let journal = ctx.journal(&resolved);
                let mut on_takeover = |old: &repo_lock::LockRecord, why: &str| {
                    super::journal_takeover(ctx, &journal, &remote.url, old, why);
                };
                let busy = "wait for it to finish (prune has no --wait: run it again later)";
                let lock = repo_lock::acquire(
                    remote,
                    "ifctl snapshot prune",
                    false,
                    busy,
                    stale_after,
                    &mut |_| {},
                    &mut on_takeover,
                )
                .await?;
                Some(lock)
            };
            let outcome = async {
                // Under the lock no live create is uploading: any upload still open is a dead one's.
                let aborted = if args.dry_run {
                    Vec::new()
                } else {
                    let stale = remote.abort_stale_uploads().await?;
                    for problem in &stale.problems {
                        ctx.printer.warn(problem);
                    }
                    stale.aborted
                };
                let snapshots = crate::snapshot::list::list_remote(remote).await?;
                // The lock is proven still ours before the first delete.
                if let Some(lock) = &lock {
                    lock.confirm().await?;
                }
                let delete = |s: &Listed| {
                    let location = s.location.clone();
                    async move {
                        match location {
                            Some(location) => remote.delete_at(&location).await,
                            None => Ok(()),
                        }
                    }
                };
                prune(ctx, &resolved, &args, &repo, &snapshots, aborted, delete).await
            }
            .await;
            if let Some(lock) = lock {
                lock.release().await;
            }
            outcome
        }),
    }
}

/// Plans by the retention rules, deletes (unless a dry run), journals and reports.
async fn prune<'a, F, Fut>(
    ctx: &Context,
    resolved: &crate::config::Resolved,
    args: &PruneArgs,
    repo: &Repository,
    snapshots: &'a [Listed],
    aborted_uploads: Vec<String>,
    delete: F,
) -> Result<u8, Failure>
where
    F: Fn(&'a Listed) -> Fut,
    Fut: std::future::Future<Output = Result<(), SnapshotError>>,
{
    let retention = Retention { keep_last: args.keep_last, keep_daily: args.keep_daily, keep_weekly: args.keep_weekly };
    let mut protected = Protected::find(snapshots, &resolved.config.target_dir(), &resolved.config.journal_path());
    protected.not_for_rollback = matches!(repo, Repository::Remote(_));
    // Another target's snapshot (a place shared through the environment or --repo) is never this
    // target's to delete, and takes none of its retention slots.
    let mine = resolved.config.target.as_deref();
    let foreign = |s: &Listed| s.target.clone().filter(|t| Some(t.as_str()) != mine);
    let own: Vec<Listed> = snapshots.iter().filter(|s| foreign(s).is_none()).cloned().collect();
    let own_decisions = plan(&own, retention, &protected);
    let decisions: Vec<crate::snapshot::prune::Decision> = snapshots
        .iter()
        .map(|s| match foreign(s) {
            Some(t) => crate::snapshot::prune::Decision {
                name: s.name.clone(),
                keep: true,
                reasons: vec![format!("taken from target `{t}`: prune it there")],
            },
            None => own_decisions.iter().find(|d| d.name == s.name).cloned().expect("every own snapshot is decided"),
        })
        .collect();
    let mut deleted = Vec::new();
    if !args.dry_run {
        for (s, d) in snapshots.iter().zip(&decisions) {
            if !d.keep {
                delete(s).await?;
                deleted.push(s.name.clone());
            }
        }
        if !deleted.is_empty() || !aborted_uploads.is_empty() {
            let kept: Vec<&str> = decisions.iter().filter(|d| d.keep).map(|d| d.name.as_str()).collect();
            ctx.journal(resolved).append(NewEvent::new("snapshot.pruned", "ok").details(serde_json::json!({
                "dest": repo.describe(), "deleted": deleted, "kept": kept, "aborted_uploads": aborted_uploads,
                "keep_last": args.keep_last, "keep_daily": args.keep_daily, "keep_weekly": args.keep_weekly,
            })))?;
        }
    }
    if !aborted_uploads.is_empty() {
        ctx.printer.status(&format!(
            "Aborted {} unfinished upload(s) left by a create that did not finish: {}.",
            aborted_uploads.len(),
            aborted_uploads.join(", ")
        ));
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({
            "dry_run": args.dry_run, "decisions": decisions, "aborted_uploads": aborted_uploads,
        }))?;
        return Ok(exit::SUCCESS);
    }
    let mut table = new_table(&["NAME", "DECISION", "WHY"], ctx.printer.stdout_is_tty());
    for d in &decisions {
        let decision = match (d.keep, args.dry_run) {
            (true, _) => "keep",
            (false, true) => "would delete",
            (false, false) => "deleted",
        };
        table.add_row(vec![d.name.clone(), decision.to_string(), d.reasons.join(", ")]);
    }
    ctx.printer.line(&table.to_string())?;
    Ok(exit::SUCCESS)
}
