//! Collection locks that every host sharing one Chroma sees: a lock record is itself a Chroma
//! collection, `<database>__<collection>__lock_g<N>` in a database of its own ([`LOCK_DATABASE`],
//! same tenant, created when first needed, so records never mix with data), whose metadata names
//! the holder.
//!
//! Creating a collection is an atomic create-if-absent (20 concurrent creates of one name: one
//! 200, nineteen 409 — SERVERS.md), but updating metadata is last-write-wins, so a record is never
//! taken over in place. Instead each taking of the lock creates the next *generation*:
//!
//! - the holder is the creator of the highest generation, while that record says `held`, was
//!   refreshed (by the server's clock) within the stale limit, and — when it names this host — its
//!   process is alive (a killed holder here is taken over at once);
//! - to take the lock, create generation top+1 when the top one is released, stale or absent; a
//!   409 means someone else just did, so look again;
//! - after creating, list again: a higher generation means this one lost a race; it marks its
//!   record released and looks again;
//! - the holder refreshes its record every sixth of the stale limit from a thread of its own and
//!   marks it released when done; it deletes generations below its own but one, never its own, so
//!   the highest generation never goes away and a deleted low generation created again is seen
//!   to be below the top.
//!
//! A takeover of a stale record is journaled with the holder it replaced. The lease leaves one
//! gap every lease has: a holder paused for longer than the stale limit (SIGSTOP, a partition)
//! may act before it notices; [`ensure_held`] is checked right before every swap to keep that
//! window to one request.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::clients::chroma::{ChromaClient, Collection};
use crate::clients::http::HttpError;
use crate::journal::{Identity, Journal, NewEvent};

use super::SnapshotError;

const MARKER: &str = "__lock_g";

/// The database that holds lock records, beside the data's.
pub const LOCK_DATABASE: &str = "ifctl_locks";

/// How long a record may go without a refresh before another process may take the lock.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(60);

/// One generation of a collection's lock record, as the server holds it.
#[derive(Debug, Clone)]
struct Record {
    generation: u64,
    name: String,
    token: String,
    held: bool,
    refreshed_ms: i64,
    holder: String,
    /// Held by a process of this host that is gone (killed): no need to wait for staleness.
    dead_here: bool,
}

impl Record {
    fn parse(collection: &Collection, generation: u64) -> Record {
        let m = collection.metadata.clone().unwrap_or_default();
        let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let pid = m.get("pid").and_then(Value::as_u64).and_then(|p| u32::try_from(p).ok());
        let dead_here = pid.is_some_and(|p| super::lock::gone_here(&text("host"), p));
        Record {
            dead_here,
            generation,
            name: collection.name.clone(),
            token: text("token"),
            held: text("state") == "held",
            refreshed_ms: m.get("refreshed_ms").and_then(Value::as_i64).unwrap_or(0),
            holder: format!(
                "pid {} on {} (user {}, `{}`, since {})",
                m.get("pid").and_then(Value::as_i64).unwrap_or(0),
                text("host"),
                text("user"),
                text("action"),
                text("since"),
            ),
        }
    }
}

