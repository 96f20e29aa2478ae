use super::org_named;
use crate::ids::EventId;
use crate::store::{AdminEvent, EventResult, SignInEvent, SignInMethod, Store};

pub(super) async fn events_are_scoped(store: &dyn Store) {
    let org = org_named(store, "sessions").await;
    let other = org_named(store, "alpha").await;
    let user = store.list_users(&org.id, 0, 10).await.unwrap().remove(0);
    for i in 0..3 {
        store
            .record_signin_event(&SignInEvent {
                id: EventId::generate(),
                organisation_id: Some(org.id.clone()),
                user_id: Some(user.id.clone()),
                at: 5000 + i,
                ip: "192.0.2.1".into(),
                user_agent: "ua".into(),
                method: SignInMethod::Password,
                result: EventResult::Success,
                reason: "ok".into(),
                zone: "skolnatet".into(),
            })
            .await
            .unwrap();
    }
    let evs = store
        .signin_events_for_user(&org.id, &user.id, 2)
        .await
        .unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].at, 5002, "newest first");
    assert_eq!(evs[0].zone, "skolnatet");
    assert!(store
        .signin_events_for_user(&other.id, &user.id, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Issue 10 L7: admin actions and refusals are kept per organisation,
/// every field round-trips, newest first.
pub(super) async fn admin_events_are_scoped(store: &dyn Store) {
    let org = org_named(store, "sessions").await;
    let other = org_named(store, "alpha").await;
    let actor = store.list_users(&org.id, 0, 10).await.unwrap().remove(0);
    let event = |i: i64, result| AdminEvent {
        id: EventId::generate(),
        organisation_id: org.id.clone(),
        actor_id: actor.id.clone(),
        at: 7000 + i,
        ip: "2001:db8::7".into(),
        user_agent: "Firefox/140 \"quoted\"".into(),
        action: if i == 0 { "user.unlock" } else { "refused" }.into(),
        target: format!("target-{i}"),
        result,
        detail: if i == 0 { "ok" } else { "forbidden" }.into(),
    };
    let first = event(0, EventResult::Success);
    store.record_admin_event(&first).await.unwrap();
    store
        .record_admin_event(&event(1, EventResult::Failure))
        .await
        .unwrap();
    let evs = store.admin_events(&org.id, 10).await.unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].action, "refused", "newest first");
    assert_eq!(evs[1], first, "every field round-trips");
    assert_eq!(store.admin_events(&org.id, 1).await.unwrap().len(), 1);
    assert!(store.admin_events(&other.id, 10).await.unwrap().is_empty());
}
