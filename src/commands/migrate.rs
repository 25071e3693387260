//! `ifctl migrate`: move collection metadata to a new schema, checkpointed, verified, rolled back
//! on any loss.

use std::path::PathBuf;

use crate::cli::progress::Bars;
use crate::cli::table::new_table;
use crate::cli::{CliError, Context, ErrorKind, Failure};
use crate::exit;
use crate::migrate::checkpoint::Checkpoint;
use crate::migrate::session::{self, Ending};
use crate::migrate::spec::Spec;
use crate::migrate::transform::Provenance;
use crate::migrate::{MigrationPlan, RunOptions, plan};
use crate::snapshot::ChromaSource;
use crate::snapshot::create::{CreateOptions, create};
use crate::snapshot::verify::verify_archive;

use super::snapshot::bulk_client;
use super::validate::print_report;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl migrate --spec docs/migration/sergio-v2.toml --dry-run\n",
    "  ifctl migrate --spec sergio-v2.toml --dry-run --from-snapshot snap.tar.gz   # CI, offline\n",
    "  ifctl migrate --spec sergio-v2.toml --yes\n",
    "  ifctl migrate --spec sergio-v2.toml --resume --yes     # after a crash\n",
    "\n",
    "Phases: export (a pre-migration snapshot, named in the journal) -> transform -> validate\n",
    "(rows that cannot be converted stop the run unless --max-quarantine allows them) -> import\n",
    "into staging collections in batches, checkpointed every --checkpoint-every rows -> verify\n",
    "(the 8 checks of `ifctl validate` on the staging collections) -> swap by rename. If the\n",
    "target's ids differ from the source's (beyond quarantined rows) or a check fails, the\n",
    "migration rolls back and exits 4. Spec format: docs/migration.md.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    migrated (or, with --dry-run, the spec converts every row)\n",
    "  1    the migration stopped (Chroma error); resume with --resume\n",
    "  2    usage, spec or configuration error, or no confirmation\n",
    "  3    Chroma was unreachable; resume with --resume\n",
    "  4    rolled back: rows would be lost or a validation check failed (dry run: rows would fail)\n",
    "  6    another migration holds the lock\n",
    "  130  interrupted; resume with --resume"
);

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The migration spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// Transform and report; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: read this snapshot archive instead of the server (works offline)
    #[arg(long, value_name = "PATH", requires = "dry_run")]
    pub from_snapshot: Option<PathBuf>,
    /// Continue an interrupted migration from its checkpoint
    #[arg(long, conflicts_with = "dry_run")]
    pub resume: bool,
    /// Records per import request
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub batch_size: usize,
    /// Rows between checkpoints
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub checkpoint_every: u64,
    /// Share of unconvertible rows per collection that may be quarantined [default: the spec's, 0]
    #[arg(long, value_name = "PCT")]
    pub max_quarantine: Option<f64>,
    /// Sampled nearest-neighbour queries per collection in the verify phase
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub sample: usize,
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn run(ctx: &Context, args: MigrateArgs) -> Result<u8, Failure> {
    let spec = Spec::load(&args.spec)
        .map_err(|e| CliError::usage(e.to_string()).hint("the spec format is in docs/migration.md"))?;
    let max_quarantine = args.max_quarantine.unwrap_or(spec.max_quarantine_pct);
    if !(0.0..=100.0).contains(&max_quarantine) || args.batch_size == 0 || args.checkpoint_every == 0 {
        return Err(
            CliError::usage("`--max-quarantine` is 0–100; `--batch-size` and `--checkpoint-every` at least 1").into()
        );
    }
    if args.dry_run {
        return dry_run(ctx, &args, &spec, max_quarantine);
    }
    let resolved = ctx.acting_config()?;
    let config = &resolved.config;
    let journal = ctx.journal(&resolved);
    let dir = config.target_dir().join("migrations");
    let _lock = crate::snapshot::lock::acquire(&dir, "ifctl migrate", false, |_| {})?;
    let checkpoint_path = dir.join("checkpoint.json");
    let existing = Checkpoint::load(&checkpoint_path)?;
    let chroma = bulk_client(config);
    let runtime = crate::cli::runtime();
    let bars = Bars::new(ctx.printer.progress_allowed());
    let mut checkpoint = session::continued(args.resume, existing, &spec, &checkpoint_path).map_err(|r| {
        let error = CliError::usage(r.message);
        match r.hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    })?;
    if checkpoint.is_none() && !args.yes {
        if !ctx.printer.can_prompt() {
            return Err(CliError::usage("refusing to migrate without confirmation: stdin is not a terminal")
                .hint("pass --yes (cron, CI, scripts), or --dry-run to see what would change")
                .into());
        }
        if !ctx.printer.confirm(&format!("Migrate collection metadata with `{}`?", args.spec.display())) {
            return Err(CliError::usage("not confirmed; nothing was changed").into());
        }
    }
    // Export: the pre-migration snapshot (a resumed run keeps the one it started from).
    let snapshot = match &checkpoint {
        Some(ck) => ck.snapshot.clone(),
        None => {
            let opts = CreateOptions {
                name: crate::snapshot::unique_name(
                    &config.snapshot_dir(),
                    &format!("pre-migrate-{}", crate::journal::now().format("%Y%m%dT%H%M%SZ")),
                ),
                dest: config.snapshot_dir(),
                collections: spec.collections.clone(),
                page_size: None,
                wait: true,
                journal_head: crate::journal::anchor::RecordedHead::of(&config.journal_path()),
                target: config.target.clone(),
                sealing: None,
                pick_free_name: false,
            };
            let source = ChromaSource {
                url: config.chromadb.url.clone(),
                version: None,
                tenant: config.chromadb.tenant.clone(),
                database: config.chromadb.database.clone(),
            };
            let created = runtime.block_on(create(&chroma, source, &opts, &bars, |m| ctx.printer.status(m)))?;
            ctx.printer.status(&format!("Pre-migration snapshot `{}`.", created.manifest.name));
            created.path
        }
    };
    let verified = verify_archive(&snapshot, &config.state_dir.join("tmp"))?;
    let mut ck = match checkpoint.take() {
        Some(ck) => ck,
        None => session::start(&spec, &args.spec, &snapshot, &verified.unpacked, &checkpoint_path, &journal)?,
    };
    let opts = RunOptions {
        config,
        spec: &spec,
        spec_path: &args.spec,
        snapshot: snapshot.clone(),
        unpacked: &verified.unpacked,
        batch_rows: args.batch_size,
        checkpoint_every: args.checkpoint_every,
        max_quarantine_pct: max_quarantine,
        checkpoint_path: checkpoint_path.clone(),
        sample: args.sample,
    };
    // The migrated collections are this run's until it ends, rollback included (on this host and
    // on every host sharing the server).
    let names: Vec<&str> = ck.collections.iter().map(|c| c.name.as_str()).collect();
    let _locks = runtime.block_on(crate::snapshot::lock::acquire_collections(
        &chroma,
        &journal,
        &names,
        "ifctl migrate",
        false,
        config.chromadb.lock_stale_after,
        &|m| crate::snapshot::Progress::on_stage(&bars, m, None),
    ))?;
    // A rollback that an earlier run began (and did not finish) is finished, never migrated past.
    if ck.rolling_back.is_some() {
        ctx.printer.status("An earlier run began rolling this migration back; finishing the rollback.");
    }
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let warn = |reason: &str| ctx.printer.warn(&format!("rolling back: {reason}"));
    let ending = runtime.block_on(session::drive(&chroma, &opts, &mut ck, &journal, &bars, interrupt, &warn))?;
    match ending {
        Ending::Finished(finished) => {
            if ctx.printer.json() {
                ctx.printer.json_value(&finished)?;
            } else {
                for c in &finished.collections {
                    let quarantined = match c.quarantined.len() {
                        0 => String::new(),
                        n => format!(", {n} quarantined"),
                    };
                    ctx.printer
                        .line(&format!("Migrated `{}` -> `{}`: {} rows{quarantined}.", c.name, c.target, c.rows))?;
                }
                print_report(ctx, &finished.validation)?;
            }
            Ok(exit::SUCCESS)
        }
        Ending::RolledBack { reason, undone } => {
            let error = CliError::new(ErrorKind::Integrity, format!("migration rolled back: {reason}"));
            Err(match undone {
                Ok(_) => error.hint(format!(
                    "the collections are as before; the pre-migration snapshot is `{}`",
                    snapshot.display()
                )),
                Err(e) => error.hint(format!(
                    "the rollback itself failed ({e}); the checkpoint `{}` is kept: fix the cause and run `ifctl migrate --spec {} --resume --yes`, or restore by hand: ifctl snapshot restore {} --yes",
                    checkpoint_path.display(),
                    args.spec.display(),
                    snapshot.display()
                )),
            }
            .into())
        }
        Ending::Stopped(error) => {
            let error: CliError = error.into();
            Err(error
                .hint("nothing was swapped that is not verified; continue with `ifctl migrate --spec … --resume --yes`")
                .into())
        }
    }
}

