//! Passkeys: registering, passwordless sign-in, second factor, reset, and
//! the abuse cases (SECURITY.md A3–A7): wrong origin, replayed answers,
//! answers to another ceremony, a credential claiming another user.

use crate::helpers::{spawn_with, Client, TestApp, ANNA, ANNA_PW, ERIK_PW};
use crate::soft_passkey::{Prompt, SoftPasskey};

pub const RP: &str = "portal.exempelkommun.se";
pub const ORIGIN: &str = "https://portal.exempelkommun.se";
pub const PASSKEYS: &str = "[passkeys]\nrp_id = \"portal.exempelkommun.se\"\n\
                        origins = [\"https://portal.exempelkommun.se\"]\n";
/// Outside every zone of the demo organisation.
const OUTSIDE: &str = "198.51.100.7";

async fn app() -> TestApp {
    spawn_with(PASSKEYS).await
}

/// Signs Anna in from inside and registers a software passkey.
pub async fn enrol(app: &TestApp) -> (Client, SoftPasskey) {
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    let page = c.post_form("/settings/passkey", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let prompt = Prompt::from_page(&page.body);
    assert_eq!(
        prompt.options["authenticatorSelection"]["residentKey"], "preferred",
        "a discoverable credential is asked for, so it also works without a username"
    );
    let mut key = SoftPasskey::new(RP);
    let answer = key.register(&prompt, ORIGIN);
    let r = c
        .post_form(
            "/settings/passkey/finish",
            &[
                ("ceremony", &prompt.ceremony),
                ("label", "Nyckelringen"),
                ("credential", &answer),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/settings?done=added"));
    let settings = c.get("/settings").await;
    assert!(settings.body.contains("Nyckelringen"));
    assert!(settings.body.contains("Passkey"));
    (c, key)
}

async fn passwordless_prompt(c: &Client) -> Prompt {
    let page = c.post_form("/login/passkey", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    Prompt::from_page(&page.body)
}

async fn finish_signin(c: &Client, ceremony: &str, answer: &str) -> crate::helpers::Page {
    c.post_form(
        "/login/passkey/finish",
        &[("ceremony", ceremony), ("credential", answer)],
    )
    .await
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_username_or_password() {
    let app = app().await;
    let (_, mut key) = enrol(&app).await;
    // From outside: a passkey verifies the user itself, no second step.
    let c = app.client_from(OUTSIDE);
    let prompt = passwordless_prompt(&c).await;
    assert!(
        prompt
            .options
            .get("allowCredentials")
            .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty)),
        "no username typed, so no credential list either"
    );
    let answer = key.assert(&prompt, ORIGIN);
    let r = finish_signin(&c, &prompt.ceremony, &answer).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/"));
    let portal = c.get("/").await;
    assert_eq!(portal.status, 200);
    assert!(portal.body.contains("Anna Andersson"));

    // The same answer again: its ceremony is used up.
    let again = app.client_from(OUTSIDE);
    let _ = passwordless_prompt(&again).await;
    let r = finish_signin(&again, &prompt.ceremony, &answer).await;
    assert_eq!(r.status, 401, "a replayed answer is refused");
    assert!(r.body.contains("godtogs inte"));
    assert_eq!(again.get("/").await.status, 303, "and signs nobody in");
}

#[tokio::test]
async fn wrong_origin_other_ceremony_and_foreign_user_handle_are_refused() {
    let app = app().await;
    let (_, mut key) = enrol(&app).await;
    let c = app.client_from(OUTSIDE);

    // Signed for a look-alike site (a phishing proxy).
    let prompt = passwordless_prompt(&c).await;
    let forged = key.assert(&prompt, "https://portal.exempelkommun.se.evil.example");
    assert_eq!(
        finish_signin(&c, &prompt.ceremony, &forged).await.status,
        401
    );

    // A genuine answer to challenge A, sent as the answer to ceremony B.
    let a = passwordless_prompt(&c).await;
    let b = passwordless_prompt(&c).await;
    let answer_a = key.assert(&a, ORIGIN);
    assert_eq!(finish_signin(&c, &b.ceremony, &answer_a).await.status, 401);
    // Ceremony A was not touched by that and still works once.
    assert_eq!(finish_signin(&c, &a.ceremony, &answer_a).await.status, 303);

    // The credential claims to belong to someone else.
    let d = app.client_from(OUTSIDE);
    let prompt = passwordless_prompt(&d).await;
    key.user_handle = vec![7u8; 16];
    let answer = key.assert(&prompt, ORIGIN);
    assert_eq!(
        finish_signin(&d, &prompt.ceremony, &answer).await.status,
        401
    );

    // Garbage and an unknown credential.
    let prompt = passwordless_prompt(&d).await;
    assert_eq!(
        finish_signin(&d, &prompt.ceremony, "{\"id\": 1}")
            .await
            .status,
        401
    );
    let mut stranger = SoftPasskey::new(RP);
    stranger.user_handle = vec![1u8; 16];
    let answer = stranger.assert(&prompt, ORIGIN);
    assert_eq!(
        finish_signin(&d, &prompt.ceremony, &answer).await.status,
        401
    );
    assert_eq!(d.get("/").await.status, 303, "nobody signed in");
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_after_the_password() {
    let app = app().await;
    let (_, mut key) = enrol(&app).await;
    let c = app.client_from(OUTSIDE);
    let r = c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.location.as_deref(), Some("/login/factor"));
    let factor = c.get("/login/factor").await;
    assert!(
        factor.body.contains("/login/factor/passkey"),
        "{}",
        factor.body
    );
    let page = c.post_form("/login/factor/passkey", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let prompt = Prompt::from_page(&page.body);
    assert_eq!(
        prompt.options["allowCredentials"].as_array().map(Vec::len),
        Some(1),
        "the user is known: only their passkeys are offered"
    );
    // A wrong origin counts as a failed try and opens nothing.
    let forged = key.assert(&prompt, "https://evil.example");
    let r = c
        .post_form(
            "/login/factor/passkey/finish",
            &[("ceremony", &prompt.ceremony), ("credential", &forged)],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(c.get("/").await.status, 303);
    // The error page carries a new ceremony; answering it works.
    let prompt = Prompt::from_page(&r.body);
    let answer = key.assert(&prompt, ORIGIN);
    let r = c
        .post_form(
            "/login/factor/passkey/finish",
            &[("ceremony", &prompt.ceremony), ("credential", &answer)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/"));
    assert_eq!(c.get("/").await.status, 200);
}

#[tokio::test]
async fn a_passkey_resets_a_forgotten_password_and_rules_still_apply() {
    let app = app().await;
    let (signed_in, mut key) = enrol(&app).await;
    let c = app.client_from(OUTSIDE);
    let page = c.post_form("/reset/passkey", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"new\""));
    let prompt = Prompt::from_page(&page.body);
    let answer = key.assert(&prompt, ORIGIN);
    // A weak password is refused before the passkey's answer is used.
    let r = c
        .post_form(
            "/reset/passkey/finish",
            &[
                ("ceremony", &prompt.ceremony),
                ("credential", &answer),
                ("new", "sommar2024"),
                ("confirm", "sommar2024"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let new_pw = "tre gröna äpplen i korgen";
    let r = c
        .post_form(
            "/reset/passkey/finish",
            &[
                ("ceremony", &prompt.ceremony),
                ("credential", &answer),
                ("new", new_pw),
                ("confirm", new_pw),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/signed-out?reason=reset"));
    assert_eq!(
        signed_in.get("/").await.status,
        303,
        "every session of the account ended"
    );
    let fresh = app.client();
    assert_eq!(fresh.sign_in(ANNA, ANNA_PW).await.status, 401);
    assert_eq!(fresh.sign_in(ANNA, new_pw).await.status, 303);
}

#[tokio::test]
async fn registering_is_refused_from_outside_unless_configured_and_twice() {
    let app = app().await;
    let c = app.client_from(OUTSIDE);
    c.sign_in("erik.larsson@exempelkommun.se", ERIK_PW).await;
    // Erik has no factor, so outside he cannot even sign in fully; sign in
    // from inside and move outside instead.
    let inside = app.client();
    assert_eq!(
        inside
            .sign_in("erik.larsson@exempelkommun.se", ERIK_PW)
            .await
            .status,
        303
    );
    let r = inside
        .http
        .post(format!("{}/settings/passkey", inside.base))
        .header("x-forwarded-for", OUTSIDE)
        .form(&[("csrf", inside.csrf().await.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "from outside by default");

    let open = spawn_with(&format!(
        "{PASSKEYS}[factors.inside_only]\npasskey = false\n"
    ))
    .await;
    let (c, mut key) = enrol(&open).await;
    let r = c
        .http
        .post(format!("{}/settings/passkey", c.base))
        .header("x-forwarded-for", OUTSIDE)
        .form(&[("csrf", c.csrf().await.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "allowed from outside for passkeys");
    let prompt = Prompt::from_page(&r.text().await.unwrap());
    assert_eq!(
        prompt.options["excludeCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "the browser is told which passkey it already has"
    );
    // The same credential registered again (an authenticator ignoring the
    // exclusion list) is refused.
    let answer = key.register(&prompt, ORIGIN);
    let r = c
        .post_form(
            "/settings/passkey/finish",
            &[
                ("ceremony", &prompt.ceremony),
                ("label", "Igen"),
                ("credential", &answer),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
}

#[tokio::test]
async fn without_configuration_there_are_no_passkeys() {
    let app = spawn_with("").await;
    let c = app.client();
    assert!(!c.get("/login").await.body.contains("/login/passkey"));
    assert_eq!(c.post_form("/login/passkey", &[]).await.status, 404);
    c.sign_in(ANNA, ANNA_PW).await;
    assert!(!c.get("/settings").await.body.contains("/settings/passkey"));
    assert_eq!(c.post_form("/settings/passkey", &[]).await.status, 404);
}
