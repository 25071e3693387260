//! `journal verify`: walk the whole chain and report the first line that breaks it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use super::{Event, GENESIS, event_hash};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    pub path: String,
    /// Events whose hash and link were checked and found good.
    pub events: u64,
    pub ok: bool,
    /// 1-based line number of the first bad line.
    pub first_bad_line: Option<u64>,
    pub reason: Option<String>,
    /// The file ends in a line with no newline (a crash mid-write); it is skipped, not fatal.
    pub torn_tail: bool,
    pub last_hash: Option<String>,
}

/// Checks every line: it parses, its hash matches its content, `prev` is the hash of the line before
/// and `seq` counts up by one.
pub fn verify(path: &Path) -> std::io::Result<VerifyReport> {
    let mut report = VerifyReport {
        path: path.display().to_string(),
        events: 0,
        ok: true,
        first_bad_line: None,
        reason: None,
        torn_tail: false,
        last_hash: None,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::with_capacity(1024);
    let mut prev_hash = GENESIS.to_string();
    let mut prev_seq = 0u64;
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if line.last() != Some(&b'\n') {
            report.torn_tail = true;
            break;
        }
        if let Err(reason) = check_line(&line, &prev_hash, prev_seq) {
            report.ok = false;
            report.first_bad_line = Some(number);
            report.reason = Some(reason);
            return Ok(report);
        }
        let event: Event = serde_json::from_slice(&line).expect("checked above");
        prev_hash = event.hash;
        prev_seq = event.seq;
        report.events += 1;
    }
    report.last_hash = (report.events > 0).then_some(prev_hash);
    Ok(report)
}

fn check_line(line: &[u8], prev_hash: &str, prev_seq: u64) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let event: Event = serde_json::from_value(value.clone()).map_err(|e| format!("not an event: {e}"))?;
    let actual = event_hash(&value);
    if actual != event.hash {
        return Err(format!("content does not match its hash (recorded {}, computed {actual})", event.hash));
    }
    if event.prev != prev_hash {
        return Err(format!("`prev` is {} but the previous event's hash is {prev_hash}", event.prev));
    }
    if event.seq != prev_seq + 1 {
        return Err(format!("`seq` is {} but {} was expected", event.seq, prev_seq + 1));
    }
    Ok(())
}
