//! `ifctl validate`: the eight post-migration checks, as a checklist or a JSON report.

use std::path::PathBuf;

use crate::cli::{CliError, Context, Failure};
use crate::exit;
use crate::journal::{Filter, NewEvent};
use crate::migrate::spec::Spec;
use crate::migrate::validate::{Report, validate};
use crate::migrate::{RowFailure, selected, target_name};
use crate::snapshot::verify::verify_archive;

use super::snapshot::bulk_client;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl validate --spec docs/migration/sergio-v2.toml\n",
    "  ifctl validate --spec sergio-v2.toml --report /tmp/validation.json --sample 100\n",
    "  ifctl validate --spec sergio-v2.toml --baseline ~/.local/state/ifctl/snapshots/pre-migrate-….tar.gz\n",
    "\n",
    "Checks the migrated collections against a baseline snapshot — by default the pre-migration\n",
    "snapshot of the last finished migration in the journal (whose quarantined rows are then\n",
    "expected to be absent): collections exist; id sets equal; every row has every target field;\n",
    "field types; required fields non-null; nearest-neighbour overlap of sampled queries with\n",
    "exact brute-force neighbours (no more than 0.05 below the source's own overlap while the\n",
    "source exists, else >= 0.9: index noise is not counted as loss); embedding\n",
    "dimension; citation ids well formed (if://citation/<16 hex>).\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    every check passed\n",
    "  1    the checks could not run\n",
    "  2    usage, spec or configuration error (no baseline)\n",
    "  3    Chroma was unreachable\n",
    "  4    a check failed"
);

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The migration spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// Also write the report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Sampled nearest-neighbour queries per collection
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub sample: usize,
    /// Snapshot to compare against [default: the last migration's pre-migration snapshot]
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: ValidateArgs) -> Result<u8, Failure> {
    let spec = Spec::load(&args.spec).map_err(|e| CliError::usage(e.to_string()))?;
    let resolved = ctx.config()?;
    let config = &resolved.config;
    let last = last_migration(&config.journal_path(), config.target.as_deref());
    let (baseline, quarantine) = match (&args.baseline, last) {
        (Some(path), Some((snapshot, q))) if *path == snapshot => (path.clone(), q),
        (Some(path), _) => (path.clone(), Default::default()),
        (None, Some((snapshot, q))) => (snapshot, q),
        (None, None) => {
            return Err(CliError::usage("no finished migration in the journal to take a baseline from")
                .hint("pass --baseline PATH (a snapshot taken before the migration)")
                .into());
        }
    };
    let verified = verify_archive(&baseline, &config.state_dir.join("tmp"))?;
    let targets: Vec<(String, String)> = selected(&spec, &verified.unpacked)?
        .into_iter()
        .map(|e| (e.name.clone(), target_name(&spec, &e.name)))
        .collect();
    let chroma = bulk_client(config);
    let report = crate::cli::runtime().block_on(validate(
        &chroma,
        &spec,
        &verified.unpacked,
        &targets,
        &quarantine,
        args.sample,
    ))?;
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report).expect("reports serialize");
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError::failed(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let outcome = if report.passed { "passed" } else { "failed" };
    ctx.journal(&resolved).append(NewEvent::new("validation.report", outcome).component("chromadb").details(
        serde_json::json!({
            "spec": args.spec, "baseline": baseline, "passed": report.passed, "failures": report.failures(),
        }),
    ))?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report)?;
    } else {
        print_report(ctx, &report)?;
    }
    Ok(if report.passed { exit::SUCCESS } else { exit::INTEGRITY })
}

/// The checklist: ✓/✗ per check with its detail, then the first problems of failed checks.
pub fn print_report(ctx: &Context, report: &Report) -> Result<(), Failure> {
    for check in &report.checks {
        let mark = if check.passed { "✓" } else { "✗" };
        ctx.printer.line(&format!("{mark} {:<26} {}", check.name, check.detail))?;
        for problem in &check.problems {
            ctx.printer.line(&format!("    {problem}"))?;
        }
    }
    ctx.printer.line(&format!(
        "Validation against `{}`: {}.",
        report.baseline,
        if report.passed { "passed" } else { "FAILED" }
    ))?;
    Ok(())
}

/// The pre-migration snapshot and quarantined rows of the last finished migration.
fn last_migration(
    journal: &std::path::Path,
    target: Option<&str>,
) -> Option<(PathBuf, std::collections::BTreeMap<String, Vec<RowFailure>>)> {
    // This target's (another's names a snapshot of another stack).
    let filter =
        Filter { kinds: vec!["migration.finished".into()], target: target.map(String::from), ..Filter::default() };
    let (events, _) = crate::journal::recent(journal, &filter, 1).ok()?;
    let details = &events.last()?.details;
    let snapshot = PathBuf::from(details.get("snapshot")?.as_str()?);
    let mut quarantine = std::collections::BTreeMap::new();
    for c in details.get("collections")?.as_array()? {
        let name = c.get("name")?.as_str()?.to_string();
        let rows: Vec<RowFailure> = serde_json::from_value(c.get("quarantined")?.clone()).ok()?;
        quarantine.insert(name, rows);
    }
    Some((snapshot, quarantine))
}
