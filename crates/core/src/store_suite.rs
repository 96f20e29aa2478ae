//! The storage conformance suite. Every backend runs it against a fresh
//! database, so SQLite and PostgreSQL are held to one behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::apply::{
    plan, Change, DesiredOrganisation, DesiredService, DesiredUser, DesiredZone, InitialPassword,
};
use crate::auth::codes;
use crate::auth::lockout::{LockoutPolicy, HARD_LOCK};
use crate::domain::{Role, Slug, Username, ZoneCidrs};
use crate::ids::FactorId;
use crate::ids::{EventId, UserId};
use crate::store::{
    AdminEvent, Ceremony, CodeChallenge, CodeCheck, EventResult, Factor, FactorKind, NewSession,
    OutboxMessage, SignInEvent, Store,
};
use std::collections::BTreeSet;
use std::sync::Arc;

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// A small organisation whose every string carries `canary`, so a test can
/// prove none of it appears where another organisation looks.
#[must_use]
pub fn sample_org(org_slug: &str, canary: &str) -> DesiredOrganisation {
    let groups: BTreeSet<Slug> = [slug("staff")].into();
    DesiredOrganisation {
        slug: slug(org_slug),
        name: format!("Org {canary}"),
        mfa_policy: crate::domain::MfaPolicy::OutsideInternal,
        domains: vec![format!("{org_slug}.example")],
        groups: vec![
            (slug("staff"), format!("Staff {canary}")),
            (slug("other"), "Other".into()),
        ],
        zones: vec![DesiredZone {
            slug: slug("office"),
            name: format!("Office {canary}"),
            cidrs: ZoneCidrs::parse(&["10.0.0.0/8", "127.0.0.0/8"]).unwrap(),
        }],
        services: vec![DesiredService {
            slug: slug("payslip"),
            name: format!("Payslip {canary}"),
            description: "Lönebesked".into(),
            url: "https://payslip.example/".into(),
            category: "Personal".into(),
            groups: groups.clone(),
            icon: "money".into(),
            access: crate::access::ServiceAccess {
                zones: Some([slug("office")].into()),
                methods: Some([crate::access::Method::App, crate::access::Method::Passkey].into()),
                open: vec![crate::access::Window::parse("mon-fri 07:00-18:00").unwrap()],
                host: Some(format!("payslip.{org_slug}.example")),
                upstream: Some("http://10.1.2.3:8080".into()),
            },
        }],
        emergency_team: vec![format!("team@{org_slug}.example")],
        emergency_list: vec![
            format!("a@{org_slug}.example"),
            format!("b@{org_slug}.example"),
        ],
        components: vec![crate::apply::DesiredComponent {
            slug: slug("payslip-status"),
            name: format!("Lön {canary}"),
            group: "Personal".into(),
            alternatives: format!("Ring lönekontoret {canary}"),
        }],
        sms_country_codes: vec!["46".into()],
        status_contact: format!("Ring kontaktcenter {canary}"),
        probes: vec![crate::apply::DesiredProbe {
            slug: slug("payslip-http"),
            component: slug("payslip-status"),
            spec: crate::probe::ProbeSpec {
                kind: crate::probe::ProbeKind::Http {
                    url: format!("http://payslip.{org_slug}.example/health"),
                    expect_status: vec![200, 204],
                    expect_body: Some("ok".into()),
                },
                interval_s: 30,
                timeout_s: 5,
                failures: 3,
                recoveries: 2,
                impact: "partial_outage".into(),
                ca_file: None,
            },
        }],
        users: vec![DesiredUser {
            username: Username::parse(&format!("anna@{org_slug}.example")).unwrap(),
            display_name: format!("Anna {canary}"),
            email: Some(format!("anna-{canary}@{org_slug}.example")),
            groups,
            roles: [Role::Servicedesk].into(),
            disabled: false,
            totp_secret: None,
            initial_password: Some(InitialPassword::Hash(
                "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$8vXqP1hX5cA7LhQ9mKQ2Yg".into(),
            )),
        }],
    }
}

async fn org_named(store: &dyn Store, s: &str) -> crate::store::Organisation {
    store.organisation_by_slug(&slug(s)).await.unwrap().unwrap()
}

async fn apply_org(store: &dyn Store, d: &DesiredOrganisation, now: i64) -> usize {
    let snap = store.snapshot(&d.slug).await.unwrap();
    let changes: Vec<Change> = plan(d, &snap, now).into_iter().map(|p| p.change).collect();
    store.apply_changes(&changes).await.unwrap();
    changes.len()
}

