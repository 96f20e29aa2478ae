//! The storage conformance suite. Every backend runs it against a fresh
//! database, so SQLite and PostgreSQL are held to one behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod breaches;
mod challenges;
mod events;
mod factors;
mod handoff;
mod intrusions;
mod oidc;
mod oidc_grants;
mod outbox;
mod probes;
mod provisioning;
mod rotations;
mod services;
mod sessions;
mod status;
mod throttle;
mod users;

use crate::apply::{
    plan, Change, DesiredOrganisation, DesiredService, DesiredUser, DesiredZone, InitialPassword,
};
use crate::domain::{Role, Slug, Username, ZoneCidrs};
use crate::store::Store;
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
        clients: Vec::new(),
        crisis: crate::rotation::CrisisPlan::default(),
        crisis_contacts: std::collections::BTreeMap::new(),
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
        signin_notices: Default::default(),
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
    provisioning::apply_is_idempotent_and_round_trips(&*store).await;
    users::lookups_are_scoped_by_organisation(&*store).await;
    throttle::failure_counter_is_atomic(store.clone()).await;
    sessions::sessions_lifecycle(&*store).await;
    events::events_are_scoped(&*store).await;
    events::admin_events_are_scoped(&*store).await;
    events::the_audit_chain_holds_under_parallel_appends(store.clone()).await;
    provisioning::domain_belongs_to_one_organisation(&*store).await;
    provisioning::failed_apply_changes_nothing(&*store).await;
    factors::factors_are_single_use_and_scoped(store.clone()).await;
    challenges::codes_are_bound_single_use_and_limited(store.clone()).await;
    challenges::checked_codes_are_redeemed_once_and_counted_per_account(store.clone()).await;
    outbox::outbox_retries_until_sent(&*store).await;
    factors::passkeys_are_unique_and_ceremonies_single_use(store.clone()).await;
    services::service_rules_round_trip(&*store).await;
    status::incidents_are_scoped_and_resolve_once(&*store).await;
    status::drafts_stay_hidden_until_published(&*store).await;
    status::corrections_change_title_and_components_with_a_record(&*store).await;
    users::a_users_language_is_theirs(&*store).await;
    users::the_user_list_finds_by_any_case_and_number(&*store).await;
    probes::probe_states_and_days(&*store).await;
    handoff::apps_tickets_are_single_use_and_links_expire(store.clone()).await;
    oidc::signing_keys_are_sealed_scoped_and_rotated(store.clone()).await;
    oidc_grants::codes_and_refresh_tokens_have_one_winner(store.clone()).await;
    intrusions::cases_are_scoped_numbered_and_frozen_when_closed(store.clone()).await;
    intrusions::freezes_need_two_people_to_lift(store.clone()).await;
    rotations::a_rotation_gives_each_person_one_code(store.clone()).await;
    breaches::breach_parts_stay_in_their_organisation(store.clone()).await;
    store.integrity_check().await.expect("integrity check");
}