fn dry_run(ctx: &Context, args: &MigrateArgs, spec: &Spec, max_quarantine: f64) -> Result<u8, Failure> {
    let resolved = ctx.acting_config()?;
    let config = &resolved.config;
    let scratch = config.state_dir.join("tmp");
    let (plan, offline) = match &args.from_snapshot {
        Some(path) => {
            let verified = verify_archive(path, &scratch)?;
            (plan(spec, &verified.unpacked, max_quarantine)?, true)
        }
        None => {
            // Export to a throw-away snapshot in a private dir: the server is only read.
            let work = tempfile::Builder::new()
                .prefix(".ifctl-dry-run-")
                .tempdir_in({
                    crate::config::private_dir(&scratch).map_err(|e| CliError::failed(e.to_string()))?;
                    &scratch
                })
                .map_err(|e| CliError::failed(format!("cannot create a temp dir in `{}`: {e}", scratch.display())))?;
            let chroma = bulk_client(config);
            let opts = CreateOptions {
                name: "dry-run".into(),
                dest: work.path().to_path_buf(),
                collections: spec.collections.clone(),
                page_size: None,
                wait: false,
                journal_head: None,
                target: config.target.clone(),
                sealing: None,
                pick_free_name: false,
            };
            let source = ChromaSource {
                url: config.chromadb.url.clone(),
                version: None,
                tenant: config.chromadb.tenant.clone(),
                database: config.chromadb.database.clone(),
            };
            let bars = Bars::new(ctx.printer.progress_allowed());
            let created = crate::cli::runtime().block_on(create(&chroma, source, &opts, &bars, |_| {}))?;
            let verified = verify_archive(&created.path, &scratch)?;
            (plan(spec, &verified.unpacked, max_quarantine)?, false)
        }
    };
    show_plan(ctx, args, &plan, offline)?;
    Ok(if plan.over_allowance().is_some() { exit::INTEGRITY } else { exit::SUCCESS })
}

