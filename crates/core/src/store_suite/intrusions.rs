use super::{apply_org, sample_org};
use crate::auth::lockout::{LockoutPolicy, HARD_LOCK};
use crate::ids::{EventId, OrganisationId, UserId};
use crate::intrusion::{CaseId, CaseSource, EvidenceRecord, NewCase, Note, Outcome};
use crate::store::Store;
use std::sync::Arc;

/// Issue 14: cases are numbered per organisation without gaps or twins
/// under concurrency, found only within their organisation, and take no
/// changes once closed; a servicedesk lock outlives failures.
pub(super) async fn cases_are_scoped_numbered_and_frozen_when_closed(store: Arc<dyn Store>) {
    let a = sample_org("casea", "CANARY-CA");
    let b = sample_org("caseb", "CANARY-CB");
    apply_org(&*store, &a, 1).await;
    apply_org(&*store, &b, 1).await;
    let oa = store
        .organisation_by_slug(&a.slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let ob = store
        .organisation_by_slug(&b.slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let ua = store
        .user_by_username(&oa, &a.users[0].username)
        .await
        .unwrap()
        .unwrap()
        .id;
    let ub = store
        .user_by_username(&ob, &b.users[0].username)
        .await
        .unwrap()
        .unwrap()
        .id;
    let new = |org: &crate::ids::OrganisationId, user: &UserId| NewCase {
        id: CaseId::generate(),
        organisation_id: org.clone(),
        title: "t".into(),
        opened_at: 100,
        opened_by: user.clone(),
        source: CaseSource::Servicedesk,
        reported_event: None,
        accounts: vec![user.clone()],
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (s, c) = (store.clone(), new(&oa, &ua));
        tasks.push(tokio::spawn(async move { s.open_case(&c).await.unwrap() }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<i64>>(), "one number each");
    let cb = new(&ob, &ub);
    assert_eq!(
        store.open_case(&cb).await.unwrap(),
        1,
        "numbered per organisation"
    );

    // Scoped: B's case is not A's to read or change.
    assert!(store.case(&oa, &cb.id).await.unwrap().is_none());
    let note = Note {
        id: EventId::generate(),
        at: 90,
        written_at: 100,
        author: ua.clone(),
        body: "n".into(),
    };
    assert!(!store.add_note(&oa, &cb.id, &note).await.unwrap());
    assert!(!store
        .set_step(&oa, &cb.id, "documented", Some((&ua, 1)))
        .await
        .unwrap());
    assert!(
        !store.add_case_account(&ob, &cb.id, &ua, 1).await.unwrap(),
        "A's user is not B's"
    );
    assert!(!store
        .close_case(&oa, &cb.id, &ua, Outcome::Confirmed, "", 1)
        .await
        .unwrap());
    let file = EvidenceRecord {
        id: EventId::generate(),
        file_name: "a.txt".into(),
        media_type: "text/plain".into(),
        size: 2,
        sha256: "ab".into(),
        uploaded_by: ub.clone(),
        uploaded_at: 100,
    };
    assert!(!store
        .add_evidence(&oa, &cb.id, &file, b"hi", 5)
        .await
        .unwrap());
    assert!(store
        .add_evidence(&ob, &cb.id, &file, b"hi", 5)
        .await
        .unwrap());
    assert!(store
        .evidence_content(&oa, &cb.id, &file.id)
        .await
        .unwrap()
        .is_none());
    let (rec, bytes) = store
        .evidence_content(&ob, &cb.id, &file.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rec, bytes), (file.clone(), b"hi".to_vec()));
    assert_eq!(store.cases_of(&ob, &ua).await.unwrap().len(), 0);
    assert_eq!(store.cases_of(&oa, &ua).await.unwrap().len(), 8);
    assert_eq!(
        store.open_case_of(&ob, &ub).await.unwrap(),
        Some(cb.id.clone())
    );

    // Closed: nothing changes until reopened.
    assert!(store.add_note(&ob, &cb.id, &note).await.unwrap());
    assert!(store
        .close_case(&ob, &cb.id, &ub, Outcome::Inconclusive, "x", 200)
        .await
        .unwrap());
    assert!(
        !store
            .close_case(&ob, &cb.id, &ub, Outcome::Confirmed, "", 201)
            .await
            .unwrap(),
        "once"
    );
    let closed = store.case(&ob, &cb.id).await.unwrap().unwrap();
    assert_eq!(
        closed.closed.as_ref().unwrap().outcome,
        Outcome::Inconclusive
    );
    assert!(!store.add_note(&ob, &cb.id, &note).await.unwrap());
    assert!(!store
        .set_step(&ob, &cb.id, "documented", Some((&ub, 1)))
        .await
        .unwrap());
    let second = EvidenceRecord {
        id: EventId::generate(),
        ..file
    };
    assert!(!store
        .add_evidence(&ob, &cb.id, &second, b"hi", 5)
        .await
        .unwrap());
    assert_eq!(store.open_case_of(&ob, &ub).await.unwrap(), None);
    assert!(store.reopen_case(&ob, &cb.id).await.unwrap());
    assert!(!store.reopen_case(&ob, &cb.id).await.unwrap());
    assert!(store
        .set_step(&ob, &cb.id, "documented", Some((&ub, 300)))
        .await
        .unwrap());
    assert!(store
        .set_step(&ob, &cb.id, "documented", None)
        .await
        .unwrap());
    assert!(store.steps(&ob, &cb.id).await.unwrap().is_empty());
    assert_eq!(store.notes(&ob, &cb.id).await.unwrap().len(), 1);
    // At most `max_files`.
    assert!(!store
        .add_evidence(&ob, &cb.id, &second, b"hi", 1)
        .await
        .unwrap());

    // A servicedesk lock stays through failures, cleared counters (a right
    // password, a reset) and is lifted only by unlocking; it ends the
    // person's sessions in the same transaction.
    let name = &a.users[0].username;
    let session = crate::store::NewSession {
        token_hash: "lock-suite".into(),
        organisation_id: oa.clone(),
        user_id: ua.clone(),
        created_at: 400,
        expires_at: 10_000,
        ip: "10.0.0.1".into(),
        user_agent: "suite".into(),
        amr: crate::store::Amr::of(crate::access::Method::Password),
        pending_mfa: false,
        credential_epoch: 0,
        start_code: None,
    };
    store.create_session(&session).await.unwrap();
    assert_eq!(
        store.lock_account(&oa, &ua, "ärende 3", 500).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store.lock_account(&ob, &ua, "x", 500).await.unwrap(),
        None,
        "scoped"
    );
    let policy = LockoutPolicy::default();
    store.record_failure(&oa, name, 501, &policy).await.unwrap();
    store.clear_failures(&oa, name).await.unwrap();
    assert!(store
        .begin_try(&oa, name, 502, &policy)
        .await
        .unwrap()
        .is_err());
    store.forgive_try(&oa, name, 503, &policy).await.unwrap();
    let st = store.throttle_state(&oa, name).await.unwrap();
    assert_eq!(st.locked_until, HARD_LOCK);
    let locked = store.user(&oa, &ua).await.unwrap().unwrap();
    assert_eq!(locked.lock_reason, "ärende 3");
    assert!(!locked.is_active());
    assert!(store
        .search_users(
            &oa,
            &crate::store::UserSearch {
                text: String::new(),
                only: Some(crate::store::UserFilter::Locked)
            },
            600,
            0,
            10
        )
        .await
        .unwrap()
        .iter()
        .any(|l| l.user.id == ua));
    // Unlocking also gives back the budget for codes: spent and expired
    // codes are forgotten, a live one stays.
    for (i, expires) in [(0, 600), (1, 600), (2, 20_000)] {
        store
            .create_challenge(&crate::store::CodeChallenge {
                id: format!("budget-{i}"),
                organisation_id: oa.clone(),
                user_id: ua.clone(),
                session_hash: format!("budget-session-{i}"),
                purpose: crate::store::Purpose::Reset,
                channel: crate::store::FactorKind::Email,
                destination: "a@casea.example".into(),
                code_hash: "x".into(),
                created_at: 500,
                expires_at: expires,
            })
            .await
            .unwrap();
    }
    assert_eq!(store.count_challenges(&oa, &ua, None, 0).await.unwrap(), 3);
    store.unlock_account(&oa, &ua, 10_000).await.unwrap();
    assert_eq!(
        store.count_challenges(&oa, &ua, None, 0).await.unwrap(),
        1,
        "the live code stays"
    );
    assert!(store.user(&oa, &ua).await.unwrap().unwrap().is_active());
    assert!(store
        .begin_try(&oa, name, 504, &policy)
        .await
        .unwrap()
        .is_ok());
}

/// Issue 15: one freeze in force per organisation; lifting needs a
/// proposal and another person, checked in the statement.
pub(super) async fn freezes_need_two_people_to_lift(store: Arc<dyn Store>) {
    let d = sample_org("freeze", "CANARY-F");
    apply_org(&*store, &d, 1).await;
    let org = store
        .organisation_by_slug(&d.slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let (a, b) = (UserId::from_raw("usr_a"), UserId::from_raw("usr_b"));
    let f = crate::freeze::Freeze {
        id: EventId::generate(),
        organisation_id: org.clone(),
        reason: "r".into(),
        declared_at: 10,
        declared_by: a.clone(),
        lift_proposed: None,
    };
    assert!(store.declare_freeze(&f).await.unwrap());
    let twice = crate::freeze::Freeze {
        id: EventId::generate(),
        ..f.clone()
    };
    assert!(!store.declare_freeze(&twice).await.unwrap(), "one in force");
    assert!(
        !store.lift_freeze(&org, &f.id, Some(&b), 11).await.unwrap(),
        "not proposed"
    );
    assert!(store.propose_lift(&org, &f.id, &a, 12).await.unwrap());
    assert!(
        !store.propose_lift(&org, &f.id, &b, 12).await.unwrap(),
        "proposed already"
    );
    assert!(
        !store.lift_freeze(&org, &f.id, Some(&a), 13).await.unwrap(),
        "same person"
    );
    let other = OrganisationId::from_raw("org_other");
    assert!(
        !store
            .lift_freeze(&other, &f.id, Some(&b), 13)
            .await
            .unwrap(),
        "scoped"
    );
    assert!(store
        .active_freeze(&org)
        .await
        .unwrap()
        .unwrap()
        .lift_proposed
        .is_some());
    assert!(store.lift_freeze(&org, &f.id, Some(&b), 14).await.unwrap());
    assert!(store.active_freeze(&org).await.unwrap().is_none());
    assert!(
        store.declare_freeze(&twice).await.unwrap(),
        "a new one after"
    );

    // Browsers: new, known, forgotten but the one kept (review F4).
    let u = UserId::from_raw("usr_devices");
    assert_eq!(
        store.remember_device(&org, &u, "h1", 100).await.unwrap(),
        crate::store::DeviceSeen {
            new: true,
            first: true
        }
    );
    assert!(
        store
            .remember_device(&org, &u, "h2", 101)
            .await
            .unwrap()
            .new
    );
    assert!(
        !store
            .remember_device(&org, &u, "h2", 102)
            .await
            .unwrap()
            .new
    );
    store.forget_devices(&org, &u, Some("h1")).await.unwrap();
    assert!(
        !store
            .remember_device(&org, &u, "h1", 103)
            .await
            .unwrap()
            .new,
        "kept"
    );
    assert!(
        store
            .remember_device(&org, &u, "h2", 104)
            .await
            .unwrap()
            .new,
        "forgotten"
    );
}
