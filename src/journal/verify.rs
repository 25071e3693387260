//! `journal verify`: walk the whole chain — every rotated segment, then the live file — check each
//! line against its hash and the line before, and check the chain against anchors kept elsewhere.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::anchor::Head;
use super::segments::{Segment, open_forward, segments};
use super::{Event, GENESIS, event_hash};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    pub path: String,
    /// Events whose hash and link were checked and found good.
    pub events: u64,
    pub ok: bool,
    /// The file holding the first bad line (a segment or the live journal).
    pub first_bad_file: Option<String>,
    /// 1-based line number of the first bad line in that file.
    pub first_bad_line: Option<u64>,
    pub reason: Option<String>,
    /// The live file ends in a line with no newline (a crash mid-write); it is skipped, not fatal.
    pub torn_tail: bool,
    pub torn: Option<TornLine>,
    /// Fragments of torn lines that earlier writes set aside.
    pub set_aside: Option<SetAside>,
    /// Rotated segments walked before the live file, oldest first.
    pub segments: Vec<String>,
    /// `seq` of the first event found: above 1 when older segments were removed or shipped away.
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub last_hash: Option<String>,
    pub anchors: Vec<AnchorCheck>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TornLine {
    /// 1-based line number of the torn line in the live file.
    pub line: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SetAside {
    pub path: String,
    pub fragments: u64,
    pub bytes: u64,
}

/// An anchor and what the chain said about it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AnchorCheck {
    /// Where the anchor came from: `--anchor`, a log file, a snapshot.
    pub source: String,
    pub seq: u64,
    pub hash: String,
    pub result: AnchorResult,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AnchorResult {
    /// The event with this seq has this hash.
    Matches,
    /// The event with this seq has another hash: history was rewritten.
    Mismatch,
    /// The journal ends before this seq: events were cut off.
    BeyondEnd,
    /// The chain broke before this seq, or the seq lies in a segment no longer here.
    NotChecked,
}

impl AnchorResult {
    pub fn failed(self) -> bool {
        matches!(self, AnchorResult::Mismatch | AnchorResult::BeyondEnd)
    }
}

/// An anchor to check, with where it came from.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub source: String,
    pub head: Head,
}

/// Checks every line of every segment and of the live file: it parses, its hash matches its
/// content (by the rule of its `v`), `prev` is the hash of the event before and `seq` counts up
/// by one; then each anchor against the event with its seq.
pub fn verify(path: &Path, anchors: &[Anchor]) -> std::io::Result<VerifyReport> {
    let mut report = VerifyReport {
        path: path.display().to_string(),
        events: 0,
        ok: true,
        first_bad_file: None,
        first_bad_line: None,
        reason: None,
        torn_tail: false,
        torn: None,
        set_aside: set_aside(path),
        segments: Vec::new(),
        first_seq: None,
        last_seq: None,
        last_hash: None,
        anchors: Vec::new(),
    };
    // The hash of each event an anchor names, as the walk finds it.
    let mut at_anchor: BTreeMap<u64, Option<String>> = anchors.iter().map(|a| (a.head.seq, None)).collect();
    let mut chain = Chain { prev_hash: None, prev_seq: 0 };
    let mut files: Vec<(Segment, bool)> = segments(path)?.into_iter().map(|s| (s, false)).collect();
    report.segments = files.iter().map(|(s, _)| s.path.display().to_string()).collect();
    if path.exists() {
        files.push((Segment { number: u64::MAX, path: path.to_path_buf(), compressed: false }, true));
    }
    'files: for (file, live) in &files {
        let mut reader = open_forward(file)?;
        let mut line = Vec::with_capacity(1024);
        let mut number = 0u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            number += 1;
            let bad = |report: &mut VerifyReport, reason: String| {
                report.ok = false;
                report.first_bad_file = Some(file.path.display().to_string());
                report.first_bad_line = Some(number);
                report.reason = Some(reason);
            };
            if line.last() != Some(&b'\n') {
                if *live {
                    report.torn_tail = true;
                    report.torn = Some(TornLine { line: number, bytes: line.len() as u64 });
                } else {
                    bad(&mut report, "a rotated segment ends in a torn line".into());
                }
                break 'files;
            }
            match chain.check(&line) {
                Ok(event) => {
                    report.first_seq.get_or_insert(event.seq);
                    if let Some(slot) = at_anchor.get_mut(&event.seq) {
                        *slot = Some(event.hash.clone());
                    }
                    report.events += 1;
                }
                Err(reason) => {
                    bad(&mut report, reason);
                    break 'files;
                }
            }
        }
    }
    report.last_seq = (report.events > 0).then_some(chain.prev_seq);
    report.last_hash = chain.prev_hash.filter(|_| report.events > 0);
    report.anchors = anchors
        .iter()
        .map(|anchor| {
            let result = match at_anchor.get(&anchor.head.seq).and_then(Option::as_ref) {
                Some(hash) if *hash == anchor.head.hash => AnchorResult::Matches,
                Some(_) => AnchorResult::Mismatch,
                None if report.ok && report.last_seq.is_none_or(|last| anchor.head.seq > last) => {
                    AnchorResult::BeyondEnd
                }
                None => AnchorResult::NotChecked,
            };
            AnchorCheck { source: anchor.source.clone(), seq: anchor.head.seq, hash: anchor.head.hash.clone(), result }
        })
        .collect();
    report.anchors.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.source.cmp(&b.source)));
    Ok(report)
}

/// Where the walk is: the hash and seq of the last good event (`None` before the first).
struct Chain {
    prev_hash: Option<String>,
    prev_seq: u64,
}

impl Chain {
    fn check(&mut self, line: &[u8]) -> Result<Event, String> {
        let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
        let event: Event = serde_json::from_value(value.clone()).map_err(|e| format!("not an event: {e}"))?;
        let actual = event_hash(&value).map_err(|e| format!("cannot be checked: {e}"))?;
        if actual != event.hash {
            return Err(format!("content does not match its hash (recorded {}, computed {actual})", event.hash));
        }
        match &self.prev_hash {
            // The first event found: the chain starts at genesis, or older segments are gone.
            None if event.seq == 1 && event.prev != GENESIS => {
                return Err(format!("the first event's `prev` is {} instead of the genesis hash", event.prev));
            }
            // Without its older segments a chain may start at a rotation, nowhere else.
            None if event.seq != 1 && event.kind != super::ROTATED => {
                return Err(format!(
                    "the journal starts at `seq` {}, which is neither 1 nor the start of a rotated segment: earlier events were cut off",
                    event.seq
                ));
            }
            None => {}
            Some(prev) if event.prev != *prev => {
                return Err(format!("`prev` is {} but the previous event's hash is {prev}", event.prev));
            }
            Some(_) if event.seq != self.prev_seq + 1 => {
                return Err(format!("`seq` is {} but {} was expected", event.seq, self.prev_seq + 1));
            }
            Some(_) => {}
        }
        self.prev_hash = Some(event.hash.clone());
        self.prev_seq = event.seq;
        Ok(event)
    }
}

/// What earlier writes moved to `<journal>.torn`.
fn set_aside(path: &Path) -> Option<SetAside> {
    let side = super::torn_path(path);
    let text = std::fs::read(&side).ok()?;
    Some(SetAside {
        path: side.display().to_string(),
        fragments: text.iter().filter(|&&b| b == b'\n').count() as u64,
        bytes: text.len() as u64,
    })
}
