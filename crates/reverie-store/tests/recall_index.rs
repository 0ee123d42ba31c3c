//! The recall index on SQLite and PostgreSQL: through many writes, merges and rebuilds, recall
//! returns exactly what the pure BM25 of `reverie_core::search` ranks over the memories as they
//! are; an index that is missing, from another format or unreadable is never trusted, and is
//! rebuilt.

mod common;

use std::sync::Arc;

use common::{new_store, user};
use reverie_core::entry::Document;
use reverie_core::search::{self, RecallQuery};
use reverie_store::{MemoryPatch, Store};

on_both_backends!(
    recall_follows_writes_merges_and_renames,
    recall_follows_writes_across_chunks
);

/// A small generator, so that the same writes run on both backends.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const WORDS: &[&str] = &[
    "cargo", "tests", "deploy", "port", "staging", "schema", "release", "lint", "café", "naïve",
    "docker", "retry",
];

fn note(rng: &mut Lcg) -> String {
    let mut out = String::new();
    for _ in 0..=rng.next(4) {
        let words: Vec<&str> = (0..=rng.next(5))
            .map(|_| WORDS[rng.next(WORDS.len() as u64) as usize])
            .collect();
        out.push_str(&format!("- {}\n", words.join(" ")));
    }
    out
}

/// What recall must answer: the pure ranking over every entry of the store's memories now
/// (the index memory counted in the statistics, never returned), filtered, best first.
async fn expected(
    s: &dyn Store,
    st: &str,
    q: &str,
    prefix: Option<&str>,
    limit: usize,
) -> Vec<(String, String, u64)> {
    let mut memories = s.memories_with_content(st).await.unwrap();
    memories.sort_by(|a, b| a.path.cmp(&b.path));
    let (mut docs, mut where_) = (Vec::new(), Vec::new());
    for m in &memories {
        for e in Document::parse(m.content.as_deref().unwrap_or_default()).entries() {
            docs.push(search::document(&e.section, &e.body));
            where_.push((m.path.clone(), e.body.clone()));
        }
    }
    search::Bm25::new(&docs)
        .search(q, docs.len())
        .into_iter()
        .filter(|(i, _)| where_[*i].0 != "/MEMORY.md")
        .filter(|(i, _)| prefix.is_none_or(|p| where_[*i].0.starts_with(p)))
        .take(limit)
        .map(|(i, score)| (where_[i].0.clone(), where_[i].1.clone(), score.to_bits()))
        .collect()
}

async fn agrees(s: &dyn Store, st: &str, rng: &mut Lcg, round: usize) {
    for _ in 0..3 {
        let q = format!(
            "{} {}",
            WORDS[rng.next(WORDS.len() as u64) as usize],
            WORDS[rng.next(WORDS.len() as u64) as usize]
        );
        let prefix = (rng.next(3) == 0).then_some("/b/");
        let limit = 1 + rng.next(12) as usize;
        let mut query = RecallQuery::new(&q);
        query.limit = limit;
        query.path_prefix = prefix.map(str::to_string);
        let got: Vec<(String, String, u64)> = s
            .recall(st, &query)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.path, r.text, r.score.to_bits()))
            .collect();
        let want = expected(s, st, &q, prefix, limit).await;
        assert_eq!(
            got, want,
            "round {round}: {q:?} under {prefix:?}, limit {limit}"
        );
    }
}

async fn recall_follows_writes_merges_and_renames(s: Arc<dyn Store>) {
    let st = new_store(&*s, "index").await;
    s.create_memory(&st, "/MEMORY.md", "- [notes](a0.md) cargo tests\n", &user())
        .await
        .unwrap();
    let mut rng = Lcg(7);
    let mut paths: Vec<String> = Vec::new();
    // Enough writes for several merges (one every 32 dirty memories), with creates, edits,
    // renames and deletes mixed.
    for round in 0..160 {
        let roll = rng.next(10);
        if paths.len() < 4 || roll < 4 {
            let path = format!("/{}/{round}.md", ["a", "b"][rng.next(2) as usize]);
            s.create_memory(&st, &path, &note(&mut rng), &user())
                .await
                .unwrap();
            paths.push(path);
        } else {
            let i = rng.next(paths.len() as u64) as usize;
            let id = s.get_memory_by_path(&st, &paths[i]).await.unwrap().id;
            if roll < 7 {
                let patch = MemoryPatch {
                    content: Some(note(&mut rng)),
                    ..Default::default()
                };
                s.update_memory(&st, &id, patch, &user()).await.unwrap();
            } else if roll < 9 {
                let to = format!("/{}/{round}-moved.md", ["a", "b"][rng.next(2) as usize]);
                let patch = MemoryPatch {
                    path: Some(to.clone()),
                    ..Default::default()
                };
                s.update_memory(&st, &id, patch, &user()).await.unwrap();
                paths[i] = to;
            } else {
                s.delete_memory(&st, &id, None, &user()).await.unwrap();
                paths.remove(i);
            }
        }
        if round % 4 == 0 {
            agrees(&*s, &st, &mut rng, round).await;
        }
    }
    agrees(&*s, &st, &mut rng, 160).await;
}

