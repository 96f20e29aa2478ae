//! Regression tests for what the attack on the first wave found about codes,
//! resets and lockout (issue 10 H1, M1, M2, M3; SECURITY.md A1, A4, A5, G3).
//! Each failed against the first wave.
use crate::helpers::*;
use crate::mfa::oathtool;
use portvakt_core::store::{Factor, FactorKind};
use portvakt_core::Clock;

const OUTSIDE: &str = "203.0.113.7";
const NEW_PW: &str = "ett alldeles nytt lösenord i vinter";
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

async fn add_factor(app: &TestApp, username: &str, kind: FactorKind, dest: Option<&str>) {
    let (org, user) = app.org_and_user(username).await;
    let f = Factor {
        id: portvakt_core::ids::FactorId::generate(),
        organisation_id: org.id.clone(),
        user_id: user.id.clone(),
        kind,
        label: "Jobbtelefonen".into(),
        secret: (kind == FactorKind::Totp).then(|| SECRET.into()),
        destination: dest.map(Into::into),
        confirmed: true,
        created_at: START,
        last_used_at: None,
    };
    app.store.add_factor(&f).await.unwrap();
}

async fn reasons(app: &TestApp, username: &str) -> Vec<String> {
    let (org, user) = app.org_and_user(username).await;
    app.store
        .signin_history(&org.id, &user.id, 0, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.reason)
        .collect()
}

fn count(reasons: &[String], reason: &str) -> usize {
    reasons.iter().filter(|r| *r == reason).count()
}

