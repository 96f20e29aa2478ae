use super::org_named;
use crate::ids::EventId;
use crate::store::{AdminEvent, EventResult, SignInEvent, SignInMethod, Store};
use std::sync::Arc;

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
        .signin_history(&org.id, &user.id, 0, None, 2)
        .await
        .unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].at, 5002, "newest first");
    assert_eq!(evs[0].zone, "skolnatet");
    assert!(store
        .signin_history(&other.id, &user.id, 0, None, 10)
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

/// Issue 14: forty appends at once, from parallel tasks, make one
/// unbroken chain per organisation (no fork, no gap); pages of the chain
/// and filtered reads stay in the organisation.
pub(super) async fn the_audit_chain_holds_under_parallel_appends(store: Arc<dyn Store>) {
    let org = org_named(&*store, "sessions").await;
    let other = org_named(&*store, "alpha").await;
    let user = store.list_users(&org.id, 0, 10).await.unwrap().remove(0);
    let (actor, subject) = (crate::ids::UserId::from_raw("usr_desk"), user.id.clone());
    let before = store
        .audit_state(&org.id)
        .await
        .unwrap()
        .head
        .map_or(0, |h| h.seq);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let (o, a, s) = (
            if i % 4 == 0 {
                other.id.clone()
            } else {
                org.id.clone()
            },
            actor.clone(),
            subject.clone(),
        );
        tasks.push(tokio::spawn(async move {
            store
                .record_admin_event(&AdminEvent {
                    id: EventId::generate(),
                    organisation_id: o,
                    actor_id: a,
                    at: 9000 + i,
                    ip: "10.0.0.1".into(),
                    user_agent: "t".into(),
                    action: "user.unlock".into(),
                    target: if i % 2 == 0 {
                        s.to_string()
                    } else {
                        format!("{s}/fac_1")
                    },
                    result: EventResult::Success,
                    detail: "ok".into(),
                })
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (o, n) in [(&org.id, before + 30), (&other.id, 10)] {
        let state = store.audit_state(o).await.unwrap();
        assert_eq!(state.unlinked, 0);
        let mut v = crate::audit::Verifier::new(o);
        let mut after = 0;
        loop {
            let page = store.audit_entries(o, after, 7).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                assert_eq!(&e.event.organisation_id, o);
                v.feed(e).unwrap();
            }
        }
        assert_eq!(
            v.finish(state.head.as_ref()).unwrap(),
            u64::try_from(n).unwrap()
        );
    }
    // Filtered, newest first, paged by place in the chain.
    let q = crate::store::AuditQuery {
        person: Some(subject.clone()),
        from: Some(9000),
        until: Some(9040),
        before_seq: None,
    };
    let page = store.audit_page(&org.id, &q, 100).await.unwrap();
    assert_eq!(
        page.len(),
        30,
        "by the person's id as target, with or without a factor"
    );
    assert!(page.windows(2).all(|w| w[0].seq > w[1].seq));
    let older = store
        .audit_page(
            &org.id,
            &crate::store::AuditQuery {
                before_seq: Some(page[9].seq),
                ..q.clone()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(older.len(), 20);
    let by_actor = crate::store::AuditQuery {
        person: Some(actor.clone()),
        ..Default::default()
    };
    assert!(
        store
            .audit_page(&org.id, &by_actor, 100)
            .await
            .unwrap()
            .len()
            >= 30
    );
    let nobody = crate::store::AuditQuery {
        person: Some(crate::ids::UserId::from_raw("usr_nobody")),
        ..Default::default()
    };
    assert!(store
        .audit_page(&org.id, &nobody, 100)
        .await
        .unwrap()
        .is_empty());
    let window = crate::store::AuditQuery {
        from: Some(9010),
        until: Some(9012),
        ..Default::default()
    };
    assert_eq!(
        store.audit_page(&org.id, &window, 100).await.unwrap().len(),
        2,
        "9010 and 9011 (9012 is the other organisation's)"
    );
}
