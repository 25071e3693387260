//! `ifctl snapshot unlock`.

use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::NewEvent;
use crate::snapshot::repo::Repository;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot unlock --repo s3://backups/ifctl --reason \"host db-2 died during the nightly run\"\n",
    "\n",
    "A repository in object storage is locked by one object, <prefix>/.ifctl/lock.json, naming\n",
    "the holder's host and pid. Its holder refreshes it; a lock of a process on this host that\n",
    "has exited, or one not refreshed for snapshots.lock_stale_after (default 5m), is taken over\n",
    "by the next create or prune by itself, and that takeover is journaled. Use unlock only when\n",
    "you know the holder is gone and cannot wait: the lock is deleted whoever holds it, and the\n",
    "removal is journaled with your reason and the holder it named. A directory's lock is a kernel\n",
    "lock that ends with its process: unlock only says who holds it.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the lock was removed, or there was none\n",
    "  2    usage or configuration error (no --reason)\n",
    "  3    the object store was unreachable or refused the credentials\n",
    "  6    a directory's lock is held by a live process (named)"
);

#[derive(Debug, clap::Args)]
pub struct UnlockArgs {
    #[command(flatten)]
    pub repo: super::RepoArg,
    /// Why the lock is being removed (journaled)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn run(ctx: &Context, args: UnlockArgs) -> Result<u8, Failure> {
    if args.reason.trim().is_empty() {
        return Err(CliError::usage("--reason must say why the lock is being removed").into());
    }
    let resolved = ctx.config()?;
    let repo = args.repo.open(&resolved.config)?;
    let remote = match &repo {
        Repository::Remote(remote) => remote.clone(),
        Repository::Local(dir) => {
            // Taking the lock proves nobody holds it; a holder is named in the refusal (exit 6).
            crate::snapshot::lock::acquire(dir, "ifctl snapshot unlock", false, |_| {})?;
            ctx.printer.status(&format!(
                "`{}` is not locked (a directory's lock ends with its process; nothing to remove).",
                dir.display()
            ));
            if ctx.printer.json() {
                ctx.printer.json_value(&serde_json::json!({"repository": repo.describe(), "removed": null}))?;
            }
            return Ok(exit::SUCCESS);
        }
    };
    let removed = crate::cli::runtime().block_on(crate::snapshot::repo_lock::force_unlock(&remote))?;
    if let Some(old) = &removed {
        ctx.journal(&resolved).append(NewEvent::new("snapshot.unlocked", "ok").details(serde_json::json!({
            "repository": remote.url, "reason": args.reason,
            "previous": {"host": old.host, "pid": old.pid, "user": old.user, "action": old.action,
                "since": old.since, "refreshed": old.refreshed},
        })))?;
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({"repository": remote.url, "removed": removed}))?;
    } else {
        match &removed {
            Some(old) => {
                ctx.printer.line(&format!("Removed the lock on `{}` held by {}.", remote.url, old.describe()))?
            }
            None => ctx.printer.line(&format!("`{}` is not locked.", remote.url))?,
        }
    }
    Ok(exit::SUCCESS)
}
