//! `ifctl snapshot list`.

use std::path::PathBuf;

use crate::cli::table::new_table;
use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::format_ts;

use super::size;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot list\n",
    "  ifctl --output json snapshot list | jq -r '.[-1].name'     # the newest\n",
    "\n",
    "Lists <dest>/*.tar.gz, oldest first, from each archive's manifest. Archives being written\n",
    "(or left by a crashed create) have temporary names and are not listed.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    listed (also when there are none)\n",
    "  1    the destination could not be read\n",
    "  2    usage or configuration error"
);

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Directory to list [default: snapshots.dir]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: ListArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let dest = args.dest.unwrap_or_else(|| resolved.config.snapshot_dir());
    let snapshots = crate::snapshot::list::list(&dest)
        .map_err(|e| CliError::failed(format!("cannot list `{}`: {e}", dest.display())))?;
    if ctx.printer.json() {
        ctx.printer.json_value(&snapshots)?;
        return Ok(exit::SUCCESS);
    }
    if snapshots.is_empty() {
        ctx.printer.status(&format!("No snapshots in `{}`.", dest.display()));
        return Ok(exit::SUCCESS);
    }
    let mut table =
        new_table(&["NAME", "CREATED", "COLLECTIONS", "ROWS", "SIZE", "CHECKSUMS"], ctx.printer.stdout_is_tty());
    for s in &snapshots {
        table.add_row(vec![
            s.name.clone(),
            s.created_at.map_or("?".into(), |t| format_ts(&t)),
            if s.problem.is_some() && s.created_at.is_none() {
                format!("unreadable: {}", s.problem.as_deref().unwrap_or(""))
            } else {
                s.collections.len().to_string()
            },
            s.rows.to_string(),
            size(s.bytes),
            if s.checksums { "yes".into() } else { "MISSING".into() },
        ]);
    }
    ctx.printer.line(&table.to_string())?;
    Ok(exit::SUCCESS)
}
