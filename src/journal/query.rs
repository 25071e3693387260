//! Selecting events for `history`: the newest first from the end of the file, or new ones as they
//! are appended (`--follow`).

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Event, NewestFirst};

/// Which events to show. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `recovery` matches `recovery.attempt` and `recovery.pending`; `recovery.attempt` matches itself.
    pub kinds: Vec<String>,
    pub component: Option<String>,
    /// Only events about this named target (and untargeted ones about a component, written
    /// before the config had targets).
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

impl Filter {
    pub fn matches(&self, event: &Event) -> bool {
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                event.kind == *k || (event.kind.starts_with(k.as_str()) && event.kind[k.len()..].starts_with('.'))
            });
        let component_ok = self.component.as_ref().is_none_or(|c| event.component.as_deref() == Some(c));
        let since_ok = self.since.is_none_or(|since| event.ts >= since);
        // A target's events, and those about a component from before the config had targets
        // (they count for every target: `recovery::state::derive`).
        let target_ok = self.target.as_ref().is_none_or(|t| {
            event.target.as_deref() == Some(t) || (event.target.is_none() && event.component.is_some())
        });
        kind_ok && component_ok && since_ok && target_ok
    }
}

/// Whether `event` is about `target`: its own, or written before the config had targets (about
/// the one stack there was). With no target (a config without targets) every event is.
pub fn about_target(event: &Event, target: Option<&str>) -> bool {
    target.is_none() || event.target.is_none() || event.target.as_deref() == target
}

/// What a read found besides events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadNotes {
    /// Lines that did not parse as events (skipped).
    pub unreadable_lines: u64,
    /// The file ended in a torn line (a crash mid-write), skipped.
    pub torn_tail: bool,
}

/// The newest `limit` events matching `filter` (0 = no limit), oldest first. Reads from the end
/// (across rotated segments) and stops at the limit or at the first event older than `filter.since`.
pub fn recent(path: &Path, filter: &Filter, limit: usize) -> std::io::Result<(Vec<Event>, ReadNotes)> {
    let lines = NewestFirst::open(path)?;
    let mut notes = ReadNotes { torn_tail: lines.torn_tail.is_some(), ..ReadNotes::default() };
    let mut found = Vec::new();
    for line in lines {
        let line = line?;
        let Ok(event) = serde_json::from_slice::<Event>(&line) else {
            notes.unreadable_lines += 1;
            continue;
        };
        if filter.since.is_some_and(|since| event.ts < since) {
            break;
        }
        if filter.matches(&event) {
            found.push(event);
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
    }
    found.reverse();
    Ok((found, notes))
}

/// The newest event, across segments, whose line contains `needle` and that `wanted` accepts,
/// looking back to `since`. Every line's time is read as text and the search stops at `since`
/// whether or not anything matched; only lines holding the needle are parsed. So a search costs
/// the events since `since`, not the journal's whole history.
pub fn newest_mentioning(
    path: &Path,
    needle: &str,
    since: DateTime<Utc>,
    wanted: impl Fn(&Event) -> bool,
) -> Option<Event> {
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let ts_key = ts_finder();
    let horizon = to_second(since);
    for line in NewestFirst::open(path).ok()? {
        let line = line.ok()?;
        if line_second(&line, &ts_key).is_some_and(|ts| ts < horizon.as_str()) {
            return None;
        }
        if finder.find(&line).is_none() {
            continue;
        }
        let Ok(event) = serde_json::from_slice::<Event>(&line) else { continue };
        if event.ts < since {
            return None;
        }
        if wanted(&event) {
            return Some(event);
        }
    }
    None
}

/// Finds the `"ts":"` key from the end of a line: the event's own time (in the canonical key
/// order it comes after `details`, so a nested key of that name is never the last one).
pub(crate) fn ts_finder() -> memchr::memmem::FinderRev<'static> {
    memchr::memmem::FinderRev::new(b"\"ts\":\"")
}

/// A line's time to the second, as text (`2026-11-24T08:00:00`): UTC RFC 3339 times compare as
/// text, so lines can be judged by time without parsing them.
pub(crate) fn line_second<'a>(line: &'a [u8], ts_key: &memchr::memmem::FinderRev<'_>) -> Option<&'a str> {
    string_field(line, ts_key)?.get(..19)
}

/// `t` to the second, in the form [`line_second`] gives.
pub(crate) fn to_second(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The string value after the last occurrence of `key` (`"name":"`) in a line.
pub(crate) fn string_field<'a>(line: &'a [u8], key: &memchr::memmem::FinderRev<'_>) -> Option<&'a str> {
    let at = key.rfind(line)? + key.needle().len();
    let len = line[at..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&line[at..at + len]).ok()
}

/// Complete events appended at or after byte `offset`, and the offset to continue from.
/// A partial last line is left for the next call.
pub fn read_from(path: &Path, offset: u64, filter: &Filter) -> std::io::Result<(Vec<Event>, u64)> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    // A journal that shrank was replaced (restored from backup, rotated): start over.
    let offset = if len < offset { 0 } else { offset };
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::new(file);
    let mut events = Vec::new();
    let mut pos = offset;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        pos += n as u64;
        if let Ok(event) = serde_json::from_slice::<Event>(&line) {
            if filter.matches(&event) {
                events.push(event);
            }
        }
    }
    Ok((events, pos))
}

/// The current end of the journal, where `--follow` starts.
pub fn end_offset(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
