//! One writer per repository prefix, across hosts: `<prefix>/.ifctl/lock.json`, created with a
//! conditional put (`If-None-Match: *`: of racing creators exactly one succeeds), refreshed by its
//! holder every sixth of the stale limit with a compare-and-swap on its ETag (`If-Match`), and
//! deleted when done.
//!
//! A lock whose holder ran on this host — same boot and pid namespace, not merely the same host
//! name — and has exited (kill -9) is taken over at once; any other is taken over once its refresh
//! time is older than `snapshots.lock_stale_after` (so hosts' clocks must agree to well within
//! that). The holder confirms it still holds the lock (a swap on its ETag) right before anything
//! it cannot take back: completing an upload, deleting snapshots. A takeover is itself a compare-and-swap on the stale record's
//! ETag, so of two takers one wins; the winner journals whom it replaced. A holder that finds its
//! record replaced has lost the lock and must not finish (create checks before completing).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::SnapshotError;
use super::repo::Remote;

/// What the lock object says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockRecord {
    /// Unique per taking of the lock.
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub user: String,
    pub action: String,
    pub since: DateTime<Utc>,
    pub refreshed: DateTime<Utc>,
    /// Boot and pid namespace of the holder ([`super::lock::pid_scope`]): its pid is checked only
    /// where they match.
    #[serde(default)]
    pub pid_scope: String,
}

impl LockRecord {
    pub fn describe(&self) -> String {
        format!(
            "pid {} on {} (user {}, `{}`, since {}, last refreshed {})",
            self.pid,
            self.host,
            self.user,
            self.action,
            crate::journal::format_ts(&self.since),
            crate::journal::format_ts(&self.refreshed)
        )
    }

    /// Why it may be taken over, or `None` while it holds.
    fn stale(&self, stale_after: Duration, now: DateTime<Utc>) -> Option<String> {
        let here = self.host == crate::journal::this_host()
            && !self.pid_scope.is_empty()
            && self.pid_scope == super::lock::pid_scope();
        if here && !super::lock::process_alive(self.pid) {
            return Some(format!("its process {} on this host has exited", self.pid));
        }
        let age = (now - self.refreshed).to_std().unwrap_or_default();
        (age > stale_after).then(|| {
            format!(
                "not refreshed for {} (stale after {})",
                humantime::format_duration(Duration::from_secs(age.as_secs())),
                humantime::format_duration(stale_after)
            )
        })
    }
}

/// The record this process wrote last, and the version to swap it on.
struct Held {
    record: LockRecord,
    etag: Option<String>,
    version: Option<String>,
}

impl Held {
    fn update(&self) -> PutOptions {
        let version = UpdateVersion { e_tag: self.etag.clone(), version: self.version.clone() };
        PutOptions { mode: PutMode::Update(version), ..Default::default() }
    }
}

/// The lock, held until [`RepoLock::release`] (or, if the process dies, until it goes stale).
pub struct RepoLock {
    remote: Arc<Remote>,
    held: Arc<tokio::sync::Mutex<Held>>,
    lost: Arc<AtomicBool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    refresher: Option<tokio::task::JoinHandle<()>>,
}

impl RepoLock {
    fn lost_error(&self) -> SnapshotError {
        SnapshotError::Locked(format!(
            "lost the lock on snapshot repository `{}` to another process (this one stalled past snapshots.lock_stale_after, or the lock was removed); nothing was finished",
            self.remote.url
        ))
    }

    /// Proves the lock is still this process's by rewriting it on its ETag (and refreshes it):
    /// called right before anything that cannot be taken back.
    pub async fn confirm(&self) -> Result<(), SnapshotError> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(self.lost_error());
        }
        let mut held = self.held.lock().await;
        held.record.refreshed = crate::journal::now();
        match self.remote.store().put_opts(&self.remote.lock_key(), payload(&held.record), held.update()).await {
            Ok(done) => {
                (held.etag, held.version) = (done.e_tag, done.version);
                Ok(())
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                self.lost.store(true, Ordering::SeqCst);
                Err(self.lost_error())
            }
            Err(e) => Err(self.remote.error("confirming the repository lock", e)),
        }
    }

    /// Stops refreshing and deletes the record if it is still this process's.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.refresher.take() {
            let _ = task.await;
        }
        let id = self.held.lock().await.record.id.clone();
        if let Ok(Some((record, _, _))) = read(&self.remote).await {
            if record.id == id {
                let _ =
                    tokio::time::timeout(Duration::from_secs(10), self.remote.store().delete(&self.remote.lock_key()))
                        .await;
            }
        }
    }
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        if let Some(task) = self.refresher.take() {
            task.abort();
        }
    }
}

