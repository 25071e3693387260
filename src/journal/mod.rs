//! The audit journal (DESIGN §4): an append-only JSON Lines file whose events are hash-chained.
//!
//! Writers from many processes take an advisory lock (`<journal>.lock`), append one line and
//! fsync; readers never lock. Events of format `v: 2` are hashed over their RFC 8785 (JCS) form,
//! older `v: 1` events over ifctl's first canonical form; both verify.

pub mod anchor;
mod canonical;
mod jcs;
mod query;
pub mod segments;
mod tail;
mod verify;

pub use anchor::Head;
pub use canonical::canonical_json;
pub use jcs::{es_number, jcs};
pub use query::{Filter, ReadNotes, about_target, end_offset, newest_mentioning, read_from, recent};
pub(crate) use query::{line_second, string_field, to_second, ts_finder};
pub use segments::NewestFirst;
pub use tail::ReverseLines;
pub use verify::{Anchor, AnchorCheck, AnchorResult, VerifyReport, verify};

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Format version of the event lines ifctl writes: 2 = hashed over RFC 8785 (JCS).
pub const EVENT_VERSION: u32 = 2;
/// Kind of the first event of a live file after a rotation; it links to the old head.
pub const ROTATED: &str = "journal.rotated";
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
    /// The named target the event is about; absent for a config without targets (and for
    /// events about the whole process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
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

/// This host's name, as journal events and lock holders record it.
pub fn this_host() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

impl Identity {
    /// This process, with a fresh correlation id shared by every event it writes.
    pub fn current() -> Identity {
        let host = this_host();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("uid:{}", rustix::process::getuid().as_raw()));
        Identity { host, user, pid: std::process::id(), correlation_id: uuid::Uuid::now_v7().to_string() }
    }
}

/// How a journal rotates and anchors itself. The defaults (no rotation, no anchors) are for
/// tests; commands take theirs from `[journal]` in the config.
#[derive(Debug, Clone, Default)]
pub struct JournalOptions {
    /// Rotate before an append when the live file has reached this many bytes (0 = never).
    pub rotate_bytes: u64,
    /// Gzip segments as they are rotated.
    pub compress_segments: bool,
    /// Send the head to syslog every this many events (0 = never) and at each rotation.
    pub anchor_every: u64,
    /// The syslog socket; `None` = no syslog anchors.
    pub syslog_socket: Option<PathBuf>,
}

/// A handle on the journal file. Cheap to create; every append opens, locks and closes the file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    identity: Identity,
    options: JournalOptions,
    /// Stamped on every event this handle writes.
    target: Option<String>,
}

/// What a rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    /// The closed segment (gzipped when asked).
    pub segment: PathBuf,
    pub first_seq: u64,
    pub last_seq: u64,
    pub bytes: u64,
    /// The `journal.rotated` event that starts the new live file.
    pub link: Event,
}

impl Journal {
    pub fn new(path: impl Into<PathBuf>, identity: Identity) -> Journal {
        Journal { path: path.into(), identity, options: JournalOptions::default(), target: None }
    }

