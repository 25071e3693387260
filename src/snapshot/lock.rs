//! One writer per snapshot destination: an advisory lock file that also says who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};
use serde::{Deserialize, Serialize};

use super::SnapshotError;

pub const LOCK_FILE: &str = ".ifctl-snapshot.lock";

/// Who holds the lock, written into the lock file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub action: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// Held until dropped.
#[derive(Debug)]
pub struct DestLock {
    _file: File,
    pub path: PathBuf,
}

/// Takes the lock on `dir` for `action`. Busy: waits when `wait`, else fails naming the holder
/// (exit 6).
pub fn acquire(dir: &Path, action: &str, wait: bool, mut on_wait: impl FnMut(&str)) -> Result<DestLock, SnapshotError> {
    std::fs::create_dir_all(dir).map_err(SnapshotError::io(format!("creating `{}`", dir.display())))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(SnapshotError::io(format!("opening lock `{}`", path.display())))?;
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        let holder = describe(&mut file);
        if !wait {
            return Err(SnapshotError::Locked(format!(
                "snapshot destination `{}` is locked by {holder}; wait for it to finish, or pass --wait",
                dir.display()
            )));
        }
        on_wait(&format!("Waiting for the lock on `{}` held by {holder}…", dir.display()));
        flock(&file, FlockOperation::LockExclusive)
            .map_err(|e| SnapshotError::Io { context: "waiting for the lock".into(), source: e.into() })?;
    }
    let identity = crate::journal::Identity::current();
    let holder = Holder {
        pid: identity.pid,
        host: identity.host,
        user: identity.user,
        action: action.to_string(),
        since: crate::journal::now(),
    };
    let text = serde_json::to_string(&holder).expect("holders serialize");
    file.set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(text.as_bytes()))
        .map_err(SnapshotError::io(format!("writing lock `{}`", path.display())))?;
    Ok(DestLock { _file: file, path })
}

fn describe(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut text));
    match serde_json::from_str::<Holder>(&text) {
        Ok(h) => format!(
            "pid {} on {} (user {}, `{}`, since {})",
            h.pid,
            h.host,
            h.user,
            h.action,
            crate::journal::format_ts(&h.since)
        ),
        Err(_) => "another process".into(),
    }
}
