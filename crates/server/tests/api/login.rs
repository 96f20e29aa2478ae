use crate::helpers::*;
use portvakt_core::apply::{DesiredOrganisation, InitialPassword};
use portvakt_core::domain::{Slug, Username};
use portvakt_server::provisioning::{apply_run, demo};
use std::time::Instant;

#[tokio::test]
async fn employee_signs_in_and_sees_their_services() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/"));
    let portal = c.get("/").await;
    assert_eq!(portal.status, 200);
    assert!(portal.body.contains("Mina tjänster"));
    assert!(portal.body.contains("Lönebesked"));
    assert!(portal.body.contains("Ärendehantering"));
    assert!(
        !portal.body.contains("Lärplattformen"),
        "a service of another group is not shown"
    );
    assert!(portal.body.contains("lang=\"sv\""));
}

#[tokio::test]
async fn usernames_are_matched_case_insensitively() {
    let app = spawn_app().await;
    let r = app
        .client()
        .sign_in("  Anna.Andersson@EXEMPELKOMMUN.se ", ANNA_PW)
        .await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn english_by_accept_language_and_by_switch() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c
        .http
        .get(app.url("/login"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Sign in with your organisation account"));
    let r = c
        .post_form("/language", &[("lang", "en"), ("back", "/login")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login"));
    let p = c.get("/login").await;
    assert!(p.body.contains("lang=\"en\"") && p.body.contains("Password"));
}

#[tokio::test]
async fn a_users_own_language_follows_them_to_any_device() {
    let app = spawn_app().await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let settings = c.get("/settings").await;
    assert!(settings.body.contains("Som webbläsaren"));
    let bad = c
        .post_form("/settings/language", &[("language", "fi")])
        .await;
    assert_eq!(bad.status, 400, "an unknown language is refused");
    let r = c
        .post_form("/settings/language", &[("language", "en")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/settings?done=language"));
    let p = c.get("/settings?done=language").await;
    assert!(p.body.contains("lang=\"en\"") && p.body.contains("The language is saved."));

    // Another device whose browser asks for Swedish: English after sign-in.
    let other = app.client();
    let r = other.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.status, 303);
    let portal = other
        .http
        .get(app.url("/"))
        .header("accept-language", "sv-SE,sv;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(portal.contains("lang=\"en\""), "{portal}");

    // Back to following the browser; a new sign-in sets nothing.
    c.post_form("/settings/language", &[("language", "")]).await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let stored = app.store.user(&org.id, &anna.id).await.unwrap().unwrap();
    assert_eq!(stored.language, None);
    let third = app.client();
    let r = third.sign_in(ANNA, ANNA_PW).await;
    assert!(
        r.set_cookies.iter().all(|c| !c.contains("lang")),
        "{:?}",
        r.set_cookies
    );
}

#[tokio::test]
async fn wrong_password_gets_a_clear_generic_error_and_an_event() {
    let app = spawn_app().await;
    let r = app.client().sign_in(ANNA, "not the password at all").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Fel användarnamn eller lösenord"));
    assert!(r.body.contains("role=\"alert\""));
    let (org, user) = app.org_and_user(ANNA).await;
    app.clock.advance(1);
    app.client().sign_in(ANNA, ANNA_PW).await;
    let events = app
        .store
        .signin_history(&org.id, &user.id, 0, None, 10)
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        2,
        "failure and success are in the user's history"
    );
    assert_eq!(events[0].reason, "ok");
    assert_eq!(events[1].reason, "bad_password");
    assert_eq!(events[1].ip, "127.0.0.1");
}

fn strip_username(body: &str, name: &str) -> String {
    let token_free = match body.find("name=\"csrf\" value=\"") {
        Some(i) => format!("{}{}", &body[..i], &body[i + 62..]),
        None => body.to_owned(),
    };
    token_free.replace(name, "USER")
}

/// SECURITY.md A1: same status, same body, same time for unknown and known usernames.
#[tokio::test]
async fn unknown_user_gets_the_same_answer_and_timing_as_known_user() {
    let app =
        spawn_with("[lockout]\nip_max_failures = 100000\nfree_attempts = 99\nlock_after = 100\n")
            .await;
    let c = app.client();
    let unknown = "nobody.here@exempelkommun.se";
    let a = c.sign_in(ANNA, "wrong password 1").await;
    let b = c.sign_in(unknown, "wrong password 1").await;
    assert_eq!(a.status, b.status);
    assert_eq!(
        strip_username(&a.body, ANNA),
        strip_username(&b.body, unknown)
    );

    // Timing, with hashing cost that dominates like in production.
    let app = spawn_with(
        "[lockout]\nip_max_failures = 100000\nfree_attempts = 99\nlock_after = 100\n\
         [password]\nmemory_kib = 4096\niterations = 1\nparallelism = 1\n",
    )
    .await;
    let c = app.client();
    let token = c.csrf().await;
    let org = app
        .store
        .organisation_by_slug(&Slug::parse("exempelkommun").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut known = Vec::new();
    let mut unknown_t = Vec::new();
    for i in 0..150 {
        for (name, out) in [(ANNA, &mut known), (unknown, &mut unknown_t)] {
            let t = Instant::now();
            let r = c
                .post_raw(
                    "/login",
                    &[("csrf", &token), ("username", name), ("password", "wrong")],
                )
                .await;
            out.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, 401, "attempt {i}");
        }
        if i % 40 == 39 {
            for n in [ANNA, unknown] {
                app.store
                    .clear_failures(&org.id, &Username::parse(n).unwrap())
                    .await
                    .unwrap();
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mk, mu) = (median(&mut known), median(&mut unknown_t));
    assert!(
        (mk - mu).abs() < 5.0,
        "median known {mk:.2} ms vs unknown {mu:.2} ms"
    );
}

#[tokio::test]
async fn failures_delay_then_lock_and_unknown_users_behave_the_same() {
    let app = spawn_app().await;
    for name in [ANNA, "ghost@exempelkommun.se"] {
        let c = app.client();
        for _ in 0..5 {
            assert_eq!(c.sign_in(name, "wrong-wrong-wrong").await.status, 401);
        }
        // Now delayed: even the right password is not checked.
        let r = c.sign_in(name, ANNA_PW).await;
        assert_eq!(r.status, 429, "{name}");
        assert!(r.body.contains("Vänta en stund"));
        // The delay doubles with each further failure, then the account locks.
        for _ in 5..20 {
            app.clock.advance(16 * 60);
            assert_eq!(c.sign_in(name, "wrong-wrong-wrong").await.status, 401);
        }
        app.clock.advance(16 * 60);
        let r = c.sign_in(name, ANNA_PW).await;
        assert_eq!(r.status, 423, "{name}");
        assert!(r.body.contains("Kontakta servicedesk"));
        app.clock.advance(24 * 3600);
        assert_eq!(
            c.sign_in(name, ANNA_PW).await.status,
            423,
            "a lock does not expire by itself"
        );
    }
}

#[tokio::test]
async fn delay_expires_and_success_resets_the_count() {
    let app = spawn_app().await;
    let c = app.client();
    for _ in 0..5 {
        c.sign_in(ANNA, "wrong-wrong-wrong").await;
    }
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 429);
    app.clock.advance(31);
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    for _ in 0..4 {
        assert_eq!(c.sign_in(ANNA, "wrong-wrong-wrong").await.status, 401);
    }
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.status,
        303,
        "count started over after success"
    );
}

#[tokio::test]
async fn servicedesk_unlocks_a_locked_account() {
    let app = spawn_app().await;
    let anna = app.client();
    for _ in 0..20 {
        app.clock.advance(16 * 60);
        anna.sign_in(ANNA, "wrong-wrong-wrong").await;
    }
    assert_eq!(anna.sign_in(ANNA, ANNA_PW).await.status, 423);
    let desk = app.client();
    assert_eq!(desk.sign_in(SARA, SARA_PW).await.status, 303);
    let (_, user) = app.org_and_user(ANNA).await;
    let page = desk.get(&format!("/admin/users/{}", user.id)).await;
    assert!(page.body.contains("Låst"));
    let token = csrf_from(&page.body);
    let r = desk
        .post_raw(
            &format!("/admin/users/{}/unlock", user.id),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Kontot är upplåst"));
    assert_eq!(anna.sign_in(ANNA, ANNA_PW).await.status, 303);
}

#[tokio::test]
async fn too_many_failures_from_one_address_are_throttled() {
    let app = spawn_with("[lockout]\nip_max_failures = 3\n").await;
    let c = app.client();
    for i in 0..3 {
        c.sign_in(&format!("user{i}@exempelkommun.se"), "x-wrong-password")
            .await;
    }
    let r = c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("från din uppkoppling"));
}

async fn add_user(app: &TestApp, local: &str, pw: InitialPassword) {
    let mut org: DesiredOrganisation = demo::organisation(
        &app.hasher,
        &[
            ("anna.andersson", ANNA_PW.into()),
            ("erik.larsson", ERIK_PW.into()),
            ("sara.lind", SARA_PW.into()),
        ],
    )
    .await
    .unwrap();
    let mut u = org.users[0].clone();
    u.username = Username::parse(&format!("{local}@exempelkommun.se")).unwrap();
    u.initial_password = Some(pw);
    org.users = vec![u];
    apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn initial_password_must_be_changed_at_first_sign_in() {
    let app = spawn_app().await;
    add_user(
        &app,
        "ny.anstalld",
        InitialPassword::Plain("tillfälligt lösenord 2026 x".into()),
    )
    .await;
    let c = app.client();
    let r = c
        .sign_in(
            "ny.anstalld@exempelkommun.se",
            "tillfälligt lösenord 2026 x",
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/password"));
    assert_eq!(
        c.get("/").await.location.as_deref(),
        Some("/password"),
        "portal waits for the change"
    );
    let p = c.get("/password").await;
    assert!(p.body.contains("tillfälligt lösenord. Välj"));
    let token = csrf_from(&p.body);
    let bad = c
        .post_raw(
            "/password",
            &[
                ("csrf", &token),
                ("current", "tillfälligt lösenord 2026 x"),
                ("new", "Sommar2026!"),
                ("confirm", "Sommar2026!"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("för kort") || bad.body.contains("för vanligt"));
    let new = "mitt eget långa lösenord med ord";
    let ok = c
        .post_raw(
            "/password",
            &[
                ("csrf", &token),
                ("current", "tillfälligt lösenord 2026 x"),
                ("new", new),
                ("confirm", new),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("Lösenordet är bytt"));
    assert_eq!(c.get("/").await.status, 200);
    assert_eq!(
        app.client()
            .sign_in("ny.anstalld@exempelkommun.se", new)
            .await
            .location
            .as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn migrated_bcrypt_hash_signs_in_and_is_upgraded_to_argon2id() {
    let app = spawn_app().await;
    let legacy = bcrypt::hash("gammalt lösenord från förr", 4).unwrap();
    add_user(&app, "migrerad", InitialPassword::Hash(legacy)).await;
    assert_eq!(
        app.client()
            .sign_in("migrerad@exempelkommun.se", "gammalt lösenord från förr")
            .await
            .status,
        303
    );
    let org = app
        .store
        .organisation_by_slug(&Slug::parse("exempelkommun").unwrap())
        .await
        .unwrap()
        .unwrap();
    let u = app
        .store
        .user_by_username(
            &org.id,
            &Username::parse("migrerad@exempelkommun.se").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(u.password_hash.unwrap().starts_with("$argon2id$"));
}

#[tokio::test]
async fn sign_in_works_on_postgresql_too() {
    let admin = std::env::var("TEST_POSTGRES_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = format!(
        "portvakt_api_{}",
        &portvakt_core::ids::EventId::generate().as_str()[4..20]
    );
    let url = portvakt_store::testing::create_database(&admin, &db)
        .await
        .unwrap();
    let app = spawn_on(&url, "", TempDir::new()).await;
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    assert_eq!(c.get("/").await.status, 200);
    for _ in 0..5 {
        c.sign_in(ANNA, "wrong-wrong-wrong").await;
    }
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 429);
}
