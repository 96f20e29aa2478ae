use crate::store::Store;
use std::sync::Arc;

/// Issue 10 H2, SECURITY.md G3: a ticket to the apps origin is exchanged
/// once, even by 50 concurrent requests, and only by the browser it was
/// minted for; it dies after its minute; a link is found by its hash
/// until it expires.
pub(super) async fn apps_tickets_are_single_use_and_links_expire(store: Arc<dyn Store>) {
    use crate::handoff::AppsTicket;
    let org = crate::ids::OrganisationId::from_raw("handoff-org");
    let ticket = |hash: &str, expires_at| AppsTicket {
        ticket_hash: hash.into(),
        session_hash: "session-h".into(),
        state_hash: "state-h".into(),
        organisation_id: org.clone(),
        expires_at,
    };
    store
        .create_apps_ticket(&ticket("t1", 1060), 1000)
        .await
        .unwrap();
    assert!(
        store
            .exchange_apps_ticket("t1", "another-browser", "l0", 1010, 5000)
            .await
            .unwrap()
            .is_none(),
        "another browser's state does not take the ticket"
    );
    // ... and uses it up, so a ticket that leaked is worth nothing.
    assert!(store
        .exchange_apps_ticket("t1", "state-h", "l0b", 1010, 5000)
        .await
        .unwrap()
        .is_none());
    store
        .create_apps_ticket(&ticket("t1", 1060), 1000)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.exchange_apps_ticket("t1", "state-h", &format!("link-{i}"), 1010, 5000)
                .await
                .unwrap()
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        won.extend(t.await.unwrap());
    }
    assert_eq!(won.len(), 1, "exactly one of 50 redemptions wins");
    let link = &won[0];
    assert_eq!(link.session_hash, "session-h");
    assert_eq!(link.organisation_id, org);
    assert_eq!(
        store
            .session_link(&link.link_hash, 4000)
            .await
            .unwrap()
            .as_ref(),
        Some(link)
    );
    assert!(store
        .session_link(&link.link_hash, 5001)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .session_link("link-none", 1010)
        .await
        .unwrap()
        .is_none());

    store
        .create_apps_ticket(&ticket("t2", 1060), 1000)
        .await
        .unwrap();
    assert!(
        store
            .exchange_apps_ticket("t2", "state-h", "late", 1061, 5000)
            .await
            .unwrap()
            .is_none(),
        "a ticket older than its minute is refused"
    );
    assert!(store
        .exchange_apps_ticket("t2", "state-h", "again", 1010, 5000)
        .await
        .unwrap()
        .is_none());
    // Creating a ticket sweeps what has expired.
    store
        .create_apps_ticket(&ticket("t3", 7060), 7000)
        .await
        .unwrap();
    assert!(store
        .session_link(&link.link_hash, 0)
        .await
        .unwrap()
        .is_none());
}