/// Runs every check. Panics with the name of the behaviour that broke.
pub async fn run_all(store: Arc<dyn Store>) {
    apply_is_idempotent_and_round_trips(&*store).await;
    lookups_are_scoped_by_organisation(&*store).await;
    failure_counter_is_atomic(store.clone()).await;
    sessions_lifecycle(&*store).await;
    events_are_scoped(&*store).await;
    admin_events_are_scoped(&*store).await;
    domain_belongs_to_one_organisation(&*store).await;
    failed_apply_changes_nothing(&*store).await;
    factors_are_single_use_and_scoped(store.clone()).await;
    codes_are_bound_single_use_and_limited(store.clone()).await;
    checked_codes_are_redeemed_once_and_counted_per_account(store.clone()).await;
    outbox_retries_until_sent(&*store).await;
    passkeys_are_unique_and_ceremonies_single_use(store.clone()).await;
    service_rules_round_trip(&*store).await;
    incidents_are_scoped_and_resolve_once(&*store).await;
    drafts_stay_hidden_until_published(&*store).await;
    a_users_language_is_theirs(&*store).await;
    probe_states_and_days(&*store).await;
    apps_tickets_are_single_use_and_links_expire(store.clone()).await;
    store.integrity_check().await.expect("integrity check");
}

async fn apply_is_idempotent_and_round_trips(store: &dyn Store) {
    let d = sample_org("alpha", "CANARY-A");
    assert!(apply_org(store, &d, 100).await > 0, "first apply writes");
    assert_eq!(
        apply_org(store, &d, 200).await,
        0,
        "second apply is a no-op"
    );
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    assert_eq!(org.domains, vec!["alpha.example".to_owned()]);
    let user = store
        .user_by_username(&org.id, &d.users[0].username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.display_name, "Anna CANARY-A");
    assert!(user.password_hash.is_some());
    assert_eq!(
        store.user_roles(&org.id, &user.id).await.unwrap(),
        vec![Role::Servicedesk]
    );
    assert_eq!(store.user_groups(&org.id, &user.id).await.unwrap().len(), 1);
    let services = store.services_for_user(&org.id, &user.id).await.unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].name, "Payslip CANARY-A");

    // A changed display name updates; the stored password is left alone.
    let mut d2 = d.clone();
    d2.users[0].display_name = "Anna Andersson".into();
    d2.users[0].initial_password = Some(InitialPassword::Hash(
        "$2b$04$abcdefghijklmnopqrstuu5sN1iZb6s6Xq7o1X0oW2dVYbT8f1pS2".into(),
    ));
    assert_eq!(apply_org(store, &d2, 300).await, 1);
    let again = store.user(&org.id, &user.id).await.unwrap().unwrap();
    assert_eq!(again.display_name, "Anna Andersson");
    assert_eq!(again.password_hash, user.password_hash);
}

async fn lookups_are_scoped_by_organisation(store: &dyn Store) {
    let a = sample_org("scope-a", "CANARY-SA");
    let b = sample_org("scope-b", "CANARY-SB");
    apply_org(store, &a, 1).await;
    apply_org(store, &b, 1).await;
    let oa = store.organisation_by_slug(&a.slug).await.unwrap().unwrap();
    let ob = store.organisation_by_slug(&b.slug).await.unwrap().unwrap();
    let ua = store
        .user_by_username(&oa.id, &a.users[0].username)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store.user(&ob.id, &ua.id).await.unwrap().is_none(),
        "user of A via org B"
    );
    assert!(store
        .user_by_username(&ob.id, &a.users[0].username)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .services_for_user(&ob.id, &ua.id)
        .await
        .unwrap()
        .is_empty());
    assert!(store.user_groups(&ob.id, &ua.id).await.unwrap().is_empty());
    assert!(store.user_roles(&ob.id, &ua.id).await.unwrap().is_empty());
    let listed = store.list_users(&ob.id, 0, 1000).await.unwrap();
    assert!(listed.iter().all(|u| u.organisation_id == ob.id));
    assert!(listed.iter().all(|u| !u.display_name.contains("CANARY-SA")));
    assert_eq!(
        store
            .organisation_by_domain("scope-b.example")
            .await
            .unwrap()
            .unwrap()
            .id,
        ob.id
    );
}

