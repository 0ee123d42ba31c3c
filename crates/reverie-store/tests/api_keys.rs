//! API keys on SQLite and on PostgreSQL: made with a secret shown once and stored as a digest,
//! found by the secret, scoped to stores, revoked; and store listings confined to a key's
//! stores, page by page.

mod common;

use std::sync::Arc;

use common::new_store;
use reverie_core::ErrorType;
use reverie_core::api_key::secret_digest;
use reverie_store::{Store, StoreQuery};

on_both_backends!(
    keys_are_found_by_secret_and_revoked,
    listings_keep_to_a_keys_stores
);

async fn keys_are_found_by_secret_and_revoked(s: Arc<dyn Store>) {
    let a = new_store(&*s, "a").await;
    let (all, secret) = s.create_api_key("admin", None).await.unwrap();
    assert!(all.id.starts_with("apikey_") && all.stores.is_none());
    assert_eq!(
        s.api_key_for_secret(&secret).await.unwrap(),
        Some(all.clone())
    );
    assert_eq!(s.api_key_for_secret("rvk_other").await.unwrap(), None);
    // Only the digest is stored: the secret appears nowhere in what the store returns.
    let listed = s.list_api_keys().await.unwrap();
    assert!(!format!("{listed:?}").contains(&secret));
    assert!(!format!("{listed:?}").contains(&secret_digest(&secret)));

    let (scoped, secret2) = s
        .create_api_key("one", Some(vec![a.clone(), a.clone()]))
        .await
        .unwrap();
    assert_eq!(scoped.stores, Some(vec![a.clone()]), "deduplicated");
    assert!(scoped.allows(&a) && !scoped.allows("memstore_0other"));
    let missing = "memstore_0000000000000000000000";
    let e = s
        .create_api_key("bad", Some(vec![missing.into()]))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), ErrorType::NotFound, "{e}");
    let e = s.create_api_key("", None).await.unwrap_err();
    assert_eq!(e.error_type(), ErrorType::InvalidRequest, "{e}");
    let e = s.create_api_key("none", Some(vec![])).await.unwrap_err();
    assert_eq!(e.error_type(), ErrorType::InvalidRequest, "{e}");

    let revoked = s.revoke_api_key(&scoped.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let again = s.revoke_api_key(&scoped.id).await.unwrap();
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "revoking twice changes nothing"
    );
    let found = s.api_key_for_secret(&secret2).await.unwrap().unwrap();
    assert!(found.revoked_at.is_some());
    let e = s
        .revoke_api_key("apikey_0000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), ErrorType::NotFound);
    let e = s.revoke_api_key("nope").await.unwrap_err();
    assert_eq!(e.error_type(), ErrorType::InvalidRequest);
    assert_eq!(s.list_api_keys().await.unwrap().len(), 2);
}

async fn listings_keep_to_a_keys_stores(s: Arc<dyn Store>) {
    // 130 stores, every 10th the key's: more than one internal batch of 100.
    let mut mine = Vec::new();
    for i in 0..130 {
        let id = new_store(&*s, &format!("s{i}")).await;
        if i % 10 == 3 {
            mine.push(id);
        }
    }
    let mut seen = Vec::new();
    let mut page = None;
    loop {
        let p = s
            .list_stores(&StoreQuery {
                limit: Some(4),
                page: page.take(),
                only: Some(mine.clone()),
                ..StoreQuery::default()
            })
            .await
            .unwrap();
        assert!(p.data.len() <= 4);
        seen.extend(p.data.into_iter().map(|st| st.id));
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    let mut expect = mine.clone();
    expect.reverse(); // newest first
    assert_eq!(seen, expect);
}
