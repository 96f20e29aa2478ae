use super::org_named;
use crate::store::{Channel, OutboxMessage, Store};

pub(super) async fn outbox_retries_until_sent(store: &dyn Store) {
    let org = org_named(store, "alpha").await;
    let m = OutboxMessage {
        id: "msg-1".into(),
        organisation_id: org.id.clone(),
        channel: Channel::Email,
        recipient: "anna@alpha.example".into(),
        subject: "Kod".into(),
        body: "123456".into(),
        created_at: 100,
        attempts: 0,
    };
    store.enqueue_message(&m).await.unwrap();
    assert_eq!(store.due_messages(100, 10).await.unwrap(), vec![m.clone()]);
    store
        .mark_failed("msg-1", "connection refused", 160)
        .await
        .unwrap();
    assert!(
        store.due_messages(150, 10).await.unwrap().is_empty(),
        "waits for its retry time"
    );
    let again = store.due_messages(160, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    store.mark_sent("msg-1", 161).await.unwrap();
    assert!(store.due_messages(10_000, 10).await.unwrap().is_empty());
}