async fn failure_counter_is_atomic(store: Arc<dyn Store>) {
    let d = sample_org("throttle", "CANARY-T");
    apply_org(&*store, &d, 1).await;
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    let name = Username::parse("nobody@throttle.example").unwrap();
    let policy = LockoutPolicy::default();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, o, n, p) = (store.clone(), org.id.clone(), name.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            s.record_failure(&o, &n, 1000, &p).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let st = store.throttle_state(&org.id, &name).await.unwrap();
    assert_eq!(st.failures, 20, "no failure lost under concurrency");
    assert_eq!(st.locked_until, HARD_LOCK);
    store.clear_failures(&org.id, &name).await.unwrap();
    assert_eq!(
        store.throttle_state(&org.id, &name).await.unwrap().failures,
        0
    );

    // Tries taken before their secret is checked (issue 10): of 20 at the
    // same moment, only the free ones are admitted; the rest are refused
    // without being counted (G3).
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, o, n, p) = (store.clone(), org.id.clone(), name.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            s.begin_try(&o, &n, 2000, &p).await.unwrap().is_ok()
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += usize::from(t.await.unwrap());
    }
    assert_eq!(admitted, 5, "the free attempts, then the delay");
    let st = store.throttle_state(&org.id, &name).await.unwrap();
    assert_eq!(st.failures, 5, "refused tries are not counted");
    store
        .forgive_try(&org.id, &name, 2000, &policy)
        .await
        .unwrap();
    let st = store.throttle_state(&org.id, &name).await.unwrap();
    assert_eq!(
        (st.failures, st.locked_until),
        (4, 0),
        "a right secret takes its try back"
    );
    store.clear_failures(&org.id, &name).await.unwrap();
}

async fn sessions_lifecycle(store: &dyn Store) {
    let d = sample_org("sessions", "CANARY-S");
    apply_org(store, &d, 1).await;
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    let user = store
        .user_by_username(&org.id, &d.users[0].username)
        .await
        .unwrap()
        .unwrap();
    for (i, h) in ["h1", "h2"].iter().enumerate() {
        store
            .create_session(&NewSession {
                token_hash: (*h).into(),
                organisation_id: org.id.clone(),
                user_id: user.id.clone(),
                created_at: 1000 + i64::try_from(i).unwrap(),
                expires_at: 50_000,
                ip: "10.0.0.1".into(),
                user_agent: "test".into(),
                amr: "pwd".into(),
                pending_mfa: false,
            })
            .await
            .unwrap();
    }
    store.touch_session("h1", 1200).await.unwrap();
    store.touch_session("h1", 1100).await.unwrap();
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().last_seen_at,
        1200,
        "touch never moves back"
    );
    assert_eq!(
        store
            .list_user_sessions(&org.id, &user.id, 2000)
            .await
            .unwrap()
            .len(),
        2
    );
    store.revoke_session("h1", 1300).await.unwrap();
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().revoked_at,
        Some(1300)
    );
    assert_eq!(
        store
            .revoke_user_sessions(&org.id, &user.id, 1400)
            .await
            .unwrap(),
        1
    );
    assert!(store
        .list_user_sessions(&org.id, &user.id, 2000)
        .await
        .unwrap()
        .is_empty());
    assert!(store.session("missing").await.unwrap().is_none());
    let other = org_named(store, "alpha").await;
    assert_eq!(
        store
            .revoke_user_sessions(&other.id, &user.id, 1500)
            .await
            .unwrap(),
        0
    );
}