    /// Events written through this handle are about `target`.
    pub fn with_target(mut self, target: Option<String>) -> Journal {
        self.target = target;
        self
    }

    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    pub fn with_options(mut self, options: JournalOptions) -> Journal {
        self.options = options;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn correlation_id(&self) -> &str {
        &self.identity.correlation_id
    }

    fn io(&self, action: &'static str) -> impl FnOnce(std::io::Error) -> JournalError + use<> {
        let path = self.path.clone();
        move |source| JournalError::Io { action, path, source }
    }

    /// Takes the writers' lock (`<journal>.lock`), creating the directory (0700) if needed.
    /// Held until the returned file closes. A separate lock file (rather than the journal itself)
    /// keeps writers serialized across a rotation, which renames the journal.
    fn lock(&self) -> Result<File, JournalError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(self.io("create the directory of"))?;
        }
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(lock_path(&self.path))
            .map_err(self.io("open the lock of"))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))
            .map_err(self.io("lock"))?;
        Ok(lock)
    }

    fn open_live(&self) -> Result<File, JournalError> {
        OpenOptions::new().read(true).append(true).create(true).mode(0o600).open(&self.path).map_err(self.io("open"))
    }

    /// Appends one event: lock, find the chain head, write the line, fsync, unlock. Rotates first
    /// when the live file has reached the configured size.
    pub fn append(&self, new: NewEvent) -> Result<Event, JournalError> {
        let _lock = self.lock()?;
        let mut file = self.open_live()?;
        if self.options.rotate_bytes > 0 && file.metadata().map_err(self.io("stat"))?.len() >= self.options.rotate_bytes
        {
            self.rotate_locked(&mut file, "size limit")?;
            file = self.open_live()?;
        }
        let head = self.chain_head(&mut file)?;
        let event = self.write_event(&mut file, new, head)?;
        self.maybe_anchor(&event, false);
        Ok(event)
    }

    /// Closes the live file as the next numbered segment and starts a new live file with a
    /// `journal.rotated` event that links to the old head. `None` when the journal is empty.
    pub fn rotate(&self, reason: &str) -> Result<Option<Rotation>, JournalError> {
        let _lock = self.lock()?;
        let mut file = self.open_live()?;
        if file.metadata().map_err(self.io("stat"))?.len() == 0 {
            return Ok(None);
        }
        self.rotate_locked(&mut file, reason).map(Some)
    }

    fn rotate_locked(&self, file: &mut File, reason: &str) -> Result<Rotation, JournalError> {
        let head = self.chain_head(file)?;
        let first_seq = first_seq(&self.path).unwrap_or(head.seq);
        let bytes = file.metadata().map_err(self.io("stat"))?.len();
        let number =
            segments::segments(&self.path).map_err(self.io("list the segments of"))?.last().map_or(1, |s| s.number + 1);
        let mut segment = segments::segment_path(&self.path, number);
        std::fs::rename(&self.path, &segment).map_err(self.io("rotate"))?;
        sync_dir(&self.path);
        let mut live = self.open_live()?;
        let details = serde_json::json!({
            "reason": reason,
            "segment": segment.file_name().map(|n| n.to_string_lossy().into_owned()),
            "segment_first_seq": first_seq,
            "segment_last_seq": head.seq,
            "segment_bytes": bytes,
        });
        let link = self.write_event(&mut live, NewEvent::new(ROTATED, "rotated").details(details), head.clone())?;
        if self.options.compress_segments {
            match gzip_segment(&segment) {
                Ok(gz) => segment = gz,
                Err(e) => return Err(JournalError::Io { action: "compress a segment of", path: segment, source: e }),
            }
        }
        self.maybe_anchor(&link, true);
        Ok(Rotation { segment, first_seq, last_seq: head.seq, bytes, link })
    }

    fn write_event(&self, file: &mut File, new: NewEvent, head: Head) -> Result<Event, JournalError> {
        let event = self.seal(new, head.seq + 1, head.hash);
        let mut line = jcs(&serde_json::to_value(&event).expect("events serialize"));
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(self.io("append to"))?;
        file.sync_data().map_err(self.io("fsync"))?;
        Ok(event)
    }

    /// Sends the head to syslog every `anchor_every` events and at rotations (best effort).
    fn maybe_anchor(&self, event: &Event, always: bool) {
        let Some(socket) = &self.options.syslog_socket else { return };
        let due = always || (self.options.anchor_every > 0 && event.seq % self.options.anchor_every == 0);
        if due {
            let _ = anchor::to_syslog(socket, &self.path, &Head { seq: event.seq, hash: event.hash.clone() });
        }
    }

    fn seal(&self, new: NewEvent, seq: u64, prev: String) -> Event {
        let mut details = new.details;
        // No credential written into a URL reaches the audit trail.
        crate::config::redact_json(&mut details);
        jcs::i_json(&mut details);
        let mut event = Event {
            v: EVENT_VERSION,
            seq,
            id: uuid::Uuid::now_v7().to_string(),
            ts: now(),
            host: self.identity.host.clone(),
            user: self.identity.user.clone(),
            pid: self.identity.pid,
            target: if new.kind == ROTATED { None } else { self.target.clone() },
            kind: new.kind,
            component: new.component,
            outcome: new.outcome,
            correlation_id: self.identity.correlation_id.clone(),
            details,
            prev,
            hash: String::new(),
        };
        event.hash = event_hash(&serde_json::to_value(&event).expect("events serialize")).expect("v2 events hash");
        event
    }

    /// The head of the chain: the last complete event of the live file, or of the newest segment
    /// when the live file is empty (a rotation that crashed before its link event). A torn last
    /// line (a crash mid-write) is moved to `<journal>.torn` so the chain continues from the
    /// last good event.
    fn chain_head(&self, file: &mut File) -> Result<Head, JournalError> {
        let mut lines = ReverseLines::new(file.try_clone().map_err(self.io("read"))?).map_err(self.io("read"))?;
        if let Some(torn_at) = lines.torn_tail_offset() {
            let mut fragment = Vec::new();
            file.seek(SeekFrom::Start(torn_at)).map_err(self.io("read"))?;
            file.read_to_end(&mut fragment).map_err(self.io("read"))?;
            let mut side = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(torn_path(&self.path))
                .map_err(self.io("save the torn tail of"))?;
            fragment.push(b'\n');
            side.write_all(&fragment).and_then(|_| side.sync_data()).map_err(self.io("save the torn tail of"))?;
            file.set_len(torn_at).map_err(self.io("truncate the torn tail of"))?;
            lines = ReverseLines::new(file.try_clone().map_err(self.io("read"))?).map_err(self.io("read"))?;
        }
        let last = match lines.next() {
            Some(line) => Some(line.map_err(self.io("read"))?),
            None => {
                // Empty live file: continue from the newest segment, if any.
                let newest = NewestFirst::open(&self.path).map_err(self.io("read"))?.next();
                newest.transpose().map_err(self.io("read"))?
            }
        };
        match last {
            None => Ok(Head { seq: 0, hash: GENESIS.to_string() }),
            Some(line) => match serde_json::from_slice::<Event>(&line) {
                Ok(event) => Ok(Head { seq: event.seq, hash: event.hash }),
                Err(e) => Err(JournalError::CorruptTail { path: self.path.clone(), line: 0, reason: e.to_string() }),
            },
        }
    }

    /// The head of the chain as it is now (for anchors in snapshots and on `/metrics`); `None`
    /// for an empty or missing journal. Reads without locking.
    pub fn head(&self) -> Option<Head> {
        head_of(&self.path)
    }
}

