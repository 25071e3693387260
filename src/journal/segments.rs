//! Rotated segments: `journal.jsonl` is the live file; `journal rotate` (or the size limit) renames
//! it to `journal.000042.jsonl` (optionally gzipped to `.jsonl.gz`) and the chain goes on in a new
//! live file whose first event, `journal.rotated`, links to the old head. Readers see one chain:
//! segments in number order, then the live file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::ReverseLines;

/// One closed segment of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub number: u64,
    pub path: PathBuf,
    pub compressed: bool,
}

/// `journal.jsonl` → (`journal`, `.jsonl`): segments are `<stem>.<number>.jsonl[.gz]`.
fn stem_of(journal: &Path) -> (PathBuf, String) {
    let dir = journal.parent().map(Path::to_path_buf).unwrap_or_default();
    let file = journal.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = file.strip_suffix(".jsonl").unwrap_or(&file).to_string();
    (dir, stem)
}

/// The path segment `number` of `journal` gets.
pub fn segment_path(journal: &Path, number: u64) -> PathBuf {
    let (dir, stem) = stem_of(journal);
    dir.join(format!("{stem}.{number:06}.jsonl"))
}

/// Closed segments of `journal`, oldest first. A segment present both plain and gzipped (a crash
/// while compressing) is listed once, plain.
pub fn segments(journal: &Path) -> std::io::Result<Vec<Segment>> {
    let (dir, stem) = stem_of(journal);
    let dir_for_read = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.clone() };
    let entries = match std::fs::read_dir(&dir_for_read) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let prefix = format!("{stem}.");
    let mut found: Vec<Segment> = Vec::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else { continue };
        let (digits, compressed) = if let Some(d) = rest.strip_suffix(".jsonl.gz") {
            (d, true)
        } else if let Some(d) = rest.strip_suffix(".jsonl") {
            (d, false)
        } else {
            continue;
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(number) = digits.parse::<u64>() else { continue };
        found.push(Segment { number, path: dir.join(&name), compressed });
    }
    found.sort_by_key(|s| (s.number, s.compressed));
    found.dedup_by_key(|s| s.number);
    Ok(found)
}

/// A segment's bytes as a line reader (gunzipped when compressed).
pub fn open_forward(segment: &Segment) -> std::io::Result<Box<dyn BufRead>> {
    let file = File::open(&segment.path)?;
    Ok(if segment.compressed {
        Box::new(BufReader::with_capacity(256 * 1024, GzDecoder::new(file)))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, file))
    })
}

/// Lines of the whole chain, newest first: the live file from its end, then each segment from
/// its end. Only as much is read as the caller consumes, so "the last hour" stays cheap.
pub struct NewestFirst {
    current: Option<Box<dyn Iterator<Item = std::io::Result<Vec<u8>>>>>,
    /// Segments not yet opened, oldest first (popped from the back).
    pending: Vec<Segment>,
    /// Where the live file's torn last line starts, if it has one.
    pub torn_tail: Option<u64>,
}

impl NewestFirst {
    pub fn open(journal: &Path) -> std::io::Result<NewestFirst> {
        let pending = segments(journal)?;
        let (current, torn_tail) = match File::open(journal) {
            Ok(file) => {
                let lines = ReverseLines::new(file)?;
                let torn = lines.torn_tail_offset();
                (Some(Box::new(lines) as Box<dyn Iterator<Item = _>>), torn)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
            Err(e) => return Err(e),
        };
        Ok(NewestFirst { current, pending, torn_tail })
    }

    fn open_next_segment(&mut self) -> std::io::Result<bool> {
        let Some(segment) = self.pending.pop() else { return Ok(false) };
        if segment.compressed {
            // Compressed segments are read whole (they are bounded by the rotation size).
            let mut text = Vec::new();
            GzDecoder::new(File::open(&segment.path)?).read_to_end(&mut text)?;
            let mut lines: Vec<Vec<u8>> =
                text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
            lines.reverse();
            self.current = Some(Box::new(lines.into_iter().map(Ok)));
        } else {
            self.current = Some(Box::new(ReverseLines::new(File::open(&segment.path)?)?));
        }
        Ok(true)
    }
}

impl Iterator for NewestFirst {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(line) = self.current.as_mut().and_then(Iterator::next) {
                return Some(line);
            }
            match self.open_next_segment() {
                Ok(true) => continue,
                Ok(false) => return None,
                Err(e) => {
                    self.current = None;
                    return Some(Err(e));
                }
            }
        }
    }
}
