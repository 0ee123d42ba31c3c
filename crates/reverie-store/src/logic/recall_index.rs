//! The recall index: each store's postings, kept in the database beside the entry index, so that
//! recall reads the postings of its query's terms and the few entries it returns instead of
//! every entry holding a query term.
//!
//! It has two parts, both in the store's own transactions, so that every reader sees them
//! agree with the memories (on PostgreSQL, every worker sharing the database too):
//!
//! - the *merged* postings (`recall_postings`, rows per term and chunk of ordinals,
//!   `postings.rs`), the memories
//!   they hold (`recall_members`) and the store's totals (`recall_base`);
//! - the *dirty* memories (`recall_dirty`): every write marks the memories it re-indexes.
//!   Recall masks their merged postings and reads their entries from the entry index instead.
//!
//! A write that leaves [`MERGE_AT`] memories dirty merges them, rewriting the rows of the terms
//! they had or have. The index is derived, never the source of a text: a store whose index is
//! missing, from another format or unreadable is ranked from the entry index as before, and its
//! index rebuilt when the database is next opened or the store next merges. Scores are the
//! entry index's, bit for bit: the same statistics, summed in the same order
//! (`search::score_aligned`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use reverie_core::Result;
use reverie_core::search::{self, CorpusStats, RecallQuery};

use crate::dao_search::{DirtyRow, IndexedRow, MemberRow, RecallBaseRow, SearchDao};
use crate::postings::{self, Corrupt, FORMAT, Posting};
use crate::recall_cache::{Dirty, RecallCache, Resolved};

/// Dirty memories a write merges at. Recall reads every dirty memory's entries, so this bounds
/// what it reads beyond the postings; a merge rewrites the postings of every term the dirty
/// memories hold, so this spreads that over as many writes.
pub(crate) const MERGE_AT: i64 = 32;

/// An entry recall found, with what the answer and its order need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub score: f64,
    pub memory_id: String,
    pub path: String,
    pub block: i64,
    pub updated_at: i64,
}

/// Records that `memory_id` was re-indexed: it now has `counts.0` entries of `counts.1` terms
/// in all (none: it is gone).
pub(crate) async fn mark<C: SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    memory_id: &str,
    counts: (i64, i64),
) -> Result<()> {
    conn.mark_recall_dirty(
        store_id,
        &DirtyRow {
            memory_id: memory_id.to_string(),
            docs: counts.0,
            terms: counts.1,
            was: None,
        },
    )
    .await
}

/// Draws the store's index a new generation: for a change to its dirty memories made without
/// a revision (re-indexing at open), so that no process goes on using what it kept of them.
pub(crate) async fn touch<C: SearchDao + ?Sized>(conn: &mut C, store_id: &str) -> Result<()> {
    conn.set_recall_generation(store_id, new_generation()).await
}

/// The index of a new, empty store.
pub(crate) async fn start<C: SearchDao + ?Sized>(conn: &mut C, store_id: &str) -> Result<()> {
    put_base(conn, store_id, (0, 0), 0).await
}

/// Merges the store's dirty memories once there are [`MERGE_AT`] of them.
pub(crate) async fn merge_if_due<C: SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
) -> Result<()> {
    if conn.recall_dirty_count(store_id).await? >= MERGE_AT {
        merge(conn, store_id).await?;
    }
    Ok(())
}

/// Brings the store's index up to date: merges its dirty memories, or builds it anew from the
/// entry index if it has none, one of another format, or one that does not read back.
pub(crate) async fn merge<C: SearchDao + ?Sized>(conn: &mut C, store_id: &str) -> Result<()> {
    let base = match conn.recall_base(store_id).await? {
        Some(b) if b.format == FORMAT && b.next_ordinal < i64::from(u32::MAX / 2) => b,
        Some(b) => {
            tracing::info!(
                store_id,
                format = b.format,
                "rebuilding the store's recall index (another format, or its numbering is spent)"
            );
            return build(conn, store_id).await;
        }
        None => return build(conn, store_id).await,
    };
    match merge_into(conn, store_id, base).await? {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(store_id, error = %e, "rebuilding the store's recall index");
            build(conn, store_id).await
        }
    }
}

