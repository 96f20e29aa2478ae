use crate::helpers::*;

fn session_cookie(p: &Page) -> Option<String> {
    p.set_cookies
        .iter()
        .find(|c| c.starts_with("portvakt="))
        .map(|c| {
            c.trim_start_matches("portvakt=")
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
}

#[tokio::test]
async fn idle_for_fifteen_minutes_signs_out_with_a_reason() {
    let app = spawn_app().await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    app.clock.advance(14 * 60);
    assert_eq!(
        c.get("/").await.status,
        200,
        "activity at 14 minutes keeps the session"
    );
    app.clock.advance(14 * 60);
    assert_eq!(
        c.get("/").await.status,
        200,
        "idle clock restarted at the last activity"
    );
    app.clock.advance(15 * 60);
    let r = c.get("/").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/signed-out?reason=idle"));
    let page = c.get("/signed-out?reason=idle").await;
    assert!(page.body.contains("inte har gjort något på 15 minuter"));
    assert_eq!(
        c.get("/").await.location.as_deref(),
        Some("/login"),
        "the session is gone"
    );
}

#[tokio::test]
async fn idle_timeout_is_configurable() {
    let app = spawn_with("[session]\nidle_minutes = 5\n").await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    app.clock.advance(5 * 60);
    assert_eq!(
        c.get("/").await.location.as_deref(),
        Some("/signed-out?reason=idle")
    );
}

#[tokio::test]
async fn absolute_lifetime_ends_an_active_session_after_twelve_hours() {
    let app = spawn_app().await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    for _ in 0..(12 * 6 - 1) {
        app.clock.advance(10 * 60);
        assert_eq!(c.get("/").await.status, 200);
    }
    app.clock.advance(10 * 60);
    let r = c.get("/").await;
    assert_eq!(r.location.as_deref(), Some("/signed-out?reason=expired"));
    assert!(c
        .get("/signed-out?reason=expired")
        .await
        .body
        .contains("varit inloggad länge"));
}

#[tokio::test]
async fn sign_in_always_issues_a_new_session_token() {
    let app = spawn_app().await;
    let c = app.client();
    let first = session_cookie(&c.sign_in(ANNA, ANNA_PW).await).unwrap();
    let second = session_cookie(&c.sign_in(ANNA, ANNA_PW).await).unwrap();
    assert_ne!(first, second);
    assert!(first.len() >= 43, "at least 256 bits, base64");
    // A token planted before sign-in is never adopted (no fixation).
    let planted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = planted
        .get(app.url("/"))
        .header("cookie", "portvakt=planted-by-attacker")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn sign_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let c = app.client();
    let token = session_cookie(&c.sign_in(ANNA, ANNA_PW).await).unwrap();
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.location.as_deref(), Some("/signed-out?reason=logout"));
    assert!(r
        .set_cookies
        .iter()
        .any(|s| s.starts_with("portvakt=;") && s.contains("Max-Age=0")));
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = replay
        .get(app.url("/"))
        .header("cookie", format!("portvakt={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let app = spawn_app().await;
    let phone = app.client();
    phone.sign_in(ANNA, ANNA_PW).await;
    let laptop = app.client();
    laptop.sign_in(ANNA, ANNA_PW).await;
    let p = laptop.get("/password").await;
    let token = csrf_from(&p.body);
    let new = "ett helt nytt lösenord i november";
    let r = laptop
        .post_raw(
            "/password",
            &[
                ("csrf", &token),
                ("current", ANNA_PW),
                ("new", new),
                ("confirm", new),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        laptop.get("/").await.status,
        200,
        "this browser keeps a fresh session"
    );
    assert_eq!(phone.get("/").await.status, 303, "the other session ended");
}

#[tokio::test]
async fn disabled_user_loses_sessions_and_cannot_sign_in() {
    let app = spawn_app().await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.retain(|u| u.username.as_str() == ANNA);
    org.users[0].disabled = true;
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    assert_eq!(c.get("/").await.status, 303);
    let r = app.client().sign_in(ANNA, ANNA_PW).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("avstängt"));
}

/// `/auth/verify` answers from what it has read while another process holds
/// the database's write lock (a crisis rotation's start holds it for about
/// a second): the once-a-minute activity write waits in the background
/// instead of holding up every check of that session.
#[tokio::test]
async fn verify_does_not_wait_for_the_write_lock_to_record_activity() {
    use secrecy::ExposeSecret;
    use std::io::{BufRead, Write};
    use std::time::Duration;
    let app = spawn_with(
        "[forward_auth]\nportal_url = \"https://portal.exempelkommun.se\"\n\
         domains = [\"exempelkommun.se\"]\n",
    )
    .await;
    let c = app.client();
    let page = c.sign_in(ANNA, ANNA_PW).await;
    let hash =
        portvakt_core::auth::session::SessionToken::from_cookie(&session_cookie(&page).unwrap())
            .hash();
    let verify = || async {
        c.http
            .get(format!("{}/auth/verify", c.base))
            .header("X-Original-URL", "https://mejl.exempelkommun.se/")
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map(|r| r.status().as_u16())
    };
    let signed_in = verify().await.unwrap();
    assert_ne!(signed_in, 401, "the session counts");

    // Activity is due to be recorded, and the check's one-second cache is over.
    app.clock.advance(2 * 60);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let url = app.config.database_url.expose_secret().to_owned();
    let path = url.trim_start_matches("sqlite://");
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             sys.stdin.readline()\n\
             c.execute('ROLLBACK')",
            path,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    assert_eq!(
        verify().await.expect("answered while the lock is held"),
        signed_in
    );
    let seen = |h: String| {
        let store = app.store.clone();
        async move { store.session(&h).await.unwrap().unwrap().last_seen_at }
    };
    assert_eq!(seen(hash.clone()).await, START, "not written while locked");

    // An attacker (or a busy app) hammering the check while the lock stays
    // held: each second's re-read finds the write still waiting and must not
    // start another one, or the waiting writes would take every database
    // connection and the checks would stall after all.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mut parallel = tokio::task::JoinSet::new();
        for _ in 0..30 {
            let (http, base) = (c.http.clone(), c.base.clone());
            parallel.spawn(async move {
                http.get(format!("{base}/auth/verify"))
                    .header("X-Original-URL", "https://mejl.exempelkommun.se/")
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
        }
        while let Some(r) = parallel.join_next().await {
            assert_eq!(
                r.unwrap().expect("answered while the lock is still held"),
                signed_in
            );
        }
    }

    holder.stdin.take().unwrap().write_all(b"\n").unwrap();
    holder.wait().unwrap();
    let mut written = false;
    for _ in 0..100 {
        if seen(hash.clone()).await == START + 120 {
            written = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(written, "the activity is recorded once the lock is free");
}
