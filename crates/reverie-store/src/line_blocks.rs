//! A session's raw lines, compressed in blocks: the format of `session_line_blocks`.
//!
//! Raw lines are kept so that `sessions show --raw` can give back what the agent wrote (after
//! redaction); they are read rarely and whole, so they are stored compressed with zstd, a run
//! of consecutive lines per block of about [`BLOCK_BYTES`]. Transcripts are JSON with the same
//! keys on every line, and a block compresses to about a sixth of its size where a line
//! compressed alone would keep about two fifths. A read of line N decompresses one block.
//!
//! A block's payload, before compression, is for each line: its number as an offset from the
//! block's first line (u32, little-endian), its length in bytes (u32, little-endian) and its
//! UTF-8 bytes. The row records the codec, so that another framing can come later beside this
//! one; a codec this version does not know, or bytes that do not decode, are refused with
//! [`Corrupt`], never guessed at.
//!
//! Redaction runs before anything reaches the store, so what is compressed is the redacted
//! text: compression never sees a secret.

use std::cell::RefCell;

/// The codec of the blocks this version writes: this framing, compressed with zstd.
pub const CODEC: &str = "zstd-1";

/// Uncompressed bytes per block, about: a block closes at the first line that reaches it, and
/// a longer line is a block of its own.
pub const BLOCK_BYTES: usize = 128 << 10;

/// zstd's default level: at this size of block it compresses transcripts about as well as the
/// levels above it, at about 450 MB/s on this project's machine.
const LEVEL: i32 = 3;

/// The largest block a row may claim to hold: past every line the reader accepts (64 MB) and
/// every document (256 MB), so that a damaged length cannot make a read allocate without end.
const MAX_RAW: usize = 512 << 20;

/// One compressed block, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub first_line: i64,
    pub last_line: i64,
    pub lines: i64,
    /// The payload's size before compression.
    pub raw_bytes: i64,
    pub data: Vec<u8>,
}

/// A batch's raw lines, compressed ahead of its write: [`SessionBatch`](crate::SessionBatch)
/// carries them so that ingest can compress on its reading thread, off the writer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub(crate) blocks: Vec<Block>,
    pub(crate) lines: i64,
    pub(crate) first_line: Option<i64>,
}

impl Compressed {
    /// Compresses `lines`, in increasing order of line number (anything else is refused).
    /// NULs become U+FFFD, as in every text the store keeps.
    pub fn new(lines: &[(i64, String)]) -> reverie_core::Result<Compressed> {
        let texts: Vec<_> = lines
            .iter()
            .map(|(_, raw)| crate::rows::storable(raw))
            .collect();
        let refs: Vec<(i64, &str)> = lines
            .iter()
            .zip(&texts)
            .map(|((n, _), t)| (*n, t.as_ref()))
            .collect();
        let blocks = encode(&refs).map_err(|e| reverie_core::Error::invalid("lines", e.0))?;
        Ok(Compressed {
            blocks,
            lines: lines.len() as i64,
            first_line: lines.first().map(|l| l.0),
        })
    }
}

/// A batch's raw lines: as read, or compressed already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchLines {
    Plain(Vec<(i64, String)>),
    Compressed(Compressed),
}

impl Default for BatchLines {
    fn default() -> Self {
        BatchLines::Plain(Vec::new())
    }
}

impl From<Vec<(i64, String)>> for BatchLines {
    fn from(lines: Vec<(i64, String)>) -> Self {
        BatchLines::Plain(lines)
    }
}

impl From<Compressed> for BatchLines {
    fn from(c: Compressed) -> Self {
        BatchLines::Compressed(c)
    }
}

impl BatchLines {
    /// The lines, compressed (now, if they were not).
    pub(crate) fn compressed(&self) -> reverie_core::Result<std::borrow::Cow<'_, Compressed>> {
        match self {
            BatchLines::Plain(lines) => Compressed::new(lines).map(std::borrow::Cow::Owned),
            BatchLines::Compressed(c) => Ok(std::borrow::Cow::Borrowed(c)),
        }
    }
}

/// A block that cannot be read back, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub String);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

thread_local! {
    // A compression context holds about a megabyte of tables at this level; one per thread
    // is made once, not once per batch.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

fn compress(payload: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(LEVEL)?);
        }
        slot.as_mut().expect("made above").compress(payload)
    })
}

