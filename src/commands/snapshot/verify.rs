//! `ifctl snapshot verify`.

use std::path::PathBuf;

use crate::cli::{Context, Failure};
use crate::exit;
use crate::snapshot::resolve_archive;
use crate::snapshot::verify::verify_archive;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot verify snap-20261124T220000Z\n",
    "  ifctl snapshot verify /mnt/backup/snap-20261124T220000Z.tar.gz\n",
    "\n",
    "Unpacks into a private temporary directory (archives are untrusted: absolute paths, `..`,\n",
    "links, devices, oversized members and decompression bombs are rejected), checks every\n",
    "sha256 against checksums.sha256 and metadata.json, opens each Parquet file with the\n",
    "documented schema and counts its rows and ids against the manifest.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the snapshot is intact\n",
    "  1    it could not be read (I/O)\n",
    "  2    usage or configuration error (no such snapshot)\n",
    "  4    integrity failure: the member and the problem are printed"
);

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Snapshot name (in the destination) or path to a .tar.gz
    #[arg(value_name = "NAME|PATH")]
    pub snapshot: String,
    /// Directory holding named snapshots [default: snapshots.dir]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let dest = args.dest.unwrap_or_else(|| resolved.config.snapshot_dir());
    let archive = resolve_archive(&dest, &args.snapshot);
    let verified = verify_archive(&archive, &resolved.config.state_dir.join("tmp"))?;
    let report = &verified.report;
    if ctx.printer.json() {
        ctx.printer.json_value(report)?;
    } else {
        let rows: u64 = report.collections.iter().map(|c| c.rows).sum();
        ctx.printer.line(&format!(
            "Snapshot `{}` is intact: {} collections, {rows} rows; checksums, structure and Parquet files verified.",
            report.name,
            report.collections.len()
        ))?;
    }
    Ok(exit::SUCCESS)
}
