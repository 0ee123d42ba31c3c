//! Shared by the ingest tests: a fresh store on either backend, a store in it, an ingest run,
//! and the events of a session.

#![allow(dead_code)]

use std::sync::Arc;

use reverie_core::session::Event;
use reverie_ingest::{Ingest, IngestReport, Options, Quiet};
use reverie_store::{NewStore, Store, Synchronous};

pub struct Fresh {
    pub store: Arc<dyn Store>,
    pub store_id: String,
    _dir: Option<tempfile::TempDir>,
}

async fn with_store(store: Arc<dyn Store>, dir: Option<tempfile::TempDir>) -> Fresh {
    let store_id = store
        .create_store(NewStore {
            name: "ingest".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    Fresh {
        store,
        store_id,
        _dir: dir,
    }
}

pub async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    // NORMAL: these tests ingest thousands of files; durability is the store suite's concern.
    let store = reverie_store::connect_sqlite(&dir.path().join("r.db"), Synchronous::Normal)
        .await
        .unwrap();
    with_store(Arc::new(store), Some(dir)).await
}

pub async fn postgres() -> Fresh {
    let store = reverie_store::connect_postgres(&reverie_testkit::pg::fresh_database())
        .await
        .unwrap();
    with_store(Arc::new(store), None).await
}

impl Fresh {
    pub async fn ingest(&self, args: &[&str], options: Options) -> IngestReport {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Ingest::new(self.store.clone(), self.store_id.clone(), options)
            .run(&args, &Quiet)
            .await
            .unwrap()
    }

    pub async fn events(&self, session_id: &str) -> Vec<Event> {
        let mut out = Vec::new();
        let mut after = -1;
        loop {
            let page = self
                .store
                .session_events(session_id, after, 5000)
                .await
                .unwrap();
            let Some(last) = page.last().map(|e| e.seq) else {
                return out;
            };
            out.extend(page);
            after = last;
        }
    }

    pub async fn lines(&self, session_id: &str) -> Vec<(i64, String)> {
        self.store
            .session_lines(session_id, 1, 10_000)
            .await
            .unwrap()
    }
}

/// The shared data folder beside the repository.
pub fn data(sub: &str) -> std::path::PathBuf {
    let p = reverie_testkit::repo_root()
        .join("../shared/data")
        .join(sub);
    assert!(
        p.exists(),
        "{} is missing: the tests read the shared data folder beside the repository",
        p.display()
    );
    p
}

/// Runs `async fn $name(fresh: Fresh)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::postgres().await).await;
                }
            }
        )+
    };
}
