//! Recall on SQLite and on PostgreSQL: the index follows every write, the ranking is the pure
//! BM25 of `reverie_core::search` on both, filters, serving, and bad input.

mod common;

use std::sync::Arc;

use common::{new_store, user};
use reverie_core::entry::Document;
use reverie_core::search::{self, RecallQuery, Via};
use reverie_core::session::SourceFormat;
use reverie_core::{ErrorType, Timestamp};
use reverie_store::{NewSession, Store};

on_both_backends!(
    recall_ranks_and_follows_every_write,
    recall_equals_the_pure_ranking,
    recall_filters_by_prefix_and_recency,
    recall_serves_and_records_servings,
    recall_refuses_bad_input,
    index_follows_restores,
);

fn query(q: &str) -> RecallQuery {
    RecallQuery::new(q)
}

async fn texts(s: &dyn Store, store: &str, q: RecallQuery) -> Vec<String> {
    s.recall(store, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.text)
        .collect()
}

async fn recall_ranks_and_follows_every_write(s: Arc<dyn Store>) {
    let st = new_store(&*s, "recall").await;
    let a = s
        .create_memory(
            &st,
            "/notes/art.md",
            "# Art\n\n- Melanie painted a lake sunrise last year.\n- She runs a pottery class.\n",
            &user(),
        )
        .await
        .unwrap();
    s.create_memory(
        &st,
        "/notes/db.md",
        "## Staging database\n\n- listens on port 5432\n- `DATABASE_URL` is in `.env`\n",
        &user(),
    )
    .await
    .unwrap();

    // Stems meet ("painting" finds "painted"); stopwords alone find nothing.
    assert_eq!(
        texts(&*s, &st, query("who is painting?")).await,
        ["Melanie painted a lake sunrise last year."]
    );
    assert!(texts(&*s, &st, query("the and of")).await.is_empty());
    // Headings count: the port entry is found by the heading above it.
    let found = s.recall(&st, &query("staging port")).await.unwrap();
    assert_eq!(found[0].text, "listens on port 5432");
    assert_eq!(found[0].section, ["Staging database"]);
    assert_eq!(found[0].path, "/notes/db.md");
    assert!(found[0].score > 0.0);
    assert!(found[0].entry.is_none(), "no dream has seen it");
    // Identifiers stay whole.
    assert_eq!(
        texts(&*s, &st, query("DATABASE_URL")).await,
        ["`DATABASE_URL` is in `.env`"]
    );
    // Words of an identifier do not find it; here the heading above both entries does.
    assert_eq!(texts(&*s, &st, query("database url")).await.len(), 2);

    // An edit is searchable at once; the old text is not.
    s.update_memory(
        &st,
        &a.id,
        reverie_store::MemoryPatch {
            content: Some("# Art\n\n- Melanie sculpts in clay now.\n".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    assert!(texts(&*s, &st, query("sunrise")).await.is_empty());
    assert_eq!(
        texts(&*s, &st, query("clay sculpture")).await,
        ["Melanie sculpts in clay now."]
    );
    // A deleted memory is not found.
    s.delete_memory(&st, &a.id, None, &user()).await.unwrap();
    assert!(texts(&*s, &st, query("clay")).await.is_empty());
    // Another store's entries are not found.
    let other = new_store(&*s, "other").await;
    assert!(texts(&*s, &other, query("port")).await.is_empty());
}

const CORPUS: [(&str, &str); 4] = [
    (
        "/lessons.md",
        "# Lessons\n\n## tallyho\n\n- When `cargo test` fails with E0308, run `cargo check` first.\n- Run cargo fmt before committing; cargo clippy after.\n- The tests need PostgreSQL 15 running on port 5433.\n",
    ),
    (
        "/facts.md",
        "- The staging database listens on port 5432.\n- Deploys go through `make deploy`, never by hand.\n\nA paragraph about cargo and tests, long enough to be its own entry with many words in it.\n",
    ),
    (
        "/people/mel.md",
        "# Melanie\n\n- Painted a sunrise over the lake.\n- Runs and paints to destress; running farther lately.\n- Her café order: flat white, set in `DATABASE_URL` of the café app.\n",
    ),
    ("/MEMORY.md", "- [Lessons](lessons.md) — cargo and tests\n"),
];

async fn recall_equals_the_pure_ranking(s: Arc<dyn Store>) {
    let st = new_store(&*s, "pure").await;
    for (path, content) in CORPUS {
        s.create_memory(&st, path, content, &user()).await.unwrap();
    }
    // The reference: every entry of every memory (the index memory included in the
    // statistics, as in the store), ranked by the in-memory index.
    let mut docs = Vec::new();
    let mut where_ = Vec::new();
    let mut sorted = CORPUS.to_vec();
    sorted.sort();
    for (path, content) in &sorted {
        for e in Document::parse(content).entries() {
            docs.push(search::document(&e.section, &e.body));
            where_.push((path.to_string(), e.body.clone()));
        }
    }
    let index = search::Bm25::new(&docs);
    for q in [
        "cargo tests",
        "port",
        "running paint",
        "cargo fmt clippy E0308",
        "deploy by hand",
        "lessons",
        "café DATABASE_URL lake",
    ] {
        let got = s.recall(&st, &query(q).limit_to(20)).await.unwrap();
        let want: Vec<(String, String, f64)> = index
            .search(q, 100)
            .into_iter()
            .filter(|(i, _)| where_[*i].0 != "/MEMORY.md")
            .take(20)
            .map(|(i, score)| (where_[i].0.clone(), where_[i].1.clone(), score))
            .collect();
        assert!(!want.is_empty(), "{q}");
        assert_eq!(got.len(), want.len(), "{q}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((&g.path, &g.text), (&w.0, &w.1), "{q}");
            assert_eq!(
                g.score.to_bits(),
                w.2.to_bits(),
                "{q}: {} vs {}",
                g.score,
                w.2
            );
        }
    }
}

trait Limit {
    fn limit_to(self, n: usize) -> Self;
}

impl Limit for RecallQuery {
    fn limit_to(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }
}

async fn recall_filters_by_prefix_and_recency(s: Arc<dyn Store>) {
    let st = new_store(&*s, "filters").await;
    let old = s
        .create_memory(&st, "/a/old.md", "- deploy with make deploy\n", &user())
        .await
        .unwrap();
    s.create_memory(
        &st,
        "/b/other.md",
        "- deploy by hand is forbidden\n",
        &user(),
    )
    .await
    .unwrap();
    let mut q = query("deploy");
    q.path_prefix = Some("/a/".into());
    assert_eq!(texts(&*s, &st, q).await, ["deploy with make deploy"]);

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let cut = Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // The old entry is unchanged by this rewrite: it keeps its time; the new one is recent.
    s.update_memory(
        &st,
        &old.id,
        reverie_store::MemoryPatch {
            content: Some("- deploy with make deploy\n- deploy on Tuesdays only\n".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    let mut q = query("deploy");
    q.since = Some(cut);
    assert_eq!(texts(&*s, &st, q).await, ["deploy on Tuesdays only"]);
    let all = s.recall(&st, &query("deploy")).await.unwrap();
    assert_eq!(all.len(), 3);
    let unchanged = all
        .iter()
        .find(|r| r.text == "deploy with make deploy")
        .unwrap();
    assert!(unchanged.updated_at < cut);
}

async fn recall_serves_and_records_servings(s: Arc<dyn Store>) {
    let st = new_store(&*s, "serving").await;
    s.create_memory(
        &st,
        "/facts.md",
        "- port 5432\n- port 8080 for the admin UI\n",
        &user(),
    )
    .await
    .unwrap();
    let session = s
        .create_session(NewSession {
            store_id: st.clone(),
            source_format: SourceFormat::PlainText,
            source_path: None,
            outcome: None,
        })
        .await
        .unwrap();

    // Looking serves nothing.
    let looked = s.recall(&st, &query("port 5432")).await.unwrap();
    assert!(looked.iter().all(|r| r.entry.is_none()));
    assert!(s.list_entries(&st, None).await.unwrap().is_empty());

    let mut q = query("port 5432");
    q.serve = Some(Via::Recall);
    q.session_id = Some(session.id.clone());
    let served = s.recall(&st, &q).await.unwrap();
    assert_eq!(served.len(), 2);
    let top = served[0]
        .entry
        .clone()
        .expect("served entries get metadata");
    assert_eq!(top.served, 1);
    assert_eq!(top.text, "port 5432");
    // Served again, from the stored metadata this time.
    let again = s.recall(&st, &q).await.unwrap();
    assert_eq!(again[0].entry.as_ref().unwrap().id, top.id);
    assert_eq!(again[0].entry.as_ref().unwrap().served, 2);
    assert_eq!(s.get_entry(&st, &top.id).await.unwrap().served, 2);
    // The servings are recorded in the session, once per entry.
    let servings = s
        .servings_in(std::slice::from_ref(&session.id))
        .await
        .unwrap();
    assert_eq!(servings.len(), 2);
    assert!(servings.contains(&(session.id.clone(), top.id.clone())));
    // Without a session, served but not attributed.
    let mut q = query("admin");
    q.serve = Some(Via::Recall);
    let admin = s.recall(&st, &q).await.unwrap();
    assert_eq!(admin[0].entry.as_ref().unwrap().served, 3);
    assert_eq!(
        s.servings_in(std::slice::from_ref(&session.id))
            .await
            .unwrap()
            .len(),
        2
    );

    // A session of another store is refused, and nothing is served.
    let other = new_store(&*s, "other").await;
    let foreign = s
        .create_session(NewSession {
            store_id: other,
            source_format: SourceFormat::PlainText,
            source_path: None,
            outcome: None,
        })
        .await
        .unwrap();
    let mut q = query("port");
    q.serve = Some(Via::Recall);
    q.session_id = Some(foreign.id.clone());
    let err = s.recall(&st, &q).await.unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidRequest);
    assert!(err.to_string().contains(&foreign.id), "{err}");
    assert_eq!(s.get_entry(&st, &top.id).await.unwrap().served, 2);
}

async fn recall_refuses_bad_input(s: Arc<dyn Store>) {
    let st = new_store(&*s, "bad").await;
    let check = |q: RecallQuery, needle: &'static str| {
        let s = s.clone();
        let st = st.clone();
        async move {
            let err = s
                .recall(&st, &q)
                .await
                .expect_err(&format!("{q:?}").chars().take(200).collect::<String>());
            assert_eq!(err.error_type(), ErrorType::InvalidRequest, "{err}");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        }
    };
    check(query("   "), "query").await;
    check(query(&"x ".repeat(10_000)), "query").await;
    check(query("a").limit_to(0), "limit").await;
    check(query("a").limit_to(101), "limit").await;
    let mut q = query("a");
    q.path_prefix = Some("no-slash".into());
    check(q, "no-slash").await;
    let mut q = query("a");
    q.serve = Some(Via::Recall);
    q.session_id = Some("sesn-bad!".into());
    check(q, "sesn-bad!").await;
    let mut q = query("a");
    q.session_id = Some("sesn_0123".into());
    check(q, "serving").await;
    // A well-formed session that does not exist.
    let mut q = query("a");
    q.serve = Some(Via::Recall);
    q.session_id = Some("sesn_0123".into());
    let err = s.recall(&st, &q).await.unwrap_err();
    assert_eq!(err.error_type(), ErrorType::NotFound, "{err}");
    assert!(err.to_string().contains("sesn_0123"), "{err}");
    let err = s
        .recall("memstore_011111111111111111111111", &query("port"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::NotFound);
}

async fn index_follows_restores(s: Arc<dyn Store>) {
    let st = new_store(&*s, "restore").await;
    let m = s
        .create_memory(&st, "/a.md", "- the first plan: ship in May\n", &user())
        .await
        .unwrap();
    let at = s.get_store(&st).await.unwrap().revision;
    s.update_memory(
        &st,
        &m.id,
        reverie_store::MemoryPatch {
            content: Some("- the second plan: ship in June\n".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    assert!(texts(&*s, &st, query("May")).await.is_empty());
    s.restore_store(&st, at, &user()).await.unwrap();
    assert_eq!(
        texts(&*s, &st, query("ship plan")).await,
        ["the first plan: ship in May"]
    );
}

/// A database written before the index existed (or whose index is behind) is indexed when
/// it is opened.
mod backfill {
    use super::*;

    async fn check(fresh: common::Fresh) {
        let s = fresh.store.clone();
        let st = new_store(&*s, "old").await;
        s.create_memory(&st, "/a.md", "- port 5432 for staging\n", &user())
            .await
            .unwrap();
        s.create_memory(&st, "/b.md", "- port 8080 for admin\n", &user())
            .await
            .unwrap();
        assert_eq!(s.recall(&st, &query("port")).await.unwrap().len(), 2);
        assert!(s.check_integrity(&st).await.unwrap().is_empty());
        let sql = |statements: &'static [&'static str]| common::sql(&fresh.url, statements);
        // The integrity check sees an index that no longer matches: one memory's entries gone,
        // the other's recorded digest wrong.
        let a = s.get_memory_by_path(&st, "/a.md").await.unwrap().id;
        let b = s.get_memory_by_path(&st, "/b.md").await.unwrap().id;
        sql(&["DELETE FROM entry_index WHERE memory_id IN (SELECT id FROM memories WHERE path = '/a.md')",
              "UPDATE search_state SET content_sha256 = 'stale' WHERE memory_id IN (SELECT id FROM memories WHERE path = '/b.md')"]).await;
        let problems = s.check_integrity(&st).await.unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains(&a) && problems[0].contains("search index"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains(&b) && problems[1].contains("stale"),
            "{problems:?}"
        );
        // Forget the indexes, as a database of an older reverie never had them.
        sql(&[
            "DELETE FROM entry_index",
            "DELETE FROM search_state",
            "DELETE FROM recall_base",
            "DELETE FROM recall_members",
            "DELETE FROM recall_postings",
            "DELETE FROM recall_dirty",
            "DELETE FROM search_meta",
        ])
        .await;
        let problems = s.check_integrity(&st).await.unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p == &format!("memory {a} is not in the search index")),
            "{problems:?}"
        );
        assert!(s.recall(&st, &query("port")).await.unwrap().is_empty());
        let s = common::reopen(&fresh).await;
        let found = s.recall(&st, &query("port staging")).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].text, "port 5432 for staging");
        assert!(s.check_integrity(&st).await.unwrap().is_empty());
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