/// The current record, its ETag and version, or `None` when unlocked.
pub async fn read(remote: &Remote) -> Result<Option<(LockRecord, Option<String>, Option<String>)>, SnapshotError> {
    let got = match remote.store().get(&remote.lock_key()).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(remote.error("reading the repository lock", e)),
    };
    let (etag, version) = (got.meta.e_tag.clone(), got.meta.version.clone());
    let modified = got.meta.last_modified;
    let unreadable = || LockRecord {
        // Unreadable: treat it as a holder that refreshed when the object was written.
        id: String::new(),
        host: "unknown host".into(),
        pid: 0,
        user: "unknown".into(),
        action: "an unreadable lock record".into(),
        since: modified,
        refreshed: modified,
        pid_scope: String::new(),
    };
    // A lock record is a few hundred bytes: a huge one is not read whole.
    if got.meta.size > MAX_RECORD {
        return Ok(Some((unreadable(), etag, version)));
    }
    let body = got.bytes().await.map_err(|e| remote.error("reading the repository lock", e))?;
    let record = serde_json::from_slice(&body).unwrap_or_else(|_| unreadable());
    Ok(Some((record, etag, version)))
}

const MAX_RECORD: u64 = 64 << 10;

fn payload(record: &LockRecord) -> PutPayload {
    serde_json::to_vec(record).expect("lock records serialize").into()
}

/// Takes the repository lock for `action`. Busy: waits when `wait` (calling `on_wait` once), else
/// fails naming the holder (exit 6); `busy_hint` says what the caller can do. A stale holder
/// replaced is reported to `on_takeover` at once (to be journaled whatever happens next).
pub async fn acquire(
    remote: &Arc<Remote>,
    action: &str,
    wait: bool,
    busy_hint: &str,
    stale_after: Duration,
    on_wait: &mut (dyn FnMut(&str) + Send),
    on_takeover: &mut (dyn FnMut(&LockRecord, &str) + Send),
) -> Result<RepoLock, SnapshotError> {
    let identity = crate::journal::Identity::current();
    let now = crate::journal::now();
    let mine = LockRecord {
        id: uuid::Uuid::now_v7().to_string(),
        host: identity.host,
        pid: identity.pid,
        user: identity.user,
        action: action.to_string(),
        since: now,
        refreshed: now,
        pid_scope: super::lock::pid_scope(),
    };
    let key = remote.lock_key();
    let mut waited = false;
    loop {
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        let done = match remote.store().put_opts(&key, payload(&mine), create).await {
            Ok(done) => done,
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                let Some((held, held_etag, held_version)) = read(remote).await? else { continue };
                match held.stale(stale_after, crate::journal::now()) {
                    Some(why) => {
                        let update = PutOptions {
                            mode: PutMode::Update(UpdateVersion { e_tag: held_etag, version: held_version }),
                            ..Default::default()
                        };
                        match remote.store().put_opts(&key, payload(&mine), update).await {
                            Ok(done) => {
                                on_takeover(&held, &why);
                                done
                            }
                            // Another taker won the swap, or the holder refreshed: look again.
                            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                                continue;
                            }
                            Err(e) => return Err(remote.error("taking over the stale repository lock", e)),
                        }
                    }
                    None if wait => {
                        if !waited {
                            on_wait(&format!(
                                "Waiting for the lock on snapshot repository `{}` held by {}…",
                                remote.url,
                                held.describe()
                            ));
                            waited = true;
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                    None => {
                        return Err(SnapshotError::Locked(format!(
                            "snapshot repository `{}` is locked by {}; {busy_hint}, or — if that process is gone for good — run `ifctl snapshot unlock --reason …` (it is taken over by itself after {} without a refresh)",
                            remote.url,
                            held.describe(),
                            humantime::format_duration(stale_after)
                        )));
                    }
                }
            }
            Err(e) => return Err(remote.error("taking the repository lock", e)),
        };
        let held = Arc::new(tokio::sync::Mutex::new(Held { record: mine, etag: done.e_tag, version: done.version }));
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let refresher = tokio::spawn(refresh(remote.clone(), held.clone(), stale_after, lost.clone(), stopped));
        return Ok(RepoLock { remote: remote.clone(), held, lost, stop: Some(stop), refresher: Some(refresher) });
    }
}

