//! `snapshot list`: the archives in a destination and what their manifests say. Reads only the
//! head of each archive (ifctl writes the checksums and the manifest first).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use serde::Serialize;

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
    /// Why the manifest could not be read, if it could not.
    pub problem: Option<String>,
    /// The audit journal's head when it was taken (an anchor for `journal verify`).
    #[serde(skip)]
    pub journal_head: Option<crate::journal::anchor::RecordedHead>,
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
        let Some(name) = file_name.strip_suffix(EXTENSION) else { continue };
        if name.starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        out.push(inspect(&entry.path(), name));
    }
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

fn inspect(path: &Path, name: &str) -> Listed {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut listed = Listed {
        name: name.to_string(),
        path: path.to_path_buf(),
        created_at: None,
        collections: Vec::new(),
        rows: 0,
        bytes,
        checksums: false,
        problem: None,
        journal_head: None,
    };
    match read_head(path) {
        Ok((manifest, checksums)) => {
            listed.checksums = checksums;
            listed.created_at = Some(manifest.created_at);
            listed.rows = manifest.total_rows();
            listed.journal_head = manifest.journal_head.clone();
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
pub fn read_head(path: &Path) -> Result<(SnapshotManifest, bool), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
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