/// Enough memories for several chunks of each term's postings (256 memories a chunk), then
/// edits and deletes spread over them and new memories past them.
async fn recall_follows_writes_across_chunks(s: Arc<dyn Store>) {
    let st = new_store(&*s, "chunks").await;
    let mut rng = Lcg(5);
    let mut paths = Vec::new();
    for i in 0..700 {
        let path = format!("/{}/{i}.md", ["a", "b"][rng.next(2) as usize]);
        let words: Vec<&str> = (0..=rng.next(3))
            .map(|_| WORDS[rng.next(WORDS.len() as u64) as usize])
            .collect();
        s.create_memory(&st, &path, &format!("- {}\n", words.join(" ")), &user())
            .await
            .unwrap();
        paths.push(path);
    }
    agrees(&*s, &st, &mut rng, 0).await;
    for round in 1..=120 {
        let i = rng.next(paths.len() as u64) as usize;
        let id = s.get_memory_by_path(&st, &paths[i]).await.unwrap().id;
        match rng.next(3) {
            0 => {
                s.delete_memory(&st, &id, None, &user()).await.unwrap();
                paths.remove(i);
            }
            1 => {
                let patch = MemoryPatch {
                    content: Some(note(&mut rng)),
                    ..Default::default()
                };
                s.update_memory(&st, &id, patch, &user()).await.unwrap();
            }
            _ => {
                let path = format!("/b/new-{round}.md");
                s.create_memory(&st, &path, &note(&mut rng), &user())
                    .await
                    .unwrap();
                paths.push(path);
            }
        }
        if round % 10 == 0 {
            agrees(&*s, &st, &mut rng, round).await;
        }
    }
}

/// An index that cannot be trusted — gone, of another format, or unreadable — is ranked
/// around, and rebuilt: on the next open, or at the store's next merge.
mod untrusted {
    use super::*;

    async fn check(fresh: common::Fresh) {
        let s = fresh.store.clone();
        let st = new_store(&*s, "untrusted").await;
        let mut rng = Lcg(11);
        for i in 0..40 {
            s.create_memory(&st, &format!("/b/{i}.md"), &note(&mut rng), &user())
                .await
                .unwrap();
        }
        agrees(&*s, &st, &mut rng, 0).await;

        // Every postings row unreadable: recall still answers right.
        let garbage = if fresh.url.starts_with("postgres") {
            "UPDATE recall_postings SET data = '\\xffffffffffff'::bytea"
        } else {
            "UPDATE recall_postings SET data = X'FFFFFFFFFFFF'"
        };
        common::sql(&fresh.url, &[garbage]).await;
        assert!(unreadable_rows(&fresh.url).await > 0);
        // A process that kept nothing of the index reads the rows, and ranks around them.
        agrees(&*common::reopen(&fresh).await, &st, &mut rng, 1).await;
        // The next merge finds the rows unreadable and builds the index anew.
        for i in 40..72 {
            s.create_memory(&st, &format!("/a/{i}.md"), &note(&mut rng), &user())
                .await
                .unwrap();
        }
        let reader = common::reopen(&fresh).await;
        assert_eq!(unreadable_rows(&fresh.url).await, 0);
        agrees(&*reader, &st, &mut rng, 2).await;

        // Another format, then no index at all: both are built again at the next open.
        common::sql(&fresh.url, &["UPDATE recall_base SET format = 999"]).await;
        agrees(&*s, &st, &mut rng, 3).await;
        let s = common::reopen(&fresh).await;
        assert_eq!(formats(&fresh.url).await, vec![1]);
        agrees(&*s, &st, &mut rng, 4).await;
        common::sql(
            &fresh.url,
            &[
                "DELETE FROM recall_base",
                "DELETE FROM recall_members",
                "DELETE FROM recall_postings",
            ],
        )
        .await;
        agrees(&*s, &st, &mut rng, 5).await;
        let s = common::reopen(&fresh).await;
        assert_eq!(formats(&fresh.url).await, vec![1]);
        agrees(&*s, &st, &mut rng, 6).await;
    }

    async fn formats(url: &str) -> Vec<i64> {
        scalars(url, "SELECT format FROM recall_base").await
    }

    /// Postings rows still holding the bytes written over them.
    async fn unreadable_rows(url: &str) -> i64 {
        let q = if url.starts_with("postgres") {
            "SELECT COUNT(*) FROM recall_postings WHERE data = '\\xffffffffffff'::bytea"
        } else {
            "SELECT COUNT(*) FROM recall_postings WHERE data = X'FFFFFFFFFFFF'"
        };
        scalars(url, q).await[0]
    }

    async fn scalars(url: &str, q: &'static str) -> Vec<i64> {
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query_scalar(q).fetch_all(&pool).await.unwrap()
        } else {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{url}"))
                .await
                .unwrap();
            sqlx::query_scalar(q).fetch_all(&pool).await.unwrap()
        }
    }

    /// Two handles on one database, as two processes (or two PostgreSQL workers): what one
    /// keeps of the index is never used once the other has written.
    async fn two_handles(fresh: common::Fresh) {
        let writer = fresh.store.clone();
        let reader = common::reopen(&fresh).await;
        let st = new_store(&*writer, "shared").await;
        let mut rng = Lcg(23);
        let mut paths = Vec::new();
        for round in 0..80 {
            if paths.len() < 3 || rng.next(3) > 0 {
                let path = format!("/b/{round}.md");
                writer
                    .create_memory(&st, &path, &note(&mut rng), &user())
                    .await
                    .unwrap();
                paths.push(path);
            } else {
                let path = paths.remove(rng.next(paths.len() as u64) as usize);
                let id = writer.get_memory_by_path(&st, &path).await.unwrap().id;
                writer.delete_memory(&st, &id, None, &user()).await.unwrap();
            }
            // The reader recalls after every write, so that it has kept something each time.
            agrees(&*reader, &st, &mut rng, round).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_handles_sqlite() {
        two_handles(common::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_handles_postgres() {
        two_handles(common::postgres().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        check(common::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        check(common::postgres().await).await;
    }
}
