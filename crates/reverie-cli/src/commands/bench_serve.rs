//! `reverie bench recall`: recall and context latency (p50, p99) on a generated 2,000-memory
//! store, beside baselines timed on the same queries in the same run.
//!
//! The store is `bench dream`'s (memories of eight notes about a coding agent's projects), with
//! an index memory and a glossary. No dream has run, so entries get their metadata when first
//! served, as in a store written through the API. Queries are questions an agent asks of
//! such notes, drawn with a fixed seed. Each query is timed through every operation in turn, so
//! that noise on this shared machine falls on all of them alike:
//!
//! - `get memory` — one memory read by path: the floor of a store round trip (baseline);
//! - on SQLite, the same read with a bare `rusqlite` statement on the same file (SQLite's
//!   defaults, every column decoded; baseline): SQLite's own cost, against which `get memory`
//!   measures the path around it (issue 18's target: within 3×). It is timed twice: the first
//!   read follows the previous query's served recall, a write, after which a connection's page
//!   cache starts cold; the second is the warm cost;
//! - `in-memory BM25` — the same ranking over every entry held in memory (baseline), whose top
//!   results are also checked against recall's;
//! - `recall` without serving, and with serving (counters bumped and servings written: one
//!   write transaction);
//! - `context` without serving (gather and render, 4,000 tokens), and its `render` step alone.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use rand::{RngExt, SeedableRng};
use reverie_core::context::{self, O200k};
use reverie_core::curation::GLOSSARY_PATH;
use reverie_core::entry::Document;
use reverie_core::search::{self, Bm25, RecallQuery, Via};
use reverie_store::MemoryQuery;
use reverie_store::serving::{self, ContextRequest};

use reverie_curate::assemble::index_lines;

use super::bench::{SUBJECTS, WORDS, generate_store};
use crate::cli::BenchRecallArgs;
use crate::output::{emit, json, table};

const QUESTIONS: [&str; 10] = [
    "which port does {s} listen on",
    "where is {s} configured",
    "how do I build {w}",
    "what must be set before running the {w} tests",
    "how is {w} deployed",
    "where does {w} write its logs",
    "{s} times out under load",
    "who owns {s}, and whom do I ask before changing it",
    "cargo test fails with error E0433, what do I add",
    "what should I run before committing to {s}",
];

/// A question a coding agent might ask its memory, from the generated stores' vocabulary.
pub(super) fn question(rng: &mut impl rand::Rng) -> String {
    QUESTIONS[rng.random_range(0..QUESTIONS.len())]
        .replace("{s}", SUBJECTS[rng.random_range(0..SUBJECTS.len())])
        .replace("{w}", WORDS[rng.random_range(0..WORDS.len())])
}

/// Latencies of one operation, in seconds.
#[derive(Default)]
struct Samples(Vec<f64>);

impl Samples {
    fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64());
    }
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }
    fn pct(&self, p: usize) -> f64 {
        let v = self.sorted();
        v[(v.len() * p / 100).min(v.len() - 1)]
    }
    fn mean(&self) -> f64 {
        self.0.iter().sum::<f64>() / self.0.len() as f64
    }
}

