//! The recall index's postings, as bytes and back: pure, no I/O.
//!
//! A term's postings list every indexed entry holding it as `(ordinal, block, tf, len)`: the
//! ordinal names the entry's memory inside the store's index (`recall_members`), the block is
//! the entry's place in that memory, `tf` how often the term occurs in it and `len` how many
//! terms it has — all BM25 needs of an entry, so that ranking reads nothing else. They are
//! sorted by `(ordinal, block)` and written as LEB128 varints, the ordinal as the gap from the
//! one before (a memory's entries share an ordinal, so most gaps are 0 or 1 byte).

use std::collections::BTreeMap;

/// The format of the index's rows; a store indexed in another is rebuilt.
pub const FORMAT: i64 = 1;

/// Ordinals per chunk of a term's postings, as a power of two: a row holds the postings of
/// 256 memories, so a merge rewrites the chunks its memories are in.
const CHUNK_BITS: u32 = 8;

/// The chunk of a term's postings the memory numbered `ordinal` is in.
pub fn chunk_of(ordinal: u32) -> i64 {
    i64::from(ordinal >> CHUNK_BITS)
}

/// One entry holding a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Posting {
    pub ordinal: u32,
    pub block: u32,
    pub tf: u32,
    pub len: u32,
}

/// Postings that do not decode: the row was not written by this format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable recall index row: {}", self.0)
    }
}

fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get(data: &[u8], at: &mut usize) -> Result<u32, Corrupt> {
    let mut v: u64 = 0;
    for shift in (0..35).step_by(7) {
        let Some(&b) = data.get(*at) else {
            return Err(Corrupt("a posting is cut short"));
        };
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return u32::try_from(v).map_err(|_| Corrupt("a number is out of range"));
        }
    }
    Err(Corrupt("a number is too long"))
}

/// The bytes of `postings`, which must be sorted by `(ordinal, block)`.
pub fn encode(postings: &[Posting]) -> Vec<u8> {
    let mut out = Vec::with_capacity(postings.len() * 4);
    let mut last = 0u32;
    for p in postings {
        debug_assert!(p.ordinal >= last, "postings are sorted");
        put(&mut out, p.ordinal - last);
        put(&mut out, p.block);
        put(&mut out, p.tf);
        put(&mut out, p.len);
        last = p.ordinal;
    }
    out
}

/// Calls `f` with each posting of `data`, in order.
pub fn for_each(data: &[u8], mut f: impl FnMut(Posting)) -> Result<(), Corrupt> {
    let (mut at, mut ordinal) = (0usize, 0u32);
    while at < data.len() {
        let gap = get(data, &mut at)?;
        ordinal = ordinal
            .checked_add(gap)
            .ok_or(Corrupt("an ordinal is out of range"))?;
        let block = get(data, &mut at)?;
        let tf = get(data, &mut at)?;
        let len = get(data, &mut at)?;
        if tf == 0 || tf > len {
            return Err(Corrupt("a frequency is not within its entry's length"));
        }
        f(Posting {
            ordinal,
            block,
            tf,
            len,
        });
    }
    Ok(())
}

/// The postings of `data`.
pub fn decode(data: &[u8]) -> Result<Vec<Posting>, Corrupt> {
    let mut out = Vec::with_capacity(data.len() / 4);
    for_each(data, |p| out.push(p))?;
    Ok(out)
}

/// An entry as the entry index holds it.
#[derive(Debug, Clone, Copy)]
pub struct Indexed<'a> {
    pub block: i64,
    /// Its full-text tokens, space-separated, repeats included.
    pub terms: &'a str,
    pub term_count: i64,
    pub updated_at: i64,
}

/// What one memory's entries add to the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub docs: i64,
    pub terms: i64,
    /// `block:updated_at` of each entry, space-separated.
    pub blocks: String,
    /// Each distinct term with the memory's postings of it, sorted by block.
    pub postings: BTreeMap<String, Vec<Posting>>,
}

