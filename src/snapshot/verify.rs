//! `snapshot verify`: checksums, archive structure, Parquet readability and row counts — the same
//! checks `restore` makes before it touches anything.

use std::collections::HashSet;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

use super::archive::{Unpacked, unpack_verified};
use super::records::{Records, schema};
use super::{CollectionEntry, SnapshotError};

/// Rows per batch when reading a snapshot file back.
pub const READ_BATCH_ROWS: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub name: String,
    pub path: String,
    pub ok: bool,
    pub bytes_unpacked: u64,
    pub collections: Vec<CollectionCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionCheck {
    pub name: String,
    pub rows: u64,
    pub dimension: Option<u32>,
    pub ok: bool,
    pub problem: Option<String>,
}

/// An archive unpacked into a private temp dir (removed on drop) with every check passed.
pub struct Verified {
    pub unpacked: Unpacked,
    pub report: VerifyReport,
    _dir: tempfile::TempDir,
}

/// Unpacks `archive` under `scratch` and checks everything; an integrity problem is an error
/// (exit 4) that names the member and what is wrong with it.
pub fn verify_archive(archive: &Path, scratch: &Path) -> Result<Verified, SnapshotError> {
    crate::config::private_dir(scratch).map_err(SnapshotError::io(format!("creating `{}`", scratch.display())))?;
    let dir = tempfile::Builder::new()
        .prefix(".ifctl-unpack-")
        .tempdir_in(scratch)
        .map_err(SnapshotError::io(format!("creating a private dir in `{}`", scratch.display())))?;
    let unpacked = unpack_verified(archive, dir.path())?;
    let mut report = VerifyReport {
        name: unpacked.manifest.name.clone(),
        path: archive.display().to_string(),
        ok: true,
        bytes_unpacked: unpacked.bytes,
        collections: Vec::new(),
    };
    for entry in &unpacked.manifest.collections {
        let result = check_parquet(&unpacked.collection_file(entry), entry);
        report.collections.push(CollectionCheck {
            name: entry.name.clone(),
            rows: entry.rows_exported,
            dimension: entry.dimension,
            ok: result.is_ok(),
            problem: result.as_ref().err().cloned(),
        });
        if let Err(problem) = result {
            return Err(SnapshotError::Integrity(format!(
                "`{}`: collection `{}` ({}): {problem}",
                archive.display(),
                entry.name,
                entry.file
            )));
        }
    }
    Ok(Verified { unpacked, report, _dir: dir })
}

/// The file opens as Parquet with the documented schema, holds exactly the rows the manifest
/// says, and every id is present once.
pub fn check_parquet(path: &Path, entry: &CollectionEntry) -> Result<(), String> {
    // 16 bytes per id, not the ids themselves.
    let mut ids = HashSet::with_capacity(entry.rows_exported as usize);
    let mut rows = 0u64;
    for records in read_records(path, entry)? {
        let records = records?;
        rows += records.len() as u64;
        for id in records.ids {
            if !ids.insert(super::ids::id_key(&id)) {
                return Err(format!("id `{id}` appears twice"));
            }
        }
    }
    if rows != entry.rows_exported {
        return Err(format!("{rows} rows, the manifest says {}", entry.rows_exported));
    }
    Ok(())
}

/// The records of a snapshot file, batch by batch, after checking its schema.
pub fn read_records(
    path: &Path,
    entry: &CollectionEntry,
) -> Result<impl Iterator<Item = Result<Records, String>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let size = file.metadata().map_err(|e| format!("cannot open: {e}"))?.len();
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("not a readable Parquet file: {e}"))?;
    // What the pages decompress to is bounded like the archive itself, before any is read.
    let budget = super::archive::decompression_budget(size);
    let declared: i64 = builder
        .metadata()
        .row_groups()
        .iter()
        .flat_map(|group| group.columns())
        .map(|column| column.uncompressed_size().max(0))
        .fold(0i64, i64::saturating_add);
    if declared as u64 > budget {
        return Err(format!(
            "its pages declare {declared} bytes uncompressed from {size} bytes: over the decompression limit ({budget} bytes)"
        ));
    }
    let dim = entry.dimension.unwrap_or(0) as usize;
    let expected = schema(dim);
    let actual = builder.schema();
    let same = expected.fields().len() == actual.fields().len()
        && expected
            .fields()
            .iter()
            .zip(actual.fields())
            .all(|(e, a)| e.name() == a.name() && e.data_type().equals_datatype(a.data_type()));
    if !same {
        return Err(format!("schema is {actual:?}, expected the snapshot schema with dimension {dim}"));
    }
    let reader = builder.with_batch_size(READ_BATCH_ROWS).build().map_err(|e| format!("cannot read: {e}"))?;
    Ok(reader.map(|batch| Records::from_batch(&batch.map_err(|e| format!("cannot read a row group: {e}"))?)))
}

/// What `--deep` found for one collection.
#[derive(Debug, Clone, Serialize)]
pub struct DeepCheck {
    pub name: String,
    pub rows: u64,
    /// Largest difference between an embedding in the file and the one read back.
    pub max_embedding_diff: f32,
    pub tolerance: f32,
}

/// Cosine collections give back inserted embeddings perturbed by up to ~2.4e-7 (SERVERS.md).
pub const COSINE_TOLERANCE: f32 = 1e-6;