pub async fn recall(a: BenchRecallArgs, database: Option<String>, json_out: bool) -> Result<i32> {
    if a.queries == 0 || a.memories == 0 {
        bail!("--queries and --memories must be at least 1");
    }
    let dir = std::env::temp_dir().join(format!("reverie-bench-recall-{}", std::process::id()));
    let url = match &database {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&dir)?;
            dir.join("bench.db").display().to_string()
        }
    };
    let s = reverie_store::open(&url).await?;
    let bare = match url.starts_with("postgres://") || url.starts_with("postgresql://") {
        true => None,
        false => Some(BareSqlite::open(
            url.strip_prefix("sqlite://").unwrap_or(&url),
        )?),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);

    // The store: generated memories, an index of them as a dream writes it, and a glossary
    // of the words the notes and queries use.
    let built = Instant::now();
    let (store, bytes) = generate_store(&s, a.memories, &mut rng).await?;
    let actor = reverie_core::Actor::User {
        user_id: "user_bench".into(),
    };
    let policy = s.get_policy(&store).await?;
    s.create_memory(&store, GLOSSARY_PATH, &super::bench::glossary(), &actor)
        .await?;
    let mut index = String::from("# Memory index\n\n");
    {
        let all = list_paths(s.as_ref(), &store).await?;
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        for line in index_lines(&refs, &std::collections::BTreeMap::new(), 200) {
            index.push_str(&format!("- {line}\n"));
        }
    }
    s.create_memory(&store, &policy.budget.index_path, &index, &actor)
        .await?;
    let build_s = built.elapsed().as_secs_f64();

    // Every entry, in the order recall breaks ties (path, then block), for the in-memory
    // baseline; the index memory is not searched.
    let mut paths = list_paths(s.as_ref(), &store).await?;
    paths.sort();
    let mut docs: Vec<(String, String)> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for p in &paths {
        let m = s.get_memory_by_path(&store, p).await?;
        for e in Document::parse(m.content.as_deref().unwrap_or_default()).entries() {
            texts.push(search::document(&e.section, &e.body));
            docs.push((p.clone(), e.body));
        }
    }
    let doc_terms: Vec<std::collections::BTreeSet<String>> = texts
        .iter()
        .map(|t| search::terms(t).into_iter().collect())
        .collect();
    let bm25 = Bm25::new(&texts);
    // The index memory counts in the corpus's statistics, but is never a result.
    let index_entries = docs
        .iter()
        .filter(|(p, _)| *p == policy.budget.index_path)
        .count();

    let queries: Vec<String> = (0..a.queries + a.warmup)
        .map(|_| question(&mut rng))
        .collect();
    let (mut bare_get, mut bare_again) = (Samples::default(), Samples::default());
    let (mut get, mut mem, mut rec, mut rec_served, mut ctx, mut render) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    let mut first_mismatch: Option<String> = None;
    let (mut agree, mut results, mut ctx_tokens, mut candidates) = (0usize, 0usize, 0usize, 0usize);
    for (i, q) in queries.iter().enumerate() {
        let timed = i >= a.warmup;
        let path = &paths[rng.random_range(0..paths.len())];
        let t = Instant::now();
        std::hint::black_box(s.get_memory_by_path(&store, path).await?);
        let d_get = t.elapsed();
        let d_bare = match &bare {
            Some(b) => {
                let t = Instant::now();
                let found = std::hint::black_box(b.memory_by_path(&store, path)?);
                let first = t.elapsed();
                // A baseline that missed the row would time nothing.
                if found.is_none_or(|m| m.2 != *path) {
                    bail!("the bare SQLite read did not find the memory at {path}");
                }
                let t = Instant::now();
                std::hint::black_box(b.memory_by_path(&store, path)?);
                Some((first, t.elapsed()))
            }
            None => None,
        };

        let t = Instant::now();
        let mut ranked = std::hint::black_box(bm25.search(q, a.k + index_entries));
        let d_mem = t.elapsed();

        let mut rq = RecallQuery::new(q.clone());
        rq.limit = a.k;
        let t = Instant::now();
        let found = s.recall(&store, &rq).await?;
        let d_rec = t.elapsed();

        rq.serve = Some(Via::Recall);
        let t = Instant::now();
        std::hint::black_box(s.recall(&store, &rq).await?);
        let d_served = t.elapsed();

        let req = ContextRequest {
            query: Some(q.clone()),
            serve: false,
            ..ContextRequest::default()
        };
        let t = Instant::now();
        let c = serving::context(s.as_ref(), &store, &req).await?;
        let d_ctx = t.elapsed();
        let input = serving::gather(s.as_ref(), &store, &req).await?;
        let t = Instant::now();
        std::hint::black_box(context::render(&input, &O200k)?);
        let d_render = t.elapsed();

        ranked.retain(|&(doc, _)| docs[doc].0 != policy.budget.index_path);
        ranked.truncate(a.k);
        // Recall ranks as the in-memory index does: the same entries, the same score bits.
        let same = ranked.len() == found.len()
            && ranked.iter().zip(&found).all(|(&(doc, score), r)| {
                docs[doc].0 == r.path && docs[doc].1 == r.text && score == r.score
            });
        if !same && first_mismatch.is_none() {
            first_mismatch = Some(format!(
                "{q:?}\n  in memory: {:?}\n  recall:    {:?}",
                ranked
                    .iter()
                    .map(|&(d, score)| (&docs[d].0, score))
                    .collect::<Vec<_>>(),
                found.iter().map(|r| (&r.path, r.score)).collect::<Vec<_>>()
            ));
        }
        if timed {
            get.push(d_get);
            if let Some((first, again)) = d_bare {
                bare_get.push(first);
                bare_again.push(again);
            }
            mem.push(d_mem);
            rec.push(d_rec);
            rec_served.push(d_served);
            ctx.push(d_ctx);
            render.push(d_render);
            agree += usize::from(same);
            results += found.len();
            ctx_tokens += c.tokens;
            // The entries holding a query term: what the full-text engine hands to the ranking.
            let wanted = search::query_terms(q);
            candidates += doc_terms
                .iter()
                .filter(|d| wanted.iter().any(|t| d.contains(t)))
                .count();
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let entries = docs.len() - index_entries;
    let mut ops: Vec<(&str, &str, &Samples)> = vec![("get_memory", "get memory (baseline)", &get)];
    if bare.is_some() {
        ops.push((
            "bare_sqlite_get",
            "bare rusqlite, same read (baseline)",
            &bare_get,
        ));
        ops.push((
            "bare_sqlite_get_again",
            "bare rusqlite, read again",
            &bare_again,
        ));
    }
    ops.extend([
        ("bm25_in_memory", "in-memory BM25 (baseline)", &mem),
        ("recall", "recall", &rec),
        ("recall_served", "recall, served", &rec_served),
        ("context", "context (4,000 tokens)", &ctx),
        ("context_render", "context: render only", &render),
    ]);
    let base = get.pct(50);
    let out = serde_json::json!({
        "backend": s.backend(),
        "memories": paths.len(),
        "entries": entries,
        "store_bytes": bytes,
        "queries": a.queries,
        "k": a.k,
        "build_s": build_s,
        "mean_results": results as f64 / a.queries as f64,
        "mean_context_tokens": ctx_tokens as f64 / a.queries as f64,
        "mean_candidates": candidates as f64 / a.queries as f64,
        "recall_matches_in_memory_bm25": agree,
        "ops": ops.iter().map(|(key, _, v)| serde_json::json!({
            "op": key,
            "p50_ms": v.pct(50) * 1e3,
            "p99_ms": v.pct(99) * 1e3,
            "mean_ms": v.mean() * 1e3,
            "p50_vs_get_memory": v.pct(50) / base,
        })).collect::<Vec<_>>(),
    });
    if json_out {
        json(&out);
    } else {
        let mut t = vec![vec![
            "operation".to_string(),
            "p50".into(),
            "p99".into(),
            "mean".into(),
            "p50 ÷ get memory".into(),
        ]];
        for &(_, label, v) in &ops {
            t.push(vec![
                label.to_string(),
                format!("{:.3} ms", v.pct(50) * 1e3),
                format!("{:.3} ms", v.pct(99) * 1e3),
                format!("{:.3} ms", v.mean() * 1e3),
                format!("{:.2}×", v.pct(50) / base),
            ]);
        }
        table(&t);
        emit("");
        emit(&format!(
            "({} on {}: {} memories, {entries} entries, {:.1} MB; {} queries after {} warm-up, k = {}; \
             {:.0} candidate entries (holding a query term), {:.1} results and {:.0} context tokens \
             per query; recall matched the in-memory ranking \
             on {agree} of {} queries; store built in {build_s:.1} s)",
            s.backend(),
            if database.is_some() {
                "the given database"
            } else {
                "a scratch file"
            },
            paths.len(),
            bytes as f64 / 1e6,
            a.queries,
            a.warmup,
            a.k,
            candidates as f64 / a.queries as f64,
            results as f64 / a.queries as f64,
            ctx_tokens as f64 / a.queries as f64,
            a.queries
        ));
    }
    if agree != a.queries {
        eprintln!(
            "warning: recall ranked {} of {} queries differently from the in-memory BM25; \
             the first: {}",
            a.queries - agree,
            a.queries,
            first_mismatch.unwrap_or_default()
        );
        return Ok(1);
    }
    Ok(0)
}

/// A bare SQLite connection to the bench's database, outside reverie's store and its driver:
/// what a read costs SQLite itself.
struct BareSqlite(rusqlite::Connection);

impl BareSqlite {
    fn open(path: &str) -> Result<BareSqlite> {
        let c = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(BareSqlite(c))
    }

    /// The row `get memory` reads, every column decoded to an owned value.
    #[allow(clippy::type_complexity)]
    fn memory_by_path(
        &self,
        store: &str,
        path: &str,
    ) -> Result<
        Option<(
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
            i64,
            i64,
        )>,
    > {
        let mut st = self.0.prepare_cached(
            "SELECT id, store_id, path, content, content_sha256, content_size_bytes, version_id, \
             created_at, updated_at FROM memories WHERE store_id = ?1 AND path = ?2",
        )?;
        let mut rows = st.query([store, path])?;
        Ok(match rows.next()? {
            Some(r) => Some((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                String::from_utf8(r.get(3)?)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            )),
            None => None,
        })
    }
}

/// Every memory path of a store.
async fn list_paths(s: &dyn reverie_store::Store, store: &str) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let q = MemoryQuery {
            limit: Some(100),
            page: page.take(),
            ..MemoryQuery::default()
        };
        let listed = s.list_memories(store, &q).await?;
        paths.extend(listed.data.iter().map(|i| i.path().to_string()));
        match listed.next_page {
            Some(p) => page = Some(p),
            None => return Ok(paths),
        }
    }
}