impl Member {
    /// The distinct terms, space-separated: the postings rows the memory is in.
    pub fn term_set(&self) -> String {
        self.postings
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The index's view of the memory numbered `ordinal`, from its indexed entries.
pub fn member(ordinal: u32, entries: &[Indexed<'_>]) -> Member {
    let mut postings: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
    let mut blocks = Vec::with_capacity(entries.len());
    let mut terms = 0i64;
    for e in entries {
        let block = u32::try_from(e.block).unwrap_or(u32::MAX);
        let len = u32::try_from(e.term_count).unwrap_or(u32::MAX);
        terms += e.term_count;
        blocks.push(format!("{}:{}", e.block, e.updated_at));
        let mut tf: BTreeMap<&str, u32> = BTreeMap::new();
        for t in e.terms.split(' ').filter(|t| !t.is_empty()) {
            *tf.entry(t).or_insert(0) += 1;
        }
        for (t, n) in tf {
            postings.entry(t.to_string()).or_default().push(Posting {
                ordinal,
                block,
                tf: n,
                len: len.max(n),
            });
        }
    }
    for list in postings.values_mut() {
        list.sort_unstable();
    }
    Member {
        docs: entries.len() as i64,
        terms,
        blocks: blocks.join(" "),
        postings,
    }
}

/// When each block of a member last changed, from its `blocks` column.
pub fn parse_blocks(blocks: &str) -> Result<BTreeMap<u32, i64>, Corrupt> {
    blocks
        .split(' ')
        .filter(|b| !b.is_empty())
        .map(|b| {
            let (block, at) = b.split_once(':').ok_or(Corrupt("a block has no time"))?;
            let block = block
                .parse()
                .map_err(|_| Corrupt("a block is not a number"))?;
            let at = at.parse().map_err(|_| Corrupt("a time is not a number"))?;
            Ok((block, at))
        })
        .collect()
}

/// `old` without the postings of `gone` ordinals, with `added` merged in: sorted again.
pub fn merged(old: Vec<Posting>, gone: &dyn Fn(u32) -> bool, added: &[Posting]) -> Vec<Posting> {
    let mut out: Vec<Posting> = old.into_iter().filter(|p| !gone(p.ordinal)).collect();
    out.extend_from_slice(added);
    // Appended ordinals are usually past the end already: sorting only when they are not.
    if !out.is_sorted() {
        out.sort_unstable();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(ordinal: u32, block: u32, tf: u32, len: u32) -> Posting {
        Posting {
            ordinal,
            block,
            tf,
            len,
        }
    }

    #[test]
    fn postings_come_back_as_they_went_in() {
        let list = vec![
            p(0, 0, 1, 3),
            p(0, 2, 2, 9),
            p(7, 1, 1, 1),
            p(300, 0, 200, 70_000),
        ];
        assert_eq!(decode(&encode(&list)).unwrap(), list);
        assert_eq!(decode(&[]).unwrap(), vec![]);
    }

    #[test]
    fn bytes_this_format_did_not_write_are_refused() {
        // Cut short, an over-long number, and a frequency above the entry's length.
        let bytes = encode(&[p(5, 1, 2, 4)]);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[0xff; 6]).is_err());
        assert!(decode(&encode(&[p(1, 0, 5, 2)])).is_err());
        assert!(decode(&encode(&[p(1, 0, 0, 2)])).is_err());
    }

    #[test]
    fn a_member_counts_its_entries_terms_and_blocks() {
        let entries = [
            Indexed {
                block: 0,
                terms: "cargo build cargo",
                term_count: 3,
                updated_at: 10,
            },
            Indexed {
                block: 2,
                terms: "build",
                term_count: 1,
                updated_at: 20,
            },
        ];
        let m = member(4, &entries);
        assert_eq!((m.docs, m.terms), (2, 4));
        assert_eq!(m.blocks, "0:10 2:20");
        assert_eq!(m.term_set(), "build cargo");
        assert_eq!(m.postings["cargo"], vec![p(4, 0, 2, 3)]);
        assert_eq!(m.postings["build"], vec![p(4, 0, 1, 3), p(4, 2, 1, 1)]);
        assert_eq!(
            parse_blocks(&m.blocks).unwrap(),
            BTreeMap::from([(0, 10), (2, 20)])
        );
        assert!(parse_blocks("3").is_err());
    }

    proptest! {
        #[test]
        fn merging_equals_rebuilding(
            old in proptest::collection::btree_set((0u32..50, 0u32..4), 0..60),
            gone in proptest::collection::btree_set(0u32..50, 0..10),
            added in proptest::collection::btree_set((0u32..60, 0u32..4), 0..20),
        ) {
            let old: Vec<Posting> = old.into_iter().map(|(o, b)| p(o, b, 1, 2)).collect();
            // What comes back is never at an ordinal that stays.
            let added: Vec<Posting> = added
                .into_iter()
                .filter(|(o, _)| gone.contains(o) || !old.iter().any(|q| q.ordinal == *o))
                .map(|(o, b)| p(o, b, 2, 3))
                .collect();
            let got = merged(old.clone(), &|o| gone.contains(&o), &added);
            let mut want: Vec<Posting> =
                old.into_iter().filter(|q| !gone.contains(&q.ordinal)).chain(added).collect();
            want.sort_unstable();
            prop_assert_eq!(decode(&encode(&got)).unwrap(), want);
        }
    }
}
