//! `ifctl snapshot verify`.

use std::path::PathBuf;

use crate::cli::progress::Bars;
use crate::cli::{Context, Failure};
use crate::exit;
use crate::snapshot::resolve_archive;
use crate::snapshot::verify::{deep_verify, verify_archive};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot verify snap-20261124T220000Z\n",
    "  ifctl snapshot verify /mnt/backup/snap-20261124T220000Z.tar.gz\n",
    "\n",
    "Unpacks into a private temporary directory (archives are untrusted: absolute paths, `..`,\n",
    "links, devices, oversized members and decompression bombs are rejected), checks every\n",
    "sha256 against checksums.sha256 and metadata.json, opens each Parquet file with the\n",
    "documented schema and counts its rows and ids against the manifest. --deep also restores\n",
    "each collection into a scratch collection on the server, reads it back, compares ids,\n",
    "documents, metadata and embeddings (bit-exact; cosine within 1e-6, the server's own\n",
    "perturbation), and deletes the scratch collection.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the snapshot is intact\n",
    "  1    it could not be read (I/O)\n",
    "  2    usage or configuration error (no such snapshot)\n",
    "  3    Chroma was unreachable (--deep)\n",
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
    /// Also restore into scratch collections on the server, compare, and remove them
    #[arg(long)]
    pub deep: bool,
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let dest = args.dest.unwrap_or_else(|| resolved.config.snapshot_dir());
    let archive = resolve_archive(&dest, &args.snapshot);
    let verified = verify_archive(&archive, &resolved.config.state_dir.join("tmp"))?;
    let report = &verified.report;
    let deep = if args.deep {
        let chroma = super::bulk_client(&resolved.config);
        let bars = Bars::new(ctx.printer.progress_allowed());
        let journal = ctx.journal(&resolved);
        Some(crate::cli::runtime().block_on(deep_verify(&chroma, &verified, &journal, &bars))?)
    } else {
        None
    };
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({"report": report, "deep": deep}))?;
    } else {
        let rows: u64 = report.collections.iter().map(|c| c.rows).sum();
        ctx.printer.line(&format!(
            "Snapshot `{}` is intact: {} collections, {rows} rows; checksums, structure and Parquet files verified.",
            report.name,
            report.collections.len()
        ))?;
        for check in deep.iter().flatten() {
            ctx.printer.line(&format!(
                "Deep check of `{}`: {} rows restored into a scratch collection and read back identical (largest embedding difference {:e}, allowed {:e}).",
                check.name, check.rows, check.max_embedding_diff, check.tolerance
            ))?;
        }
    }
    Ok(exit::SUCCESS)
}