/// A generation for the index as a merge or build leaves it: drawn, so that no two states of
/// a store's index share one, even across a rebuild from nothing.
fn new_generation() -> i64 {
    rand::random::<i64>() & i64::MAX
}

/// Writes the store's totals as a merge or build leaves them, under a new generation.
async fn put_base<C: SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    (docs, terms): (i64, i64),
    next_ordinal: i64,
) -> Result<()> {
    let base = RecallBaseRow {
        format: FORMAT,
        generation: new_generation(),
        docs,
        terms,
        next_ordinal,
    };
    conn.put_recall_base(store_id, &base).await
}

/// The row of a member.
fn member_row(memory_id: &str, ordinal: i64, m: &postings::Member) -> MemberRow {
    MemberRow {
        memory_id: memory_id.to_string(),
        ordinal,
        docs: m.docs,
        terms: m.terms,
        blocks: m.blocks.clone(),
        term_set: m.term_set(),
    }
}

/// The memories of `rows` (sorted by memory) with their entries.
fn by_memory(rows: &[IndexedRow]) -> Vec<(&str, Vec<postings::Indexed<'_>>)> {
    let mut out: Vec<(&str, Vec<postings::Indexed<'_>>)> = Vec::new();
    for r in rows {
        let e = postings::Indexed {
            block: r.block,
            terms: &r.terms,
            term_count: r.term_count,
            updated_at: r.updated_at,
        };
        match out.last_mut() {
            Some((id, list)) if *id == r.memory_id => list.push(e),
            _ => out.push((&r.memory_id, vec![e])),
        }
    }
    out
}

async fn merge_into<C: SearchDao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    base: RecallBaseRow,
) -> Result<std::result::Result<(), Corrupt>> {
    let dirty = conn.recall_dirty(store_id).await?;
    if dirty.is_empty() {
        return Ok(Ok(()));
    }
    let ids: Vec<String> = dirty.iter().map(|d| d.memory_id.clone()).collect();
    let old = conn.recall_members(store_id, &ids).await?;
    let rows = conn.indexed_rows(store_id, Some(&ids)).await?;

    let ordinal_of: HashMap<&str, i64> = old
        .iter()
        .map(|m| (m.memory_id.as_str(), m.ordinal))
        .collect();
    let gone: HashSet<u32> = old.iter().map(|m| m.ordinal as u32).collect();
    let mut docs = base.docs - old.iter().map(|m| m.docs).sum::<i64>();
    let mut terms = base.terms - old.iter().map(|m| m.terms).sum::<i64>();
    let mut next = base.next_ordinal;
    // The chunks the merge rewrites: where the dirty memories' terms were and now are.
    let mut touched: BTreeSet<(String, i64)> = old
        .iter()
        .flat_map(|m| {
            m.term_set
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(move |t| (t.to_string(), postings::chunk_of(m.ordinal as u32)))
        })
        .collect();
    let mut added: BTreeMap<(String, i64), Vec<Posting>> = BTreeMap::new();
    let mut members = Vec::new();
    for (memory_id, entries) in by_memory(&rows) {
        let ordinal = ordinal_of.get(memory_id).copied().unwrap_or_else(|| {
            next += 1;
            next - 1
        });
        let m = postings::member(ordinal as u32, &entries);
        docs += m.docs;
        terms += m.terms;
        members.push(member_row(memory_id, ordinal, &m));
        let chunk = postings::chunk_of(ordinal as u32);
        for (t, list) in m.postings {
            touched.insert((t.clone(), chunk));
            added.entry((t, chunk)).or_default().extend(list);
        }
    }

    let touched: Vec<(String, i64)> = touched.into_iter().collect();
    let existing: HashMap<(String, i64), Vec<u8>> = conn
        .recall_postings_chunks(store_id, &touched)
        .await?
        .into_iter()
        .map(|(t, c, data)| ((t, c), data))
        .collect();
    let (mut put, mut emptied) = (Vec::new(), Vec::new());
    for key in touched {
        let old_list = match existing.get(&key) {
            Some(bytes) => match postings::decode(bytes) {
                Ok(list) => list,
                Err(e) => return Ok(Err(e)),
            },
            None => Vec::new(),
        };
        let list = postings::merged(
            old_list,
            &|o| gone.contains(&o),
            added.get(&key).map_or(&[][..], Vec::as_slice),
        );
        if list.is_empty() {
            if existing.contains_key(&key) {
                emptied.push(key);
            }
        } else {
            put.push((key.0, key.1, postings::encode(&list)));
        }
    }
    conn.put_recall_postings(store_id, &put).await?;
    conn.delete_recall_postings(store_id, &emptied).await?;
    conn.delete_recall_members(store_id, &ids).await?;
    conn.insert_recall_members(store_id, &members).await?;
    put_base(conn, store_id, (docs, terms), next).await?;
    conn.clear_recall_dirty(store_id).await?;
    Ok(Ok(()))
}

