//! Reading a file's lines from the end, block by block, so "the last N events" costs O(N), not the
//! size of the journal.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

const BLOCK: usize = 64 * 1024;

/// Complete lines of a file, newest first, without their `\n`. A last line with no `\n`
/// (a torn write) is not yielded; [`ReverseLines::torn_tail_offset`] says where it starts.
pub struct ReverseLines {
    file: File,
    /// File offset of `buf[0]`.
    buf_start: u64,
    /// Unyielded bytes `[buf_start, buf_start + buf.len())`, ending just after a `\n`.
    buf: Vec<u8>,
    torn_at: Option<u64>,
}

impl ReverseLines {
    pub fn new(mut file: File) -> std::io::Result<ReverseLines> {
        let len = file.seek(SeekFrom::End(0))?;
        let mut lines = ReverseLines { file, buf_start: len, buf: Vec::new(), torn_at: None };
        // Find the last `\n`: anything after it is a torn tail.
        loop {
            if let Some(nl) = lines.buf.iter().rposition(|&b| b == b'\n') {
                if nl + 1 < lines.buf.len() {
                    lines.torn_at = Some(lines.buf_start + nl as u64 + 1);
                }
                lines.buf.truncate(nl + 1);
                break;
            }
            if lines.buf_start == 0 {
                if !lines.buf.is_empty() {
                    lines.torn_at = Some(0);
                }
                lines.buf.clear();
                break;
            }
            lines.read_block()?;
        }
        Ok(lines)
    }

    /// Where a torn last line starts, if the file does not end with `\n`.
    pub fn torn_tail_offset(&self) -> Option<u64> {
        self.torn_at
    }

    fn read_block(&mut self) -> std::io::Result<()> {
        let take = (self.buf_start as usize).min(BLOCK);
        let start = self.buf_start - take as u64;
        let mut block = vec![0u8; take];
        self.file.seek(SeekFrom::Start(start))?;
        self.file.read_exact(&mut block)?;
        block.extend_from_slice(&self.buf);
        self.buf = block;
        self.buf_start = start;
        Ok(())
    }

    fn next_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.buf.is_empty() && self.buf_start == 0 {
            return Ok(None);
        }
        loop {
            let body_end = self.buf.len().saturating_sub(1);
            if let Some(nl) = self.buf[..body_end].iter().rposition(|&b| b == b'\n') {
                let line = self.buf[nl + 1..body_end].to_vec();
                self.buf.truncate(nl + 1);
                return Ok(Some(line));
            }
            if self.buf_start == 0 {
                let line = self.buf[..body_end].to_vec();
                self.buf.clear();
                return Ok(Some(line));
            }
            self.read_block()?;
        }
    }
}

impl Iterator for ReverseLines {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_line().transpose()
    }
}
