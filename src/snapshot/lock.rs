//! Advisory lock files that also say who holds them: one writer per snapshot destination, and
//! one operation per Chroma collection on this host (`<state_dir>/locks/collection-<name>.lock`).

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
pub fn acquire(dir: &Path, action: &str, wait: bool, on_wait: impl FnMut(&str)) -> Result<DestLock, SnapshotError> {
    crate::config::private_dir(dir).map_err(SnapshotError::io(format!("creating `{}`", dir.display())))?;
    let hint = "wait for it to finish, or pass --wait";
    acquire_file(
        &dir.join(LOCK_FILE),
        &format!("snapshot destination `{}`", dir.display()),
        action,
        wait,
        hint,
        on_wait,
    )
}

/// Takes the lock on Chroma collection `name` for `action`, in the `locks` directory beside the
/// journal. Busy: waits when `wait`, else fails naming the holder (exit 6).
fn acquire_collection(
    journal: &Path,
    name: &str,
    action: &str,
    wait: bool,
    on_wait: impl FnMut(&str),
) -> Result<DestLock, SnapshotError> {
    let path = locks_dir(journal)?.join(format!("collection-{name}.lock"));
    let hint = "wait for it to finish, or pass --wait";
    acquire_file(&path, &format!("collection `{name}`"), action, wait, hint, on_wait)
}

/// Both locks on each of some collections, held until dropped: this host's lock file (so a
/// second process here waits or is refused at once, naming its pid) and the record on the Chroma
/// server (so a process on another host sharing the server is excluded too; see
/// [`super::shared_lock`]). Taken in name order, so two operations never deadlock.
#[derive(Debug)]
pub struct CollectionLocks {
    _shared: Vec<super::shared_lock::SharedLock>,
    _local: Vec<DestLock>,
}

pub async fn acquire_collections(
    chroma: &crate::clients::chroma::ChromaClient,
    journal: &crate::journal::Journal,
    names: &[&str],
    action: &str,
    wait: bool,
    stale_after: std::time::Duration,
    on_wait: &dyn Fn(&str),
) -> Result<CollectionLocks, SnapshotError> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    let mut locks = CollectionLocks { _shared: Vec::new(), _local: Vec::new() };
    for name in names {
        if super::shared_lock::held_here(name) {
            continue; // taken by this process already (a migration's rollback restores)
        }
        locks._local.push(acquire_collection(journal.path(), name, action, wait, on_wait)?);
        locks
            ._shared
            .push(super::shared_lock::acquire(chroma, name, action, wait, stale_after, journal, on_wait).await?);
    }
    Ok(locks)
}

/// Takes the lock on recovery decisions and actions for `component` (serve, `recover` and
/// `approve` alike), without waiting: busy fails naming the holder (exit 6).
pub fn acquire_recovery(journal: &Path, component: &str, action: &str) -> Result<DestLock, SnapshotError> {
    let path = locks_dir(journal)?.join(format!("recovery-{component}.lock"));
    let hint = "it decides and runs the recovery; see `ifctl history --kind recovery` when it is done";
    acquire_file(&path, &format!("recovery of {component}"), action, false, hint, |_| {})
}

/// Takes the lock on running `serve` for a stack — `target`, or the one stack of a config without
/// targets — for as long as serve runs: a second serve of it (a manual one beside systemd's, say)
/// would probe, recover and journal everything twice. A serve of every target takes every
/// target's. Busy fails naming the holder (exit 6).
pub fn acquire_serve(journal: &Path, target: Option<&str>, action: &str) -> Result<DestLock, SnapshotError> {
    let (file, what) = match target {
        Some(name) => (format!("serve-{name}.lock"), format!("serve of target `{name}`")),
        None => (
            "serve.lock".to_string(),
            format!("serve on state dir `{}`", journal.parent().unwrap_or(journal).display()),
        ),
    };
    let path = locks_dir(journal)?.join(file);
    let hint = "one serve per stack — two would probe, recover and journal everything twice: stop that one first";
    acquire_file(&path, &what, action, false, hint, |_| {})
}

/// `<state_dir>/locks`, beside the journal, created when missing.
fn locks_dir(journal: &Path) -> Result<PathBuf, SnapshotError> {
    let dir = journal.with_file_name("locks");
    crate::config::private_dir(&dir).map_err(SnapshotError::io(format!("creating `{}`", dir.display())))?;
    Ok(dir)
}

/// Whether the process `pid` on `host` ran on this host and has exited (a holder that was killed).
pub fn gone_here(host: &str, pid: u32) -> bool {
    host == crate::journal::this_host() && !process_alive(pid)
}

/// Whether a process with this pid runs on this host. A process of another user answers the
/// probe with EPERM: it exists.
pub fn process_alive(pid: u32) -> bool {
    // A pid from a lock record is untrusted input: one beyond i32 names no process.
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// This machine's boot and pid namespace (`<boot_id>/<pid namespace>`): a pid means the same
/// process only where both match — not on another host or container sharing a host name, nor
/// after a reboot.
pub fn pid_scope() -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let ns = std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_default();
    format!("{}/{ns}", boot.trim())
}

fn acquire_file(
    path: &Path,
    what: &str,
    action: &str,
    wait: bool,
    hint: &str,
    mut on_wait: impl FnMut(&str),
) -> Result<DestLock, SnapshotError> {
    let path = path.to_path_buf();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(SnapshotError::io(format!("opening lock `{}`", path.display())))?;
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        // The holder writes its name right after it locks: give it a moment to appear.
        let mut holder = describe(&mut file);
        for _ in 0..20 {
            if holder.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            holder = describe(&mut file);
        }
        let holder = holder.unwrap_or_else(|| "another process".into());
        if !wait {
            return Err(SnapshotError::Locked(format!("{what} is locked by {holder}; {hint}")));
        }
        on_wait(&format!("Waiting for the lock on {what} held by {holder}…"));
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
    // Written over the old holder, then cut to length: readers never see an empty file.
    let written = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(text.as_bytes()))
        .and_then(|_| file.set_len(text.len() as u64));
    match written {
        Ok(()) => {}
        // A full disk: the flock alone excludes others (they see "another process" instead of a
        // name), so the recovery that frees the disk can still run.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) => {
            let _ = file.set_len(0);
        }
        Err(e) => return Err(SnapshotError::io(format!("writing lock `{}`", path.display()))(e)),
    }
    Ok(DestLock { _file: file, path })
}

/// Who holds the lock, as its file says; `None` while the file names nobody alive yet (the holder
/// writes itself in right after it locks; an old name may still be there).
fn describe(file: &mut File) -> Option<String> {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut text));
    let h = serde_json::from_str::<Holder>(&text).ok()?;
    if gone_here(&h.host, h.pid) {
        return None;
    }
    Some(format!(
        "pid {} on {} (user {}, `{}`, since {})",
        h.pid,
        h.host,
        h.user,
        h.action,
        crate::journal::format_ts(&h.since)
    ))
}
