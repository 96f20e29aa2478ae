//! Words the store keeps as text (a language, a channel, an event's method
//! and result) are parsed when a row is read: one this version does not
//! write is a corrupt row, never a guess. A session's `amr` is the
//! exception: a token it does not know is kept and counts for nothing
//! (issue 11).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use portvakt_core::access::Method;
use portvakt_core::apply::{plan, Change};
use portvakt_core::ids::EventId;
use portvakt_core::store::{
    Amr, Channel, EventResult, EventStore, NewSession, OrgStore, OutboxMessage, OutboxStore,
    ProvisioningStore, SessionStore, SignInEvent, SignInMethod, UserStore,
};
use portvakt_core::store_suite::sample_org;
use portvakt_core::StoreError;
use portvakt_store::SqlStore;
use sqlx::{Connection, Executor, SqliteConnection};

fn is_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Corrupt(_)))
}

#[tokio::test]
async fn unknown_stored_words_are_corrupt_rows_but_unknown_amr_tokens_are_kept() {
    let dir = std::env::temp_dir().join(format!(
        "portvakt-words-{}-{}",
        std::process::id(),
        EventId::generate()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("words.db");
    let store = SqlStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let d = sample_org("words", "CANARY-W");
    let changes: Vec<Change> = plan(&d, &store.snapshot(&d.slug).await.unwrap(), 1)
        .into_iter()
        .map(|p| p.change)
        .collect();
    store.apply_changes(&changes).await.unwrap();
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    let user = store.list_users(&org.id, 0, 1).await.unwrap().remove(0);

    store
        .create_session(&NewSession {
            token_hash: "h".into(),
            organisation_id: org.id.clone(),
            user_id: user.id.clone(),
            created_at: 10,
            expires_at: 1000,
            ip: "10.0.0.1".into(),
            user_agent: "test".into(),
            amr: Amr::of(Method::Password),
            pending_mfa: false,
            credential_epoch: 0,
            start_code: None,
        })
        .await
        .unwrap();
    store
        .enqueue_message(&OutboxMessage {
            id: "m".into(),
            organisation_id: org.id.clone(),
            channel: Channel::Sms,
            recipient: "46701234567".into(),
            subject: String::new(),
            body: "123456".into(),
            created_at: 10,
            attempts: 0,
        })
        .await
        .unwrap();
    store
        .record_signin_event(&SignInEvent {
            id: EventId::generate(),
            organisation_id: Some(org.id.clone()),
            user_id: Some(user.id.clone()),
            at: 10,
            ip: "10.0.0.1".into(),
            user_agent: "test".into(),
            method: SignInMethod::StepUp,
            result: EventResult::Success,
            reason: "started".into(),
            zone: String::new(),
        })
        .await
        .unwrap();

    // What was written reads back as written.
    assert_eq!(
        store.due_messages(10, 10).await.unwrap()[0].channel,
        Channel::Sms
    );
    let events = store.signin_history(&org.id, &user.id, 0, None, 10);
    assert_eq!(events.await.unwrap()[0].method, SignInMethod::StepUp);

    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    for sql in [
        "UPDATE users SET language = 'de'",
        "UPDATE outbox SET channel = 'fax'",
        "UPDATE signin_events SET method = 'smoke_signal'",
        "UPDATE sessions SET amr = 'hwk pwd'",
    ] {
        raw.execute(sql).await.unwrap();
    }
    assert!(is_corrupt(store.user(&org.id, &user.id).await));
    assert!(is_corrupt(store.due_messages(10, 10).await));
    assert!(is_corrupt(
        store.signin_history(&org.id, &user.id, 0, None, 10).await
    ));
    raw.execute("UPDATE signin_events SET method = 'pwd', result = 'maybe'")
        .await
        .unwrap();
    assert!(is_corrupt(
        store.signin_history(&org.id, &user.id, 0, None, 10).await
    ));
    let session = store.session("h").await.unwrap().unwrap();
    assert_eq!(session.amr.methods(), [Method::Password].into());
    assert_eq!(session.amr.to_string(), "hwk pwd");

    raw.close().await.unwrap();
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}
