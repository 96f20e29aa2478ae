//! Where people got stuck in the first wave (issue 12): a step-up with
//! nothing to step up with, factor pages that talk about the wrong method,
//! no way back from the second step or from `/reauth`, and "kontakta
//! servicedesk" without saying how.
use crate::email::Sink;
use crate::helpers::*;
use crate::mfa::oathtool;
use portvakt_core::ids::FactorId;
use portvakt_core::store::{Factor, FactorKind};

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const OUTSIDE: &str = "203.0.113.7";
const PAYSLIPS: &str = "href=\"https://lonebesked.exempelkommun.se/\"";

async fn give_anna(app: &TestApp, kind: FactorKind, secret: Option<&str>, to: Option<&str>) {
    let (org, anna) = app.org_and_user(ANNA).await;
    app.store
        .add_factor(&Factor {
            id: FactorId::generate(),
            organisation_id: org.id,
            user_id: anna.id,
            kind,
            label: "Jobbtelefonen".into(),
            secret: secret.map(str::to_owned),
            destination: to.map(str::to_owned),
            confirmed: true,
            created_at: START,
            last_used_at: None,
        })
        .await
        .unwrap();
}

/// A browser whose cookie jar the test can fill and read, seen from `ip`
/// (as a trusted proxy reports it) or from loopback (inside).
fn browser_with(
    app: &TestApp,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    ip: Option<&str>,
) -> Client {
    let mut h = reqwest::header::HeaderMap::new();
    if let Some(ip) = ip {
        h.insert("x-forwarded-for", ip.parse().unwrap());
    }
    Client {
        http: reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(h)
            .build()
            .unwrap(),
        base: app.url(""),
    }
}

fn with_email(sink: &Sink) -> String {
    format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    )
}

/// The first wave's dead end: no second factor, "Logga in med en starkare
/// metod", and the portal and settings then sent the person to a factor
/// page with nothing on it.
#[tokio::test]
async fn without_a_second_factor_the_portal_offers_no_step_up_but_says_how_to_get_one() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/")
    );
    let portal = c.get("/").await;
    assert!(
        !portal.body.contains("action=\"/step-up\""),
        "{}",
        portal.body
    );
    assert!(portal.body.contains("Du har ingen sådan ännu."));
    assert!(portal.body.contains("href=\"/settings\""));

    // A stale form (or a hand-made request) changes nothing.
    let r = c.post_form("/step-up", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/"));
    assert_eq!(c.get("/").await.status, 200, "still signed in");
    assert_eq!(c.get("/settings").await.status, 200);
}

#[tokio::test]
async fn a_cancelled_step_up_returns_to_the_session_it_started_from() {
    let app = spawn_app().await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(
        c.post_form("/step-up", &[]).await.location.as_deref(),
        Some("/login/factor")
    );
    let page = c.get("/login/factor").await;
    assert!(
        page.body.contains("kräver en starkare inloggning"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("utanför kommunens nät"),
        "Anna is inside the network"
    );
    assert!(page
        .body
        .contains("Avbryt och gå tillbaka till Mina tjänster"));

    let r = c.post_form("/login/factor/cancel", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/"));
    let portal = c.get("/").await;
    assert_eq!(portal.status, 200, "the session from before the step-up");
    assert!(
        !portal.body.contains(PAYSLIPS),
        "still without the stronger method"
    );
    assert_eq!(
        c.get("/login/factor").await.status,
        303,
        "no pending step left"
    );
}

#[tokio::test]
async fn a_completed_step_up_ends_the_session_it_started_from() {
    let app = spawn_app().await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let first = app
        .store
        .list_user_sessions(&org.id, &anna.id, START)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    c.post_form("/step-up", &[]).await;
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(SECRET, START))])
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
    assert!(
        r.set_cookies
            .iter()
            .any(|c| c.starts_with("portvakt-stepup=;")),
        "{:?}",
        r.set_cookies
    );
    assert!(c.get("/").await.body.contains(PAYSLIPS));
    let live = app
        .store
        .list_user_sessions(&org.id, &anna.id, START)
        .await
        .unwrap();
    assert_eq!(live.len(), 1, "only the stepped-up session is left");
    assert_ne!(live[0].token_hash, first[0].token_hash);
}

