//! Zones and the client address (issue 3 acceptance 3, SECURITY.md E1).
use crate::helpers::*;
use portvakt_core::apply::{DesiredOrganisation, DesiredUser, DesiredZone, InitialPassword};
use portvakt_core::domain::{MfaPolicy, Slug, Username, ZoneCidrs};

const USER: &str = "kim@zonkommun.se";
const PW: &str = "ett lösenord för zontesterna";

/// An organisation whose only internal network is 10.10.0.0/16 and
/// 2001:db8:10::/48, so the tests' loopback peer is outside.
async fn zone_org(app: &TestApp) {
    let org = DesiredOrganisation {
        slug: Slug::parse("zonkommun").unwrap(),
        name: "Zonkommun".into(),
        mfa_policy: MfaPolicy::OutsideInternal,
        domains: vec!["zonkommun.se".into()],
        groups: vec![],
        zones: vec![DesiredZone {
            slug: Slug::parse("adm").unwrap(),
            name: "Administrativa nätet".into(),
            cidrs: ZoneCidrs::parse(&["10.10.0.0/16", "2001:db8:10::/48"]).unwrap(),
        }],
        services: vec![],
        clients: vec![],
        crisis: portvakt_core::rotation::CrisisPlan::default(),
        crisis_contacts: std::collections::BTreeMap::new(),
        components: vec![],
        emergency_team: vec![],
        emergency_list: vec![],
        probes: Vec::new(),
        sms_country_codes: vec!["46".into()],
        signin_notices: Default::default(),
        status_contact: String::new(),
        users: vec![DesiredUser {
            username: Username::parse(USER).unwrap(),
            display_name: "Kim".into(),
            email: None,
            groups: Default::default(),
            roles: Default::default(),
            disabled: false,
            initial_password: Some(InitialPassword::Hash(app.hasher.hash(PW).await.unwrap())),
            totp_secret: None,
        }],
    };
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
}

/// 303 = signed in with the password alone (inside); 403 = a second factor
/// is needed (outside, and none registered).
async fn status_from(app: &TestApp, xff: Option<&str>) -> u16 {
    let c = match xff {
        Some(ip) => app.client_from(ip),
        None => app.client(),
    };
    c.sign_in(USER, PW).await.status
}

#[tokio::test]
async fn inside_and_outside_over_ipv4_and_ipv6_through_a_trusted_proxy() {
    let app = spawn_app().await;
    zone_org(&app).await;
    assert_eq!(
        status_from(&app, None).await,
        403,
        "loopback is outside this organisation's zones"
    );
    assert_eq!(status_from(&app, Some("10.10.7.7")).await, 303);
    assert_eq!(status_from(&app, Some("10.11.7.7")).await, 403);
    assert_eq!(
        status_from(&app, Some("2001:db8:10::5")).await,
        303,
        "IPv6 inside"
    );
    assert_eq!(status_from(&app, Some("[2001:db8:10::5]")).await, 303);
    assert_eq!(
        status_from(&app, Some("2001:db8:11::5")).await,
        403,
        "IPv6 outside"
    );
    assert_eq!(
        status_from(&app, Some("203.0.113.9, 10.10.7.7")).await,
        303,
        "the proxy's own hop is the client"
    );
}

#[tokio::test]
async fn malformed_forwarding_headers_never_move_a_client_inside() {
    let app = spawn_app().await;
    zone_org(&app).await;
    for bad in [
        "a",
        "10.10.7.7, a",
        "10.10.7.7:443",
        "fe80::1%eth0",
        "2001:db8:10::5%1",
        "10.10.7.7,,10.10.7.8",
    ] {
        assert_eq!(status_from(&app, Some(bad)).await, 403, "{bad:?}");
    }
    let long = format!("{}10.10.7.7", "1.2.3.4, ".repeat(500));
    assert_eq!(
        status_from(&app, Some(&long)).await,
        403,
        "a 4 KB header is ignored whole"
    );
}

#[tokio::test]
async fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
    let app = spawn_with("trusted_proxies = []\n").await;
    zone_org(&app).await;
    assert_eq!(
        status_from(&app, Some("10.10.7.7")).await,
        403,
        "not believed without a trusted proxy"
    );
}

#[tokio::test]
async fn sign_in_events_record_the_zone_and_the_method() {
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let school = app.client_from("10.20.3.4");
    assert_eq!(school.sign_in(ANNA, ANNA_PW).await.status, 303);
    let outside = app.client_from("198.51.100.20");
    assert_eq!(outside.sign_in(ANNA, "fel lösenord").await.status, 401);
    let events = app
        .store
        .signin_history(&org.id, &anna.id, 0, None, 10)
        .await
        .unwrap();
    let zone_of = |ip: &str| {
        events
            .iter()
            .find(|e| e.ip == ip)
            .map(|e| (e.zone.clone(), e.method.as_str().to_owned()))
            .unwrap()
    };
    assert_eq!(zone_of("10.20.3.4"), ("skolnatet".into(), "pwd".into()));
    assert_eq!(zone_of("198.51.100.20"), (String::new(), "pwd".into()));
}
