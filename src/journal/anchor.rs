//! Anchors: the chain's head (seq + hash) recorded outside the journal file — in the system log,
//! in every snapshot's `metadata.json`, on `/metrics`, or written down by a person. Whoever can
//! rewrite the file can recompute every hash, but not these copies: `journal verify` checks the
//! chain against them and so detects a cut-off tail or a rewritten history.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A point of the chain: the event with this `seq` has this `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;

    /// `SEQ:HASH`, as `journal verify` and the system log print it.
    fn from_str(text: &str) -> Result<Head, String> {
        let (seq, hash) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("`{text}` is not SEQ:HASH (e.g. `1200:3f9a…`, 64 hex digits)"))?;
        let seq = seq.parse::<u64>().map_err(|_| format!("`{seq}` in `{text}` is not a sequence number"))?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{hash}` in `{text}` is not a SHA-256 hash (64 hex digits)"));
        }
        Ok(Head { seq, hash })
    }
}

/// A head recorded away from the journal (in a snapshot's `metadata.json`), with the host and
/// journal it belongs to, so a snapshot copied from another host is not checked against this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedHead {
    pub seq: u64,
    pub hash: String,
    pub host: String,
    pub journal: String,
}

impl RecordedHead {
    /// The current head of the journal at `path` on this host; `None` for an empty journal.
    pub fn of(path: &Path) -> Option<RecordedHead> {
        let head = super::head_of(path)?;
        Some(RecordedHead {
            seq: head.seq,
            hash: head.hash,
            host: super::this_host(),
            journal: absolute(path).display().to_string(),
        })
    }

    /// Whether this head was recorded from the journal at `path` on this host.
    pub fn belongs_to(&self, path: &Path) -> bool {
        self.host == super::this_host() && Path::new(&self.journal) == absolute(path)
    }

    pub fn head(&self) -> Head {
        Head { seq: self.seq, hash: self.hash.clone() }
    }
}

/// Marks an anchor line in the system log; `journal verify --anchor-log` looks for it.
pub const LOG_MARKER: &str = "ifctl-journal-anchor";
/// The syslog tag (`journalctl -t ifctl-journal`).
pub const SYSLOG_TAG: &str = "ifctl-journal";

/// The text of an anchor line: `ifctl-journal-anchor seq=N hash=H journal=PATH`.
pub fn log_line(journal: &Path, head: &Head) -> String {
    format!("{LOG_MARKER} seq={} hash={} journal={}", head.seq, head.hash, absolute(journal).display())
}

/// Sends an anchor line to the local syslog socket (journald and rsyslog both listen on
/// `/dev/log`), facility `log audit`, severity info. Best effort: no syslog means no anchor there.
pub fn to_syslog(socket: &Path, journal: &Path, head: &Head) -> std::io::Result<()> {
    // <PRI> = facility 13 (log audit) * 8 + severity 6 (info).
    let message = format!("<110>{SYSLOG_TAG}[{}]: {}", std::process::id(), log_line(journal, head));
    let sock = std::os::unix::net::UnixDatagram::unbound()?;
    sock.send_to(message.as_bytes(), socket).map(|_| ())
}

/// Anchors in a log text (a syslog file, `journalctl -t ifctl-journal -o cat` output): every
/// line with the marker whose `journal=` is this journal (or names none).
pub fn parse_log(text: &str, journal: &Path) -> Vec<Head> {
    let ours = absolute(journal);
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find(LOG_MARKER) else { continue };
        let rest = &line[at + LOG_MARKER.len()..];
        let (mut seq, mut hash, mut path) = (None, None, None);
        let mut words = rest.trim_start();
        while !words.is_empty() {
            if let Some(p) = words.strip_prefix("journal=") {
                path = Some(p.trim_end());
                break;
            }
            let (word, after) = words.split_once(' ').unwrap_or((words, ""));
            if let Some(v) = word.strip_prefix("seq=") {
                seq = v.parse::<u64>().ok();
            } else if let Some(v) = word.strip_prefix("hash=") {
                hash = Some(v.to_string());
            }
            words = after.trim_start();
        }
        if path.is_some_and(|p| Path::new(p) != ours) {
            continue;
        }
        if let (Some(seq), Some(hash)) = (seq, hash) {
            if let Ok(head) = format!("{seq}:{hash}").parse::<Head>() {
                found.push(head);
            }
        }
    }
    found
}

/// The journal's path as an absolute path (its directory resolved when it exists), so anchors
/// name one file however ifctl was pointed at it.
fn absolute(journal: &Path) -> std::path::PathBuf {
    let name = journal.file_name().unwrap_or_default();
    let dir = journal.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match dir.canonicalize() {
        Ok(dir) => dir.join(name),
        Err(_) => std::path::absolute(journal).unwrap_or_else(|_| journal.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_anchor_text_and_log_lines() {
        let hash = "ab".repeat(32);
        let head: Head = format!("12:{}", hash.to_uppercase()).parse().unwrap();
        assert_eq!(head, Head { seq: 12, hash: hash.clone() });
        assert!("12".parse::<Head>().unwrap_err().contains("SEQ:HASH"));
        assert!("x:ab".parse::<Head>().unwrap_err().contains("sequence"));
        assert!("3:abc".parse::<Head>().unwrap_err().contains("64 hex"));

        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        let other = dir.path().join("other.jsonl");
        let log = format!(
            "Nov 25 10:00:00 host {SYSLOG_TAG}[7]: {}\nunrelated line\n{}\n{LOG_MARKER} seq=5 hash={hash}\n{LOG_MARKER} seq=x hash=1\n",
            log_line(&journal, &Head { seq: 100, hash: hash.clone() }),
            log_line(&other, &Head { seq: 200, hash: hash.clone() }),
        );
        let found = parse_log(&log, &journal);
        assert_eq!(found, vec![Head { seq: 100, hash: hash.clone() }, Head { seq: 5, hash }]);
    }
}