#[tokio::test]
async fn cancelling_a_sign_in_ends_it_and_frees_the_sign_in_page() {
    let app = spawn_app().await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let c = app.client_from(OUTSIDE);
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/login/factor")
    );
    let page = c.get("/login/factor").await;
    assert!(page.body.contains("utanför kommunens nät"));
    assert!(page.body.contains("Avbryt och logga in som någon annan"));
    let r = c.post_form("/login/factor/cancel", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/login"));
    assert_eq!(
        c.get("/login").await.status,
        200,
        "someone else can sign in"
    );
    assert_eq!(c.get("/").await.status, 303);
    // The cancelled attempt cannot be picked up again with a code.
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(SECRET, START))])
        .await;
    assert_ne!(r.location.as_deref(), Some("/"));
}

/// A stolen step-up cookie of another person's session is not a way in: a
/// cancel only hands back a session of the same person.
#[tokio::test]
async fn a_cancel_never_hands_back_someone_elses_session() {
    let app = spawn_app().await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let sara = app.client();
    let signed = sara.sign_in(SARA, SARA_PW).await;
    let sara_token = signed
        .set_cookies
        .iter()
        .find_map(|c| c.strip_prefix("portvakt="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    // Anna's browser, outside, in the second step, carrying Sara's token
    // where a step-up keeps the session it started from.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let base: reqwest::Url = app.url("/").parse().unwrap();
    jar.add_cookie_str(&format!("portvakt-stepup={sara_token}"), &base);
    let anna = browser_with(&app, jar, Some(OUTSIDE));
    assert_eq!(
        anna.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/login/factor")
    );
    let r = anna.post_form("/login/factor/cancel", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/login"), "not Sara's session");
    assert_eq!(anna.get("/").await.status, 303);
    assert_eq!(
        sara.get("/").await.status,
        200,
        "Sara's session is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_choosing_a_sent_code_the_page_talks_about_that_code() {
    let sink = Sink::start();
    let app = spawn_with(&with_email(&sink)).await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    give_anna(
        &app,
        FactorKind::Email,
        None,
        Some("anna.privat@example.se"),
    )
    .await;
    let c = app.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    let page = c.get("/login/factor").await;
    assert!(
        page.body.contains("Koden byts var 30:e sekund"),
        "app first"
    );
    let id = page
        .body
        .split("action=\"/login/factor/send/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let r = c.post_form(&format!("/login/factor/send/{id}"), &[]).await;
    let sent = c.get(r.location.as_deref().unwrap()).await;
    assert!(
        sent.body.contains("Vi har skickat en kod till"),
        "{}",
        sent.body
    );
    assert!(!sent.body.contains("30:e sekund"), "{}", sent.body);
    assert!(!sent.body.contains("autentiseringsappen i telefonen"));

    let wrong = c
        .post_form(
            "/login/factor",
            &[("method", "sent"), ("factor", &id), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("det senaste meddelandet"),
        "{}",
        wrong.body
    );
    assert!(
        !wrong.body.contains("klocka"),
        "no clock advice for a sent code"
    );

    let app_wrong = c.post_form("/login/factor", &[("code", "000000")]).await;
    assert!(app_wrong.body.contains("klocka"), "the app's advice stays");
}

/// "Kontakta servicedesk" comes with the organisation's ways to reach it.
#[tokio::test]
async fn pages_that_say_contact_the_servicedesk_say_how() {
    let app = spawn_app().await;
    let (org, _) = app.org_and_user(ANNA).await;
    assert!(
        !org.status_contact.is_empty(),
        "the test organisation has contact lines"
    );
    let first_line = org.status_contact.lines().next().unwrap().trim().to_owned();
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let c = app.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    let page = c.get("/login/factor").await;
    assert!(page.body.contains("Så når du oss"), "{}", page.body);
    assert!(
        page.body.contains(&html_escape(&first_line)),
        "{}",
        page.body
    );
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// `/reauth` in the middle of a change goes back to that change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_reauth_the_person_is_back_at_the_change_they_were_making() {
    let sink = Sink::start();
    let app = spawn_with(&with_email(&sink)).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    app.clock.set(START + 10 * 60);
    let r = c
        .post_form("/settings/email", &[("address", "anna.privat@example.se")])
        .await;
    let to = r.location.clone().unwrap();
    assert_eq!(to, "/reauth?next=%2Fsettings%3Fcontinue%3Demail%23email");
    let page = c.get(&to).await;
    assert!(page
        .body
        .contains("Avbryt och gå tillbaka till Mina inställningar"));
    assert!(page.body.contains("Logga ut och logga in som någon annan"));
    let r = c
        .post_form(
            "/reauth",
            &[
                ("password", ANNA_PW),
                ("next", "/settings?continue=email#email"),
            ],
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/settings?continue=email#email")
    );
    let settings = c.get("/settings?continue=email").await;
    assert!(
        settings.body.contains("lösenordet är bekräftat"),
        "{}",
        settings.body
    );
}

/// The delay after failed sign-ins names its end as other pages do.
#[tokio::test]
async fn the_delay_message_writes_the_time_as_kl() {
    let app = spawn_app().await;
    let c = app.client();
    let mut last = None;
    for _ in 0..6 {
        last = Some(c.sign_in(ANNA, "fel lösenord helt och hållet").await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert!(last.body.contains("tidigast kl. 13:"), "{}", last.body);
    assert!(!last.body.contains("tidigast 2026-"), "{}", last.body);
}

/// Running out of tries in a step-up ends the session kept aside too: the
/// person is told they are signed out, and nothing live is left behind in
/// the browser's cookies.
#[tokio::test]
async fn running_out_of_tries_in_a_step_up_ends_the_kept_session_too() {
    let app = spawn_app().await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    c.post_form("/step-up", &[]).await;
    let mut last = None;
    for _ in 0..5 {
        last = Some(c.post_form("/login/factor", &[("code", "000000")]).await);
    }
    let out = last.unwrap();
    assert_eq!(out.location.as_deref(), Some("/signed-out?reason=codes"));
    assert!(out
        .set_cookies
        .iter()
        .any(|c| c.starts_with("portvakt-stepup=;")));
    let (org, anna) = app.org_and_user(ANNA).await;
    let live = app
        .store
        .list_user_sessions(&org.id, &anna.id, START)
        .await
        .unwrap();
    assert!(live.is_empty(), "{live:?}");
}

/// A step-up cookie left behind (the browser closed in the middle of a
/// step-up keeps it on disk) is bound to that step-up's pending session: a
/// later sign-in of the same person with only the password, from outside,
/// cannot cancel its way into the kept full session.
#[tokio::test]
async fn a_left_behind_step_up_cookie_does_not_complete_another_sign_in() {
    use reqwest::cookie::CookieStore;
    let app = spawn_app().await;
    give_anna(&app, FactorKind::Totp, Some(SECRET), None).await;
    let base: reqwest::Url = app.url("/").parse().unwrap();
    let first_jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let victim = browser_with(&app, first_jar.clone(), None);
    victim.sign_in(ANNA, ANNA_PW).await;
    victim.post_form("/step-up", &[]).await;
    let cookies = first_jar.cookies(&base).unwrap();
    let left = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find(|c| c.starts_with("portvakt-stepup="))
        .unwrap()
        .to_owned();

    // Someone with the password, in the same browser after it was closed
    // (only the step-up cookie survives), from outside.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&left, &base);
    let other = browser_with(&app, jar, Some(OUTSIDE));
    assert_eq!(
        other.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/login/factor")
    );
    let page = other.get("/login/factor").await;
    assert!(page.body.contains("utanför kommunens nät"), "not a step-up");
    let r = other.post_form("/login/factor/cancel", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/login"));
    assert_eq!(other.get("/").await.status, 303, "no session came of it");
}