/// Lines (in increasing order of line number) as blocks. A line number must not go back, and
/// a block cannot span more than `u32::MAX` lines or hold a line of 4 GiB: both are refused.
pub fn encode(lines: &[(i64, &str)]) -> Result<Vec<Block>, Corrupt> {
    let mut blocks = Vec::new();
    let mut payload = Vec::with_capacity(BLOCK_BYTES + 64);
    let mut start: Option<(i64, i64)> = None; // (first line, lines in the block)
    let mut last = i64::MIN;
    let mut flush =
        |payload: &mut Vec<u8>, start: &mut Option<(i64, i64)>, last: i64| -> Result<(), Corrupt> {
            if let Some((first, count)) = start.take() {
                let data = compress(payload)
                    .map_err(|e| Corrupt(format!("cannot compress raw lines: {e}")))?;
                blocks.push(Block {
                    first_line: first,
                    last_line: last,
                    lines: count,
                    raw_bytes: payload.len() as i64,
                    data,
                });
                payload.clear();
            }
            Ok(())
        };
    for &(line, text) in lines {
        if line < last || (line == last && start.is_some()) {
            return Err(Corrupt(format!("line {line} comes after line {last}")));
        }
        let (first, _) = *start.get_or_insert((line, 0));
        let offset = u32::try_from(line - first)
            .map_err(|_| Corrupt(format!("line {line} is too far past line {first}")))?;
        let len = u32::try_from(text.len())
            .map_err(|_| Corrupt(format!("line {line} is too long to store")))?;
        payload.extend_from_slice(&offset.to_le_bytes());
        payload.extend_from_slice(&len.to_le_bytes());
        payload.extend_from_slice(text.as_bytes());
        if let Some((_, count)) = start.as_mut() {
            *count += 1;
        }
        last = line;
        if payload.len() >= BLOCK_BYTES {
            flush(&mut payload, &mut start, last)?;
        }
    }
    flush(&mut payload, &mut start, last)?;
    Ok(blocks)
}

