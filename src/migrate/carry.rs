//! Rows written to a source collection while it is being migrated: found by comparing the live
//! collection with the pre-migration snapshot, then transformed and carried into the target, or
//! the migration stops (exit 4) naming them with the source untouched. Nothing is ever lost in
//! silence.

use std::collections::HashSet;

use serde_json::Value;

use super::RunOptions;
use super::spec::Spec;
use super::transform::{FieldStats, transform};
use crate::clients::chroma::ChromaClient;
use crate::journal::{Journal, NewEvent};
use crate::snapshot::drift::{Baseline, Drift, fetch};
use crate::snapshot::records::Records;
use crate::snapshot::restore::swap_keeping_old;
use crate::snapshot::{CollectionEntry, Progress, SnapshotError};

/// Rounds of "look, carry over" before giving up on a source that keeps changing.
const MAX_ROUNDS: usize = 3;
/// Ids named in messages and events.
const EXAMPLES: usize = 10;

/// Where one collection's carry-over stands.
pub struct Carry<'a> {
    /// The migration's spec; `None` carries rows over as they are (an index rebuild).
    pub spec: Option<&'a Spec>,
    pub entry: &'a CollectionEntry,
    /// The source as the target now holds it (starts as the pre-migration snapshot).
    pub baseline: Baseline,
    /// Ids carried over so far.
    pub carried: HashSet<String>,
}

impl<'a> Carry<'a> {
    pub fn new(opts: &'a RunOptions<'_>, entry: &'a CollectionEntry) -> Result<Carry<'a>, SnapshotError> {
        Carry::from_file(Some(opts.spec), entry, &opts.unpacked.collection_file(entry))
    }

    /// A carry-over from the snapshot file of `entry`, transformed by `spec` when given.
    pub fn from_file(
        spec: Option<&'a Spec>,
        entry: &'a CollectionEntry,
        file: &std::path::Path,
    ) -> Result<Carry<'a>, SnapshotError> {
        let baseline = Baseline::of_file(file, entry)?;
        Ok(Carry { spec, entry, baseline, carried: HashSet::new() })
    }

    fn dim(&self) -> Option<usize> {
        self.entry.dimension.map(|d| d as usize)
    }

    /// Carries every change of `source_id` since the baseline into `target_id`, looking again
    /// until the source holds still (at most three rounds). Returns the rows carried.
    pub async fn until_still(
        &mut self,
        chroma: &ChromaClient,
        source_id: &str,
        target_id: &str,
        journal: &Journal,
        progress: &dyn Progress,
    ) -> Result<usize, SnapshotError> {
        let mut total = 0;
        for round in 1..=MAX_ROUNDS {
            let drift = self.baseline.drift(chroma, source_id, self.dim()).await?;
            if drift.is_empty() {
                return Ok(total);
            }
            if round == MAX_ROUNDS {
                return Err(SnapshotError::Integrity(format!(
                    "`{}` is still being written: {} rows changed again after {} rounds of carrying changes over (e.g. {}); stop the writers (runbooks/migration.md) and run it again — nothing was swapped",
                    self.entry.name,
                    drift.len(),
                    MAX_ROUNDS - 1,
                    drift.examples(EXAMPLES).join(", ")
                )));
            }
            total += self.once(chroma, source_id, target_id, &drift, journal, progress).await?;
        }
        Ok(total)
    }

