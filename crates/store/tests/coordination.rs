//! Several servers on one database: claims on queued messages are
//! exclusive on both backends, and on PostgreSQL exactly one server leads
//! a task until it lets go (issue 11).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use portvakt_core::ids::OrganisationId;
use portvakt_core::store::CoordinationStore;
use portvakt_core::store::{Channel, OutboxMessage, OutboxStore};
use portvakt_store::SqlStore;
use std::collections::BTreeSet;
use std::sync::Arc;

fn suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        portvakt_core::ids::EventId::generate()
            .as_str()
            .trim_start_matches("evt_")
    )
}

async fn postgres() -> (String, String, String) {
    let admin = std::env::var("TEST_POSTGRES_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = format!("portvakt_coord_{}", suffix());
    let url = portvakt_store::testing::create_database(&admin, &db)
        .await
        .expect("PostgreSQL must be reachable (scripts/test starts it)");
    (admin, db, url)
}

/// Eight claimers at once, from two connection pools (two servers), over
/// 30 due messages: each message goes to exactly one of them; claimed ones
/// are not due again until the lease ends, and sent ones never again.
async fn claims_are_exclusive(a: Arc<SqlStore>, b: Arc<SqlStore>) {
    let org = OrganisationId::from_raw("org_claims".to_owned());
    for i in 0..30 {
        a.enqueue_message(&OutboxMessage {
            id: format!("msg-{i:02}"),
            organisation_id: org.clone(),
            channel: Channel::Email,
            recipient: format!("p{i}@example.se"),
            subject: "Kod".into(),
            body: "123456".into(),
            created_at: 100,
            attempts: 0,
        })
        .await
        .unwrap();
    }
    let claims = (0..8).map(|i| {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { s.claim_due_messages(100, 5, 400).await.unwrap() })
    });
    let mut seen = Vec::new();
    for c in claims {
        seen.extend(c.await.unwrap().into_iter().map(|m| m.id));
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(
        seen.len(),
        unique.len(),
        "a message claimed twice: {seen:?}"
    );
    assert_eq!(unique.len(), 30);
    assert!(b
        .claim_due_messages(399, 100, 800)
        .await
        .unwrap()
        .is_empty());
    a.mark_sent("msg-00", 150).await.unwrap();
    a.mark_failed("msg-01", "refused", 1000).await.unwrap();
    let again: Vec<String> = b
        .claim_due_messages(400, 100, 800)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(again.len(), 28, "{again:?}");
    assert!(!again.contains(&"msg-00".to_owned()) && !again.contains(&"msg-01".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_claims_are_exclusive_and_its_one_server_leads() {
    let dir = std::env::temp_dir().join(format!("portvakt-coord-{}", suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("c.db").display());
    let a = Arc::new(SqlStore::connect(&url).await.unwrap());
    let b = Arc::new(SqlStore::connect(&url).await.unwrap());
    claims_are_exclusive(a.clone(), b).await;
    let mut lead = a.try_lead("probes").await.unwrap().expect("SQLite: leads");
    assert!(lead.still_leading().await);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_claims_are_exclusive() {
    let (admin, db, url) = postgres().await;
    let a = Arc::new(SqlStore::connect(&url).await.unwrap());
    let b = Arc::new(SqlStore::connect(&url).await.unwrap());
    claims_are_exclusive(a.clone(), b.clone()).await;
    a.close().await;
    b.close().await;
    portvakt_store::testing::drop_database(&admin, &db)
        .await
        .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_server_leads_until_it_lets_go() {
    let (admin, db, url) = postgres().await;
    let a = SqlStore::connect(&url).await.unwrap();
    let b = SqlStore::connect(&url).await.unwrap();
    let mut lead = a.try_lead("probes").await.unwrap().expect("first leads");
    assert!(lead.still_leading().await);
    assert!(b.try_lead("probes").await.unwrap().is_none());
    assert!(a.try_lead("probes").await.unwrap().is_none(), "not twice");
    // Another task is another lock.
    let other = b.try_lead("something-else").await.unwrap();
    assert!(other.is_some());
    drop(lead);
    let mut took_over = None;
    for _ in 0..50 {
        took_over = b.try_lead("probes").await.unwrap();
        if took_over.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut took_over = took_over.expect("b leads once a lets go");
    assert!(took_over.still_leading().await);
    drop((took_over, other));
    a.close().await;
    b.close().await;
    portvakt_store::testing::drop_database(&admin, &db)
        .await
        .ok();
}
