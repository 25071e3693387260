//! Snapshots of Chroma collections (DESIGN §7): one `<name>.tar.gz` per snapshot holding a Parquet
//! file per collection, `metadata.json` and `checksums.sha256`. Created streaming, written under a
//! temporary name and renamed when complete; restored only after every checksum verifies.

pub mod archive;
pub mod create;
pub mod drift;
pub mod fetch;
pub mod ids;
pub mod list;
pub mod lock;
pub mod prune;
pub mod records;
pub mod repo;
pub mod repo_lock;
pub mod restore;
pub mod seal;
pub mod shared_lock;
pub mod verify;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::http::HttpError;

/// Version of the archive layout and `metadata.json` schema.
pub const FORMAT_VERSION: u32 = 1;
pub const METADATA_FILE: &str = "metadata.json";
pub const CHECKSUMS_FILE: &str = "checksums.sha256";
pub const COLLECTIONS_DIR: &str = "collections";
pub const EXTENSION: &str = ".tar.gz";

/// `metadata.json`: what the snapshot holds and how to check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotManifest {
    pub format_version: u32,
    pub ifctl_version: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub chroma: ChromaSource,
    pub collections: Vec<CollectionEntry>,
    /// The audit journal's head when the snapshot was taken: an anchor outside the journal file
    /// that `journal verify` checks (absent in snapshots of ifctl before 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_head: Option<crate::journal::anchor::RecordedHead>,
    /// The named target (`[targets.<name>]`) it was taken from; absent without targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChromaSource {
    pub url: String,
    pub version: Option<String>,
    pub tenant: String,
    pub database: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionEntry {
    pub name: String,
    pub id: String,
    /// Chroma's `configuration_json`: distance space and HNSW (or SPANN) parameters.
    pub configuration: Option<serde_json::Value>,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub count_at_start: u64,
    pub rows_exported: u64,
    pub dimension: Option<u32>,
    /// Path inside the snapshot folder, e.g. `collections/notes.parquet`.
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

impl SnapshotManifest {
    pub fn total_rows(&self) -> u64 {
        self.collections.iter().map(|c| c.rows_exported).sum()
    }
}

/// Why a snapshot operation failed, with the exit code each kind maps to.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}")]
    Usage(String),
    #[error("Chroma: {0}")]
    Unreachable(HttpError),
    #[error("Chroma: {0}")]
    Chroma(HttpError),
    #[error("{0}")]
    Integrity(String),
    #[error("{0}")]
    Locked(String),
    /// Object storage unreachable, or it refused the credentials.
    #[error("{0}")]
    Store(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{0}")]
    Failed(String),
    #[error("interrupted")]
    Interrupted,
}

impl SnapshotError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SnapshotError {
        let context = context.into();
        move |source| SnapshotError::Io { context, source }
    }

    pub fn exit_code(&self) -> u8 {
        use crate::exit;
        match self {
            SnapshotError::Usage(_) => exit::USAGE,
            SnapshotError::Unreachable(_) | SnapshotError::Store(_) => exit::UNREACHABLE,
            SnapshotError::Chroma(_) | SnapshotError::Io { .. } | SnapshotError::Failed(_) => exit::FAILURE,
            SnapshotError::Integrity(_) => exit::INTEGRITY,
            SnapshotError::Locked(_) => exit::REFUSED,
            SnapshotError::Interrupted => exit::INTERRUPTED,
        }
    }
}

/// A journal that cannot be read or appended to fails the operation (exit 1), named as such.
impl From<crate::journal::JournalError> for SnapshotError {
    fn from(e: crate::journal::JournalError) -> SnapshotError {
        SnapshotError::Failed(format!("journal: {e}"))
    }
}