/// Builds the store's index anew from its entry index.
pub(crate) async fn build<C: SearchDao + ?Sized>(conn: &mut C, store_id: &str) -> Result<()> {
    conn.clear_recall_index(store_id).await?;
    let rows = conn.indexed_rows(store_id, None).await?;
    let mut lists: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
    let mut members = Vec::new();
    let (mut docs, mut terms) = (0i64, 0i64);
    for (ordinal, (memory_id, entries)) in by_memory(&rows).into_iter().enumerate() {
        let m = postings::member(ordinal as u32, &entries);
        docs += m.docs;
        terms += m.terms;
        members.push(member_row(memory_id, ordinal as i64, &m));
        // Ordinals rise with the memories, so each list stays sorted as it grows.
        for (t, list) in m.postings {
            lists.entry(t).or_default().extend(list);
        }
    }
    let mut put: Vec<(String, i64, Vec<u8>)> = Vec::new();
    for (t, list) in lists {
        for part in
            list.chunk_by(|a, b| postings::chunk_of(a.ordinal) == postings::chunk_of(b.ordinal))
        {
            put.push((
                t.clone(),
                postings::chunk_of(part[0].ordinal),
                postings::encode(part),
            ));
        }
    }
    conn.put_recall_postings(store_id, &put).await?;
    conn.insert_recall_members(store_id, &members).await?;
    put_base(conn, store_id, (docs, terms), members.len() as i64).await
}

/// A candidate before it is resolved: a merged entry, by ordinal and block, or a dirty one.
#[derive(Debug, Clone, Copy)]
enum Key {
    Merged(u32, u32),
    Dirty(usize),
}

/// Ranks the store's entries for `tokens` (sorted, distinct full-text tokens) from the index,
/// as `logic::search` ranks them from the entry index: `None` when the store has no usable
/// index, and the caller ranks without it. `revision` is the store's, read in the caller's
/// snapshot.
pub(crate) async fn rank<C: SearchDao + ?Sized>(
    conn: &mut C,
    cache: &RecallCache,
    (store_id, revision): (&str, i64),
    tokens: &[String],
    query: &RecallQuery,
    index_path: &str,
) -> Result<Option<Vec<Hit>>> {
    match rank_in(conn, cache, (store_id, revision), tokens, query, index_path).await? {
        Ok(found) => Ok(found),
        Err(e) => {
            tracing::warn!(store_id, error = %e, "recall ranks from the entry index instead");
            Ok(None)
        }
    }
}