/// Asks for a reset and waits until the server has handled it (started or
/// refused by the account's budget): the answer comes before that work.
async fn ask_reset(app: &TestApp, c: &Client, username: &str) {
    let (org, user) = app.org_and_user(username).await;
    let handled = || async {
        app.store
            .signin_history(&org.id, &user.id, 0, None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.reason == "reset_code_sent" || e.reason == "reset_limited")
            .map(|e| e.id.to_string())
            .collect::<std::collections::HashSet<_>>()
    };
    let before = handled().await;
    let r = c.post_form("/reset", &[("username", username)]).await;
    assert_eq!(r.location.as_deref(), Some("/reset/code"));
    for _ in 0..200 {
        if !handled().await.is_subset(&before) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the reset was not handled");
}

/// Waits out the longest delay (15 min) while keeping the session from
/// idling out, as a person with the page open would.
async fn wait_out_delay(app: &TestApp, c: &Client) {
    for _ in 0..4 {
        app.clock.advance(4 * 60);
        assert_eq!(c.get("/settings").await.status, 200);
    }
}

/// Posts every form at once from one browser (its cookies, one CSRF
/// token, as a script would); answers each (status, Location).
async fn at_once(
    c: &Client,
    path: &str,
    forms: Vec<Vec<(&'static str, String)>>,
) -> Vec<(u16, Option<String>)> {
    let token = c.csrf().await;
    let mut tasks = Vec::new();
    for mut form in forms {
        form.push(("csrf", token.clone()));
        let (http, url) = (c.http.clone(), format!("{}{path}", c.base));
        tasks.push(tokio::spawn(async move {
            let r = http.post(url).form(&form).send().await.unwrap();
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (r.status().as_u16(), location)
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn reset_with(c: &Client, code: &str, pw: &str) -> Page {
    c.post_form(
        "/reset/code",
        &[("code", code), ("new", pw), ("confirm", pw)],
    )
    .await
}

#[tokio::test]
async fn h1_app_codes_guessed_through_resets_count_against_the_account_a4_a5() {
    let app = spawn_app().await;
    add_factor(&app, ANNA, FactorKind::Totp, None).await;
    let c = app.client_from(OUTSIDE);
    // The attack: five wrong codes, a new reset, five more, and so on.
    ask_reset(&app, &c, ANNA).await;
    for _ in 0..5 {
        assert_eq!(reset_with(&c, "000000", NEW_PW).await.status, 400);
    }
    ask_reset(&app, &c, ANNA).await;
    // The account is now delayed: not even the right code is looked at.
    let right = reset_with(&c, &oathtool(SECRET, START), NEW_PW).await;
    assert_eq!(right.status, 400);
    assert!(right.body.contains("prövats för många gånger"));
    assert_eq!(
        app.client().sign_in(ANNA, ANNA_PW).await.status,
        429,
        "the same counter as sign-in"
    );
    let r = reasons(&app, ANNA).await;
    assert_eq!(count(&r, "bad_code"), 5);
    assert_eq!(count(&r, "throttled"), 1, "the refusal is recorded");

    // Keep trying for a day, waiting out every delay: the per-account
    // budget of resets bounds the guesses far below the code space.
    let (org, user) = app.org_and_user(ANNA).await;
    let (mut checked, mut limited) = (5, 0);
    for _ in 0..60 {
        app.clock.advance(16 * 60);
        ask_reset(&app, &c, ANNA).await;
        for _ in 0..5 {
            reset_with(&c, "000000", NEW_PW).await;
        }
        let now = app.clock.now();
        let round: Vec<String> = app
            .store
            .signin_history(&org.id, &user.id, 0, None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.at == now)
            .map(|e| e.reason)
            .collect();
        checked += count(&round, "bad_code");
        limited += count(&round, "reset_limited");
    }
    assert!(checked <= 5 + 10, "{checked} codes checked in 16 hours");
    assert!(limited >= 40, "{limited} resets refused");
}

#[tokio::test]
async fn h1_resets_and_their_messages_are_limited_per_account() {
    let app = spawn_app().await;
    add_factor(
        &app,
        ANNA,
        FactorKind::Email,
        Some("anna.privat@example.org"),
    )
    .await;
    // Ten resets in a burst from ten addresses: at most three messages.
    for i in 0..10 {
        let c = app.client_from(&format!("198.51.100.{i}"));
        ask_reset(&app, &c, ANNA).await;
    }
    let (org, user) = app.org_and_user(ANNA).await;
    let codes = app
        .store
        .count_challenges(&org.id, &user.id, None, 0)
        .await
        .unwrap();
    assert_eq!(codes, 3);
    let r = reasons(&app, ANNA).await;
    assert_eq!(count(&r, "reset_code_sent"), 3);
    assert_eq!(count(&r, "reset_limited"), 7);
}

#[tokio::test]
async fn m3_reset_password_rules_are_checked_only_after_the_code_a1_a5() {
    let app = spawn_app().await;
    add_factor(&app, ANNA, FactorKind::Totp, None).await;
    let mut answers = Vec::new();
    for name in [ANNA, SARA, "finns.inte@exempelkommun.se"] {
        let c = app.client();
        ask_reset_unchecked(&c, name).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = reset_with(&c, "123456", "kort").await;
        let field = r.body.contains("aria-invalid=\"true\"");
        answers.push((
            r.status,
            r.body.contains("för kort"),
            r.body.contains("Koden stämmer inte"),
            field,
        ));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer whether or not the account exists: {answers:?}"
    );
    assert!(answers[0].2, "the code is what is wrong");
}

async fn ask_reset_unchecked(c: &Client, name: &str) {
    let r = c.post_form("/reset", &[("username", name)]).await;
    assert_eq!(r.location.as_deref(), Some("/reset/code"));
}

#[tokio::test]
async fn m1_parallel_wrong_app_codes_are_counted_before_they_are_checked_a4_g3() {
    let app = spawn_app().await;
    add_factor(&app, ANNA, FactorKind::Totp, None).await;
    let c = app.client_from(OUTSIDE);
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/login/factor")
    );
    let right = oathtool(SECRET, START);
    let forms = (0..30u32)
        .map(|i| {
            let code = if i == 29 {
                right.clone()
            } else {
                format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000)
            };
            vec![("code", code)]
        })
        .collect();
    let signed_in = at_once(&c, "/login/factor", forms)
        .await
        .iter()
        .filter(|(_, l)| l.as_deref() == Some("/"))
        .count();
    let r = reasons(&app, ANNA).await;
    assert!(
        count(&r, "bad_code") + signed_in <= 5,
        "at most five codes looked at: {} wrong, {signed_in} right",
        count(&r, "bad_code")
    );
}

#[tokio::test]
async fn m2_reauth_shares_the_sign_in_lock_and_delays() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let r = c
            .post_form(
                "/reauth",
                &[("password", "fel lösenord"), ("next", "/settings")],
            )
            .await;
        statuses.push(r.status);
        wait_out_delay(&app, &c).await;
    }
    assert!(statuses.contains(&423), "{statuses:?}");
    let right = c
        .post_form("/reauth", &[("password", ANNA_PW), ("next", "/settings")])
        .await;
    assert_eq!(right.status, 423, "a locked account gets no fresh session");
    assert_eq!(app.client().sign_in(ANNA, ANNA_PW).await.status, 423);
}

#[tokio::test]
async fn m2_reauth_after_five_failures_is_delayed_like_sign_in() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    for _ in 0..5 {
        let r = c
            .post_form(
                "/reauth",
                &[("password", "fel lösenord"), ("next", "/settings")],
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = c
        .post_form("/reauth", &[("password", ANNA_PW), ("next", "/settings")])
        .await;
    assert_eq!(r.status, 429);
    assert!(
        r.body.contains("Du kan försöka igen tidigast"),
        "{}",
        r.body
    );
    assert_eq!(app.client().sign_in(ANNA, ANNA_PW).await.status, 429);
}

#[tokio::test]
async fn m2_password_change_shares_the_sign_in_lock() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    for _ in 0..22 {
        c.post_form(
            "/password",
            &[
                ("current", "fel lösenord"),
                ("new", NEW_PW),
                ("confirm", NEW_PW),
            ],
        )
        .await;
        wait_out_delay(&app, &c).await;
    }
    let right = c
        .post_form(
            "/password",
            &[("current", ANNA_PW), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(right.status, 423, "{}", right.body);
    assert_eq!(app.client().sign_in(ANNA, NEW_PW).await.status, 423);
    let r = reasons(&app, ANNA).await;
    assert!(count(&r, "bad_current_password") >= 20, "recorded (L7)");
}

#[tokio::test]
async fn h1_a_known_password_does_not_reset_the_budget_for_codes_a4() {
    let app = spawn_app().await;
    add_factor(&app, ANNA, FactorKind::Totp, None).await;
    let c = app.client_from(OUTSIDE);
    for _ in 0..10 {
        app.clock.advance(16 * 60);
        if c.sign_in(ANNA, ANNA_PW).await.location.as_deref() != Some("/login/factor") {
            continue;
        }
        for _ in 0..5 {
            c.post_form("/login/factor", &[("code", "000000")]).await;
        }
    }
    let r = reasons(&app, ANNA).await;
    assert!(
        count(&r, "bad_code") <= 5 + 9,
        "{} codes checked",
        count(&r, "bad_code")
    );
}

#[tokio::test]
async fn h1_a_burst_of_resets_cannot_overshoot_the_budget_g3() {
    let app = spawn_app().await;
    add_factor(
        &app,
        ANNA,
        FactorKind::Email,
        Some("anna.privat@example.org"),
    )
    .await;
    let c = app.client_from(OUTSIDE);
    let forms = (0..40)
        .map(|_| vec![("username", ANNA.to_owned())])
        .collect();
    for (status, _) in at_once(&c, "/reset", forms).await {
        assert_eq!(status, 303);
    }
    let (org, user) = app.org_and_user(ANNA).await;
    let mut handled = 0;
    for _ in 0..300 {
        let r = reasons(&app, ANNA).await;
        handled = count(&r, "reset_code_sent") + count(&r, "reset_limited");
        if handled == 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(handled, 40);
    let codes = app
        .store
        .count_challenges(&org.id, &user.id, None, 0)
        .await
        .unwrap();
    assert_eq!(codes, 3, "three resets an hour, however fast they come");
}

#[tokio::test]
async fn a1_wrong_reset_codes_count_against_any_name_alike() {
    let app = spawn_app().await;
    add_factor(&app, ANNA, FactorKind::Totp, None).await;
    let mut after = Vec::new();
    for name in [ANNA, SARA, "finns.inte@exempelkommun.se"] {
        let c = app.client_from(OUTSIDE);
        ask_reset_unchecked(&c, name).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for _ in 0..5 {
            assert_eq!(reset_with(&c, "000000", NEW_PW).await.status, 400);
        }
        after.push(app.client().sign_in(name, "fel lösenord").await.status);
    }
    assert_eq!(after, [429, 429, 429], "the same lock for every name");
}

#[tokio::test]
async fn h1_a_locked_account_still_resets_with_a_code_sent_to_a_registered_address_a5() {
    let sink = crate::email::Sink::start();
    let app = spawn_with(&format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    ))
    .await;
    add_factor(
        &app,
        ANNA,
        FactorKind::Email,
        Some("anna.privat@example.org"),
    )
    .await;
    // Someone who knows only the name locks the account.
    for _ in 0..20 {
        app.client().sign_in(ANNA, "fel lösenord").await;
        app.clock.advance(15 * 60 + 1);
    }
    assert_eq!(app.client().sign_in(ANNA, ANNA_PW).await.status, 423);
    // Anna asks for a reset: the code reaches her address and works.
    let c = app.client();
    ask_reset(&app, &c, ANNA).await;
    let (_, mail) = tokio::task::spawn_blocking(move || {
        let found = crate::email::wait_for(&sink.dir.0, 1);
        drop(sink);
        found
    })
    .await
    .unwrap();
    let code: String = mail
        .split(|ch: char| !ch.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned();
    assert_eq!(reset_with(&c, "000000", NEW_PW).await.status, 400);
    let ok = reset_with(&c, &code, NEW_PW).await;
    assert_eq!(ok.location.as_deref(), Some("/signed-out?reason=reset"));
    assert_eq!(
        app.client().sign_in(ANNA, NEW_PW).await.status,
        303,
        "unlocked"
    );
}

#[tokio::test]
async fn m2_parallel_wrong_passwords_at_reauth_check_at_most_five_g3() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    let forms = (0..30)
        .map(|_| {
            vec![
                ("password", "fel lösenord".to_owned()),
                ("next", "/settings".to_owned()),
            ]
        })
        .collect();
    let statuses: Vec<u16> = at_once(&c, "/reauth", forms)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
    let r = reasons(&app, ANNA).await;
    assert!(count(&r, "reauth_bad_password") <= 5);
}
