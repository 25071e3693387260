//! `snapshot restore`: verify everything first, back up what will be replaced, load each
//! collection into a staging collection, check it, then swap it in by rename.
//!
//! The swap is two renames (live → `<name>__ifctl_old_<tag>`, staging → `<name>`); between them,
//! a few milliseconds, the name is absent. A restore killed there is repaired by the next restore
//! (or `snapshot restore --dry-run`), which renames the old collection back; the journal records
//! every collection swapped.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;

use crate::clients::chroma::{ChromaClient, IdPages};
use crate::journal::{Journal, NewEvent};

use super::ids::IdDigest;
use super::records::Records;
use super::verify::{Verified, read_records, verify_archive};
use super::{CollectionEntry, Progress, SnapshotError};

const STAGING: &str = "__ifctl_staging_";
const OLD: &str = "__ifctl_old_";
/// Scratch copies made by `snapshot verify --deep`.
pub(super) const VERIFY: &str = "__ifctl_verify_";
/// Largest `add` body sent; the server refuses bodies over 40 MiB.
const MAX_BODY_BYTES: usize = 32 << 20;

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub archive: PathBuf,
    /// Collections to restore; empty means all in the snapshot.
    pub collections: Vec<String>,
    /// Records per `add` request (also bounded by bytes).
    pub batch_rows: usize,
    /// Where to unpack (a private temp dir is made inside).
    pub scratch: PathBuf,
    /// The journal: proof of which leftover collections ifctl made, and by which process.
    pub journal: PathBuf,
    /// The named target restored into: only its events (and untargeted ones) are that proof.
    pub target: Option<String>,
    /// `chromadb.lock_stale_after`: when another host's lock record on a collection may be
    /// taken over.
    pub lock_stale_after: std::time::Duration,
    /// Restore even when the snapshot changes a live collection's dimension or distance space,
    /// or holds HNSW parameters outside [`HNSW_LIMITS`].
    pub allow_index_change: bool,
}

/// HNSW parameters a restore applies without being told explicitly: Chroma's defaults are 100
/// (ef_construction, ef_search) and 16 (max_neighbors); beyond these an index build takes many
/// times longer or far more memory (ef_construction 100000 with max_neighbors 5000: 14× slower).
pub const HNSW_LIMITS: [(&str, f64, f64); 4] = [
    ("ef_construction", 1.0, 2000.0),
    ("ef_search", 1.0, 10000.0),
    ("max_neighbors", 2.0, 128.0),
    ("resize_factor", 1.0, 10.0),
];