async fn events_are_scoped(store: &dyn Store) {
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
                method: "pwd".into(),
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
async fn admin_events_are_scoped(store: &dyn Store) {
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

async fn domain_belongs_to_one_organisation(store: &dyn Store) {
    let mut d = sample_org("thief", "CANARY-X");
    d.domains = vec!["alpha.example".into()];
    let snap = store.snapshot(&d.slug).await.unwrap();
    let changes: Vec<Change> = plan(&d, &snap, 1).into_iter().map(|p| p.change).collect();
    assert!(
        store.apply_changes(&changes).await.is_err(),
        "a second organisation cannot claim a domain"
    );
}

async fn failed_apply_changes_nothing(store: &dyn Store) {
    assert!(
        store
            .organisation_by_slug(&slug("thief"))
            .await
            .unwrap()
            .is_none(),
        "rolled back whole"
    );
    let org = org_named(store, "alpha").await;
    let bogus = Change::PutUser {
        org: org.id.clone(),
        user: crate::store::User {
            id: UserId::generate(),
            organisation_id: org.id.clone(),
            username: Username::parse("plain@alpha.example").unwrap(),
            display_name: "x".into(),
            email: None,
            password_hash: None,
            must_change_password: true,
            disabled: false,
            created_at: 1,
            language: None,
        },
        groups: BTreeSet::new(),
        roles: BTreeSet::new(),
        new_password: Some(InitialPassword::Plain("never stored".into())),
        new_totp: None,
    };
    let before = store.list_users(&org.id, 0, 100).await.unwrap().len();
    assert!(store.apply_changes(&[bogus]).await.is_err());
    assert_eq!(
        store.list_users(&org.id, 0, 100).await.unwrap().len(),
        before
    );
}

async fn factors_are_single_use_and_scoped(store: Arc<dyn Store>) {
    let org = org_named(&*store, "alpha").await;
    let other = org_named(&*store, "scope-b").await;
    assert_eq!(store.zones(&org.id).await.unwrap().len(), 1);
    let user = store.list_users(&org.id, 0, 1).await.unwrap().remove(0);
    let mk = |id: &FactorId| Factor {
        id: id.clone(),
        organisation_id: org.id.clone(),
        user_id: user.id.clone(),
        kind: FactorKind::Totp,
        label: String::new(),
        secret: Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into()),
        destination: None,
        confirmed: false,
        created_at: 10,
        last_used_at: None,
    };
    let (a, b) = (FactorId::generate(), FactorId::generate());
    store.add_factor(&mk(&a)).await.unwrap();
    store.add_factor(&mk(&b)).await.unwrap();
    assert!(
        !store
            .consume_totp_step(&org.id, &user.id, &a, 5, 20)
            .await
            .unwrap(),
        "unconfirmed factors are unusable"
    );
    assert!(
        !store
            .confirm_factor(&other.id, &user.id, &a, "x", 1)
            .await
            .unwrap(),
        "other organisation"
    );
    assert!(store
        .confirm_factor(&org.id, &user.id, &a, "Jobbtelefonen", 1)
        .await
        .unwrap());
    assert!(!store
        .confirm_factor(&org.id, &user.id, &a, "again", 1)
        .await
        .unwrap());

    // 50 concurrent uses of one step: exactly one wins (SECURITY.md G3).
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (s, o, u, f) = (store.clone(), org.id.clone(), user.id.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            s.consume_totp_step(&o, &u, &f, 7, 30).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert!(
        !store
            .consume_totp_step(&org.id, &user.id, &a, 6, 31)
            .await
            .unwrap(),
        "older step refused"
    );
    assert!(store
        .consume_totp_step(&org.id, &user.id, &a, 8, 32)
        .await
        .unwrap());

    // The last confirmed factor stays when asked to keep one; an unconfirmed one can go.
    assert!(!store
        .remove_factor(&org.id, &user.id, &a, true)
        .await
        .unwrap());
    assert!(store
        .remove_factor(&org.id, &user.id, &b, true)
        .await
        .unwrap());
    assert!(
        !store
            .remove_factor(&other.id, &user.id, &a, false)
            .await
            .unwrap(),
        "other organisation"
    );
    assert_eq!(store.factors(&org.id, &user.id).await.unwrap().len(), 1);
    assert!(store.factors(&other.id, &user.id).await.unwrap().is_empty());
    assert!(store
        .remove_factor(&org.id, &user.id, &a, false)
        .await
        .unwrap());
}

async fn challenge(store: &dyn Store, session: &str, code: &str, at: i64) {
    let org = org_named(store, "alpha").await;
    let user = store.list_users(&org.id, 0, 1).await.unwrap().remove(0);
    let id = crate::ids::EventId::generate().to_string();
    store
        .create_challenge(&CodeChallenge {
            code_hash: codes::hash(&id, code),
            id,
            organisation_id: org.id.clone(),
            user_id: user.id.clone(),
            session_hash: session.into(),
            purpose: "signin".into(),
            channel: FactorKind::Email,
            destination: "anna@alpha.example".into(),
            created_at: at,
            expires_at: at + 300,
        })
        .await
        .unwrap();
}

/// A right code found by `check_challenge` stays usable until redeemed, and
/// only one of many parallel redemptions wins (issue 10 M3, G3); codes are
/// counted per account for the sending budget (H1, L1).
async fn checked_codes_are_redeemed_once_and_counted_per_account(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_named(s, "alpha").await;
    let user = s.list_users(&org.id, 0, 1).await.unwrap().remove(0);
    let before = s.count_challenges(&org.id, &user.id, "", 0).await.unwrap();
    challenge(s, "sess-r", "424242", 5000).await;
    assert_eq!(
        s.count_challenges(&org.id, &user.id, "", 0).await.unwrap(),
        before + 1
    );
    assert_eq!(
        s.count_challenges(&org.id, &user.id, "signin", 5000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.count_challenges(&org.id, &user.id, "reset", 0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.count_challenges(&org.id, &user.id, "", 5001)
            .await
            .unwrap(),
        0,
        "older than the window"
    );
    let CodeCheck::Accepted { id, .. } = s
        .check_challenge("sess-r", "signin", "424242", 5001, 5)
        .await
        .unwrap()
    else {
        panic!("right code")
    };
    // Checked, not used: a second check still finds it.
    assert!(matches!(
        s.check_challenge("sess-r", "signin", "424242", 5002, 5)
            .await
            .unwrap(),
        CodeCheck::Accepted { .. }
    ));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let st = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            st.redeem_challenge(&id, 5003).await.unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(
        s.check_challenge("sess-r", "signin", "424242", 5004, 5)
            .await
            .unwrap(),
        CodeCheck::Void
    );
}

async fn codes_are_bound_single_use_and_limited(store: Arc<dyn Store>) {
    let s = &*store;
    challenge(s, "sess-a", "123456", 1000).await;
    assert_eq!(
        s.latest_challenge_at("sess-a", "signin").await.unwrap(),
        Some(1000)
    );
    assert_eq!(
        s.use_challenge("sess-b", "signin", "123456", 1001, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "another attempt's code"
    );
    assert_eq!(
        s.use_challenge("sess-a", "signin", "654321", 1001, 5)
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 4 }
    );
    assert!(matches!(
        s.use_challenge("sess-a", "signin", "123456", 1002, 5)
            .await
            .unwrap(),
        CodeCheck::Accepted { destination, .. } if destination == "anna@alpha.example"
    ));
    assert_eq!(
        s.use_challenge("sess-a", "signin", "123456", 1003, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "single use"
    );

    challenge(s, "sess-c", "111111", 2000).await;
    assert_eq!(
        s.use_challenge("sess-c", "signin", "111111", 2300, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "expired at 5:00"
    );

    challenge(s, "sess-d", "222222", 3000).await;
    for left in (0..5).rev() {
        assert_eq!(
            s.use_challenge("sess-d", "signin", "000000", 3001, 5)
                .await
                .unwrap(),
            CodeCheck::Wrong { tries_left: left }
        );
    }
    assert_eq!(
        s.use_challenge("sess-d", "signin", "222222", 3002, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "sixth try"
    );

    challenge(s, "sess-e", "333333", 4000).await;
    challenge(s, "sess-e", "444444", 4010).await;
    assert_eq!(
        s.use_challenge("sess-e", "signin", "333333", 4011, 5)
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 4 },
        "resend voids the old code"
    );

    // 50 concurrent submissions of the right code: exactly one is accepted.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let st = store.clone();
        tasks.push(tokio::spawn(async move {
            st.use_challenge("sess-e", "signin", "444444", 4012, 100)
                .await
                .unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(matches!(t.await.unwrap(), CodeCheck::Accepted { .. }));
    }
    assert_eq!(accepted, 1, "exactly one of 50 parallel uses wins (G3)");
}

async fn outbox_retries_until_sent(store: &dyn Store) {
    let org = org_named(store, "alpha").await;
    let m = OutboxMessage {
        id: "msg-1".into(),
        organisation_id: org.id.clone(),
        channel: "email".into(),
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

async fn passkeys_are_unique_and_ceremonies_single_use(store: Arc<dyn Store>) {
    let org = org_named(&*store, "alpha").await;
    let other = org_named(&*store, "scope-b").await;
    let mut users = store.list_users(&org.id, 0, 1).await.unwrap();
    users.extend(store.list_users(&other.id, 0, 1).await.unwrap());
    let key = |user: &crate::store::User, cred: &str| Factor {
        id: FactorId::generate(),
        organisation_id: user.organisation_id.clone(),
        user_id: user.id.clone(),
        kind: FactorKind::Passkey,
        label: "Nyckel".into(),
        secret: Some("{}".into()),
        destination: Some(cred.into()),
        confirmed: true,
        created_at: 10,
        last_used_at: None,
    };
    let first = key(&users[0], "cred-1");
    store.add_factor(&first).await.unwrap();
    assert!(
        matches!(
            store.add_factor(&key(&users[1], "cred-1")).await,
            Err(crate::StoreError::Conflict(_))
        ),
        "a credential id belongs to one account in the installation"
    );
    let found = store.factor_by_credential("cred-1").await.unwrap().unwrap();
    assert_eq!(found.user_id, users[0].id);
    assert!(store
        .factor_by_credential("cred-2")
        .await
        .unwrap()
        .is_none());
    store
        .update_factor_secret(&org.id, &users[0].id, &first.id, "{\"n\":1}", 50)
        .await
        .unwrap();
    let found = store.factor_by_credential("cred-1").await.unwrap().unwrap();
    assert_eq!(found.secret.as_deref(), Some("{\"n\":1}"));
    assert_eq!(found.last_used_at, Some(50));

    let c = |id: &str, at: i64| Ceremony {
        id: id.into(),
        purpose: "signin".into(),
        user: None,
        session_hash: None,
        state: "{}".into(),
        created_at: at,
        expires_at: at + 300,
    };
    store.create_ceremony(&c("c1", 100)).await.unwrap();
    assert!(
        store
            .take_ceremony("c1", "reset", 110)
            .await
            .unwrap()
            .is_none(),
        "purpose is checked"
    );
    let (x, y) = tokio::join!(
        store.take_ceremony("c1", "signin", 110),
        store.take_ceremony("c1", "signin", 110)
    );
    assert_eq!(
        usize::from(x.unwrap().is_some()) + usize::from(y.unwrap().is_some()),
        1,
        "a ceremony is taken exactly once"
    );
    store.create_ceremony(&c("c2", 100)).await.unwrap();
    assert!(
        store
            .take_ceremony("c2", "signin", 401)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    let mut bound = c("c3", 1000);
    bound.user = Some((org.id.clone(), users[0].id.clone()));
    bound.session_hash = Some("h".into());
    store.create_ceremony(&bound).await.unwrap();
    let back = store
        .take_ceremony("c3", "signin", 1001)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.user, bound.user);
    assert_eq!(back.session_hash.as_deref(), Some("h"));
}

async fn service_rules_round_trip(store: &dyn Store) {
    let org = org_named(store, "alpha").await;
    let services = store.services_with_groups(&org.id).await.unwrap();
    let (payslip, groups) = services
        .iter()
        .find(|(s, _)| s.slug == slug("payslip"))
        .unwrap();
    assert_eq!(groups, &BTreeSet::from([slug("staff")]));
    let expected = sample_org("alpha", "x").services[0].access.clone();
    assert_eq!(payslip.access, expected, "rule and host survive storage");
    assert_eq!(payslip.access.open[0].to_string(), "mon-fri 07:00-18:00");
    let other = org_named(store, "scope-b").await;
    for (s, _) in store.services_with_groups(&other.id).await.unwrap() {
        assert_ne!(s.id, payslip.id, "another organisation's services stay out");
    }
}

async fn incidents_are_scoped_and_resolve_once(store: &dyn Store) {
    use crate::status::{ComponentState, Incident, IncidentUpdate, Phase};
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let comps = store.status_components(&org.id).await.unwrap();
    assert_eq!(comps.len(), 1);
    assert!(comps[0].alternatives.starts_with("Ring lönekontoret"));
    let update = |at, phase| IncidentUpdate {
        at,
        phase,
        body: format!("Lägesrapport {at}"),
        body_en: String::new(),
    };
    let incident = Incident {
        id: "inc_1".into(),
        organisation_id: org.id.clone(),
        title: "Lönesystemet ligger nere".into(),
        title_en: "Payroll down".into(),
        maintenance: false,
        draft: false,
        phase: Phase::Investigating,
        affected: vec![(slug("payslip-status"), ComponentState::MajorOutage)],
        created_at: 1000,
        resolved_at: None,
        updates: vec![update(1000, Phase::Investigating)],
    };
    store.create_incident(&incident).await.unwrap();
    assert!(
        !store
            .add_incident_update(&other.id, "inc_1", &update(1100, Phase::Identified))
            .await
            .unwrap(),
        "another organisation cannot touch it"
    );
    assert!(store
        .add_incident_update(&org.id, "inc_1", &update(1000, Phase::Identified))
        .await
        .unwrap());
    assert!(store
        .add_incident_update(&org.id, "inc_1", &update(1200, Phase::Resolved))
        .await
        .unwrap());
    assert!(
        !store
            .add_incident_update(&org.id, "inc_1", &update(1300, Phase::Monitoring))
            .await
            .unwrap(),
        "resolved stays resolved"
    );
    let got = store.incidents(&org.id, 0, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].phase, Phase::Resolved);
    assert_eq!(got[0].resolved_at, Some(1200));
    assert_eq!(got[0].updates.len(), 3);
    assert_eq!(got[0].updates[0].at, 1200, "newest update first");
    assert_eq!(
        got[0].updates[1].phase,
        Phase::Identified,
        "within one second, the later one first"
    );
    assert_eq!(got[0].affected, incident.affected);
    assert!(
        store.incidents(&org.id, 1201, 10).await.unwrap().is_empty(),
        "resolved before `since`"
    );
    // The page's view: a resolved incident with its last word only.
    let shown = store.incidents_shown(&org.id, 0, 10).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].updates.len(), 1);
    assert_eq!(shown[0].updates[0].at, 1200);
    assert_eq!(shown[0].affected, incident.affected);
    assert!(
        store
            .incidents_shown(&org.id, 0, 0)
            .await
            .unwrap()
            .is_empty(),
        "none resolved wanted"
    );
    assert!(store
        .incidents_shown(&other.id, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.incidents(&other.id, 0, 10).await.unwrap().is_empty());
}

async fn drafts_stay_hidden_until_published(store: &dyn Store) {
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let comps = store.status_components(&org.id).await.unwrap();
    let draft = crate::status::probe_draft(
        &comps[0],
        crate::status::ComponentState::PartialOutage,
        5000,
    );
    store.create_incident(&draft).await.unwrap();
    let public = |since| store.incidents(&org.id, since, 10);
    assert!(
        public(4000).await.unwrap().iter().all(|i| i.id != draft.id),
        "a draft is not public"
    );
    assert!(
        store
            .incidents_shown(&org.id, 4000, 10)
            .await
            .unwrap()
            .iter()
            .all(|i| i.id != draft.id),
        "nor on the page"
    );
    let drafts = store.draft_incidents(&org.id).await.unwrap();
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].draft);
    assert_eq!(drafts[0].updates.len(), 1);
    assert!(store.draft_incidents(&other.id).await.unwrap().is_empty());
    let update = crate::status::new_update("identified", "x", "", 5001).unwrap();
    assert!(
        !store
            .add_incident_update(&org.id, &draft.id, &update)
            .await
            .unwrap(),
        "a draft takes no updates before it is published"
    );
    assert!(
        !store
            .publish_draft(&other.id, &draft.id, ("t", ""), ("b", ""))
            .await
            .unwrap(),
        "another organisation cannot publish it"
    );
    assert!(store
        .publish_draft(
            &org.id,
            &draft.id,
            ("Lönen krånglar", "Payroll trouble"),
            ("Vi felsöker.", "")
        )
        .await
        .unwrap());
    assert!(
        !store
            .publish_draft(&org.id, &draft.id, ("t", ""), ("b", ""))
            .await
            .unwrap(),
        "once"
    );
    let shown = public(4000).await.unwrap();
    let got = shown.iter().find(|i| i.id == draft.id).expect("published");
    assert!(!got.draft);
    assert_eq!(got.title, "Lönen krånglar");
    assert_eq!(got.updates[0].body, "Vi felsöker.");
    assert!(
        !store
            .withdraw_draft(&org.id, &draft.id, 5002)
            .await
            .unwrap(),
        "no longer a draft"
    );
    assert!(store
        .add_incident_update(
            &org.id,
            &draft.id,
            &crate::status::new_update("resolved", "Klart", "", 5003).unwrap()
        )
        .await
        .unwrap());

    let second =
        crate::status::probe_draft(&comps[0], crate::status::ComponentState::MajorOutage, 6000);
    store.create_incident(&second).await.unwrap();
    assert!(!store
        .withdraw_draft(&other.id, &second.id, 6001)
        .await
        .unwrap());
    assert!(store
        .withdraw_draft(&org.id, &second.id, 6001)
        .await
        .unwrap());
    assert!(store.draft_incidents(&org.id).await.unwrap().is_empty());
    assert!(
        public(0).await.unwrap().iter().all(|i| i.id != second.id),
        "withdrawn drafts stay hidden"
    );
}

async fn probe_states_and_days(store: &dyn Store) {
    use crate::probe::{DayFigure, ProbeState};
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let all = store.probes(None).await.unwrap();
    let mine = store.probes(Some(&org.id)).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(all.len() > mine.len(), "every organisation's probes");
    assert_eq!(mine[0].spec.impact, "partial_outage");
    let state = |probe: &str, down| ProbeState {
        organisation_id: org.id.clone(),
        probe: slug(probe),
        component: slug("payslip-status"),
        down,
        since: 100,
        checked_at: 130,
        last_error: "connection refused".into(),
        impact: crate::status::ComponentState::PartialOutage,
        muted: false,
    };
    store
        .put_probe_states(&[state("payslip-http", true), state("not-defined", true)])
        .await
        .unwrap();
    let states = store.probe_states(&org.id).await.unwrap();
    assert_eq!(
        states,
        vec![state("payslip-http", true)],
        "only defined probes"
    );
    let overview = store.probe_overview(&org.id).await.unwrap();
    assert_eq!(overview.watching, 1);
    assert_eq!(overview.checked_at, Some(130));
    assert_eq!(overview.down, vec![state("payslip-http", true)]);
    store
        .put_probe_states(&[state("payslip-http", false)])
        .await
        .unwrap();
    assert!(!store.probe_states(&org.id).await.unwrap()[0].down);
    assert!(store.probe_overview(&org.id).await.unwrap().down.is_empty());
    assert_eq!(store.probe_overview(&other.id).await.unwrap().watching, 0);

    // Dismissing a draft mutes the probe while it stays down; coming up
    // clears that, so the next outage counts again.
    store
        .put_probe_states(&[state("payslip-http", true)])
        .await
        .unwrap();
    let comps = store.status_components(&org.id).await.unwrap();
    let draft =
        crate::status::probe_draft(&comps[0], crate::status::ComponentState::PartialOutage, 140);
    store.create_incident(&draft).await.unwrap();
    assert!(store.withdraw_draft(&org.id, &draft.id, 141).await.unwrap());
    assert!(store.probe_states(&org.id).await.unwrap()[0].muted);
    assert!(
        store.probe_overview(&org.id).await.unwrap().down.is_empty(),
        "not public"
    );
    store
        .put_probe_states(&[state("payslip-http", true)])
        .await
        .unwrap();
    assert!(
        store.probe_states(&org.id).await.unwrap()[0].muted,
        "kept while down"
    );
    store
        .put_probe_states(&[state("payslip-http", false)])
        .await
        .unwrap();
    assert!(
        !store.probe_states(&org.id).await.unwrap()[0].muted,
        "cleared when up"
    );
    store
        .put_probe_states(&[state("payslip-http", true)])
        .await
        .unwrap();
    assert_eq!(store.probe_overview(&org.id).await.unwrap().down.len(), 1);
    store
        .put_probe_states(&[state("payslip-http", false)])
        .await
        .unwrap();
    assert!(store.probe_states(&other.id).await.unwrap().is_empty());

    let fig = |day: &str, checks, failures| DayFigure {
        component: slug("payslip-status"),
        day: day.into(),
        checks,
        failures,
    };
    store
        .add_probe_figures(&[
            (org.id.clone(), fig("2026-11-22", 10, 1)),
            (org.id.clone(), fig("2026-11-23", 5, 0)),
        ])
        .await
        .unwrap();
    store
        .add_probe_figures(&[(org.id.clone(), fig("2026-11-23", 5, 2))])
        .await
        .unwrap();
    assert_eq!(
        store.probe_days(&org.id, "2026-11-23").await.unwrap(),
        vec![fig("2026-11-23", 10, 2)],
        "figures add up"
    );
    assert_eq!(
        store.probe_days(&org.id, "2000-01-01").await.unwrap(),
        vec![fig("2026-11-22", 10, 1), fig("2026-11-23", 10, 2)],
        "oldest first"
    );
    assert!(store
        .probe_days(&other.id, "2000-01-01")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.prune_probe_days("2026-11-23").await.unwrap(), 1);
    assert_eq!(
        store.probe_days(&org.id, "2000-01-01").await.unwrap().len(),
        1
    );
}

async fn a_users_language_is_theirs(store: &dyn Store) {
    let d = sample_org("alpha", "CANARY-A");
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let anna = store
        .user_by_username(&org.id, &d.users[0].username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna.language, None);
    assert!(
        !store
            .set_user_language(&other.id, &anna.id, Some("en"))
            .await
            .unwrap(),
        "not from another organisation"
    );
    assert!(store
        .set_user_language(&org.id, &anna.id, Some("en"))
        .await
        .unwrap());
    apply_org(store, &d, 50).await;
    let again = store.user(&org.id, &anna.id).await.unwrap().unwrap();
    assert_eq!(again.language.as_deref(), Some("en"), "apply keeps it");
    store
        .set_user_language(&org.id, &anna.id, None)
        .await
        .unwrap();
    let back = store.user(&org.id, &anna.id).await.unwrap().unwrap();
    assert_eq!(back.language, None);
}

/// Issue 10 H2, SECURITY.md G3: a ticket to the apps origin is exchanged
/// once, even by 50 concurrent requests, and only by the browser it was
/// minted for; it dies after its minute; a link is found by its hash
/// until it expires.
async fn apps_tickets_are_single_use_and_links_expire(store: Arc<dyn Store>) {
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