async fn rank_in<C: SearchDao + ?Sized>(
    conn: &mut C,
    cache: &RecallCache,
    (store_id, revision): (&str, i64),
    tokens: &[String],
    query: &RecallQuery,
    index_path: &str,
) -> Result<std::result::Result<Option<Vec<Hit>>, Corrupt>> {
    let Some(base) = conn.recall_base(store_id).await? else {
        return Ok(Ok(None));
    };
    if base.format != FORMAT {
        return Ok(Ok(None));
    }
    let generation = base.generation;
    let kept = match cache.dirty(store_id, generation, revision) {
        Some(kept) => kept,
        None => {
            let rows = conn.recall_dirty(store_id).await?;
            let candidates = if rows.is_empty() {
                Vec::new()
            } else {
                conn.dirty_candidates(store_id).await?
            };
            let kept = Arc::new(Dirty { rows, candidates });
            cache.keep_dirty(store_id, generation, revision, kept.clone());
            kept
        }
    };
    let (dirty, dirty_rows) = (&kept.rows, &kept.candidates);
    let was = || dirty.iter().filter_map(|d| d.was);
    let docs =
        base.docs - was().map(|w| w.1).sum::<i64>() + dirty.iter().map(|d| d.docs).sum::<i64>();
    let terms =
        base.terms - was().map(|w| w.2).sum::<i64>() + dirty.iter().map(|d| d.terms).sum::<i64>();
    if docs <= 0 {
        return Ok(Ok(Some(Vec::new())));
    }
    let stats = CorpusStats {
        docs: docs as u64,
        average_len: terms as f64 / docs as f64,
    };
    let masked: HashSet<u32> = was().map(|w| w.0 as u32).collect();

    // Each query term's merged postings, kept or read; those of dirty memories are skipped.
    let mut lists: Vec<Arc<Vec<Posting>>> = Vec::with_capacity(tokens.len());
    let mut missing = Vec::new();
    for t in tokens {
        match cache.postings(store_id, generation, t) {
            Some(list) => lists.push(list),
            None => {
                missing.push(t.clone());
                lists.push(Arc::new(Vec::new()));
            }
        }
    }
    if !missing.is_empty() {
        // Chunks come by term and chunk, so each term's list is their concatenation, sorted.
        let mut read: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
        for (term, _, bytes) in conn.recall_postings(store_id, &missing).await? {
            let list = read.entry(term).or_default();
            if let Err(e) = postings::for_each(&bytes, |p| list.push(p)) {
                return Ok(Err(e));
            }
        }
        for (term, list) in read {
            if !list.is_sorted() {
                return Ok(Err(Corrupt("a term's chunks overlap")));
            }
            let list = Arc::new(list);
            cache.keep_postings(store_id, generation, &term, list.clone());
            if let Ok(i) = tokens.binary_search(&term) {
                lists[i] = list;
            }
        }
    }
    let live = |p: &Posting| !masked.contains(&p.ordinal);
    // The dirty entries' frequencies of each query term.
    let position: HashMap<&str, usize> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut dirty_tfs: Vec<(usize, Vec<u32>)> = Vec::new();
    for (i, c) in dirty_rows.iter().enumerate() {
        let mut tfs = vec![0u32; tokens.len()];
        for t in c.terms.split(' ') {
            if let Some(&p) = position.get(t) {
                tfs[p] += 1;
            }
        }
        if tfs.iter().any(|&f| f > 0) {
            dirty_tfs.push((i, tfs));
        }
    }
    let dfs: Vec<u64> = (0..tokens.len())
        .map(|i| {
            let merged = if masked.is_empty() {
                lists[i].len()
            } else {
                lists[i].iter().filter(|p| live(p)).count()
            };
            merged as u64 + dirty_tfs.iter().filter(|(_, tfs)| tfs[i] > 0).count() as u64
        })
        .collect();
    let idfs: Vec<f64> = dfs.iter().map(|&n| search::idf(n.max(1), &stats)).collect();

    // Score the merged entries in one pass over the lists, merged by (ordinal, block).
    let mut scored: Vec<(f64, Key)> = Vec::new();
    let mut heads = vec![0usize; lists.len()];
    let mut tfs = vec![0u32; tokens.len()];
    loop {
        // Past the postings of dirty memories: they are scored from their entries below.
        for (l, h) in lists.iter().zip(heads.iter_mut()) {
            while l.get(*h).is_some_and(|p| !live(p)) {
                *h += 1;
            }
        }
        let next = lists
            .iter()
            .zip(&heads)
            .filter_map(|(l, &h)| l.get(h).map(|p| (p.ordinal, p.block)))
            .min();
        let Some((ordinal, block)) = next else { break };
        let mut len = 0;
        for (i, l) in lists.iter().enumerate() {
            tfs[i] = 0;
            if let Some(p) = l.get(heads[i])
                && (p.ordinal, p.block) == (ordinal, block)
            {
                tfs[i] = p.tf;
                len = p.len;
                heads[i] += 1;
            }
        }
        let s = search::score_aligned(&tfs, &idfs, len, &stats);
        if s > 0.0 {
            scored.push((s, Key::Merged(ordinal, block)));
        }
    }
    for (i, tfs) in &dirty_tfs {
        let len = u32::try_from(dirty_rows[*i].term_count).unwrap_or(u32::MAX);
        let s = search::score_aligned(tfs, &idfs, len, &stats);
        if s > 0.0 {
            scored.push((s, Key::Dirty(*i)));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));

    // Resolve the best in turn, until the next can no longer reach the results.
    let mut hits: Vec<Hit> = Vec::new();
    let mut at = 0;
    let mut batch = query.limit + 8;
    while at < scored.len() {
        let mut end = (at + batch).min(scored.len());
        while end < scored.len() && scored[end].0 == scored[end - 1].0 {
            end += 1;
        }
        let ordinals: Vec<u32> = scored[at..end]
            .iter()
            .filter_map(|(_, k)| match k {
                Key::Merged(o, _) => Some(*o),
                Key::Dirty(_) => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (mut members, missing) = cache.members(store_id, generation, &ordinals);
        if !missing.is_empty() {
            let wanted: Vec<i64> = missing.iter().map(|&o| i64::from(o)).collect();
            let mut read = HashMap::new();
            for m in conn.recall_members_at(store_id, &wanted).await? {
                let blocks = match postings::parse_blocks(&m.blocks) {
                    Ok(b) => b,
                    Err(e) => return Ok(Err(e)),
                };
                let resolved = Resolved {
                    memory_id: m.memory_id,
                    path: m.path,
                    blocks,
                };
                read.insert(m.ordinal as u32, Arc::new(resolved));
            }
            cache.keep_members(store_id, generation, &read);
            members.extend(read);
        }
        for (score, key) in &scored[at..end] {
            let hit = match *key {
                Key::Merged(ordinal, block) => {
                    let Some(m) = members.get(&ordinal) else {
                        return Ok(Err(Corrupt("a posting names a memory the index lacks")));
                    };
                    let Some(&updated_at) = m.blocks.get(&block) else {
                        return Ok(Err(Corrupt("a posting names a block its memory lacks")));
                    };
                    Hit {
                        score: *score,
                        memory_id: m.memory_id.clone(),
                        path: m.path.clone(),
                        block: i64::from(block),
                        updated_at,
                    }
                }
                Key::Dirty(i) => {
                    let c = &dirty_rows[i];
                    Hit {
                        score: *score,
                        memory_id: c.memory_id.clone(),
                        path: c.path.clone(),
                        block: c.block,
                        updated_at: c.updated_at,
                    }
                }
            };
            if keeps(query, index_path, &hit.path, hit.updated_at) {
                hits.push(hit);
            }
        }
        at = end;
        batch *= 2;
        order(&mut hits);
        if hits.len() >= query.limit
            && scored
                .get(at)
                .is_none_or(|(s, _)| *s < hits[query.limit - 1].score)
        {
            break;
        }
    }
    hits.truncate(query.limit);
    Ok(Ok(Some(hits)))
}

/// Whether recall's filters keep an entry at `path`, last changed `updated_at`.
pub(crate) fn keeps(query: &RecallQuery, index_path: &str, path: &str, updated_at: i64) -> bool {
    path != index_path
        && query
            .path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p))
        && query.since.is_none_or(|t| updated_at >= t.micros())
}

/// Recall's order: best first, then by path and block.
pub(crate) fn order(hits: &mut [Hit]) {
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.block.cmp(&b.block))
    });
}
