//! The audit journal (DESIGN §4): an append-only JSON Lines file whose events are hash-chained.
//!
//! Writers from many processes take an advisory lock, append one line and fsync; readers never lock.

mod canonical;
mod query;
mod tail;
mod verify;

pub use canonical::canonical_json;
pub use query::{Filter, ReadNotes, end_offset, read_from, recent};
pub use tail::ReverseLines;
pub use verify::{VerifyReport, verify};

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Format version of an event line.
pub const EVENT_VERSION: u32 = 1;
/// `prev` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub v: u32,
    pub seq: u64,
    pub id: String,
    pub ts: DateTime<Utc>,
    pub host: String,
    pub user: String,
    pub pid: u32,
    pub kind: String,
    pub component: Option<String>,
    pub outcome: String,
    pub correlation_id: String,
    pub details: serde_json::Value,
    pub prev: String,
    pub hash: String,
}

/// What a caller provides; the journal fills in sequence, identity, time and hashes.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: String,
    pub component: Option<String>,
    pub outcome: String,
    pub details: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, outcome: &str) -> NewEvent {
        NewEvent { kind: kind.into(), component: None, outcome: outcome.into(), details: serde_json::json!({}) }
    }

    pub fn component(mut self, component: impl Into<String>) -> NewEvent {
        self.component = Some(component.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> NewEvent {
        self.details = details;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot {action} journal `{}`: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("journal `{}` line {line} is not a valid event ({reason}); run `ifctl journal verify`", path.display())]
    CorruptTail { path: PathBuf, line: u64, reason: String },
}

/// Who writes: recorded in every event.
#[derive(Debug, Clone)]
pub struct Identity {
    pub host: String,
    pub user: String,
    pub pid: u32,
    pub correlation_id: String,
}

impl Identity {
    /// This process, with a fresh correlation id shared by every event it writes.
    pub fn current() -> Identity {
        let host = rustix::system::uname().nodename().to_string_lossy().into_owned();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("uid:{}", rustix::process::getuid().as_raw()));
        Identity { host, user, pid: std::process::id(), correlation_id: uuid::Uuid::now_v7().to_string() }
    }
}

/// A handle on the journal file. Cheap to create; every append opens, locks and closes the file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    identity: Identity,
}

impl Journal {
    pub fn new(path: impl Into<PathBuf>, identity: Identity) -> Journal {
        Journal { path: path.into(), identity }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn correlation_id(&self) -> &str {
        &self.identity.correlation_id
    }

    /// Appends one event: lock, find the chain head, write the line, fsync, unlock.
    pub fn append(&self, new: NewEvent) -> Result<Event, JournalError> {
        let io = |action: &'static str| {
            let path = self.path.clone();
            move |source| JournalError::Io { action, path, source }
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io("create the directory of"))?;
        }
        let mut file =
            OpenOptions::new().read(true).append(true).create(true).mode(0o600).open(&self.path).map_err(io("open"))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))
            .map_err(io("lock"))?;
        let (seq, prev) = self.chain_head(&mut file)?;
        let event = self.seal(new, seq + 1, prev);
        let mut line = canonical_json(&serde_json::to_value(&event).expect("events serialize"));
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(io("append to"))?;
        file.sync_data().map_err(io("fsync"))?;
        Ok(event)
        // The lock is released when `file` closes.
    }

    fn seal(&self, new: NewEvent, seq: u64, prev: String) -> Event {
        let mut event = Event {
            v: EVENT_VERSION,
            seq,
            id: uuid::Uuid::now_v7().to_string(),
            ts: now(),
            host: self.identity.host.clone(),
            user: self.identity.user.clone(),
            pid: self.identity.pid,
            kind: new.kind,
            component: new.component,
            outcome: new.outcome,
            correlation_id: self.identity.correlation_id.clone(),
            details: new.details,
            prev,
            hash: String::new(),
        };
        event.hash = event_hash(&serde_json::to_value(&event).expect("events serialize"));
        event
    }

    /// The sequence number and hash of the last complete event. A torn last line (a crash
    /// mid-write) is moved to `<journal>.torn` so the chain continues from the last good event.
    fn chain_head(&self, file: &mut File) -> Result<(u64, String), JournalError> {
        let io = |action: &'static str| {
            let path = self.path.clone();
            move |source| JournalError::Io { action, path, source }
        };
        let len = file.metadata().map_err(io("stat"))?.len();
        if len == 0 {
            return Ok((0, GENESIS.to_string()));
        }
        let mut lines = ReverseLines::new(file.try_clone().map_err(io("read"))?).map_err(io("read"))?;
        if let Some(torn_at) = lines.torn_tail_offset() {
            let mut fragment = Vec::new();
            file.seek(SeekFrom::Start(torn_at)).map_err(io("read"))?;
            file.read_to_end(&mut fragment).map_err(io("read"))?;
            let mut side = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(self.path.with_extension("jsonl.torn"))
                .map_err(io("save the torn tail of"))?;
            fragment.push(b'\n');
            side.write_all(&fragment).and_then(|_| side.sync_data()).map_err(io("save the torn tail of"))?;
            file.set_len(torn_at).map_err(io("truncate the torn tail of"))?;
            lines = ReverseLines::new(file.try_clone().map_err(io("read"))?).map_err(io("read"))?;
        }
        match lines.next() {
            None => Ok((0, GENESIS.to_string())),
            Some(Err(e)) => Err(io("read")(e)),
            Some(Ok(line)) => match serde_json::from_slice::<Event>(&line) {
                Ok(event) => Ok((event.seq, event.hash)),
                Err(e) => Err(JournalError::CorruptTail { path: self.path.clone(), line: 0, reason: e.to_string() }),
            },
        }
    }
}

/// SHA-256 of the canonical form of an event without its `hash` field, as lowercase hex.
pub fn event_hash(event: &serde_json::Value) -> String {
    let mut without = event.clone();
    if let Some(map) = without.as_object_mut() {
        map.remove("hash");
    }
    hex::encode(Sha256::digest(canonical_json(&without).as_bytes()))
}

/// Test-only clock: an RFC 3339 time that `now()` returns instead of the system clock, so tests
/// can drive cooldowns, budgets and expiries across separate processes. Not for production.
pub const TEST_NOW_ENV: &str = "IFCTL_TEST_NOW";

/// Now, truncated to microseconds so the text form round-trips exactly.
pub fn now() -> DateTime<Utc> {
    static FIXED: std::sync::OnceLock<Option<DateTime<Utc>>> = std::sync::OnceLock::new();
    let fixed = FIXED.get_or_init(|| {
        std::env::var(TEST_NOW_ENV)
            .ok()
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    });
    if let Some(fixed) = fixed {
        return *fixed;
    }
    let now = Utc::now();
    let micros = now.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(now)
}

/// RFC 3339 with microseconds, as the journal writes it.
pub fn format_ts(ts: &DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests;
