//! The migration checkpoint: which snapshot a run works from, and how far each collection got.
//! Written atomically (temp file + rename) so `--resume` always reads a whole one.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::snapshot::SnapshotError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub spec_fingerprint: String,
    pub spec_path: PathBuf,
    /// The pre-migration snapshot: the source of every row, and what a rollback restores.
    pub snapshot: PathBuf,
    pub tag: String,
    pub started_at: DateTime<Utc>,
    pub collections: Vec<CollectionProgress>,
    /// Set (with the reason) before a rollback starts: a run that finds it finishes the
    /// rollback instead of migrating on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_back: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionProgress {
    pub name: String,
    /// Where rows are imported: a staging collection (in place) or the new collection (suffix).
    pub import_name: String,
    pub rows_done: u64,
    pub imported: bool,
    pub swapped: bool,
}

impl Checkpoint {
    pub fn load(path: &Path) -> Result<Option<Checkpoint>, SnapshotError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                SnapshotError::Integrity(format!(
                    "checkpoint `{}` is damaged ({e}); remove it to start over",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SnapshotError::Io { context: format!("reading `{}`", path.display()), source: e }),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let io = SnapshotError::io(format!("writing checkpoint `{}`", path.display()));
        if let Some(dir) = path.parent() {
            crate::config::private_dir(dir).map_err(SnapshotError::io(format!("creating `{}`", dir.display())))?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("checkpoints serialize");
        std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).map_err(io)
    }

    pub fn remove(path: &Path) {
        let _ = std::fs::remove_file(path);
    }

    pub fn collection(&self, name: &str) -> &CollectionProgress {
        self.collections.iter().find(|c| c.name == name).expect("the checkpoint lists every migrated collection")
    }

    pub fn collection_mut(&mut self, name: &str) -> &mut CollectionProgress {
        self.collections.iter_mut().find(|c| c.name == name).expect("the checkpoint lists every migrated collection")
    }
}
