//! `snapshot list`: the archives in a destination and what their manifests say. Reads only the
//! head of each archive (ifctl writes the checksums and the manifest first).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use serde::Serialize;

use super::seal::AGE_EXTENSION;
use super::{CHECKSUMS_FILE, EXTENSION, METADATA_FILE, SnapshotManifest};

#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub name: String,
    pub path: PathBuf,
    pub created_at: Option<DateTime<Utc>>,
    pub collections: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    pub checksums: bool,
    /// An age-encrypted archive (`.tar.gz.age`): its manifest is unreadable without the key, so
    /// the time is the file's and collections and rows are unknown.
    pub encrypted: bool,
    /// Why the manifest could not be read, if it could not.
    pub problem: Option<String>,
    /// The named target it was taken from (absent without targets, or when encrypted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The audit journal's head when it was taken (an anchor for `journal verify`).
    #[serde(skip)]
    pub journal_head: Option<crate::journal::anchor::RecordedHead>,
    /// The object's key in a remote repository, exactly as listed.
    #[serde(skip)]
    pub location: Option<object_store::path::Path>,
}

/// Snapshots in `dest`, oldest first. Temporary files of a running or crashed create are skipped.
pub fn list(dest: &Path) -> std::io::Result<Vec<Listed>> {
    let entries = match std::fs::read_dir(dest) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((name, encrypted)) = snapshot_file(&file_name) else { continue };
        if name.starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        if encrypted {
            out.push(sealed(name, entry.path(), entry.metadata()?.len()));
        } else {
            out.push(inspect(&entry.path(), name));
        }
    }
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// `(name, encrypted)` of a snapshot's file name: `<name>.tar.gz` or `<name>.tar.gz.age`.
pub fn snapshot_file(file_name: &str) -> Option<(&str, bool)> {
    if let Some(name) = file_name.strip_suffix(AGE_EXTENSION).and_then(|f| f.strip_suffix(EXTENSION)) {
        return Some((name, true));
    }
    file_name.strip_suffix(EXTENSION).map(|name| (name, false))
}

/// An encrypted snapshot, listed without its key. Its time is the one in its name
/// (`snap-20261124T024500Z`, `pre-restore-…`): a file's or object's time changes with every copy
/// or sync, so one dated only by that is listed undated — and prune never deletes what it cannot
/// date.
pub fn sealed(name: &str, path: PathBuf, bytes: u64) -> Listed {
    Listed {
        name: name.to_string(),
        path,
        created_at: time_in_name(name),
        collections: Vec::new(),
        rows: 0,
        bytes,
        checksums: false,
        encrypted: true,
        problem: None,
        target: None,
        journal_head: None,
        location: None,
    }
}

/// The `YYYYMMDDTHHMMSSZ` time in a snapshot's name, if it has one.
pub fn time_in_name(name: &str) -> Option<DateTime<Utc>> {
    (0..name.len().saturating_sub(15)).rev().find_map(|i| {
        let candidate = name.get(i..i + 16)?;
        chrono::NaiveDateTime::parse_from_str(candidate, "%Y%m%dT%H%M%SZ").ok().map(|t| t.and_utc())
    })
}

fn inspect(path: &Path, name: &str) -> Listed {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let head = File::open(path).map_err(|e| e.to_string()).and_then(|f| read_head(BufReader::new(f)));
    described(name, path.to_path_buf(), bytes, head)
}

/// A plain snapshot, listed from its head (the manifest) or why that could not be read.
pub fn described(name: &str, path: PathBuf, bytes: u64, head: Result<(SnapshotManifest, bool), String>) -> Listed {
    let mut listed = Listed {
        name: name.to_string(),
        path,
        created_at: None,
        collections: Vec::new(),
        rows: 0,
        bytes,
        checksums: false,
        encrypted: false,
        problem: None,
        target: None,
        journal_head: None,
        location: None,
    };
    match head {
        Ok((manifest, checksums)) => {
            listed.checksums = checksums;
            listed.created_at = Some(manifest.created_at);
            listed.rows = manifest.total_rows();
            listed.journal_head = manifest.journal_head.clone();
            listed.target = manifest.target.clone();
            listed.collections = manifest.collections.into_iter().map(|c| c.name).collect();
            if !checksums {
                listed.problem = Some(format!("no {CHECKSUMS_FILE} before the data"));
            }
        }
        Err(problem) => listed.problem = Some(problem),
    }
    listed
}

/// The manifest, and whether the checksums file came before it.
pub fn read_head(archive: impl Read) -> Result<(SnapshotManifest, bool), String> {
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    let mut checksums = false;
    for entry in tar.entries().map_err(|e| format!("not a tar.gz ({e})"))?.take(8) {
        let entry = entry.map_err(|e| format!("corrupt archive ({e})"))?;
        let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        if path.ends_with(&format!("/{CHECKSUMS_FILE}")) {
            checksums = true;
        } else if path.ends_with(&format!("/{METADATA_FILE}")) {
            let mut text = String::new();
            entry.take(16 << 20).read_to_string(&mut text).map_err(|e| format!("unreadable manifest ({e})"))?;
            let manifest = serde_json::from_str(&text).map_err(|e| format!("invalid manifest ({e})"))?;
            return Ok((manifest, checksums));
        }
    }
    Err(format!("no {METADATA_FILE} at the start of the archive"))
}

/// Snapshots in a remote repository, oldest first. A plain archive's manifest is read from the
/// object's first megabyte (more only when the manifest is larger); an encrypted one is listed by
/// its name and size. An object that cannot be read (empty, not an archive, deleted meanwhile) is
/// listed with its problem — never the end of the listing.
pub async fn list_remote(remote: &super::repo::Remote) -> Result<Vec<Listed>, super::SnapshotError> {
    const HEAD: u64 = 1 << 20;
    let mut out = Vec::new();
    for meta in remote.list().await? {
        let Some(file_name) = meta.location.filename().map(str::to_string) else { continue };
        let Some((name, encrypted)) = snapshot_file(&file_name) else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = PathBuf::from(remote.location(&file_name));
        let mut listed = if encrypted {
            sealed(name, path, meta.size)
        } else {
            let head = match remote.read_head_at(&meta.location, meta.size, HEAD).await {
                Ok(bytes) if bytes.is_empty() => Err("an empty object".to_string()),
                Ok(bytes) => {
                    let mut head = read_head(std::io::Cursor::new(bytes));
                    if head.is_err() && meta.size > HEAD {
                        head = match remote.read_head_at(&meta.location, meta.size, HEAD + (17 << 20)).await {
                            Ok(more) => read_head(std::io::Cursor::new(more)),
                            Err(e) => Err(e.to_string()),
                        };
                    }
                    head
                }
                Err(e) => Err(e.to_string()),
            };
            described(name, path, meta.size, head)
        };
        listed.location = Some(meta.location.clone());
        out.push(listed);
    }
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}
