//! Schema migration (DESIGN §8): export → transform → validate → import → verify → swap, with a
//! pre-migration snapshot, checkpoints for `--resume`, and automatic rollback on any loss.
//!
//! The source of every migration is a verified snapshot archive: the pre-migration snapshot
//! taken by `migrate`, or any archive for an offline `--dry-run --from-snapshot`.

pub mod carry;
pub mod checkpoint;
pub mod session;
pub mod spec;
pub mod transform;
pub mod validate;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::clients::chroma::ChromaClient;
use crate::journal::{Journal, NewEvent};
use crate::snapshot::archive::Unpacked;
use crate::snapshot::records::Records;
use crate::snapshot::verify::read_records;
use crate::snapshot::{CollectionEntry, Progress, SnapshotError};

use checkpoint::{Checkpoint, CollectionProgress};
use spec::{Spec, Target};
use transform::{FieldStats, transform};

/// Import staging collections: `<name>__ifctl_migrate_<tag>`.
pub const MIGRATE: &str = "__ifctl_migrate_";
/// Row failures listed per collection in reports.
const LISTED_FAILURES: usize = 20;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RowFailure {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub id: String,
    pub before: Option<Value>,
    pub after: Value,
}

/// What the spec does to one collection.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionPlan {
    pub name: String,
    /// The collection the migrated rows end up in.
    pub target: String,
    pub rows: u64,
    pub convertible: u64,
    /// Rows that cannot be converted (missing required fields, bad values): quarantined if the
    /// allowance permits, else the migration stops before changing anything.
    pub failed: u64,
    pub failures: Vec<RowFailure>,
    /// Every failed row (the quarantine list), not only the first ones shown.
    #[serde(skip)]
    pub all_failures: Vec<RowFailure>,
    /// Per target field: how many rows got it from the source, a default, a constant, …
    pub fields: FieldStats,
    /// Source keys dropped because no target field maps them.
    pub dropped_keys: Vec<String>,
    pub sample: Option<Sample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationPlan {
    pub snapshot: String,
    pub spec_fingerprint: String,
    pub max_quarantine_pct: f64,
    pub collections: Vec<CollectionPlan>,
}

impl MigrationPlan {
    /// The first collection whose failures exceed the quarantine allowance, if any.
    pub fn over_allowance(&self) -> Option<&CollectionPlan> {
        self.collections
            .iter()
            .find(|c| c.failed > 0 && c.failed as f64 * 100.0 > self.max_quarantine_pct * c.rows as f64)
    }

    /// Quarantined rows per collection.
    pub fn quarantine(&self) -> std::collections::BTreeMap<String, Vec<RowFailure>> {
        self.collections.iter().map(|c| (c.name.clone(), c.all_failures.clone())).collect()
    }
}