/// Rewrites the record every sixth of `stale_after`, as a swap on the version it last wrote. A
/// failed swap means the record is no longer this process's; refreshes failing for most of
/// `stale_after` mean others may already see it stale: either way the lock counts as lost.
async fn refresh(
    remote: Arc<Remote>,
    held: Arc<tokio::sync::Mutex<Held>>,
    stale_after: Duration,
    lost: Arc<AtomicBool>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let key = remote.lock_key();
    let every = (stale_after / 6).max(Duration::from_millis(100));
    let mut last_ok = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut stopped => return,
        }
        let mut held = held.lock().await;
        held.record.refreshed = crate::journal::now();
        match remote.store().put_opts(&key, payload(&held.record), held.update()).await {
            Ok(done) => {
                (held.etag, held.version) = (done.e_tag, done.version);
                last_ok = std::time::Instant::now();
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(_) if last_ok.elapsed() > stale_after * 5 / 6 => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // A transient failure: try again next round.
            Err(_) => {}
        }
    }
}

/// Deletes the lock whoever holds it (a person's `snapshot unlock`); returns the record removed.
pub async fn force_unlock(remote: &Remote) -> Result<Option<LockRecord>, SnapshotError> {
    let Some((record, _, _)) = read(remote).await? else { return Ok(None) };
    let here = record.host == crate::journal::this_host() && record.pid_scope == super::lock::pid_scope();
    if here && super::lock::process_alive(record.pid) {
        return Err(SnapshotError::Locked(format!(
            "snapshot repository `{}` is locked by {}, which is running on this host: stop it first (unlock is for holders that are gone)",
            remote.url,
            record.describe()
        )));
    }
    match remote.store().delete(&remote.lock_key()).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(Some(record)),
        Err(e) => Err(remote.error("deleting the repository lock", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: &str, pid: u32, refreshed_secs_ago: i64) -> LockRecord {
        let at = crate::journal::now() - chrono::Duration::seconds(refreshed_secs_ago);
        LockRecord {
            id: "x".into(),
            host: host.into(),
            pid,
            user: "ops".into(),
            action: "ifctl snapshot create".into(),
            since: at,
            refreshed: at,
            pid_scope: crate::snapshot::lock::pid_scope(),
        }
    }

    #[test]
    fn a_lock_is_stale_when_its_holder_here_is_gone_or_it_was_not_refreshed() {
        let now = crate::journal::now();
        let limit = Duration::from_secs(300);
        let here = crate::journal::this_host();
        assert_eq!(record(&here, std::process::id(), 0).stale(limit, now), None, "a live holder here");
        assert!(record("db-2", 4242, 10).stale(limit, now).is_none(), "a fresh holder elsewhere");
        let gone = record(&here, u32::MAX - 7, 0).stale(limit, now).expect("a dead holder here");
        assert!(gone.contains("has exited"), "{gone}");
        let old = record("db-2", 4242, 3600).stale(limit, now).expect("an hour without a refresh");
        assert!(old.contains("not refreshed for 59m") && old.contains("stale after 5m"), "{old}");
        // Same host name, another boot or pid namespace (a container, after a reboot): its pid
        // means nothing here, so only staleness counts.
        let mut elsewhere = record(&here, u32::MAX - 7, 0);
        elsewhere.pid_scope = "another-boot/pid:[1]".into();
        assert!(elsewhere.stale(limit, now).is_none());
        // Another user's live process answers the probe with EPERM: alive.
        assert!(crate::snapshot::lock::process_alive(1));
        // A holder whose clock runs ahead (refreshed "in the future") is not stale.
        assert!(record("db-2", 4242, -60).stale(limit, now).is_none());
    }
}
