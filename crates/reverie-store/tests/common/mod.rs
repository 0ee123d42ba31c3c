//! Shared by the store's integration tests: open a fresh store on either backend, and run one
//! test body against both.

#![allow(dead_code)]

use std::sync::Arc;

use reverie_core::Actor;
use reverie_store::{NewStore, Store, Synchronous};

/// A fresh store and what keeps it alive (the SQLite file's folder).
pub struct Fresh {
    pub store: Arc<dyn Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reverie.db");
    let store = reverie_store::connect_sqlite(&path, Synchronous::Full)
        .await
        .unwrap();
    Fresh {
        store: Arc::new(store),
        url: path.display().to_string(),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Fresh {
    let url = reverie_testkit::pg::fresh_database();
    let store = reverie_store::connect_postgres(&url).await.unwrap();
    Fresh {
        store: Arc::new(store),
        url,
        _dir: None,
    }
}

/// Runs SQL on the store's database behind its back, as an operator, an older reverie or a
/// crash might leave it.
pub async fn sql(url: &str, statements: &[&'static str]) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for q in statements {
            sqlx::query(*q).execute(&pool).await.unwrap();
        }
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{url}"))
            .await
            .unwrap();
        for q in statements {
            sqlx::query(*q).execute(&pool).await.unwrap();
        }
    }
}

/// A second handle on the fresh store's database, as another process would open it.
pub async fn reopen(fresh: &Fresh) -> Arc<dyn Store> {
    if fresh.url.starts_with("postgres") {
        Arc::new(reverie_store::connect_postgres(&fresh.url).await.unwrap())
    } else {
        Arc::new(
            reverie_store::connect_sqlite(std::path::Path::new(&fresh.url), Synchronous::Full)
                .await
                .unwrap(),
        )
    }
}

pub fn user() -> Actor {
    Actor::User {
        user_id: "user_test".into(),
    }
}

pub fn session(id: &str) -> Actor {
    Actor::Session {
        session_id: id.into(),
    }
}

pub async fn new_store(s: &dyn Store, name: &str) -> String {
    s.create_store(NewStore {
        name: name.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .id
}

/// Runs `async fn $name(store: Arc<dyn Store>)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let fresh = $crate::common::sqlite().await;
                    super::$name(fresh.store.clone()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let fresh = $crate::common::postgres().await;
                    super::$name(fresh.store.clone()).await;
                }
            }
        )+
    };
}