fn show_plan(ctx: &Context, args: &MigrateArgs, plan: &MigrationPlan, offline: bool) -> Result<(), Failure> {
    let verdict = match plan.over_allowance() {
        Some(c) => format!(
            "would roll back: {} of {} rows of `{}` cannot be converted (allowed {}%)",
            c.failed, c.rows, c.name, plan.max_quarantine_pct
        ),
        None => "every row converts (or is within the quarantine allowance)".into(),
    };
    if ctx.printer.json() {
        ctx.printer
            .json_value(&serde_json::json!({"dry_run": true, "offline": offline, "verdict": verdict, "plan": plan}))?;
        return Ok(());
    }
    let source =
        if offline { format!("snapshot `{}` (offline)", plan.snapshot) } else { "the server (read only)".into() };
    ctx.printer.line(&format!("Dry run of `{}` on {source}:", args.spec.display()))?;
    let tty = ctx.printer.stdout_is_tty();
    let mut table = new_table(&["COLLECTION", "TARGET", "ROWS", "CONVERTIBLE", "WOULD FAIL"], tty);
    for c in &plan.collections {
        table.add_row(vec![
            c.name.clone(),
            c.target.clone(),
            c.rows.to_string(),
            c.convertible.to_string(),
            c.failed.to_string(),
        ]);
    }
    ctx.printer.line(&table.to_string())?;
    let mut fields = new_table(&["FIELD", "FROM SOURCE", "DEFAULTED", "CONSTANT", "DERIVED", "TEMPLATE"], tty);
    let mut totals: std::collections::BTreeMap<&str, std::collections::BTreeMap<Provenance, u64>> = Default::default();
    for c in &plan.collections {
        for (field, counts) in &c.fields.counts {
            for (p, n) in counts {
                *totals.entry(field.as_str()).or_default().entry(*p).or_default() += n;
            }
        }
    }
    for (field, counts) in &totals {
        let n = |p: Provenance| counts.get(&p).copied().unwrap_or(0).to_string();
        fields.add_row(vec![
            field.to_string(),
            n(Provenance::Source),
            n(Provenance::Default),
            n(Provenance::Constant),
            n(Provenance::Derived),
            n(Provenance::Template),
        ]);
    }
    ctx.printer.line(&fields.to_string())?;
    let dropped: std::collections::BTreeSet<&String> = plan.collections.iter().flat_map(|c| &c.dropped_keys).collect();
    if !dropped.is_empty() {
        ctx.printer.line(&format!(
            "Source keys dropped (no target field maps them): {}.",
            dropped.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))?;
    }
    if let Some(sample) = plan.collections.iter().find_map(|c| c.sample.as_ref()) {
        ctx.printer.line(&format!("Sample `{}`:", sample.id))?;
        ctx.printer.line(&format!(
            "  before: {}",
            sample.before.as_ref().map_or("(none)".into(), crate::journal::canonical_json)
        ))?;
        ctx.printer.line(&format!("  after:  {}", crate::journal::canonical_json(&sample.after)))?;
    }
    for c in &plan.collections {
        for f in &c.failures {
            ctx.printer.line(&format!("Would fail: `{}` row `{}`: {}", c.name, f.id, f.reason))?;
        }
    }
    ctx.printer.line(&format!("Verdict: {verdict}. Dry run: nothing was changed."))?;
    Ok(())
}
