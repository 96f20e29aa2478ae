//! Access rules on the portal (issue 4): closed services are shown with
//! the reason in plain Swedish, and a step-up to a stronger sign-in opens
//! the ones that need it.
use crate::helpers::*;
use crate::mfa::oathtool;
use portvakt_core::ids::FactorId;
use portvakt_core::store::{Factor, FactorKind};

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const PAYSLIPS: &str = "href=\"https://lonebesked.exempelkommun.se/\"";
const CASES: &str = "href=\"https://arendehantering.exempelkommun.se/\"";

async fn give_anna_an_app(app: &TestApp) {
    let (org, anna) = app.org_and_user(ANNA).await;
    app.store
        .add_factor(&Factor {
            id: FactorId::generate(),
            organisation_id: org.id,
            user_id: anna.id,
            kind: FactorKind::Totp,
            label: "Jobbtelefonen".into(),
            secret: Some(SECRET.into()),
            destination: None,
            confirmed: true,
            created_at: START,
            last_used_at: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn closed_services_say_why_and_a_stronger_sign_in_opens_them() {
    let app = spawn_app().await;
    give_anna_an_app(&app).await;
    // Monday 13:00, inside: the password is enough to sign in.
    let c = app.client();
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/")
    );
    let portal = c.get("/").await;
    assert!(
        !portal.body.contains(PAYSLIPS),
        "pay slips need a stronger method"
    );
    assert!(portal
        .body
        .contains("Kräver inloggning med autentiseringsapp eller passkey."));
    assert!(
        portal.body.contains(CASES),
        "case handling is open on a weekday"
    );
    assert!(
        !portal.body.contains("Lärplattformen"),
        "another group's service is not listed at all"
    );

    // Step up with the authenticator: the same user, one more method.
    let r = c.post_form("/step-up", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/login/factor"));
    assert_eq!(c.get("/").await.status, 303, "pending until confirmed");
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(SECRET, START))])
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
    let portal = c.get("/").await;
    assert!(portal.body.contains(PAYSLIPS), "{}", portal.body);
    assert!(!portal.body.contains("/step-up"));

    // 19:00 the same day: case handling has closed.
    app.clock.set(START + 6 * 3600);
    let late = app.client();
    late.sign_in(ANNA, ANNA_PW).await;
    let portal = late.get("/").await;
    assert!(!portal.body.contains(CASES));
    assert!(portal.body.contains("Öppen måndag–fredag 07.00–18.00."));
}

#[tokio::test]
async fn english_reasons() {
    let app = spawn_app().await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let lang = c
        .post_form("/language", &[("lang", "en"), ("back", "/")])
        .await;
    assert_eq!(lang.status, 303);
    let portal = c.get("/").await;
    assert!(
        portal
            .body
            .contains("Requires signing in with authenticator app or passkey."),
        "{}",
        portal.body
    );
}

#[tokio::test]
async fn the_what_if_command_gives_the_same_decision_and_says_why() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let run = |service: &str, ip: &str, method: &str, time: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
            .args(["access", "check", "--config"])
            .arg(&config)
            .args(["--user", ANNA, "--service", service, "--ip", ip])
            .args(["--method", method, "--time", time])
            .output()
            .unwrap()
    };
    let out = run(
        "lonebesked",
        "10.10.1.1",
        "password,sms",
        "2026-11-23T13:00",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("decision: DENY"), "{text}");
    assert!(text.contains("Kräver inloggning med autentiseringsapp eller passkey."));
    assert!(text.contains("zone: administrativa-natet"), "{text}");

    let out = run(
        "lonebesked",
        "198.51.100.1",
        "password,app",
        "2026-11-23T13:00",
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("decision: ALLOW"));

    let out = run(
        "arendehantering",
        "10.10.1.1",
        "password",
        "2026-11-23T19:00",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3));
    assert!(text.contains("Öppen måndag–fredag 07.00–18.00."), "{text}");
    assert!(text.contains("2026-11-23 19:00"), "{text}");

    let out = run(
        "lararplattform",
        "10.10.1.1",
        "password",
        "2026-11-23T13:00",
    );
    assert_eq!(out.status.code(), Some(1), "unknown service is an error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--service"));
    let out = run("larplattform", "10.10.1.1", "password", "2026-11-23T13:00");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not shared with any of the user's groups")
    );
    let out = run("vab", "10.10.1.1", "fingerprint", "2026-11-23T13:00");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--method fingerprint"));
}

/// `/auth/verify` straight from a trusted proxy's address.
async fn verify(c: &Client, host: &str) -> u16 {
    c.http
        .get(format!("{}/auth/verify", c.base))
        .header("X-Original-URL", format!("https://{host}/"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The demo's services with web mail published at `mejl.exempelkommun.se`
/// through forward-auth.
async fn forward_auth_app() -> TestApp {
    let app = spawn_with(
        "[forward_auth]\nportal_url = \"https://portal.exempelkommun.se\"\n\
         domains = [\"exempelkommun.se\"]\n",
    )
    .await;
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.clear();
    for s in &mut org.services {
        if s.slug.as_str() == "webbmejl" {
            s.access.host = Some("mejl.exempelkommun.se".into());
        }
    }
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    app
}

#[tokio::test]
async fn forward_auth_keeps_the_idle_timeout_and_activity_keeps_a_session_alive() {
    let app = forward_auth_app().await;
    let c = app.client();
    assert_eq!(verify(&c, "mejl.exempelkommun.se").await, 401, "no session");
    c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(verify(&c, "mejl.exempelkommun.se").await, 200);
    assert_eq!(
        verify(&c, "okand.exempelkommun.se").await,
        403,
        "no service at that host: closed"
    );

    // Working in the app for 20 minutes, a check every 10: still signed in.
    let pause = std::time::Duration::from_millis(1100);
    for _ in 0..2 {
        app.clock.advance(10 * 60);
        tokio::time::sleep(pause).await;
        assert_eq!(verify(&c, "mejl.exempelkommun.se").await, 200);
    }
    // Then 16 idle minutes: signed out, through forward-auth as everywhere.
    app.clock.advance(16 * 60);
    tokio::time::sleep(pause).await;
    assert_eq!(verify(&c, "mejl.exempelkommun.se").await, 401);
    assert_eq!(c.get("/").await.status, 303);
}

/// Issue 10 L4: a person who must change a temporary password is half-way
/// through signing in; forward-auth (and so every published app) treats
/// them as not signed in until the password is changed.
#[tokio::test]
async fn l4_a_temporary_password_opens_no_app_until_it_is_changed_b1() {
    let app = forward_auth_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let temporary = app.hasher.hash(ANNA_PW).await.unwrap();
    app.store
        .set_password_hash(&org.id, &anna.id, &temporary, true)
        .await
        .unwrap();
    let c = app.client();
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/password")
    );
    assert_eq!(verify(&c, "mejl.exempelkommun.se").await, 401);
    assert_eq!(c.get("/").await.location.as_deref(), Some("/password"));
    let new = "ett alldeles nytt lösenord i vinter";
    let r = c
        .post_form(
            "/password",
            &[("current", ANNA_PW), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(verify(&c, "mejl.exempelkommun.se").await, 200);
}