#[derive(Debug, Clone, Serialize)]
pub struct PlanItem {
    pub name: String,
    pub rows: u64,
    /// Records in the live collection now; `None` when it does not exist.
    pub live_count: Option<u64>,
    /// `replace` or `create`.
    pub action: &'static str,
    pub space: Option<String>,
    pub dimension: Option<u32>,
    /// The live collection's, when it exists.
    pub live_space: Option<String>,
    pub live_dimension: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub snapshot: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The server, tenant and database the snapshot was taken from.
    pub source: super::ChromaSource,
    pub items: Vec<PlanItem>,
    /// Leftovers of an interrupted restore that will be repaired first.
    pub repairs: Vec<Repair>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Repair {
    pub collection: String,
    /// `rename_back` (the old collection returns to its name) or `delete` (a staging copy, or an
    /// old copy whose replacement is in place).
    pub action: &'static str,
    pub leftover: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionResult {
    pub name: String,
    pub before: Option<u64>,
    pub after: u64,
}

/// A verified archive and the plan for it; nothing has been changed yet.
pub struct Prepared {
    pub verified: Verified,
    pub plan: Plan,
    entries: Vec<CollectionEntry>,
    lock_stale_after: std::time::Duration,
}

/// Verifies the archive and works out what would change. Touches nothing.
pub async fn prepare(chroma: &ChromaClient, opts: &RestoreOptions) -> Result<Prepared, SnapshotError> {
    let verified = verify_archive(&opts.archive, &opts.scratch)?;
    let manifest = &verified.unpacked.manifest;
    let mut entries = Vec::new();
    for name in &opts.collections {
        if !manifest.collections.iter().any(|c| &c.name == name) {
            return Err(SnapshotError::Usage(format!(
                "snapshot `{}` has no collection `{name}` (it has: {})",
                manifest.name,
                manifest.collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    for entry in &manifest.collections {
        if opts.collections.is_empty() || opts.collections.contains(&entry.name) {
            check_restorable(entry)?;
            entries.push(entry.clone());
        }
    }
    let mut items = Vec::new();
    let mut refusals = Vec::new();
    for entry in &entries {
        let found = chroma.collection(&entry.name).await?;
        let live = match &found {
            Some(c) => Some(chroma.count(&c.id).await?),
            None => None,
        };
        let live_space = found.as_ref().and_then(|c| space_in(c.configuration_json.as_ref()?));
        let item = PlanItem {
            name: entry.name.clone(),
            rows: entry.rows_exported,
            live_count: live,
            action: if live.is_some() { "replace" } else { "create" },
            space: space_of(entry),
            dimension: entry.dimension,
            live_dimension: found.as_ref().and_then(|c| c.dimension),
            live_space,
        };
        refusals.extend(index_changes(entry, &item));
        items.push(item);
    }
    if !refusals.is_empty() && !opts.allow_index_change {
        return Err(SnapshotError::Usage(format!(
            "the snapshot would change how collections are searched: {}; nothing was changed",
            refusals.join("; ")
        )));
    }
    let wanted: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let repairs = leftovers(chroma, &wanted, &opts.journal, opts.target.as_deref()).await?;
    let plan = Plan {
        snapshot: manifest.name.clone(),
        created_at: manifest.created_at,
        source: manifest.chroma.clone(),
        items,
        repairs,
    };
    Ok(Prepared { verified, plan, entries, lock_stale_after: opts.lock_stale_after })
}

/// Carries out a prepared restore, journaling each step so an interrupted run can be understood.
pub async fn execute(
    chroma: &ChromaClient,
    prepared: &Prepared,
    batch_rows: usize,
    wait: bool,
    guard: bool,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<Vec<CollectionResult>, SnapshotError> {
    // One operation per collection at a time, on this host and on every host sharing the server.
    let names: Vec<&str> = prepared.entries.iter().map(|e| e.name.as_str()).collect();
    let _locks = super::lock::acquire_collections(
        chroma,
        journal,
        &names,
        "ifctl snapshot restore",
        wait,
        prepared.lock_stale_after,
        &|m| progress.on_stage(m, None),
    )
    .await?;
    repair(chroma, &prepared.plan.repairs, journal).await?;
    let tag = operation_tag();
    let mut results = Vec::new();
    for (entry, item) in prepared.entries.iter().zip(&prepared.plan.items) {
        let file = prepared.verified.unpacked.collection_file(entry);
        let staging = derived_name(&entry.name, STAGING, &tag);
        progress.on_stage(&format!("restoring {}", entry.name), Some(entry.rows_exported));
        record_owned(journal, &entry.name, &staging)?;
        let created =
            chroma.create_collection(&staging, entry.metadata.as_ref(), configuration_of(entry).as_ref()).await?;
        crate::hooks::crash_point("restore.staging_created");
        let loaded = load(chroma, &created.id, &file, entry, batch_rows, progress).await;
        let checked = match loaded {
            Ok(ids) => check_staging(chroma, &created.id, &ids, &file, entry).await,
            Err(e) => Err(e),
        };
        // Still ours? (A holder paused past the stale limit may have been taken over.)
        let checked = match checked {
            Ok(()) => super::shared_lock::ensure_held(chroma, &entry.name).await,
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            let _ = chroma.delete_collection(&staging).await;
            return Err(e);
        }
        crate::hooks::crash_point("restore.loaded");
        let live = if guard { chroma.collection(&entry.name).await? } else { None };
        match live {
            Some(live) => {
                // A rebuild of the live data: what was written since the archive is carried over
                // before the swap, and once more from the replaced collection after it.
                let mut carry = crate::migrate::carry::Carry::from_file(None, entry, &file)?;
                carry.until_still(chroma, &live.id, &created.id, journal, progress).await?;
                carry.swap_in(chroma, &created.id, &staging, &tag, "snapshot.swap", journal, progress).await?;
            }
            None => swap_in(chroma, &created.id, &staging, &entry.name, &tag, "snapshot.swap", journal).await?,
        }
        crate::hooks::crash_point("restore.swapped");
        let result = CollectionResult { name: entry.name.clone(), before: item.live_count, after: entry.rows_exported };
        journal
            .append(NewEvent::new("snapshot.collection_restored", "ok").component("chromadb").details(
                serde_json::json!({
                    "collection": entry.name, "snapshot": prepared.plan.snapshot,
                    "before": result.before, "after": result.after,
                }),
            ))
            .map_err(|e| SnapshotError::Failed(format!("journal: {e} (collection `{}` was restored)", entry.name)))?;
        results.push(result);
        progress.on_done();
    }
    Ok(results)
}

impl RestoreOptions {
    /// Options for restoring `collections` of `archive` with the config's scratch space and lock
    /// settings, in batches of 1,000.
    pub fn of(config: &crate::config::Config, archive: &std::path::Path, collections: &[String]) -> RestoreOptions {
        RestoreOptions {
            archive: archive.to_path_buf(),
            collections: collections.to_vec(),
            batch_rows: 1000,
            scratch: config.state_dir.join("tmp"),
            journal: config.journal_path(),
            target: config.target.clone(),
            lock_stale_after: config.chromadb.lock_stale_after,
            allow_index_change: false,
        }
    }
}

/// Verifies an archive and restores some of its collections (staging, checks, swap): the whole
/// of `snapshot restore` without backup or confirmation, for rollbacks and rebuilds. With
/// `guard` (a rebuild from an archive just taken of the live data), rows written to the live
/// collections since the archive are carried over instead of lost.
pub async fn restore_collections(
    chroma: &ChromaClient,
    opts: &RestoreOptions,
    guard: bool,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<Vec<CollectionResult>, SnapshotError> {
    let prepared = prepare(chroma, opts).await?;
    execute(chroma, &prepared, opts.batch_rows, true, guard, journal, progress).await
}

/// Puts a loaded staging collection under `name`: live → `<name>__ifctl_old_<tag>`, staging →
/// `<name>`, old deleted. Journaled (as `event`) before the first rename, so a crash between the
/// renames is explained; the next restore repairs it (see `leftovers`).
pub(crate) async fn swap_in(
    chroma: &ChromaClient,
    staging_id: &str,
    staging: &str,
    name: &str,
    tag: &str,
    event: &str,
    journal: &Journal,
) -> Result<(), SnapshotError> {
    if let Some(old) = swap_keeping_old(chroma, staging_id, staging, name, tag, event, journal).await? {
        chroma.delete_collection(&old.name).await?;
    }
    Ok(())
}

/// [`swap_in`] without the last step: the replaced collection is returned under its
/// `__ifctl_old_` name, for a final look before the caller deletes it.
pub(crate) async fn swap_keeping_old(
    chroma: &ChromaClient,
    staging_id: &str,
    staging: &str,
    name: &str,
    tag: &str,
    event: &str,
    journal: &Journal,
) -> Result<Option<crate::clients::chroma::Collection>, SnapshotError> {
    if let Err(taken) = super::shared_lock::ensure_held(chroma, name).await {
        // Taken over while paused: nothing was swapped, and the staging copy is ours alone.
        let _ = chroma.delete_collection(staging).await;
        return Err(taken);
    }
    let live = chroma.collection(name).await?;
    let old = derived_name(name, OLD, tag);
    journal
        .append(NewEvent::new(event, "started").component("chromadb").details(serde_json::json!({
            "collection": name, "staging": staging, "old": live.as_ref().map(|_| &old),
        })))
        .map_err(|e| SnapshotError::Failed(format!("journal: {e}; nothing was swapped")))?;
    crate::hooks::crash_point(format_args!("{event}.journaled"));
    if let Some(live) = &live {
        chroma.rename_collection(&live.id, &old).await?;
    }
    crate::hooks::crash_point(format_args!("{event}.between_renames"));
    chroma.rename_collection(staging_id, name).await?;
    crate::hooks::crash_point(format_args!("{event}.renamed"));
    Ok(live.map(|mut c| {
        c.name = old;
        c
    }))
}

/// Loads a snapshot file into a collection in batches bounded by rows and bytes; returns the
/// digest of the ids loaded.
pub(super) async fn load(
    chroma: &ChromaClient,
    collection_id: &str,
    file: &std::path::Path,
    entry: &CollectionEntry,
    batch_rows: usize,
    progress: &dyn Progress,
) -> Result<IdDigest, SnapshotError> {
    let integrity = |e: String| SnapshotError::Integrity(format!("`{}`: {e}", file.display()));
    let mut ids = IdDigest::default();
    for records in read_records(file, entry).map_err(integrity)? {
        let records = records.map_err(integrity)?;
        let mut start = 0;
        while start < records.len() {
            let end = batch_end(&records, start, batch_rows);
            let chunk = records.slice(start..end);
            chroma.add_raw(collection_id, chunk.add_body()).await?;
            chunk.ids.iter().for_each(|id| ids.add(id));
            progress.on_rows((end - start) as u64);
            start = end;
        }
    }
    Ok(ids)
}

/// The end of the next batch from `start`: at most `max_rows` rows and `MAX_BODY_BYTES`.
fn batch_end(records: &Records, start: usize, max_rows: usize) -> usize {
    let mut bytes = 64;
    let mut end = start;
    while end < records.len() && end - start < max_rows.max(1) {
        let row = records.row_bytes(end);
        if end > start && bytes + row > MAX_BODY_BYTES {
            break;
        }
        bytes += row;
        end += 1;
    }
    end
}

/// The staging collection holds exactly the snapshot's ids, no more, no fewer: the count and the
/// digest of the ids read back page by page match what was loaded from `file`.
pub(super) async fn check_staging(
    chroma: &ChromaClient,
    collection_id: &str,
    expected: &IdDigest,
    file: &std::path::Path,
    entry: &CollectionEntry,
) -> Result<(), SnapshotError> {
    let count = chroma.count(collection_id).await?;
    let mut pages = IdPages::new(collection_id, crate::clients::chroma::ID_PAGE);
    let mut actual = IdDigest::default();
    while let Some(page) = pages.next(chroma).await? {
        page.iter().for_each(|id| actual.add(id));
    }
    if count == entry.rows_exported && actual == *expected && expected.count == entry.rows_exported {
        return Ok(());
    }
    // Something differs: only now hold both id sets, to say what.
    let integrity = |e: String| SnapshotError::Integrity(format!("`{}`: {e}", file.display()));
    let mut wanted = HashSet::with_capacity(entry.rows_exported as usize);
    for records in read_records(file, entry).map_err(integrity)? {
        wanted.extend(records.map_err(integrity)?.ids);
    }
    let present: HashSet<String> = chroma.all_ids(collection_id).await?.into_iter().collect();
    let missing: Vec<&String> = wanted.difference(&present).take(3).collect();
    let extra: Vec<&String> = present.difference(&wanted).take(3).collect();
    Err(SnapshotError::Integrity(format!(
        "staging copy of `{}` does not match the snapshot ({count} records, expected {}; {} ids missing {missing:?}, {} unexpected {extra:?}); the live collection was not touched",
        entry.name,
        entry.rows_exported,
        wanted.difference(&present).count(),
        present.difference(&wanted).count(),
    )))
}

/// `{"hnsw": …}` (or `{"spann": …}`) from the saved `configuration_json`.
pub(crate) fn configuration_of(entry: &CollectionEntry) -> Option<serde_json::Value> {
    let saved = entry.configuration.as_ref()?;
    let mut out = serde_json::Map::new();
    for key in ["hnsw", "spann"] {
        if let Some(value) = saved.get(key).filter(|v| v.is_object()) {
            out.insert(key.to_string(), value.clone());
        }
    }
    (!out.is_empty()).then_some(serde_json::Value::Object(out))
}

/// What restoring `entry` would change about how its live collection is searched: its dimension,
/// its distance space, or HNSW parameters outside [`HNSW_LIMITS`].
fn index_changes(entry: &CollectionEntry, item: &PlanItem) -> Vec<String> {
    let name = &entry.name;
    let mut changes = Vec::new();
    if let (Some(live), Some(saved)) = (item.live_dimension, item.dimension) {
        if live != saved {
            changes
                .push(format!("`{name}` dimension {live} -> {saved} (every stored and future embedding must match)"));
        }
    }
    if let (Some(live), Some(saved)) = (&item.live_space, &item.space) {
        if live != saved {
            changes.push(format!("`{name}` distance space {live} -> {saved} (every query's ranking changes)"));
        }
    }
    let hnsw = entry.configuration.as_ref().and_then(|c| c.get("hnsw"));
    for (key, min, max) in HNSW_LIMITS {
        if let Some(value) = hnsw.and_then(|h| h.get(key)).and_then(|v| v.as_f64()) {
            if !(min..=max).contains(&value) {
                changes.push(format!("`{name}` hnsw.{key} = {value}, outside {min}…{max}"));
            }
        }
    }
    changes
}

/// The distance space a snapshot's collection was created with, when it says.
pub(crate) fn space_of(entry: &CollectionEntry) -> Option<String> {
    space_in(entry.configuration.as_ref()?)
}

/// The distance space a Chroma `configuration_json` names (HNSW or SPANN).
fn space_in(configuration: &serde_json::Value) -> Option<String> {
    ["hnsw", "spann"].iter().find_map(|k| configuration.get(*k)?.get("space")?.as_str().map(String::from))
}

/// Refuses what would crash or confuse the server: arrays in collection metadata (Chroma 1.5.9
/// panics on them) and invalid names.
fn check_restorable(entry: &CollectionEntry) -> Result<(), SnapshotError> {
    if !crate::config::valid_collection_name(&entry.name) {
        return Err(SnapshotError::Integrity(format!("collection name `{}` is not valid", entry.name)));
    }
    if let Some(metadata) = &entry.metadata {
        if let Some((key, _)) = metadata.iter().find(|(_, v)| v.is_array() || v.is_object()) {
            return Err(SnapshotError::Integrity(format!(
                "collection `{}` metadata key `{key}` holds an array or object, which Chroma cannot store",
                entry.name
            )));
        }
    }
    Ok(())
}

/// `<name><marker><tag>`, shortened with a hash when it would pass Chroma's 512-character limit.
pub(crate) fn derived_name(name: &str, marker: &str, tag: &str) -> String {
    let full = format!("{name}{marker}{tag}");
    if full.len() <= 500 {
        return full;
    }
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    format!("c{}{marker}{tag}", &digest[..16])
}

/// A tag unique to one operation, for the names of the collections it makes.
pub(crate) fn operation_tag() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{}{}", crate::journal::now().format("%Y%m%d%H%M%S"), &id[id.len() - 8..])
}

/// Journals that this process is about to create `leftover` for `collection`: the proof of
/// ownership that a later repair needs.
pub(crate) fn record_owned(journal: &Journal, collection: &str, leftover: &str) -> Result<(), SnapshotError> {
    journal
        .append(NewEvent::new(OWNED, "created").component("chromadb").details(serde_json::json!({
            "collection": collection, "leftover": leftover,
        })))
        .map(|_| ())
        .map_err(|e| SnapshotError::Failed(format!("journal: {e}; nothing was created")))
}

/// Kind of the event that records a staging collection as ifctl's.
const OWNED: &str = "snapshot.staging_created";

/// Leftovers of interrupted restores (and deep verifications) of the `wanted` collections, and
/// what to do with each.
/// Only collections that this host's journal proves ifctl created (a staging collection) or
/// renamed (an old copy, named in the swap event), by a process that is gone: a name pattern
/// alone proves nothing, and other operations' collections are not touched.
pub(super) async fn leftovers(
    chroma: &ChromaClient,
    wanted: &HashSet<&str>,
    journal: &std::path::Path,
    target: Option<&str>,
) -> Result<Vec<Repair>, SnapshotError> {
    let all = chroma.list_collections().await?;
    let names: HashSet<&str> = all.iter().map(|c| c.name.as_str()).collect();
    let mut candidates = Vec::new();
    for c in &all {
        if let Some((base, _)) = c.name.split_once(STAGING).or_else(|| c.name.split_once(VERIFY)) {
            candidates.push((base, "delete", c.name.as_str()));
        } else if let Some((base, _)) = c.name.split_once(OLD) {
            let action = if names.contains(base) { "delete" } else { "rename_back" };
            candidates.push((base, action, c.name.as_str()));
        }
    }
    candidates.retain(|(base, _, _)| wanted.contains(base));
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let here = crate::journal::Identity::current();
    let mut repairs = Vec::new();
    for (base, action, leftover) in candidates {
        let Some(owner) = owner_in_journal(journal, target, leftover) else { continue };
        let alive = owner.host == here.host && owner.pid != here.pid && super::lock::process_alive(owner.pid);
        if !alive {
            repairs.push(Repair { collection: base.to_string(), action, leftover: leftover.to_string() });
        }
    }
    Ok(repairs)
}

/// The journal event (last 90 days) that recorded ifctl making collection `name` on `target`'s
/// Chroma: a staging collection it created, or the old copy a swap renamed the live collection
/// to. Another target's event about a collection of the same name proves nothing here.
fn owner_in_journal(journal: &std::path::Path, target: Option<&str>, name: &str) -> Option<crate::journal::Event> {
    let since = crate::journal::now() - chrono::Duration::days(90);
    crate::journal::newest_mentioning(journal, &format!("\"{name}\""), since, |event| {
        if !crate::journal::about_target(event, target) {
            return false;
        }
        let made = match event.kind.as_str() {
            OWNED => event.details.get("leftover"),
            "snapshot.swap" | "migration.swap" => event.details.get("old"),
            _ => None,
        };
        made.and_then(|v| v.as_str()) == Some(name)
    })
}

pub(super) async fn repair(chroma: &ChromaClient, repairs: &[Repair], journal: &Journal) -> Result<(), SnapshotError> {
    for r in repairs {
        match r.action {
            "rename_back" => {
                let Some(old) = chroma.collection(&r.leftover).await? else { continue };
                chroma.rename_collection(&old.id, &r.collection).await?;
            }
            _ => {
                if chroma.collection(&r.leftover).await?.is_none() {
                    continue;
                }
                chroma.delete_collection(&r.leftover).await?
            }
        }
        journal.append(NewEvent::new("snapshot.repaired", r.action).component("chromadb").details(
            serde_json::json!({
                "collection": r.collection, "leftover": r.leftover, "action": r.action,
            }),
        ))?;
    }
    Ok(())
}
