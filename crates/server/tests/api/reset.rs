//! Forgotten password with a factor registered beforehand (issue 3, SECURITY.md A5).
use crate::helpers::*;
use std::process::Command;

const NEW_PW: &str = "ett alldeles nytt lösenord i vinter";

fn oathtool(secret: &str, unix: i64) -> String {
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, "-N", &format!("@{unix}")])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Gives `username` a confirmed authenticator app; returns its secret.
pub async fn add_app(app: &TestApp, username: &str) -> String {
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let (org, user) = app.org_and_user(username).await;
    let f = portvakt_core::store::Factor {
        id: portvakt_core::ids::FactorId::generate(),
        organisation_id: org.id.clone(),
        user_id: user.id.clone(),
        kind: portvakt_core::store::FactorKind::Totp,
        label: "Jobbtelefonen".into(),
        secret: Some(secret.into()),
        destination: None,
        confirmed: true,
        created_at: START,
        last_used_at: None,
    };
    app.store.add_factor(&f).await.unwrap();
    secret.into()
}

/// The page without its CSRF tokens, which differ per browser.
fn strip(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len() + 43..];
    }
    out.push_str(rest);
    out
}

/// Asks for a reset and waits until the server has started it: the answer
/// comes first (so its timing says nothing), the code's challenge after.
async fn ask_reset(app: &TestApp, c: &Client, username: &str) -> Page {
    let (org, user) = app.org_and_user(username).await;
    let count = || async {
        app.store
            .signin_history(&org.id, &user.id, 0, None, 100)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.reason == "reset_code_sent")
            .count()
    };
    let before = count().await;
    let r = c.post_form("/reset", &[("username", username)]).await;
    for _ in 0..100 {
        if count().await > before {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the reset was not started");
}

#[tokio::test]
async fn reset_with_an_authenticator_ends_all_sessions() {
    let app = spawn_app().await;
    let secret = add_app(&app, ANNA).await;
    let other_browser = app.client();
    other_browser.sign_in(ANNA, ANNA_PW).await;

    let c = app.client_from("203.0.113.7");
    let login = c.get("/login").await;
    assert!(login.body.contains("href=\"/reset\""));
    let r = ask_reset(&app, &c, ANNA).await;
    assert_eq!(r.location.as_deref(), Some("/reset/code"));
    let page = c.get("/reset/code").await;
    assert!(page
        .body
        .contains("Kommer det ingen kod inom några minuter?"));
    assert!(page
        .body
        .contains("ring servicedesk eller besök dem med legitimation"));

    // Rules are checked before the code is used up.
    let code = oathtool(&secret, START);
    let weak = c
        .post_form(
            "/reset/code",
            &[
                ("code", &code),
                ("new", "Sommar2026!"),
                ("confirm", "Sommar2026!"),
            ],
        )
        .await;
    assert_eq!(weak.status, 400);
    let wrong = c
        .post_form(
            "/reset/code",
            &[("code", "000000"), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("Koden stämmer inte"));
    let ok = c
        .post_form(
            "/reset/code",
            &[("code", &code), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/signed-out?reason=reset"),
        "{}",
        ok.body
    );
    assert_eq!(
        other_browser.get("/").await.status,
        303,
        "every session ended (A5)"
    );
    assert_eq!(
        app.client().sign_in(ANNA, ANNA_PW).await.status,
        401,
        "old password gone"
    );
    assert_eq!(app.client().sign_in(ANNA, NEW_PW).await.status, 303);
    // The same code cannot be used again, nor the attempt.
    let again = c
        .post_form(
            "/reset/code",
            &[("code", &code), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn unknown_and_unregistered_accounts_get_the_same_pages() {
    let app = spawn_app().await;
    add_app(&app, ANNA).await;
    let mut pages = Vec::new();
    for name in [
        ANNA,
        SARA,
        "finns.inte@exempelkommun.se",
        "nobody@elsewhere.example",
    ] {
        let c = app.client();
        let r = c.post_form("/reset", &[("username", name)]).await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("/reset/code")),
            "{name}"
        );
        let page = c.get("/reset/code").await;
        let wrong = c
            .post_form(
                "/reset/code",
                &[("code", "123456"), ("new", NEW_PW), ("confirm", NEW_PW)],
            )
            .await;
        pages.push((
            page.status,
            strip(&page.body),
            wrong.status,
            strip(&wrong.body),
        ));
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "same status and body for every account (A1)"
    );
}

#[tokio::test]
async fn one_attempts_code_does_not_work_in_another_browser() {
    let app = spawn_app().await;
    let secret = add_app(&app, ANNA).await;
    let a = app.client();
    ask_reset(&app, &a, ANNA).await;
    // Browser B never asked for a reset: even a right app code does nothing there.
    let b = app.client();
    let r = b
        .post_form(
            "/reset/code",
            &[
                ("code", &oathtool(&secret, START)),
                ("new", NEW_PW),
                ("confirm", NEW_PW),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        app.client().sign_in(ANNA, ANNA_PW).await.status,
        303,
        "password unchanged"
    );
}

/// Issue 12: the way to the servicedesk is worded for whoever reads it, a
/// person with methods and one without alike, and the pages stay the same
/// for every account (A1: the wording is conditional, not the page).
#[tokio::test]
async fn the_servicedesk_way_is_worded_for_people_with_and_without_methods() {
    let app = spawn_app().await;
    let page = app.client().get("/reset").await;
    assert!(page.body.contains(
        "Har du inte lagt till någon autentiseringsapp, passkey, mobilnummer eller e-postadress i förväg? \
         Då går det inte att byta lösenord här. Ring servicedesk eller besök dem med legitimation"
    ));
    assert!(!page.body.contains("Har du inte registrerat någon metod"));
    add_app(&app, ANNA).await;
    let mut pages = Vec::new();
    for name in [ANNA, SARA] {
        let c = app.client();
        c.post_form("/reset", &[("username", name)]).await;
        let page = c.get("/reset/code").await;
        assert!(page
            .body
            .contains("Kontrollera att du skrev rätt användarnamn och börja om"));
        pages.push(strip(&page.body));
    }
    assert_eq!(pages[0], pages[1]);
}
