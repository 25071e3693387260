//! `ifctl snapshot prune`.

use std::path::PathBuf;

use crate::cli::table::new_table;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::NewEvent;
use crate::snapshot::prune::{Protected, Retention, plan};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot prune --keep-last 7 --dry-run\n",
    "  ifctl snapshot prune --keep-daily 7 --keep-weekly 4\n",
    "\n",
    "Like restic's `forget`: a snapshot is kept when any rule keeps it — one of the newest N\n",
    "(--keep-last), the newest of each of the last N days (--keep-daily) or ISO weeks\n",
    "(--keep-weekly). The newest snapshot and unreadable archives are never deleted, and\n",
    "neither is what recovery still needs: the snapshot a waiting migration checkpoint works\n",
    "from, safety backups (pre-restore-, pre-rollback-, pre-migrate-) that the journal mentions\n",
    "in the last 7 days, and the newest snapshot that `snapshot_rollback` can use.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    pruned (or, with --dry-run, the plan was printed)\n",
    "  1    a snapshot could not be deleted\n",
    "  2    usage or configuration error (no rule given)\n",
    "  6    another process holds the destination's lock"
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
    /// Directory to prune [default: snapshots.dir]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: PruneArgs) -> Result<u8, Failure> {
    let retention = Retention { keep_last: args.keep_last, keep_daily: args.keep_daily, keep_weekly: args.keep_weekly };
    if retention.is_empty() {
        return Err(CliError::usage("give at least one of --keep-last, --keep-daily, --keep-weekly").into());
    }
    let resolved = ctx.config()?;
    let dest = args.dest.unwrap_or_else(|| resolved.config.snapshot_dir());
    let _lock = if args.dry_run {
        None
    } else {
        Some(crate::snapshot::lock::acquire(&dest, "ifctl snapshot prune", false, |_| {})?)
    };
    let snapshots = crate::snapshot::list::list(&dest)
        .map_err(|e| CliError::failed(format!("cannot list `{}`: {e}", dest.display())))?;
    let protected = Protected::find(&snapshots, &resolved.config.state_dir, &resolved.config.journal_path());
    let decisions = plan(&snapshots, retention, &protected);
    let mut deleted = Vec::new();
    if !args.dry_run {
        for (s, d) in snapshots.iter().zip(&decisions) {
            if !d.keep {
                std::fs::remove_file(&s.path)
                    .map_err(|e| CliError::failed(format!("cannot delete `{}`: {e}", s.path.display())))?;
                deleted.push(s.name.clone());
            }
        }
        if !deleted.is_empty() {
            let kept: Vec<&str> = decisions.iter().filter(|d| d.keep).map(|d| d.name.as_str()).collect();
            ctx.journal(&resolved).append(NewEvent::new("snapshot.pruned", "ok").details(serde_json::json!({
                "dest": dest, "deleted": deleted, "kept": kept,
                "keep_last": args.keep_last, "keep_daily": args.keep_daily, "keep_weekly": args.keep_weekly,
            })))?;
        }
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({"dry_run": args.dry_run, "decisions": decisions}))?;
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
