//! What changed in a live collection since a snapshot of it: rows added, changed (document,
//! metadata, uri or embedding) and deleted. Migrations and index rebuilds work from a snapshot
//! while writers may go on; before they swap their result in, they look here so no row written
//! meanwhile is lost.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::records::Records;
use super::verify::read_records;
use super::{CollectionEntry, SnapshotError};
use crate::clients::chroma::ChromaClient;

/// Rows read per `get` while comparing.
const PAGE: usize = 500;

/// A row's content in 16 bytes: id, document, canonical metadata, uri and the embedding's bits.
pub type RowDigest = [u8; 16];

/// The rows of a snapshot file (or of a collection at some moment), id → digest.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    rows: HashMap<String, RowDigest>,
}

/// Rows that differ from a baseline, ids in storage order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// Added since the baseline, or changed.
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.deleted.is_empty()
    }

    pub fn len(&self) -> usize {
        self.changed.len() + self.deleted.len()
    }

    /// Up to `n` ids, changed first, for messages.
    pub fn examples(&self, n: usize) -> Vec<&str> {
        self.changed.iter().chain(&self.deleted).take(n).map(String::as_str).collect()
    }
}

fn digest(records: &Records, i: usize) -> RowDigest {
    let mut h = Sha256::new();
    let mut field = |bytes: Option<&[u8]>| {
        match bytes {
            Some(b) => {
                h.update((b.len() as u64 + 1).to_le_bytes());
                h.update(b);
            }
            None => h.update(0u64.to_le_bytes()),
        };
    };
    field(Some(records.ids[i].as_bytes()));
    field(records.documents[i].as_deref().map(str::as_bytes));
    field(records.metadatas[i].as_deref().map(str::as_bytes));
    field(records.uris[i].as_deref().map(str::as_bytes));
    let dim = records.dim;
    let mut bits = Vec::with_capacity(dim * 4);
    if dim > 0 && records.embeddings.len() >= (i + 1) * dim {
        for f in &records.embeddings[i * dim..(i + 1) * dim] {
            bits.extend_from_slice(&f.to_bits().to_le_bytes());
        }
    }
    field(Some(&bits));
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

impl Baseline {
    /// The rows of a verified snapshot file.
    pub fn of_file(file: &Path, entry: &CollectionEntry) -> Result<Baseline, SnapshotError> {
        let integrity = |e: String| SnapshotError::Integrity(format!("`{}`: {e}", file.display()));
        let mut rows = HashMap::with_capacity(entry.rows_exported as usize);
        for records in read_records(file, entry).map_err(integrity)? {
            let records = records.map_err(integrity)?;
            for i in 0..records.len() {
                rows.insert(records.ids[i].clone(), digest(&records, i));
            }
        }
        Ok(Baseline { rows })
    }

    /// Compares a live collection with this baseline, page by page.
    pub async fn drift(
        &self,
        chroma: &ChromaClient,
        collection_id: &str,
        dim: Option<usize>,
    ) -> Result<Drift, SnapshotError> {
        let ids = chroma.all_ids(collection_id).await?;
        let live: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut drift = Drift::default();
        for page in ids.chunks(PAGE) {
            let body = chroma.get_records_raw(collection_id, page).await?;
            let records = Records::from_get_json(&body, dim).map_err(SnapshotError::Failed)?;
            for i in 0..records.len() {
                if self.rows.get(&records.ids[i]) != Some(&digest(&records, i)) {
                    drift.changed.push(records.ids[i].clone());
                }
            }
        }
        drift.deleted = self.rows.keys().filter(|id| !live.contains(id.as_str())).cloned().collect();
        drift.deleted.sort();
        Ok(drift)
    }

    /// Takes the changes in: the baseline now describes the live rows as read by `fetch`.
    pub fn absorb(&mut self, records: &Records, deleted: &[String]) {
        for i in 0..records.len() {
            self.rows.insert(records.ids[i].clone(), digest(records, i));
        }
        for id in deleted {
            self.rows.remove(id);
        }
    }
}

/// The current rows `ids` of a live collection, with everything a snapshot holds.
pub async fn fetch(
    chroma: &ChromaClient,
    collection_id: &str,
    ids: &[String],
    dim: Option<usize>,
) -> Result<Records, SnapshotError> {
    let mut all = Records { dim: dim.unwrap_or(0), ..Records::default() };
    for page in ids.chunks(PAGE) {
        let body = chroma.get_records_raw(collection_id, page).await?;
        let records = Records::from_get_json(&body, dim).map_err(SnapshotError::Failed)?;
        all.dim = records.dim.max(all.dim);
        all.ids.extend(records.ids);
        all.documents.extend(records.documents);
        all.metadatas.extend(records.metadatas);
        all.uris.extend(records.uris);
        all.embeddings.extend(records.embeddings);
    }
    Ok(all)
}
