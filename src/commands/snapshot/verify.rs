//! `ifctl snapshot verify`.

use std::path::PathBuf;

use crate::cli::progress::Bars;
use crate::cli::{Context, Failure};
use crate::exit;
use crate::snapshot::fetch::fetch;
use crate::snapshot::seal::Keys;
use crate::snapshot::verify::{deep_verify, verify_archive};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl snapshot verify snap-20261124T220000Z\n",
    "  ifctl snapshot verify /mnt/backup/snap-20261124T220000Z.tar.gz\n",
    "  ifctl snapshot verify snap-20261124T220000Z --repo s3://backups/ifctl --identity key.txt\n",
    "\n",
    "A snapshot in object storage is downloaded first (to a private temporary file); an\n",
    "encrypted one is decrypted (age authenticates every chunk: a wrong key or an altered byte\n",
    "is exit 4).\n",
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
    "  2    usage or configuration error (no such snapshot, encrypted and no key given)\n",
    "  3    Chroma (--deep) or the object store was unreachable\n",
    "  4    integrity failure: the member and the problem are printed"
);

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Snapshot name (in the repository) or path to a .tar.gz / .tar.gz.age
    #[arg(value_name = "NAME|PATH")]
    pub snapshot: String,
    #[command(flatten)]
    pub repo: super::RepoArg,
    /// age identity file for an encrypted snapshot [default: snapshots.encryption.identity_file]
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Also restore into scratch collections on the server, compare, and remove them
    #[arg(long)]
    pub deep: bool,
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let config = &resolved.config;
    let repo = args.repo.open(config)?;
    let keys = Keys::from_config(args.identity, &config.snapshots.encryption);
    let scratch = config.state_dir.join("tmp");
    let fetched = crate::cli::runtime().block_on(fetch(&repo, &args.snapshot, &keys, &scratch))?;
    let verified = verify_archive(&fetched.archive, &scratch).map_err(|e| fetched.explain(e))?;
    let mut report = verified.report.clone();
    report.path = fetched.source.clone();
    let report = &report;
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
