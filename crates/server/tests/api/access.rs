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