/// The collections of the snapshot the spec selects, with their target names.
pub fn selected<'a>(spec: &Spec, unpacked: &'a Unpacked) -> Result<Vec<&'a CollectionEntry>, SnapshotError> {
    let all = &unpacked.manifest.collections;
    for name in &spec.collections {
        if !all.iter().any(|c| &c.name == name) {
            return Err(SnapshotError::Usage(format!(
                "the spec names collection `{name}`, which is not in snapshot `{}` (it has: {})",
                unpacked.manifest.name,
                all.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(all.iter().filter(|c| spec.collections.is_empty() || spec.collections.contains(&c.name)).collect())
}

pub fn target_name(spec: &Spec, collection: &str) -> String {
    match spec.target {
        Target::InPlace => collection.to_string(),
        Target::Suffix => format!("{collection}{}", spec.target_suffix),
    }
}

/// Transforms every row of the selected collections without writing anything: the dry run, and
/// the validate phase of a real run.
pub fn plan(spec: &Spec, unpacked: &Unpacked, max_quarantine_pct: f64) -> Result<MigrationPlan, SnapshotError> {
    let mut collections = Vec::new();
    for entry in selected(spec, unpacked)? {
        let mut plan = CollectionPlan {
            name: entry.name.clone(),
            target: target_name(spec, &entry.name),
            rows: 0,
            convertible: 0,
            failed: 0,
            failures: Vec::new(),
            all_failures: Vec::new(),
            fields: FieldStats::default(),
            dropped_keys: Vec::new(),
            sample: None,
        };
        let mut dropped = std::collections::BTreeSet::new();
        for_each_row(unpacked, entry, |id, document, metadata| {
            plan.rows += 1;
            match transform(spec, &entry.name, id, document, metadata, &mut plan.fields) {
                Ok(after) => {
                    plan.convertible += 1;
                    if let Some(source) = metadata.filter(|_| !spec.keep_unmapped) {
                        dropped.extend(
                            source.keys().filter(|k| !after.contains_key(*k) && !mapped(spec, &entry.name, k)).cloned(),
                        );
                    }
                    if plan.sample.is_none() {
                        plan.sample = Some(Sample {
                            id: id.to_string(),
                            before: metadata.map(|m| Value::Object(m.clone())),
                            after: Value::Object(after),
                        });
                    }
                }
                Err(reason) => {
                    plan.failed += 1;
                    let failure = RowFailure { id: id.to_string(), reason };
                    if plan.failures.len() < LISTED_FAILURES {
                        plan.failures.push(failure.clone());
                    }
                    plan.all_failures.push(failure);
                }
            }
        })?;
        plan.dropped_keys = dropped.into_iter().collect();
        collections.push(plan);
    }
    Ok(MigrationPlan {
        snapshot: unpacked.manifest.name.clone(),
        spec_fingerprint: spec.fingerprint(),
        max_quarantine_pct,
        collections,
    })
}

fn mapped(spec: &Spec, collection: &str, key: &str) -> bool {
    spec.fields.values().any(|f| spec.source_for(f, collection).from.as_deref() == Some(key))
}

/// Calls `f(id, document, metadata)` for every row of a snapshot collection, in file order.
fn for_each_row(
    unpacked: &Unpacked,
    entry: &CollectionEntry,
    mut f: impl FnMut(&str, Option<&str>, Option<&Map<String, Value>>),
) -> Result<(), SnapshotError> {
    let file = unpacked.collection_file(entry);
    let integrity = |e: String| SnapshotError::Integrity(format!("`{}`: {e}", file.display()));
    for records in read_records(&file, entry).map_err(integrity)? {
        let records = records.map_err(integrity)?;
        for i in 0..records.len() {
            let metadata = parse_metadata(&records, i).map_err(integrity)?;
            f(&records.ids[i], records.documents[i].as_deref(), metadata.as_ref());
        }
    }
    Ok(())
}

fn parse_metadata(records: &Records, i: usize) -> Result<Option<Map<String, Value>>, String> {
    records.metadatas[i]
        .as_deref()
        .map(|text| {
            serde_json::from_str(text).map_err(|e| format!("metadata of `{}` is not JSON: {e}", records.ids[i]))
        })
        .transpose()
}

/// Everything a real run needs.
pub struct RunOptions<'a> {
    pub config: &'a crate::config::Config,
    pub spec: &'a Spec,
    pub spec_path: &'a Path,
    pub snapshot: PathBuf,
    pub unpacked: &'a Unpacked,
    pub batch_rows: usize,
    pub checkpoint_every: u64,
    pub max_quarantine_pct: f64,
    pub checkpoint_path: PathBuf,
    pub sample: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    pub snapshot: PathBuf,
    pub collections: Vec<FinishedCollection>,
    pub validation: validate::Report,
}

#[derive(Debug, Clone, Serialize)]
pub struct FinishedCollection {
    pub name: String,
    pub target: String,
    pub rows: u64,
    pub quarantined: Vec<RowFailure>,
}

/// Imports, verifies and swaps, continuing from `checkpoint`. On any loss or failed check it
/// rolls back (staging dropped; swapped collections restored from the pre-migration snapshot)
/// and returns an integrity error (exit 4).
pub async fn run(
    chroma: &ChromaClient,
    opts: &RunOptions<'_>,
    checkpoint: &mut Checkpoint,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<Finished, SnapshotError> {
    progress.on_stage("transforming (validate phase)", None);
    let plan = plan(opts.spec, opts.unpacked, opts.max_quarantine_pct)?;
    progress.on_done();
    if let Some(over) = plan.over_allowance() {
        let first = over.failures.first().map_or(String::new(), |f| format!("; first: `{}`: {}", f.id, f.reason));
        return Err(SnapshotError::Integrity(format!(
            "{} of {} rows of `{}` cannot be converted (allowed: {}%){first}",
            over.failed, over.rows, over.name, opts.max_quarantine_pct
        )));
    }
    let entries = selected(opts.spec, opts.unpacked)?;
    reconcile_swaps(chroma, opts, checkpoint, journal, progress).await?;
    for entry in &entries {
        import(chroma, opts, entry, checkpoint, journal, progress).await?;
    }
    crate::hooks::crash_point("migrate.imported");
    // Verify every import before anything is swapped.
    progress.on_stage("verifying", None);
    let quarantine = plan.quarantine();
    let targets: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            let ck = checkpoint.collection(&e.name);
            (e.name.clone(), if ck.swapped { ck.name.clone() } else { ck.import_name.clone() })
        })
        .collect();
    let report = validate::validate(chroma, opts.spec, opts.unpacked, &targets, &quarantine, opts.sample).await?;
    progress.on_done();
    if !report.passed {
        return Err(SnapshotError::Integrity(format!("validation failed: {}", report.failures().join("; "))));
    }
    // Rows written to the sources since the pre-migration snapshot: carried over (or the run
    // stops naming them, nothing swapped) before anything is swapped.
    let mut carries = Vec::new();
    for entry in &entries {
        let ck = checkpoint.collection(&entry.name).clone();
        if ck.swapped {
            continue;
        }
        let vanished = |what: &str| {
            SnapshotError::Integrity(format!("{what} disappeared during the migration; nothing was swapped"))
        };
        let source = chroma.collection(&entry.name).await?.ok_or_else(|| vanished(&format!("`{}`", entry.name)))?;
        let target =
            chroma.collection(&ck.import_name).await?.ok_or_else(|| vanished(&format!("`{}`", ck.import_name)))?;
        let mut carry = carry::Carry::new(opts, entry)?;
        carry.until_still(chroma, &source.id, &target.id, journal, progress).await?;
        let quarantined = quarantine.get(&entry.name).map(Vec::as_slice).unwrap_or(&[]);
        carry.check_ids(chroma, &source.id, &target.id, quarantined).await?;
        carries.push((carry, target));
    }
    // Swap in-place migrations in; a last look at the replaced source catches what was written
    // between the check above and the rename.
    if opts.spec.target == Target::InPlace {
        for (mut carry, staging) in carries {
            let entry = carry.entry;
            let ck = checkpoint.collection(&entry.name).clone();
            carry
                .swap_in(chroma, &staging.id, &ck.import_name, &checkpoint.tag, "migration.swap", journal, progress)
                .await?;
            crate::hooks::crash_point("migrate.swapped_unsaved");
            checkpoint.collection_mut(&entry.name).swapped = true;
            checkpoint.save(&opts.checkpoint_path)?;
            crate::hooks::crash_point("migrate.swap_saved");
        }
    }
    let mut collections = Vec::new();
    for entry in &entries {
        collections.push(FinishedCollection {
            name: entry.name.clone(),
            target: target_name(opts.spec, &entry.name),
            rows: checkpoint.collection(&entry.name).rows_done,
            quarantined: quarantine.get(&entry.name).cloned().unwrap_or_default(),
        });
    }
    Ok(Finished { snapshot: opts.snapshot.clone(), collections, validation: report })
}

/// Puts right what a run killed in the middle of a swap left, from the journal's
/// `migration.swap` event and what Chroma holds:
/// - killed between the two renames (source renamed away, staging not yet in): the source is
///   renamed back, and the swap happens again later as if never started;
/// - killed after the renames but before the checkpoint said so (staging name gone): the
///   checkpoint is corrected, so `--resume` and rollback see what really happened;
/// - a replaced source still there (killed before its last look): the last look is taken now
///   and the old copy deleted.
async fn reconcile_swaps(
    chroma: &ChromaClient,
    opts: &RunOptions<'_>,
    checkpoint: &mut Checkpoint,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<(), SnapshotError> {
    let in_place: Vec<CollectionProgress> =
        checkpoint.collections.iter().filter(|c| c.import_name != c.name).cloned().collect();
    let mut changed = false;
    for ck in in_place {
        let Some(event) = swap_event(journal, &ck.import_name) else { continue };
        let old = event.details.get("old").and_then(Value::as_str).map(str::to_string);
        if !ck.swapped && chroma.collection(&ck.import_name).await?.is_some() {
            // Staging not swapped in; the source renamed away means killed between the renames.
            let renamed_away = match (&old, chroma.collection(&ck.name).await?) {
                (Some(old), None) => chroma.collection(old).await?,
                _ => None,
            };
            if let Some(copy) = renamed_away {
                chroma.rename_collection(&copy.id, &ck.name).await?;
                journal.append(NewEvent::new("migration.swap_undone", "ok").component("chromadb").details(json!({
                    "collection": ck.name, "renamed_back": copy.name, "staging": ck.import_name,
                })))?;
            }
            continue;
        }
        if !ck.swapped {
            checkpoint.collection_mut(&ck.name).swapped = true;
            changed = true;
        }
        let (Some(old), Some(live)) = (old, chroma.collection(&ck.name).await?) else { continue };
        if let Some(copy) = chroma.collection(&old).await? {
            let entry =
                opts.unpacked.manifest.collections.iter().find(|e| e.name == ck.name).ok_or_else(|| {
                    SnapshotError::Failed(format!("`{}` is not in the pre-migration snapshot", ck.name))
                })?;
            carry::Carry::new(opts, entry)?.last_look(chroma, &copy, &live.id, journal, progress).await?;
        }
    }
    if changed {
        checkpoint.save(&opts.checkpoint_path)?;
    }
    Ok(())
}

/// The newest `migration.swap` event (last 90 days) of this staging collection on the journal's
/// target (staging names repeat across targets: same spec, same tag).
fn swap_event(journal: &Journal, staging: &str) -> Option<crate::journal::Event> {
    let since = crate::journal::now() - chrono::Duration::days(90);
    crate::journal::newest_mentioning(journal.path(), &format!("\"staging\":\"{staging}\""), since, |e| {
        e.kind == "migration.swap" && crate::journal::about_target(e, journal.target())
    })
}

/// Whether the journal records a `migration.swap` of this staging collection.
fn swap_started(journal: &Journal, staging: &str) -> bool {
    swap_event(journal, staging).is_some()
}

/// Loads one collection's converted rows into its import collection, checkpointing as it goes.
/// Rows already there (a resumed run) are skipped, so a resume ends exactly where a clean run does.
async fn import(
    chroma: &ChromaClient,
    opts: &RunOptions<'_>,
    entry: &CollectionEntry,
    checkpoint: &mut Checkpoint,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<(), SnapshotError> {
    let ck = checkpoint.collection(&entry.name).clone();
    if ck.imported {
        return Ok(());
    }
    progress.on_stage(&format!("importing {}", entry.name), Some(entry.rows_exported));
    let target = match chroma.collection(&ck.import_name).await? {
        Some(existing) => existing,
        None => {
            let mut metadata = entry.metadata.clone().unwrap_or_default();
            for (k, v) in &opts.spec.collection_metadata {
                metadata.insert(k.clone(), transform::toml_to_json(v));
            }
            let configuration = crate::snapshot::restore::configuration_of(entry);
            chroma.create_collection(&ck.import_name, Some(&metadata), configuration.as_ref()).await?
        }
    };
    let present: HashSet<String> = chroma.all_ids(&target.id).await?.into_iter().collect();
    let file = opts.unpacked.collection_file(entry);
    let integrity = |e: String| SnapshotError::Integrity(format!("`{}`: {e}", file.display()));
    let mut stats = FieldStats::default();
    let mut done = present.len() as u64;
    let mut since_checkpoint = 0u64;
    let mut batch = Records { dim: entry.dimension.unwrap_or(0) as usize, ..Records::default() };
    for records in read_records(&file, entry).map_err(integrity)? {
        let records = records.map_err(integrity)?;
        for i in 0..records.len() {
            if present.contains(&records.ids[i]) {
                progress.on_rows(1);
                continue;
            }
            let metadata = parse_metadata(&records, i).map_err(integrity)?;
            let Ok(after) = transform(
                opts.spec,
                &entry.name,
                &records.ids[i],
                records.documents[i].as_deref(),
                metadata.as_ref(),
                &mut stats,
            ) else {
                progress.on_rows(1);
                continue; // quarantined: listed in the report
            };
            batch.ids.push(records.ids[i].clone());
            batch.documents.push(records.documents[i].clone());
            batch.metadatas.push(Some(crate::journal::canonical_json(&Value::Object(after))));
            batch.uris.push(records.uris[i].clone());
            batch.embeddings.extend_from_slice(&records.embeddings[i * records.dim..(i + 1) * records.dim]);
            if batch.len() >= opts.batch_rows {
                let n = flush(chroma, &target.id, &mut batch).await?;
                done += n;
                since_checkpoint += n;
                progress.on_rows(n);
                if since_checkpoint >= opts.checkpoint_every {
                    since_checkpoint = 0;
                    save_progress(opts, checkpoint, &entry.name, done, false, journal)?;
                }
            }
        }
    }
    let n = flush(chroma, &target.id, &mut batch).await?;
    done += n;
    progress.on_rows(n);
    save_progress(opts, checkpoint, &entry.name, done, true, journal)?;
    progress.on_done();
    Ok(())
}

async fn flush(chroma: &ChromaClient, collection_id: &str, batch: &mut Records) -> Result<u64, SnapshotError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let n = batch.len() as u64;
    chroma.add_raw(collection_id, batch.add_body()).await?;
    let dim = batch.dim;
    *batch = Records { dim, ..Records::default() };
    Ok(n)
}

fn save_progress(
    opts: &RunOptions<'_>,
    checkpoint: &mut Checkpoint,
    name: &str,
    rows_done: u64,
    imported: bool,
    journal: &Journal,
) -> Result<(), SnapshotError> {
    let ck = checkpoint.collection_mut(name);
    ck.rows_done = rows_done;
    ck.imported = imported;
    checkpoint.save(&opts.checkpoint_path)?;
    journal.append(
        NewEvent::new("migration.checkpoint", if imported { "imported" } else { "progress" })
            .component("chromadb")
            .details(serde_json::json!({"collection": name, "rows_done": rows_done, "imported": imported})),
    )?;
    Ok(())
}

/// Undoes a run: import collections are deleted, swapped collections restored from the
/// pre-migration snapshot. Returns what was done, for the journal.
pub async fn rollback(
    chroma: &ChromaClient,
    checkpoint: &Checkpoint,
    snapshot: &Path,
    config: &crate::config::Config,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<Value, SnapshotError> {
    let mut dropped = Vec::new();
    let mut restored = Vec::new();
    for ck in &checkpoint.collections {
        let swapped = ck.swapped
            || (ck.import_name != ck.name
                && swap_started(journal, &ck.import_name)
                && chroma.collection(&ck.import_name).await?.is_none());
        if swapped {
            restored.push(ck.name.clone());
        } else if chroma.collection(&ck.import_name).await?.is_some() && ck.import_name != ck.name {
            chroma.delete_collection(&ck.import_name).await?;
            dropped.push(ck.import_name.clone());
        }
    }
    crate::hooks::crash_point("rollback.dropped");
    if !restored.is_empty() {
        let opts = crate::snapshot::restore::RestoreOptions::of(config, snapshot, &restored);
        crate::snapshot::restore::restore_collections(chroma, &opts, false, journal, progress).await?;
    }
    Ok(serde_json::json!({"dropped": dropped, "restored_from_snapshot": restored}))
}

/// A fresh checkpoint for a run from `snapshot`.
pub fn new_checkpoint(
    spec: &Spec,
    spec_path: &Path,
    snapshot: &Path,
    unpacked: &Unpacked,
) -> Result<Checkpoint, SnapshotError> {
    let tag = crate::journal::now().format("%Y%m%d%H%M%S").to_string();
    let collections = selected(spec, unpacked)?
        .into_iter()
        .map(|e| CollectionProgress {
            name: e.name.clone(),
            import_name: match spec.target {
                Target::InPlace => crate::snapshot::restore::derived_name(&e.name, MIGRATE, &tag),
                Target::Suffix => target_name(spec, &e.name),
            },
            rows_done: 0,
            imported: false,
            swapped: false,
        })
        .collect();
    Ok(Checkpoint {
        spec_fingerprint: spec.fingerprint(),
        spec_path: spec_path.to_path_buf(),
        snapshot: snapshot.to_path_buf(),
        tag,
        started_at: crate::journal::now(),
        collections,
        rolling_back: None,
    })
}