    /// Carries one set of changes over.
    pub async fn once(
        &mut self,
        chroma: &ChromaClient,
        source_id: &str,
        target_id: &str,
        drift: &Drift,
        journal: &Journal,
        progress: &dyn Progress,
    ) -> Result<usize, SnapshotError> {
        let name = &self.entry.name;
        progress.on_stage(&format!("carrying over {} rows written to {name} meanwhile", drift.len()), None);
        let rows = fetch(chroma, source_id, &drift.changed, self.dim()).await?;
        let mut out = Records { dim: rows.dim, ..Records::default() };
        let mut stats = FieldStats::default();
        for i in 0..rows.len() {
            let metadata: Option<serde_json::Map<String, Value>> = rows.metadatas[i]
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| SnapshotError::Failed(format!("metadata of `{}` is not JSON: {e}", rows.ids[i])))?;
            let metadata = match self.spec {
                None => rows.metadatas[i].clone(),
                Some(spec) => {
                    let after = transform(spec, name, &rows.ids[i], rows.documents[i].as_deref(), metadata.as_ref(), &mut stats)
                        .map_err(|reason| {
                            SnapshotError::Integrity(format!(
                                "row `{}` was written to `{name}` during the migration and cannot be converted ({reason}); nothing was swapped — fix or remove it and run again",
                                rows.ids[i]
                            ))
                        })?;
                    Some(crate::journal::canonical_json(&Value::Object(after)))
                }
            };
            out.ids.push(rows.ids[i].clone());
            out.documents.push(rows.documents[i].clone());
            out.metadatas.push(metadata);
            out.uris.push(rows.uris[i].clone());
            out.embeddings.extend_from_slice(&rows.embeddings[i * rows.dim..(i + 1) * rows.dim]);
        }
        for start in (0..out.len()).step_by(500) {
            let chunk = out.slice(start..(start + 500).min(out.len()));
            chroma.upsert_raw(target_id, chunk.add_body()).await?;
        }
        if !drift.deleted.is_empty() {
            chroma.delete_ids(target_id, &drift.deleted).await?;
        }
        self.baseline.absorb(&rows, &drift.deleted);
        self.carried.extend(drift.changed.iter().chain(&drift.deleted).cloned());
        journal.append(
            NewEvent::new(if self.spec.is_some() { "migration.carried_over" } else { "snapshot.carried_over" }, "ok")
                .component("chromadb")
                .details(serde_json::json!({
                    "collection": name, "changed": drift.changed.len(), "deleted": drift.deleted.len(),
                    "examples": drift.examples(EXAMPLES),
                })),
        )?;
        progress.on_done();
        Ok(drift.len())
    }

    /// Swaps the target in under the source's name, then looks once more at the replaced source
    /// and carries over what arrived since the last look, before deleting it.
    #[allow(clippy::too_many_arguments)]
    pub async fn swap_in(
        &mut self,
        chroma: &ChromaClient,
        staging_id: &str,
        staging: &str,
        tag: &str,
        event: &str,
        journal: &Journal,
        progress: &dyn Progress,
    ) -> Result<(), SnapshotError> {
        let name = &self.entry.name;
        let old = swap_keeping_old(chroma, staging_id, staging, name, tag, event, journal).await?;
        if let Some(old) = old {
            self.last_look(chroma, &old, staging_id, journal, progress).await?;
        }
        Ok(())
    }

    /// Carries over what the replaced source `old` got since the last look into `target_id` (now
    /// live under the source's name), then deletes `old`.
    pub async fn last_look(
        &mut self,
        chroma: &ChromaClient,
        old: &crate::clients::chroma::Collection,
        target_id: &str,
        journal: &Journal,
        progress: &dyn Progress,
    ) -> Result<(), SnapshotError> {
        let drift = self.baseline.drift(chroma, &old.id, self.dim()).await?;
        if !drift.is_empty() {
            self.once(chroma, &old.id, target_id, &drift, journal, progress).await?;
        }
        chroma.delete_collection(&old.name).await?;
        Ok(())
    }

    /// After carrying over, the target must hold exactly the source's ids but the quarantined
    /// rows that were not rewritten since.
    pub async fn check_ids(
        &self,
        chroma: &ChromaClient,
        source_id: &str,
        target_id: &str,
        quarantined: &[super::RowFailure],
    ) -> Result<(), SnapshotError> {
        let skipped: HashSet<&str> =
            quarantined.iter().map(|q| q.id.as_str()).filter(|id| !self.carried.contains(*id)).collect();
        let source: HashSet<String> = chroma.all_ids(source_id).await?.into_iter().collect();
        let target: HashSet<String> = chroma.all_ids(target_id).await?.into_iter().collect();
        let missing: Vec<&String> =
            source.iter().filter(|id| !skipped.contains(id.as_str()) && !target.contains(*id)).take(EXAMPLES).collect();
        let extra: Vec<&String> = target.iter().filter(|id| !source.contains(*id)).take(EXAMPLES).collect();
        if missing.is_empty() && extra.is_empty() {
            return Ok(());
        }
        Err(SnapshotError::Integrity(format!(
            "after carrying changes over, `{}` and its migrated copy differ (missing {:?}, extra {:?}); nothing was swapped",
            self.entry.name, missing, extra
        )))
    }
}
