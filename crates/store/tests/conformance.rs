//! Runs the shared storage suite against SQLite and a real PostgreSQL server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use portvakt_core::store_suite;
use portvakt_store::SqlStore;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_storage_suite() {
    let dir = std::env::temp_dir().join(format!("portvakt-suite-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("suite.db").display());
    let store = Arc::new(SqlStore::connect(&url).await.unwrap());
    store_suite::run_all(store.clone()).await;
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_storage_suite() {
    let admin = std::env::var("TEST_POSTGRES_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = format!("portvakt_suite_{}", rand_suffix());
    let url = portvakt_store::testing::create_database(&admin, &db).await.expect(
        "PostgreSQL must be reachable (scripts/test starts it); set TEST_POSTGRES_ADMIN_URL to override",
    );
    // This backend runs with second-factor secrets sealed (SQLite without),
    // so the suite covers both ways of storing them.
    let store = Arc::new(
        SqlStore::connect(&url)
            .await
            .unwrap()
            .with_secret_key(&[42; 32]),
    );
    store_suite::run_all(store.clone()).await;
    assert_eq!(
        store.seal_plain_secrets().await.unwrap(),
        0,
        "all sealed already"
    );
    store.close().await;
    portvakt_store::testing::drop_database(&admin, &db)
        .await
        .ok();
}

fn rand_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        portvakt_core::ids::EventId::generate()
            .as_str()
            .trim_start_matches("evt_")
    )
}