/// Restores every collection of a verified snapshot into a scratch collection on the server,
/// reads it back and compares it with the file, then deletes the scratch collection.
pub async fn deep_verify(
    chroma: &crate::clients::chroma::ChromaClient,
    verified: &Verified,
    journal: &crate::journal::Journal,
    progress: &dyn super::Progress,
) -> Result<Vec<DeepCheck>, SnapshotError> {
    use super::restore::{
        VERIFY, check_staging, configuration_of, derived_name, leftovers, load, operation_tag, record_owned, repair,
    };
    // Scratch copies of an earlier deep check that was killed (proven ours by the journal, their
    // process gone) are removed first; other leftovers are the next restore's to repair.
    let names: std::collections::HashSet<&str> =
        verified.unpacked.manifest.collections.iter().map(|e| e.name.as_str()).collect();
    let mut stale = leftovers(chroma, &names, journal.path(), journal.target()).await?;
    stale.retain(|r| r.leftover.contains(VERIFY));
    repair(chroma, &stale, journal).await?;
    let tag = operation_tag();
    let mut checks = Vec::new();
    for entry in &verified.unpacked.manifest.collections {
        let file = verified.unpacked.collection_file(entry);
        let scratch = derived_name(&entry.name, VERIFY, &tag);
        progress.on_stage(&format!("deep-checking {}", entry.name), Some(entry.rows_exported * 2));
        record_owned(journal, &entry.name, &scratch)?;
        let created =
            chroma.create_collection(&scratch, entry.metadata.as_ref(), configuration_of(entry).as_ref()).await?;
        let outcome = async {
            let ids = load(chroma, &created.id, &file, entry, 1000, progress).await?;
            crate::hooks::crash_point("verify.scratch_loaded");
            check_staging(chroma, &created.id, &ids, &file, entry).await?;
            compare(chroma, &created.id, &file, entry, progress).await
        }
        .await;
        let dropped = chroma.delete_collection(&scratch).await;
        let check = outcome?;
        dropped?;
        checks.push(check);
        progress.on_done();
    }
    Ok(checks)
}

async fn compare(
    chroma: &crate::clients::chroma::ChromaClient,
    collection_id: &str,
    file: &Path,
    entry: &CollectionEntry,
    progress: &dyn super::Progress,
) -> Result<DeepCheck, SnapshotError> {
    let space = entry
        .configuration
        .as_ref()
        .and_then(|c| ["hnsw", "spann"].iter().find_map(|k| c.get(k)?.get("space")?.as_str().map(String::from)));
    let tolerance = if space.as_deref() == Some("cosine") { COSINE_TOLERANCE } else { 0.0 };
    let integrity = |msg: String| SnapshotError::Integrity(format!("deep check of `{}`: {msg}", entry.name));
    let mut max_diff = 0f32;
    for expected in read_records(file, entry).map_err(integrity)? {
        let expected = expected.map_err(integrity)?;
        let body = chroma.get_records_raw(collection_id, &expected.ids).await?;
        let got = Records::from_get_json(&body, entry.dimension.map(|d| d as usize)).map_err(integrity)?;
        let position: std::collections::HashMap<&str, usize> =
            got.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        for (i, id) in expected.ids.iter().enumerate() {
            let j = *position.get(id.as_str()).ok_or_else(|| integrity(format!("id `{id}` did not come back")))?;
            if expected.documents[i] != got.documents[j] {
                return Err(integrity(format!("document of `{id}` differs")));
            }
            if expected.metadatas[i] != got.metadatas[j] {
                return Err(integrity(format!(
                    "metadata of `{id}` differs: {:?} vs {:?}",
                    expected.metadatas[i], got.metadatas[j]
                )));
            }
            if expected.uris[i] != got.uris[j] {
                return Err(integrity(format!("uri of `{id}` differs")));
            }
            let dim = expected.dim;
            let a = &expected.embeddings[i * dim..(i + 1) * dim];
            let b = &got.embeddings[j * dim..(j + 1) * dim];
            for (x, y) in a.iter().zip(b) {
                let diff = (x - y).abs();
                if (tolerance == 0.0 && x.to_bits() != y.to_bits()) || diff > tolerance {
                    return Err(integrity(format!(
                        "embedding of `{id}` differs by {diff:e} (allowed {tolerance:e} for a {} collection)",
                        space.as_deref().unwrap_or("?")
                    )));
                }
                max_diff = max_diff.max(diff);
            }
        }
        progress.on_rows(expected.len() as u64);
    }
    Ok(DeepCheck { name: entry.name.clone(), rows: entry.rows_exported, max_embedding_diff: max_diff, tolerance })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rows: u64) -> CollectionEntry {
        CollectionEntry {
            name: "c".into(),
            id: "id".into(),
            configuration: None,
            metadata: None,
            count_at_start: rows,
            rows_exported: rows,
            dimension: Some(2),
            file: "collections/c.parquet".into(),
            bytes: 0,
            sha256: String::new(),
        }
    }

    fn write(path: &Path, document: String) {
        let records = Records {
            ids: vec!["a".into()],
            documents: vec![Some(document)],
            metadatas: vec![None],
            uris: vec![None],
            embeddings: vec![0.5, -0.5],
            dim: 2,
        };
        let schema = schema(2);
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        writer.write(&records.into_batch(&schema).unwrap()).unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn pages_that_would_decompress_past_the_budget_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let bomb = dir.path().join("bomb.parquet");
        // 80 MiB of one byte: a few KiB on disk, over the 64 MiB floor of the budget.
        write(&bomb, "a".repeat(80 << 20));
        assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
        let err = read_records(&bomb, &entry(1)).err().expect("refused");
        assert!(err.contains("over the decompression limit"), "{err}");

        let fine = dir.path().join("fine.parquet");
        write(&fine, "a".repeat(1 << 20));
        check_parquet(&fine, &entry(1)).unwrap();
    }
}
