//! Second factors: authenticator apps, zones, re-authentication (issue 3).
//! Codes come from `oathtool`, an implementation we did not write.
use crate::helpers::*;
use portvakt_store::SqlStore;
use std::process::Command;
use std::sync::Arc;

const OUTSIDE: &str = "203.0.113.7";

pub fn oathtool(secret: &str, unix: i64) -> String {
    let out = Command::new("oathtool")
        .args([
            "--totp",
            "-b",
            &secret.replace(' ', ""),
            "-N",
            &format!("@{unix}"),
        ])
        .output()
        .expect("oathtool is installed by scripts/test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in page"))
        + start.len();
    &html[i..i + html[i..].find(end).unwrap()]
}

/// Signs Anna in from inside and registers an authenticator; returns its secret.
pub(crate) async fn enrol(app: &TestApp) -> String {
    let c = app.client();
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    let r = c.post_form("/settings/totp", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page_url = r.location.unwrap();
    let page = c.get(&page_url).await;
    assert_eq!(page.status, 200);
    let secret = between(&page.body, "<code id=\"secret\">", "</code>").to_owned();
    let uri = between(
        &page.body,
        "<code id=\"otpauth\" class=\"wrap-anywhere\">",
        "</code>",
    )
    .replace("&amp;", "&");
    assert!(
        uri.starts_with(
            "otpauth://totp/Portvakt%20Exempelkommun:anna.andersson%40exempelkommun.se?secret="
        ),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={}", secret.replace(' ', ""))));
    let token = csrf_from(&page.body);
    let wrong = c
        .post_raw(
            &page_url,
            &[
                ("csrf", &token),
                ("label", "Jobbtelefonen"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("Koden stämmer inte"));
    let code = oathtool(&secret, START);
    let ok = c
        .post_raw(
            &page_url,
            &[
                ("csrf", &token),
                ("label", "Jobbtelefonen"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/settings?done=added"),
        "{}",
        ok.body
    );
    let settings = c.get("/settings?done=added").await;
    assert!(
        settings.body.contains("Jobbtelefonen")
            && settings.body.contains("Inloggningsmetoden är tillagd")
    );
    secret
}

#[tokio::test]
async fn outside_without_a_registered_factor_is_told_what_to_do() {
    let app = spawn_app().await;
    let r = app.client_from(OUTSIDE).sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Du har ingen registrerad än"));
    // Wrong password from outside still gets the generic answer (A1).
    assert_eq!(
        app.client_from(OUTSIDE)
            .sign_in(ANNA, "wrong-wrong-wrong")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn inside_a_zone_the_password_is_enough_outside_the_app_code_is_needed() {
    let app = spawn_app().await;
    let secret = enrol(&app).await;
    assert_eq!(
        app.client_from("10.10.4.2")
            .sign_in(ANNA, ANNA_PW)
            .await
            .location
            .as_deref(),
        Some("/"),
        "administrative network"
    );

    let c = app.client_from(OUTSIDE);
    let r = c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.location.as_deref(), Some("/login/factor"));
    for path in ["/", "/settings", "/password", "/admin/users"] {
        assert_eq!(
            c.get(path).await.location.as_deref(),
            Some("/login/factor"),
            "{path} while pending"
        );
    }
    let page = c.get("/login/factor").await;
    assert!(page.body.contains("autentiseringsappen"));
    app.clock.advance(30);
    let code = oathtool(&secret, START + 30);
    let r = c.post_form("/login/factor", &[("code", &code)]).await;
    assert_eq!(r.location.as_deref(), Some("/"));
    assert_eq!(c.get("/").await.status, 200);
}

#[tokio::test]
async fn a_code_works_once_and_only_near_its_time() {
    let app = spawn_app().await;
    let secret = enrol(&app).await;
    app.clock.advance(30);
    let code = oathtool(&secret, START + 30);
    let first = app.client_from(OUTSIDE);
    first.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(
        first
            .post_form("/login/factor", &[("code", &code)])
            .await
            .location
            .as_deref(),
        Some("/")
    );
    let second = app.client_from(OUTSIDE);
    second.sign_in(ANNA, ANNA_PW).await;
    let r = second.post_form("/login/factor", &[("code", &code)]).await;
    assert_eq!(r.status, 401, "replayed code (A3)");
    assert!(r.body.contains("Försök kvar: 4"));
    let stale = oathtool(&secret, START - 60);
    assert_eq!(
        second
            .post_form("/login/factor", &[("code", &stale)])
            .await
            .status,
        401,
        "three steps old"
    );
    let early = oathtool(&secret, START + 30 + 90);
    assert_eq!(
        second
            .post_form("/login/factor", &[("code", &early)])
            .await
            .status,
        401,
        "three steps ahead"
    );
    let next = oathtool(&secret, START + 60);
    assert_eq!(
        second
            .post_form("/login/factor", &[("code", &next)])
            .await
            .location
            .as_deref(),
        Some("/"),
        "one step ahead is tolerated"
    );
}

#[tokio::test]
async fn five_wrong_codes_end_the_attempt() {
    let app = spawn_app().await;
    let secret = enrol(&app).await;
    let c = app.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    for i in 0..4 {
        assert_eq!(
            c.post_form("/login/factor", &[("code", "111111")])
                .await
                .status,
            401,
            "try {i}"
        );
    }
    let r = c.post_form("/login/factor", &[("code", "111111")]).await;
    assert_eq!(r.location.as_deref(), Some("/signed-out?reason=codes"));
    app.clock.advance(30);
    let good = oathtool(&secret, START + 30);
    let r = c.post_form("/login/factor", &[("code", &good)]).await;
    assert_ne!(
        r.location.as_deref(),
        Some("/"),
        "a sixth try, even right, does not sign in"
    );
    assert!(c
        .get("/signed-out?reason=codes")
        .await
        .body
        .contains("för många felaktiga koder"));
}

#[tokio::test]
async fn a_code_from_another_attempt_or_too_late_does_not_help() {
    let app = spawn_app().await;
    let secret = enrol(&app).await;
    let c = app.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    app.clock.advance(5 * 60 + 1);
    let code = oathtool(&secret, START + 5 * 60 + 1);
    let r = c.post_form("/login/factor", &[("code", &code)]).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/login"),
        "the pending sign-in expired"
    );
}

#[tokio::test]
async fn registering_needs_a_fresh_sign_in_and_the_internal_network() {
    let app = spawn_app().await;
    let secret = enrol(&app).await;
    // From outside, even signed in with the app, adding another is refused.
    let c = app.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    app.clock.advance(30);
    c.post_form("/login/factor", &[("code", &oathtool(&secret, START + 30))])
        .await;
    let r = c.post_form("/settings/totp", &[]).await;
    assert_eq!(r.status, 403);
    assert!(r
        .body
        .contains("bara göra när du är ansluten till kommunens nät"));

    // Inside, after more than five minutes, the password is asked for again.
    let inside = app.client();
    inside.sign_in(ANNA, ANNA_PW).await;
    app.clock.advance(6 * 60);
    let r = inside.post_form("/settings/totp", &[]).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/reauth?next=%2Fsettings%3Fcontinue%3Dapp%23apps")
    );
    let bad = inside
        .post_form(
            "/reauth",
            &[("password", "wrong-wrong"), ("next", "/settings")],
        )
        .await;
    assert_eq!(bad.status, 401);
    let ok = inside
        .post_form(
            "/reauth",
            &[("password", ANNA_PW), ("next", "//evil.example")],
        )
        .await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/"),
        "next is a local path only"
    );
    assert_eq!(inside.post_form("/settings/totp", &[]).await.status, 303);
}

#[tokio::test]
async fn the_last_factor_cannot_be_removed_but_a_spare_can() {
    let app = spawn_app().await;
    enrol(&app).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let settings = c.get("/settings").await;
    let id = between(&settings.body, "/settings/factors/", "/remove").to_owned();
    let r = c
        .post_form(&format!("/settings/factors/{id}/remove"), &[])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("enda inloggningsmetod"));
    // Someone else's factor id is not found.
    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    assert_eq!(
        desk.post_form(&format!("/settings/factors/{id}/remove"), &[])
            .await
            .status,
        404
    );
    assert!(c.get("/settings").await.body.contains("Jobbtelefonen"));
}

#[tokio::test]
async fn an_authenticator_migrated_through_apply_works_at_once() {
    let app = spawn_app().await;
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    let mut u = org.users[0].clone();
    u.username = portvakt_core::domain::Username::parse("migrerad.app@exempelkommun.se").unwrap();
    u.initial_password = Some(portvakt_core::apply::InitialPassword::Hash(
        app.hasher.hash(ANNA_PW).await.unwrap(),
    ));
    u.totp_secret = portvakt_core::auth::totp::TotpSecret::parse(secret);
    org.users = vec![u];
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    let c = app.client_from(OUTSIDE);
    assert_eq!(
        c.sign_in("migrerad.app@exempelkommun.se", ANNA_PW)
            .await
            .location
            .as_deref(),
        Some("/login/factor")
    );
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(secret, START))])
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn servicedesk_removes_a_lost_phone_and_only_in_its_own_organisation() {
    let app = spawn_app().await;
    enrol(&app).await;
    let (_, anna) = app.org_and_user(ANNA).await;
    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let page = desk.get(&format!("/admin/users/{}", anna.id)).await;
    assert!(page.body.contains("Jobbtelefonen") && page.body.contains("Autentiseringsapp"));
    let fid = between(&page.body, "/factors/", "/remove").to_owned();

    // Another organisation's servicedesk cannot touch it.
    let other = portvakt_core::store_suite::sample_org("grannkommun", "CANARY-F");
    portvakt_server::provisioning::apply_run::apply(
        &*app.store,
        &app.hasher,
        std::slice::from_ref(&other),
        START,
        false,
    )
    .await
    .unwrap();
    let oid = app
        .store
        .organisation_by_slug(&other.slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let their_desk = app
        .store
        .user_by_username(&oid, &other.users[0].username)
        .await
        .unwrap()
        .unwrap();
    app.store
        .set_password_hash(
            &oid,
            &their_desk.id,
            &app.hasher.hash(ANNA_PW).await.unwrap(),
            false,
        )
        .await
        .unwrap();
    let foreign = app.client();
    assert_eq!(
        foreign
            .sign_in(other.users[0].username.as_str(), ANNA_PW)
            .await
            .status,
        303
    );
    let r = foreign
        .post_form(
            &format!("/admin/users/{}/factors/{fid}/remove", anna.id),
            &[("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, 404);

    let r = desk
        .post_form(
            &format!("/admin/users/{}/factors/{fid}/remove", anna.id),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Ta bort inloggningsmetoden"), "asked first");
    assert!(!r.body.contains("Inloggningsmetoden är borttagen"));
    let r = desk
        .post_form(
            &format!("/admin/users/{}/factors/{fid}/remove", anna.id),
            &[("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Inloggningsmetoden är borttagen"));
    assert_eq!(
        app.client_from(OUTSIDE).sign_in(ANNA, ANNA_PW).await.status,
        403,
        "no factor left"
    );
}

/// The stored secrets of every factor, read straight from the SQLite file
/// by Python's sqlite3 (a reader we did not write).
fn raw_secrets(db: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys\nfor (s,) in sqlite3.connect(sys.argv[1]).execute('SELECT secret FROM factors WHERE secret IS NOT NULL'): print(s)",
        ])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn authenticator_secrets_are_sealed_at_rest_and_still_work() {
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let dir = TempDir::new();
    let db = dir.0.join("t.db");
    let url = format!("sqlite://{}", db.display());

    // Before a key is configured: the migrated secret is stored as it came.
    {
        let plain = SqlStore::connect(&url).await.unwrap();
        let hasher = portvakt_core::auth::password::PasswordHasher::new(
            portvakt_core::auth::password::Argon2Params {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
            10,
        )
        .unwrap();
        let mut org = portvakt_server::provisioning::demo::organisation(&hasher, &[])
            .await
            .unwrap();
        let mut u = org.users[0].clone();
        u.username =
            portvakt_core::domain::Username::parse("migrerad.app@exempelkommun.se").unwrap();
        u.initial_password = Some(portvakt_core::apply::InitialPassword::Hash(
            hasher.hash(ANNA_PW).await.unwrap(),
        ));
        u.totp_secret = portvakt_core::auth::totp::TotpSecret::parse(secret);
        org.users = vec![u];
        portvakt_server::provisioning::apply_run::apply(&plain, &hasher, &[org], START, false)
            .await
            .unwrap();
        plain.close().await;
    }
    assert_eq!(raw_secrets(&db), vec![secret.to_owned()]);

    // With a key, opening the store seals what was in the clear.
    let key = dir.0.join("secret.key");
    portvakt_server::app::config::write_key_file(&key).unwrap();
    let config = test_config(&url, &format!("secret_key_file = \"{}\"", key.display()));
    let store = portvakt_server::app::startup::open_store(&config)
        .await
        .unwrap();
    let sealed = raw_secrets(&db);
    assert!(
        sealed[0].starts_with("enc1:") && !sealed[0].contains(secret),
        "{sealed:?}"
    );

    // Codes from the sealed secret work; a new authenticator is sealed too.
    let app = spawn_store(
        Arc::new(store),
        &url,
        &format!("secret_key_file = \"{}\"", key.display()),
        dir,
    )
    .await;
    let c = app.client_from(OUTSIDE);
    c.sign_in("migrerad.app@exempelkommun.se", ANNA_PW).await;
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(secret, START))])
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
    enrol(&app).await;
    let all = raw_secrets(&db);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|s| s.starts_with("enc1:")), "{all:?}");

    // With another key nothing opens: the code is refused, never accepted.
    let other = TempDir::new();
    let wrong_key = other.0.join("wrong.key");
    portvakt_server::app::config::write_key_file(&wrong_key).unwrap();
    let extra = format!("secret_key_file = \"{}\"", wrong_key.display());
    let store = portvakt_server::app::startup::open_store(&test_config(&url, &extra))
        .await
        .unwrap();
    let wrong = spawn_store(Arc::new(store), &url, &extra, other).await;
    let c = wrong.client_from(OUTSIDE);
    c.sign_in("migrerad.app@exempelkommun.se", ANNA_PW).await;
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(secret, START))])
        .await;
    assert_ne!(r.location.as_deref(), Some("/"), "status {}", r.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_key_is_rotated_in_one_go() {
    let dir = TempDir::new();
    let db = dir.0.join("t.db");
    let url = format!("sqlite://{}", db.display());
    let (old_key, new_key) = (dir.0.join("old.key"), dir.0.join("new.key"));
    portvakt_server::app::config::write_key_file(&old_key).unwrap();
    let extra = |k: &std::path::Path| format!("secret_key_file = \"{}\"", k.display());
    let store = portvakt_server::app::startup::open_store(&test_config(&url, &extra(&old_key)))
        .await
        .unwrap();
    let cli_config = dir.0.join("cli.toml");
    std::fs::write(
        &cli_config,
        format!("database_url = \"{url}\"\n{}\n", extra(&old_key)),
    )
    .unwrap();
    let app = spawn_store(Arc::new(store), &url, &extra(&old_key), TempDir::new()).await;
    let secret = enrol(&app).await.replace(' ', "");
    let before = raw_secrets(&db);

    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_portvakt"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["secret-key", "new", new_key.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["secret-key", "new", new_key.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "an existing key is never overwritten"
    );
    let out = run(&[
        "secret-key",
        "rotate",
        "--config",
        cli_config.to_str().unwrap(),
        "--new",
        new_key.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = raw_secrets(&db);
    assert_eq!(after.len(), before.len());
    assert!(after
        .iter()
        .all(|s| s.starts_with("enc1:") && !before.contains(s)));

    // The new key opens them: a code from the authenticator works.
    let store = portvakt_server::app::startup::open_store(&test_config(&url, &extra(&new_key)))
        .await
        .unwrap();
    let rotated = spawn_store(Arc::new(store), &url, &extra(&new_key), TempDir::new()).await;
    rotated.clock.advance(60);
    let c = rotated.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    let r = c
        .post_form("/login/factor", &[("code", &oathtool(&secret, START + 60))])
        .await;
    assert_eq!(r.location.as_deref(), Some("/"), "{}", r.body);

    // Rotating again from the old key stops at the first secret and
    // changes nothing.
    let out = run(&[
        "secret-key",
        "rotate",
        "--config",
        cli_config.to_str().unwrap(),
        "--new",
        new_key.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(raw_secrets(&db), after);
}

/// Issue 12: a code of the wrong shape ("12345", a letter, seven digits)
/// says the code has six digits and uses no try, so the person can still
/// sign in with the right code after more such slips than the five tries
/// an attempt has. Six wrong digits still count as before.
#[tokio::test]
async fn a_code_of_the_wrong_length_says_so_and_uses_no_try() {
    let app = spawn_app().await;
    let secret = enrol(&app).await;
    app.clock.advance(30);
    let c = app.client_from(OUTSIDE);
    c.sign_in(ANNA, ANNA_PW).await;
    for bad in ["12345", "1234567", "12345a", "", "123 45"] {
        for _ in 0..2 {
            let r = c.post_form("/login/factor", &[("code", bad)]).await;
            assert_eq!(r.status, 400, "{bad:?}");
            assert!(
                r.body.contains("Koden ska vara 6 siffror"),
                "{bad:?}: {}",
                r.body
            );
            assert!(!r.body.contains("Koden stämmer inte"), "{bad:?}");
        }
    }
    let wrong = c.post_form("/login/factor", &[("code", "000000")]).await;
    assert!(wrong.body.contains("Koden stämmer inte"), "{}", wrong.body);
    // Spaces and dashes are tidied away, as everywhere codes are typed.
    let code = oathtool(&secret, START + 30);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let r = c.post_form("/login/factor", &[("code", &spaced)]).await;
    assert_eq!(r.location.as_deref(), Some("/"), "{}", r.body);
}