impl From<HttpError> for SnapshotError {
    fn from(err: HttpError) -> SnapshotError {
        match err {
            HttpError::Unreachable { .. } | HttpError::Timeout { .. } => SnapshotError::Unreachable(err),
            HttpError::Tls { ref detail, .. } => {
                let hint = crate::clients::tls::certificate_problem(detail, "chromadb.ca_file")
                    .map_or(String::new(), |(_, hint)| format!("; {hint}"));
                SnapshotError::Store(format!("Chroma: {err}{hint}"))
            }
            HttpError::Status { status: 401 | 403, .. } => SnapshotError::Store(format!(
                "Chroma: {err}; the server (or its proxy) wants a token: set IFCTL_CHROMADB_TOKEN (or chromadb.token_file)"
            )),
            HttpError::Setup { detail } => SnapshotError::Usage(detail),
            other => SnapshotError::Chroma(other),
        }
    }
}

/// A snapshot name: `[A-Za-z0-9._-]`, 1–128 characters, not starting with `.` or `-`.
pub fn check_name(name: &str) -> Result<(), SnapshotError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !name.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(SnapshotError::Usage(format!(
            "`{name}` is not a valid snapshot name (1–128 characters from [A-Za-z0-9._-], not starting with `.` or `-`)"
        )))
    }
}

/// The default name: `snap-20261124T220000Z`.
pub fn default_name(at: DateTime<Utc>) -> String {
    format!("snap-{}", at.format("%Y%m%dT%H%M%SZ"))
}

/// `base`, or `base-2`, `base-3`, … when `<dest>/<base>.tar.gz` (or `.tar.gz.age`) is taken (two
/// automatic snapshots within one second).
pub fn unique_name(dest: &Path, base: &str) -> String {
    let taken = |name: &str| {
        dest.join(format!("{name}{EXTENSION}")).exists()
            || dest.join(format!("{name}{EXTENSION}{}", seal::AGE_EXTENSION)).exists()
    };
    if !taken(base) {
        return base.to_string();
    }
    (2..).map(|n| format!("{base}-{n}")).find(|name| !taken(name)).expect("some suffix is free")
}

/// A new file only this user may read — a snapshot, or a copy of one, holds every document of
/// its collections; fails when the file exists.
pub fn create_private(path: &Path) -> Result<std::fs::File, SnapshotError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(SnapshotError::io(format!("creating `{}`", path.display())))
}

/// `NAME` means `<dest>/NAME.tar.gz` (or `NAME.tar.gz.age` when only that exists); anything with
/// a `/` or ending in `.tar.gz` or `.tar.gz.age` is a path.
pub fn resolve_archive(dest: &Path, name_or_path: &str) -> PathBuf {
    if name_or_path.contains('/') || list::snapshot_file(name_or_path).is_some() {
        return PathBuf::from(name_or_path);
    }
    let plain = dest.join(format!("{name_or_path}{EXTENSION}"));
    let sealed = dest.join(format!("{name_or_path}{EXTENSION}{}", seal::AGE_EXTENSION));
    if !plain.exists() && sealed.exists() { sealed } else { plain }
}

/// Serialises with object keys sorted at every level, pretty-printed: the same manifest always
/// gives the same bytes (Chroma's metadata order is random).
pub fn sorted_pretty_json(value: &impl Serialize) -> String {
    fn sort(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    let value = sort(serde_json::to_value(value).expect("manifests serialize"));
    let mut text = serde_json::to_string_pretty(&value).expect("values serialize");
    text.push('\n');
    text
}

/// Reports what long snapshot work is doing; the CLI shows it as progress bars (or nothing).
pub trait Progress: Send + Sync {
    /// A new stage: `"exporting sergio_humor"`, with the rows expected when known.
    fn on_stage(&self, _stage: &str, _total_rows: Option<u64>) {}
    /// Rows done in the current stage.
    fn on_rows(&self, _rows: u64) {}
    /// The current stage is finished.
    fn on_done(&self) {}
}

/// Progress that goes nowhere (cron, tests).
pub struct NoProgress;

impl Progress for NoProgress {}
