//! Reading JSON lines from a file of any size with bounded memory: lines are handed out one at a
//! time, and a line longer than the limit is skipped (its length counted, its bytes never held).

use std::io::{self, BufRead};

/// Longest line kept; longer ones are skipped with a warning. Generous: real tool results can
/// make a line of several megabytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// One line read.
#[derive(Debug)]
pub enum Item<'a> {
    /// A line, without its newline. `terminated` is false for a last line with no newline.
    Line {
        number: i64,
        bytes: &'a [u8],
        terminated: bool,
        end: u64,
    },
    /// A line over the limit, skipped.
    TooLong { number: i64, len: u64, end: u64 },
}

/// A line reader over a buffered source, counting line numbers (from 1) and byte offsets.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: i64,
    offset: u64,
    max: usize,
    /// Bytes of the source's buffer still lent out as the last line, consumed on the next call.
    pending: usize,
    /// The byte that ends a line: `\n` (a `\r` before it is dropped too), or `\r` for files
    /// written with classic Mac line endings.
    term: u8,
}

impl<R: BufRead> LineReader<R> {
    /// Reads `inner`, whose first byte is at `offset` and whose first line is number `first`.
    pub fn new(inner: R, offset: u64, first: i64) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            number: first - 1,
            offset,
            max: MAX_LINE_BYTES,
            pending: 0,
            term: b'\n',
        }
    }

    /// Ends lines at `term` instead of `\n` (see [`crate::detect::line_terminator`]).
    pub fn with_terminator(mut self, term: u8) -> Self {
        self.term = term;
        self
    }

    /// Sets the line limit (tests).
    pub fn with_max(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// The next line, or `None` at the end.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        // What the line handed out last still holds in the source's buffer.
        self.inner.consume(std::mem::take(&mut self.pending));
        // Most lines lie whole in the source's buffer: hand them out from there, uncopied.
        let whole = memchr::memchr(self.term, self.inner.fill_buf()?);
        if let Some(i) = whole
            && i <= self.max
        {
            let chunk = self.inner.fill_buf()?;
            self.pending = i + 1;
            self.offset += i as u64 + 1;
            self.number += 1;
            let mut bytes = &chunk[..i];
            if self.term == b'\n' && bytes.last() == Some(&b'\r') {
                bytes = &bytes[..i - 1];
            }
            return Ok(Some(Item::Line {
                number: self.number,
                bytes,
                terminated: true,
                end: self.offset,
            }));
        }
        self.buf.clear();
        let mut len: u64 = 0;
        let mut overflow = false;
        let mut terminated = false;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let (take, found) = match memchr::memchr(self.term, chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !overflow {
                if self.buf.len() + take > self.max {
                    overflow = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            len += take as u64;
            let consumed = if found { take + 1 } else { take };
            self.inner.consume(consumed);
            self.offset += consumed as u64;
            if found {
                terminated = true;
                break;
            }
        }
        if len == 0 && !terminated {
            return Ok(None);
        }
        self.number += 1;
        if overflow {
            return Ok(Some(Item::TooLong {
                number: self.number,
                len,
                end: self.offset,
            }));
        }
        if self.term == b'\n' && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Item::Line {
            number: self.number,
            bytes: &self.buf,
            terminated,
            end: self.offset,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], max: usize) -> Vec<String> {
        let mut r = LineReader::new(data, 0, 1).with_max(max);
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(match item {
                Item::Line {
                    number,
                    bytes,
                    terminated,
                    end,
                } => {
                    format!(
                        "{number}:{}:{terminated}:{end}",
                        String::from_utf8_lossy(bytes)
                    )
                }
                Item::TooLong { number, len, end } => format!("{number}:too long {len}:{end}"),
            });
        }
        out
    }

    #[test]
    fn lines_offsets_and_the_last_line() {
        assert_eq!(
            all(b"a\nbb\r\n\nccc", 100),
            ["1:a:true:2", "2:bb:true:6", "3::true:7", "4:ccc:false:10"]
        );
        assert_eq!(all(b"", 100), Vec::<String>::new());
        assert_eq!(all(b"x\n", 100), ["1:x:true:2"]);
    }

    #[test]
    fn carriage_return_endings() {
        let mut r = LineReader::new(&b"a\rbb\r\rc"[..], 0, 1).with_terminator(b'\r');
        let mut out = Vec::new();
        while let Some(Item::Line { bytes, end, .. }) = r.next_item().unwrap() {
            out.push(format!("{}:{end}", String::from_utf8_lossy(bytes)));
        }
        assert_eq!(out, ["a:2", "bb:5", ":6", "c:7"]);
    }

    #[test]
    fn long_lines_are_skipped_without_being_held() {
        let mut data = vec![b'y'; 50];
        data.extend_from_slice(b"\nok\n");
        assert_eq!(all(&data, 10), ["1:too long 50:51", "2:ok:true:54"]);
    }
}