/// The lines of a stored block, checked against what its row says.
pub fn decode(
    codec: &str,
    first_line: i64,
    last_line: i64,
    lines: i64,
    raw_bytes: i64,
    data: &[u8],
) -> Result<Vec<(i64, String)>, Corrupt> {
    if codec != CODEC {
        return Err(Corrupt(format!(
            "codec {codec:?} is not one this version reads ({CODEC})"
        )));
    }
    let raw = usize::try_from(raw_bytes)
        .ok()
        .filter(|n| *n <= MAX_RAW)
        .ok_or_else(|| Corrupt(format!("a block cannot hold {raw_bytes} bytes")))?;
    let payload = zstd::bulk::decompress(data, raw)
        .map_err(|e| Corrupt(format!("the block does not decompress: {e}")))?;
    if payload.len() != raw {
        return Err(Corrupt(format!(
            "the block holds {} bytes, its row says {raw}",
            payload.len()
        )));
    }
    let mut out = Vec::with_capacity(usize::try_from(lines).unwrap_or(0).min(1 << 16));
    let mut at = 0usize;
    let field = |at: &mut usize| -> Result<u32, Corrupt> {
        let bytes = payload
            .get(*at..*at + 4)
            .ok_or_else(|| Corrupt("the block ends inside a line's header".into()))?;
        *at += 4;
        Ok(u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    };
    let mut previous = None;
    while at < payload.len() {
        let offset = field(&mut at)?;
        let len = field(&mut at)? as usize;
        let line = first_line + i64::from(offset);
        if previous.is_some_and(|p| line <= p) {
            return Err(Corrupt(format!("line {line} is out of order in the block")));
        }
        let bytes = payload
            .get(at..at + len)
            .ok_or_else(|| Corrupt(format!("line {line} runs past the block's end")))?;
        let text =
            std::str::from_utf8(bytes).map_err(|_| Corrupt(format!("line {line} is not UTF-8")))?;
        out.push((line, text.to_string()));
        at += len;
        previous = Some(line);
    }
    let ends = (out.first().map(|l| l.0), out.last().map(|l| l.0));
    if out.len() as i64 != lines || ends != (Some(first_line), Some(last_line)) {
        return Err(Corrupt(format!(
            "the block holds {} lines from {:?} to {:?}, its row says {lines} from {first_line} to {last_line}",
            out.len(),
            ends.0,
            ends.1
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round(lines: &[(i64, String)]) -> Vec<(i64, String)> {
        let refs: Vec<(i64, &str)> = lines.iter().map(|(n, s)| (*n, s.as_str())).collect();
        encode(&refs)
            .unwrap()
            .iter()
            .flat_map(|b| {
                decode(
                    CODEC,
                    b.first_line,
                    b.last_line,
                    b.lines,
                    b.raw_bytes,
                    &b.data,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn lines_come_back_as_they_went_in_across_blocks() {
        let lines: Vec<(i64, String)> = (1..=3000)
            .filter(|n| n % 7 != 0) // skipped lines keep their numbers
            .map(|n| {
                (
                    n,
                    format!(
                        r#"{{"type":"user","n":{n},"text":"{}"}}"#,
                        "é".repeat(n as usize % 90)
                    ),
                )
            })
            .collect();
        let refs: Vec<(i64, &str)> = lines.iter().map(|(n, s)| (*n, s.as_str())).collect();
        let blocks = encode(&refs).unwrap();
        assert!(blocks.len() > 1, "{} blocks", blocks.len());
        let stored: usize = blocks.iter().map(|b| b.data.len()).sum();
        let raw: usize = lines.iter().map(|l| l.1.len()).sum();
        assert!(stored * 4 < raw, "{stored} compressed bytes for {raw}");
        assert_eq!(round(&lines), lines);
    }

    #[test]
    fn a_line_longer_than_a_block_is_a_block_of_its_own() {
        let long = "x".repeat(BLOCK_BYTES * 3);
        let lines = vec![
            (1, "a".to_string()),
            (2, long.clone()),
            (5, "b".to_string()),
        ];
        let refs: Vec<(i64, &str)> = lines.iter().map(|(n, s)| (*n, s.as_str())).collect();
        let blocks = encode(&refs).unwrap();
        assert_eq!(
            blocks
                .iter()
                .map(|b| (b.first_line, b.last_line))
                .collect::<Vec<_>>(),
            vec![(1, 2), (5, 5)]
        );
        assert_eq!(round(&lines), lines);
    }

    #[test]
    fn lines_out_of_order_are_refused() {
        assert!(encode(&[(2, "a"), (1, "b")]).is_err());
        assert!(encode(&[(2, "a"), (2, "b")]).is_err());
        assert!(encode(&[]).unwrap().is_empty());
    }

    #[test]
    fn damaged_blocks_are_refused_not_guessed_at() {
        let b = encode(&[(3, "one"), (4, "two")]).unwrap().remove(0);
        let ok = |codec: &str, first, last, n, raw, data: &[u8]| {
            decode(codec, first, last, n, raw, data)
        };
        assert!(ok(CODEC, 3, 4, 2, b.raw_bytes, &b.data).is_ok());
        assert!(
            ok("zstd-9", 3, 4, 2, b.raw_bytes, &b.data).is_err(),
            "unknown codec"
        );
        assert!(
            ok(CODEC, 3, 4, 2, b.raw_bytes, &b.data[..b.data.len() - 2]).is_err(),
            "cut short"
        );
        assert!(
            ok(CODEC, 3, 4, 2, b.raw_bytes - 1, &b.data).is_err(),
            "size mismatch"
        );
        assert!(ok(CODEC, 3, 4, 2, -1, &b.data).is_err(), "negative size");
        assert!(
            ok(CODEC, 3, 4, 2, i64::MAX, &b.data).is_err(),
            "absurd size"
        );
        assert!(
            ok(CODEC, 3, 5, 2, b.raw_bytes, &b.data).is_err(),
            "wrong last line"
        );
        assert!(
            ok(CODEC, 3, 4, 3, b.raw_bytes, &b.data).is_err(),
            "wrong count"
        );
        assert!(
            ok(CODEC, 3, 4, 2, b.raw_bytes, b"not zstd at all").is_err(),
            "garbage"
        );
        // A payload that decompresses but whose framing is broken.
        let bad = zstd::bulk::compress(&[1, 0, 0, 0, 200, 0, 0, 0, b'x'], 3).unwrap();
        assert!(
            ok(CODEC, 3, 4, 1, 9, &bad).is_err(),
            "a length past the end"
        );
    }

    proptest! {
        #[test]
        fn any_lines_round_trip(
            gaps in proptest::collection::vec(1i64..5, 0..200),
            texts in proptest::collection::vec(".{0,300}", 200),
        ) {
            let mut n = 0;
            let lines: Vec<(i64, String)> = gaps
                .iter()
                .zip(&texts)
                .map(|(g, t)| { n += g; (n, t.clone()) })
                .collect();
            prop_assert_eq!(round(&lines), lines);
        }
    }
}
