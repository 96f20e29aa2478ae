use super::{apply_org, org_named, sample_org};
use crate::access::Method;
use crate::apply::DesiredUser;
use crate::domain::Username;
use crate::ids::{EventId, RotationId, UserId};
use crate::rotation::{
    code_hash, CrisisContact, Issue, PersonState, Rotation, RotationChannel, RotationPhase,
    StartCodeCheck, Stop,
};
use crate::store::{Amr, Channel, NewSession, OutboxMessage, Store};
use std::sync::Arc;

fn stop(channel: RotationChannel, address: &str) -> Stop {
    Stop {
        channel,
        address: address.into(),
    }
}

/// Issue 15: a rotation ends passwords and sessions in its first
/// transaction; each person is issued exactly once however often issuing
/// runs; a start code works once; moving on keeps the code; all of it
/// stays inside the organisation.
pub(super) async fn a_rotation_gives_each_person_one_code(store: Arc<dyn Store>) {
    let mut d = sample_org("rotate", "CANARY-R");
    let anna = d.users[0].username.clone();
    for name in ["bob", "cara"] {
        d.users.push(DesiredUser {
            username: Username::parse(&format!("{name}@rotate.example")).unwrap(),
            display_name: name.into(),
            email: None,
            ..d.users[0].clone()
        });
    }
    let bob = d.users[1].username.clone();
    d.crisis.mailbox_url = Some("https://adapter.rotate.example/deliver".into());
    d.crisis_contacts.insert(
        bob.clone(),
        CrisisContact {
            manager: Some(anna.clone()),
            unit: None,
            mailbox_id: Some("19800101-1234".into()),
        },
    );
    apply_org(&*store, &d, 1).await;
    assert_eq!(
        apply_org(&*store, &d, 2).await,
        0,
        "plan and contacts round-trip"
    );
    let other = sample_org("rotate-b", "CANARY-RB");
    apply_org(&*store, &other, 1).await;
    let org = org_named(&*store, "rotate").await;
    let ob = org_named(&*store, "rotate-b").await;
    assert_eq!(
        store.crisis_plan(&org.id).await.unwrap().mailbox_url,
        d.crisis.mailbox_url
    );
    let candidates = store.rotation_candidates(&org.id, None).await.unwrap();
    assert_eq!(candidates.len(), 3);
    let b = candidates.iter().find(|c| c.user.username == bob).unwrap();
    assert_eq!(b.contact.manager.as_ref(), Some(&anna));
    let ids: Vec<UserId> = candidates.iter().map(|c| c.user.id.clone()).collect();
    let (ua, ub, uc) = (&ids[0], &ids[1], &ids[2]);
    store
        .create_session(&NewSession {
            token_hash: "rot-h1".into(),
            organisation_id: org.id.clone(),
            user_id: ua.clone(),
            created_at: 50,
            expires_at: 50_000,
            ip: "10.0.0.1".into(),
            user_agent: "test".into(),
            amr: Amr::of(Method::Password),
            pending_mfa: false,
            credential_epoch: 0,
            start_code: None,
        })
        .await
        .unwrap();

    let r = Rotation {
        id: RotationId::generate(),
        organisation_id: org.id.clone(),
        started_by: None,
        started_at: 100,
        group: None,
        revoke_passkeys: false,
        expires_at: 100 + 72 * 3600,
        phase: RotationPhase::Issuing,
        people: 3,
    };
    let desk = stop(RotationChannel::Servicedesk, "");
    let rows = vec![
        (
            ua.clone(),
            vec![stop(RotationChannel::Mailbox, "{}"), desk.clone()],
        ),
        (
            ub.clone(),
            vec![stop(RotationChannel::Manager, "manager:anna"), desk.clone()],
        ),
        (
            uc.clone(),
            vec![
                stop(RotationChannel::Sms, "46701234567"),
                stop(RotationChannel::Manager, "unit:Skola"),
                desk.clone(),
            ],
        ),
    ];
    assert!(store.start_rotation(&r, &rows, 100).await.unwrap());
    let again = Rotation {
        id: RotationId::generate(),
        ..r.clone()
    };
    assert!(
        !store.start_rotation(&again, &rows, 100).await.unwrap(),
        "one rotation issuing at a time"
    );
    // One runner issues at a time; a dead one's lease runs out.
    assert!(store
        .lease_rotation(&org.id, &r.id, "cli:1", 100, 110)
        .await
        .unwrap());
    assert!(
        store
            .lease_rotation(&org.id, &r.id, "cli:1", 105, 115)
            .await
            .unwrap(),
        "renewed"
    );
    assert!(!store
        .lease_rotation(&org.id, &r.id, "server:a", 110, 120)
        .await
        .unwrap());
    assert!(!store
        .lease_rotation(&ob.id, &r.id, "server:a", 200, 210)
        .await
        .unwrap());
    assert!(
        store
            .lease_rotation(&org.id, &r.id, "server:a", 116, 126)
            .await
            .unwrap(),
        "taken over"
    );
    let a = store.user(&org.id, ua).await.unwrap().unwrap();
    assert!(a.password_hash.is_none() && a.must_change_password);
    assert!(store
        .session("rot-h1")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert_eq!(
        store
            .pending_people(&org.id, &r.id, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        store
            .pending_people(&ob.id, &r.id, 10)
            .await
            .unwrap()
            .is_empty(),
        "another organisation sees nothing"
    );

    let msg = |channel: Channel, to: &str| OutboxMessage {
        id: EventId::generate().to_string(),
        organisation_id: org.id.clone(),
        channel,
        recipient: to.into(),
        subject: "s".into(),
        body: "b".into(),
        created_at: 101,
        attempts: 0,
    };
    let issue = |user: &UserId,
                 code: &str,
                 position: usize,
                 channel: RotationChannel,
                 m: Option<OutboxMessage>| Issue {
        user_id: user.clone(),
        code: code.into(),
        code_hash: code_hash(&org.id, user, code),
        position,
        channel,
        state: PersonState::on(channel),
        message: m,
    };
    let first = issue(
        ua,
        "AAAA-AAAA-AAAA",
        0,
        RotationChannel::Mailbox,
        Some(msg(Channel::Mailbox, "{}")),
    );
    assert_eq!(
        store
            .issue_codes(&org.id, &r.id, std::slice::from_ref(&first), 101)
            .await
            .unwrap(),
        1
    );
    let twice = issue(
        ua,
        "BBBB-BBBB-BBBB",
        0,
        RotationChannel::Mailbox,
        Some(msg(Channel::Mailbox, "{}")),
    );
    assert_eq!(
        store
            .issue_codes(&org.id, &r.id, std::slice::from_ref(&twice), 102)
            .await
            .unwrap(),
        0,
        "issued once, whoever runs it again"
    );
    assert_eq!(
        store.rotation(&org.id, &r.id).await.unwrap().unwrap().phase,
        RotationPhase::Issuing
    );
    let sms = msg(Channel::Sms, "46701234567");
    let sms_id = sms.id.clone();
    // A runner that read `ua` as pending before the first issued them:
    // only the others are issued, and only their messages queued.
    let late = issue(
        ua,
        "EEEE-EEEE-EEEE",
        0,
        RotationChannel::Mailbox,
        Some(msg(Channel::Mailbox, "{late}")),
    );
    let rest = [
        late,
        issue(ub, "CCCC-CCCC-CCCC", 0, RotationChannel::Manager, None),
        issue(uc, "DDDD-DDDD-DDDD", 0, RotationChannel::Sms, Some(sms)),
    ];
    assert_eq!(
        store.issue_codes(&org.id, &r.id, &rest, 103).await.unwrap(),
        2
    );
    let mut queued: Vec<String> = store
        .due_messages(i64::MAX - 1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.organisation_id == org.id)
        .map(|m| m.recipient)
        .collect();
    queued.sort();
    assert_eq!(
        queued,
        ["46701234567", "{}"],
        "one message per person issued: none for the one issued before, none for the list"
    );
    assert_eq!(
        store.rotation(&org.id, &r.id).await.unwrap().unwrap().phase,
        RotationPhase::Issued,
        "issued when nobody is left"
    );

    // The code works once, only for its person and organisation.
    let h = &first.code_hash;
    assert_eq!(
        store
            .check_start_code(&org.id, ua, &twice.code_hash, 110)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.check_start_code(&ob.id, ua, h, 110).await.unwrap(),
        None
    );
    assert_eq!(
        store.check_start_code(&org.id, ub, h, 110).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .check_start_code(&org.id, ua, h, r.expires_at)
            .await
            .unwrap(),
        Some(StartCodeCheck::Expired)
    );
    assert!(!store
        .use_start_code(&org.id, ua, h, r.expires_at)
        .await
        .unwrap());
    assert_eq!(
        store.check_start_code(&org.id, ua, h, 110).await.unwrap(),
        Some(StartCodeCheck::Valid)
    );
    assert!(store.use_start_code(&org.id, ua, h, 110).await.unwrap());
    assert!(
        !store.use_start_code(&org.id, ua, h, 111).await.unwrap(),
        "once"
    );
    assert_eq!(
        store.check_start_code(&org.id, ua, h, 112).await.unwrap(),
        Some(StartCodeCheck::Used)
    );

    // The manager's list carries the code, opened again.
    let lists = store
        .hand_outs(
            &org.id,
            &r.id,
            RotationChannel::Manager,
            Some("manager:anna"),
        )
        .await
        .unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(
        (lists[0].code.as_str(), lists[0].user_id.clone()),
        ("CCCC-CCCC-CCCC", ub.clone())
    );
    assert!(store
        .hand_outs(&ob.id, &r.id, RotationChannel::Manager, None)
        .await
        .unwrap()
        .is_empty());

    // Three failed SMS: Cara moves on to her unit's list, same code.
    assert!(store
        .stalled_people(&org.id, &r.id, 3, 10)
        .await
        .unwrap()
        .is_empty());
    for i in 0..3 {
        store
            .mark_failed(&sms_id, "gateway down", 200 + i)
            .await
            .unwrap();
    }
    let stalled = store.stalled_people(&org.id, &r.id, 3, 10).await.unwrap();
    assert_eq!(stalled.len(), 1);
    assert_eq!(stalled[0].code.as_deref(), Some("DDDD-DDDD-DDDD"));
    let on = issue(uc, "DDDD-DDDD-DDDD", 1, RotationChannel::Manager, None);
    assert!(store
        .move_person(&org.id, &r.id, 0, &on, true, 210)
        .await
        .unwrap());
    assert!(
        !store
            .move_person(&org.id, &r.id, 0, &on, true, 211)
            .await
            .unwrap(),
        "moved once"
    );
    let report = store.rotation_report(&org.id, &r.id).await.unwrap();
    assert_eq!((report.people, report.pending, report.used), (3, 0, 1));
    assert_eq!(report.counts(RotationChannel::Sms).failed, 1);
    assert_eq!(report.counts(RotationChannel::Manager).current, 2);
    assert_eq!(report.counts(RotationChannel::Mailbox).current, 1);
    assert_eq!(
        store
            .hand_outs(&org.id, &r.id, RotationChannel::Manager, Some("unit:Skola"))
            .await
            .unwrap()[0]
            .code,
        "DDDD-DDDD-DDDD"
    );
    assert_eq!(
        store.rotation_report(&ob.id, &r.id).await.unwrap().people,
        0,
        "another organisation's report is empty"
    );

    // A later rotation voids earlier codes: one valid code each.
    let later = Rotation {
        id: RotationId::generate(),
        started_at: 300,
        ..r.clone()
    };
    assert!(store
        .start_rotation(&later, &rows[1..2], 300)
        .await
        .unwrap());
    let bob_hash = code_hash(&org.id, ub, "CCCC-CCCC-CCCC");
    assert_eq!(
        store
            .check_start_code(&org.id, ub, &bob_hash, 301)
            .await
            .unwrap(),
        None
    );
}