/// The head of the journal at `path` (see [`Journal::head`]).
pub fn head_of(path: &Path) -> Option<Head> {
    let line = NewestFirst::open(path).ok()?.next()?.ok()?;
    let event: Event = serde_json::from_slice(&line).ok()?;
    Some(Head { seq: event.seq, hash: event.hash })
}

/// The writers' lock file of a journal.
pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    journal.with_file_name(name)
}

/// Where torn last lines are set aside.
pub fn torn_path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().unwrap_or_default().to_os_string();
    name.push(".torn");
    journal.with_file_name(name)
}

/// `seq` of the first event in the live file.
fn first_seq(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let mut line = Vec::new();
    std::io::BufRead::read_until(&mut std::io::BufReader::new(file), b'\n', &mut line).ok()?;
    serde_json::from_slice::<Event>(&line).ok().map(|e| e.seq)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
}

/// Gzips a closed segment next to itself, then removes the plain file. A crash in between leaves
/// both; readers then use the plain one.
fn gzip_segment(plain: &Path) -> std::io::Result<PathBuf> {
    let mut gz_name = plain.file_name().unwrap_or_default().to_os_string();
    gz_name.push(".gz");
    let gz = plain.with_file_name(gz_name);
    let tmp = gz.with_extension("gz.tmp");
    {
        let out = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        std::io::copy(&mut File::open(plain)?, &mut encoder)?;
        encoder.finish()?.sync_all()?;
    }
    std::fs::rename(&tmp, &gz)?;
    sync_dir(&gz);
    std::fs::remove_file(plain)?;
    Ok(gz)
}

/// SHA-256 of the canonical form of an event without its `hash` field, as lowercase hex. The
/// canonical form depends on the event's format `v`: 1 = ifctl's first form (sorted keys,
/// serde_json's numbers), 2 = RFC 8785.
pub fn event_hash(event: &serde_json::Value) -> Result<String, String> {
    let mut without = event.clone();
    if let Some(map) = without.as_object_mut() {
        map.remove("hash");
    }
    let text = match event.get("v").and_then(serde_json::Value::as_u64) {
        Some(1) => canonical_json(&without),
        Some(2) => jcs(&without),
        other => {
            return Err(format!(
                "event format `v` {} is not one this ifctl knows (1, 2); upgrade ifctl",
                other.map_or("missing".to_string(), |v| v.to_string())
            ));
        }
    };
    Ok(hex::encode(Sha256::digest(text.as_bytes())))
}

/// Now, truncated to microseconds so the text form round-trips exactly. (Test builds may fix
/// it with `IFCTL_TEST_NOW`, see [`crate::hooks`].)
pub fn now() -> DateTime<Utc> {
    if let Some(fixed) = crate::hooks::fixed_now() {
        return fixed;
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
