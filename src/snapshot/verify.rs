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
    std::fs::create_dir_all(scratch).map_err(SnapshotError::io(format!("creating `{}`", scratch.display())))?;
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
    let mut ids = HashSet::with_capacity(entry.rows_exported as usize);
    let mut rows = 0u64;
    for records in read_records(path, entry)? {
        let records = records?;
        rows += records.len() as u64;
        for id in records.ids {
            if !ids.insert(id.clone()) {
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
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("not a readable Parquet file: {e}"))?;
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
