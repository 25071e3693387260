//! One writer per repository prefix, across hosts: `<prefix>/.ifctl/lock.json`, created with a
//! conditional put (`If-None-Match: *`: of racing creators exactly one succeeds), refreshed by its
//! holder every sixth of the stale limit with a compare-and-swap on its ETag (`If-Match`), and
//! deleted when done.
//!
//! A lock whose holder ran on this host and has exited (kill -9) is taken over at once; any other
//! is taken over once its refresh time is older than `snapshots.lock_stale_after` (so hosts' clocks
//! must agree to well within that). A takeover is itself a compare-and-swap on the stale record's
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
        if super::lock::gone_here(&self.host, self.pid) {
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

/// The lock, held until [`RepoLock::release`] (or, if the process dies, until it goes stale).
pub struct RepoLock {
    remote: Arc<Remote>,
    id: String,
    lost: Arc<AtomicBool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    refresher: Option<tokio::task::JoinHandle<()>>,
    /// The stale holder this lock replaced, for the journal.
    pub took_over: Option<(LockRecord, String)>,
}

impl RepoLock {
    /// Fails when the record was replaced (a takeover after this process stalled).
    pub fn ensure_held(&self) -> Result<(), SnapshotError> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(SnapshotError::Locked(format!(
                "lost the lock on snapshot repository `{}` to another process (this one stalled past snapshots.lock_stale_after); nothing was finished",
                self.remote.url
            )));
        }
        Ok(())
    }

    /// Stops refreshing and deletes the record if it is still this process's.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.refresher.take() {
            let _ = task.await;
        }
        if let Ok(Some((record, _))) = read(&self.remote).await {
            if record.id == self.id {
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

/// The current record and its ETag, or `None` when unlocked.
pub async fn read(remote: &Remote) -> Result<Option<(LockRecord, Option<String>)>, SnapshotError> {
    let got = match remote.store().get(&remote.lock_key()).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(remote.error("reading the repository lock", e)),
    };
    let etag = got.meta.e_tag.clone();
    let modified = got.meta.last_modified;
    let body = got.bytes().await.map_err(|e| remote.error("reading the repository lock", e))?;
    let record = serde_json::from_slice(&body).unwrap_or_else(|_| LockRecord {
        // Unreadable: treat it as a holder that refreshed when the object was written.
        id: String::new(),
        host: "unknown host".into(),
        pid: 0,
        user: "unknown".into(),
        action: "an unreadable lock record".into(),
        since: modified,
        refreshed: modified,
    });
    Ok(Some((record, etag)))
}

fn payload(record: &LockRecord) -> PutPayload {
    serde_json::to_vec(record).expect("lock records serialize").into()
}

/// Takes the repository lock for `action`. Busy: waits when `wait` (calling `on_wait` once), else
/// fails naming the holder (exit 6).
pub async fn acquire(
    remote: &Arc<Remote>,
    action: &str,
    wait: bool,
    stale_after: Duration,
    on_wait: &mut (dyn FnMut(&str) + Send),
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
    };
    let key = remote.lock_key();
    let mut waited = false;
    loop {
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        let (etag, took_over) = match remote.store().put_opts(&key, payload(&mine), create).await {
            Ok(done) => (done.e_tag, None),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                let Some((held, held_etag)) = read(remote).await? else { continue };
                match held.stale(stale_after, crate::journal::now()) {
                    Some(why) => {
                        let update = PutOptions {
                            mode: PutMode::Update(UpdateVersion { e_tag: held_etag, version: None }),
                            ..Default::default()
                        };
                        match remote.store().put_opts(&key, payload(&mine), update).await {
                            Ok(done) => (done.e_tag, Some((held, why))),
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
                            "snapshot repository `{}` is locked by {}; wait for it, pass --wait, or — if that process is gone for good — run `ifctl snapshot unlock --reason …` (it is taken over by itself after {} without a refresh)",
                            remote.url,
                            held.describe(),
                            humantime::format_duration(stale_after)
                        )));
                    }
                }
            }
            Err(e) => return Err(remote.error("taking the repository lock", e)),
        };
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let refresher =
            tokio::spawn(refresh(remote.clone(), mine.clone(), etag, stale_after / 6, lost.clone(), stopped));
        return Ok(RepoLock {
            remote: remote.clone(),
            id: mine.id,
            lost,
            stop: Some(stop),
            refresher: Some(refresher),
            took_over,
        });
    }
}

/// Rewrites the record every `every`, as a swap on the ETag it last wrote; a failed swap means
/// the record is no longer this process's.
async fn refresh(
    remote: Arc<Remote>,
    mut mine: LockRecord,
    mut etag: Option<String>,
    every: Duration,
    lost: Arc<AtomicBool>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let key = remote.lock_key();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every.max(Duration::from_millis(100))) => {}
            _ = &mut stopped => return,
        }
        mine.refreshed = crate::journal::now();
        let update = PutOptions {
            mode: PutMode::Update(UpdateVersion { e_tag: etag.clone(), version: None }),
            ..Default::default()
        };
        match remote.store().put_opts(&key, payload(&mine), update).await {
            Ok(done) => etag = done.e_tag,
            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // A transient failure: try again next round (the record goes stale only after six).
            Err(_) => {}
        }
    }
}

/// Deletes the lock whoever holds it (a person's `snapshot unlock`); returns the record removed.
pub async fn force_unlock(remote: &Remote) -> Result<Option<LockRecord>, SnapshotError> {
    let Some((record, _)) = read(remote).await? else { return Ok(None) };
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
        // A holder whose clock runs ahead (refreshed "in the future") is not stale.
        assert!(record("db-2", 4242, -60).stale(limit, now).is_none());
    }
}