/// The lock on one collection, held until dropped (then marked released).
#[derive(Debug)]
pub struct SharedLock {
    pub collection: String,
    pub record: String,
    stop: Option<Sender<()>>,
    refresher: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SharedLock {
    fn drop(&mut self) {
        HELD.lock().expect("lock registry").remove(&self.collection);
        drop(self.stop.take());
        if let Some(thread) = self.refresher.take() {
            let _ = thread.join();
        }
    }
}

/// Token and generation of the records this process holds, by collection.
static HELD: Mutex<BTreeMap<String, (String, u64)>> = Mutex::new(BTreeMap::new());

fn lock_prefix(chroma: &ChromaClient, collection: &str) -> String {
    super::restore::derived_name(&format!("{}__{collection}", chroma.database()), MARKER, "")
}

/// Every generation of `collection`'s lock record, lowest first.
async fn generations(chroma: &ChromaClient, collection: &str) -> Result<Vec<Record>, HttpError> {
    let prefix = lock_prefix(chroma, collection);
    let mut found: Vec<Record> = chroma
        .in_database(LOCK_DATABASE)
        .list_collections()
        .await?
        .iter()
        .filter_map(|c| {
            let n = c.name.strip_prefix(&prefix)?;
            let generation = n.parse::<u64>().ok().filter(|_| n.bytes().all(|b| b.is_ascii_digit()))?;
            Some(Record::parse(c, generation))
        })
        .collect();
    found.sort_by_key(|r| r.generation);
    Ok(found)
}

/// The server's clock in milliseconds: every host compares refresh times on the same clock.
async fn server_ms(chroma: &ChromaClient) -> Result<i64, HttpError> {
    Ok((chroma.heartbeat().await? / 1_000_000) as i64)
}

fn metadata(
    identity: &Identity,
    action: &str,
    token: &str,
    state: &str,
    now_ms: i64,
    since: &str,
) -> Map<String, Value> {
    let value = json!({
        "ifctl_lock": 1, "token": token, "state": state, "refreshed_ms": now_ms,
        "pid": identity.pid, "host": identity.host, "user": identity.user, "action": action, "since": since,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Takes the lock on `collection` for `action`. Busy: waits when `wait` (until the holder
/// releases it or its record goes stale), else fails naming the holder (exit 6).
pub async fn acquire(
    chroma: &ChromaClient,
    collection: &str,
    action: &str,
    wait: bool,
    stale_after: Duration,
    journal: &Journal,
    on_wait: &dyn Fn(&str),
) -> Result<SharedLock, SnapshotError> {
    let identity = Identity::current();
    let token = uuid::Uuid::now_v7().simple().to_string();
    let since = crate::journal::format_ts(&crate::journal::now());
    let stale_ms = stale_after.as_millis() as i64;
    let locks = chroma.in_database(LOCK_DATABASE);
    locks.create_database().await?;
    let mut told = false;
    loop {
        let records = generations(chroma, collection).await?;
        let now = server_ms(chroma).await?;
        let top = records.last();
        if let Some(top) = top.filter(|t| t.held && !t.dead_here && now - t.refreshed_ms <= stale_ms) {
            if !wait {
                return Err(SnapshotError::Locked(format!(
                    "collection `{collection}` is locked on the Chroma server by {} (record `{}`); wait for it to finish, or pass --wait",
                    top.holder, top.name
                )));
            }
            if !told {
                on_wait(&format!("Waiting for the lock on collection `{collection}` held by {}…", top.holder));
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let taken_over = top.filter(|t| t.held).cloned();
        let generation = top.map_or(1, |t| t.generation + 1);
        let name = format!("{}{generation}", lock_prefix(chroma, collection));
        let ours = metadata(&identity, action, &token, "held", now, &since);
        let created = match locks.create_collection(&name, Some(&ours), None).await {
            Ok(created) => created,
            Err(HttpError::Status { status: 409, .. }) => continue, // someone else took it first
            Err(e) => return Err(e.into()),
        };
        let after = generations(chroma, collection).await?;
        if after.last().is_some_and(|t| t.generation > generation) {
            // A higher generation exists: this one was created below the top and holds nothing.
            let released = metadata(&identity, action, &token, "released", now, &since);
            let _ = locks.update_metadata(&created.id, &released).await;
            continue;
        }
        if let Some(old) = &taken_over {
            journal
                .append(NewEvent::new("lock.taken_over", "ok").component("chromadb").details(json!({
                    "collection": collection, "record": name, "stale_record": old.name,
                    "stale_holder": old.holder, "silent_ms": now - old.refreshed_ms,
                    "holder_gone": old.dead_here,
                })))
                .map_err(|e| SnapshotError::Failed(format!("journal: {e} (after taking over `{}`)", old.name)))?;
        }
        for old in after.iter().filter(|r| r.generation + 1 < generation) {
            let _ = locks.delete_collection(&old.name).await;
        }
        HELD.lock().expect("lock registry").insert(collection.to_string(), (token.clone(), generation));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let refresher = {
            let chroma = locks.detached((stale_after / 6).clamp(Duration::from_secs(1), Duration::from_secs(10)));
            let (id, action) = (created.id.clone(), action.to_string());
            let (token, since) = (token.clone(), since.clone());
            let every = (stale_after / 6).max(Duration::from_millis(200));
            std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                let identity = Identity::current();
                loop {
                    let state = match stopped.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => "held",
                        _ => "released",
                    };
                    let _ = runtime.block_on(async {
                        let now = server_ms(&chroma).await?;
                        chroma.update_metadata(&id, &metadata(&identity, &action, &token, state, now, &since)).await
                    });
                    if state == "released" {
                        return;
                    }
                }
            })
        };
        return Ok(SharedLock {
            collection: collection.to_string(),
            record: name,
            stop: Some(stop),
            refresher: Some(refresher),
        });
    }
}

/// Whether this process holds `collection`'s lock (locks are reentrant within a process).
pub fn held_here(collection: &str) -> bool {
    HELD.lock().expect("lock registry").contains_key(collection)
}

/// Fails unless this process still holds `collection`'s lock on the server (when it took one):
/// the last look before a swap, for a holder that was paused past the stale limit.
pub async fn ensure_held(chroma: &ChromaClient, collection: &str) -> Result<(), SnapshotError> {
    let mine = HELD.lock().expect("lock registry").get(collection).cloned();
    let Some((token, generation)) = mine else { return Ok(()) };
    let records = generations(chroma, collection).await?;
    match records.last() {
        Some(top) if top.generation == generation && top.token == token && top.held => Ok(()),
        Some(top) => Err(SnapshotError::Locked(format!(
            "the lock on collection `{collection}` was taken over by {} (record `{}`) while this operation was paused; nothing was swapped",
            top.holder, top.name
        ))),
        None => Err(SnapshotError::Locked(format!(
            "the lock record of collection `{collection}` was deleted while this operation ran; nothing was swapped"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_are_valid_chroma_names_for_long_collections() {
        let chroma =
            ChromaClient::new(reqwest::Client::new(), "http://x", "t", "default_database", Duration::from_secs(1));
        assert_eq!(lock_prefix(&chroma, "docs"), "default_database__docs__lock_g");
        let long = "c".repeat(510);
        let name = format!("{}7", lock_prefix(&chroma, &long));
        assert!(name.len() <= 512 && name.ends_with("__lock_g7"), "{name}");
    }
}
