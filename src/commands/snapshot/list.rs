//! `ifctl snapshot list`.

use crate::cli::table::new_table;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::snapshot::repo::Repository;

use super::size;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot list\n",
    "  ifctl --output json snapshot list | jq -r '.[-1].name'     # the newest\n",
    "  ifctl snapshot list --repo s3://backups/ifctl\n",
    "\n",
    "Lists the repository's *.tar.gz and *.tar.gz.age, oldest first, from each archive's\n",
    "manifest (only its head is read; in object storage, its first megabyte). An encrypted\n",
    "snapshot is listed without the key: name, the file's time and size. Archives being written\n",
    "(or left by a crashed create) have temporary names, or are unfinished uploads, and are not\n",
    "listed.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    listed (also when there are none)\n",
    "  1    the repository could not be read\n",
    "  2    usage or configuration error (no such bucket)\n",
    "  3    the object store was unreachable or refused the credentials"
);

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub repo: super::RepoArg,
}

pub fn run(ctx: &Context, args: ListArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let repo = args.repo.open(&resolved.config)?;
    let snapshots = match &repo {
        Repository::Local(dir) => crate::snapshot::list::list(dir)
            .map_err(|e| CliError::failed(format!("cannot list `{}`: {e}", dir.display())))?,
        Repository::Remote(remote) => crate::cli::runtime().block_on(crate::snapshot::list::list_remote(remote))?,
    };
    if ctx.printer.json() {
        ctx.printer.json_value(&snapshots)?;
        return Ok(exit::SUCCESS);
    }
    if snapshots.is_empty() {
        ctx.printer.status(&format!("No snapshots in `{}`.", repo.describe()));
        return Ok(exit::SUCCESS);
    }
    // With targets, which stack each snapshot was taken from (`-`: before targets, or sealed).
    let with_target = !resolved.target_names().is_empty();
    let mut headers = vec!["NAME", "CREATED", "COLLECTIONS", "ROWS", "SIZE", "CHECKSUMS"];
    if with_target {
        headers.insert(1, "TARGET");
    }
    let mut table = new_table(&headers, ctx.printer.stdout_is_tty());
    for s in &snapshots {
        let mut row = vec![
            s.name.clone(),
            s.created_at.map_or("?".into(), |t| crate::cli::time::human(&t)),
            if s.encrypted {
                "(encrypted)".into()
            } else if s.problem.is_some() && s.created_at.is_none() {
                format!("unreadable: {}", s.problem.as_deref().unwrap_or(""))
            } else {
                s.collections.len().to_string()
            },
            if s.encrypted { "?".into() } else { s.rows.to_string() },
            size(s.bytes),
            if s.encrypted {
                "sealed".into()
            } else if s.checksums {
                "yes".into()
            } else {
                "MISSING".into()
            },
        ];
        if with_target {
            row.insert(1, s.target.clone().unwrap_or_else(|| "-".into()));
        }
        table.add_row(row);
    }
    ctx.printer.line(&table.to_string())?;
    Ok(exit::SUCCESS)
}
