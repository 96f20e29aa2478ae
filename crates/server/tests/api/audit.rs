//! Issue 14, the audit log: one hash chain per organisation. Editing,
//! deleting or swapping rows directly in the database (SQLite and
//! PostgreSQL) makes `portvakt audit verify` name the first bad entry and
//! exit non-zero; the web page is for org admins and the data protection
//! officer, filtered by person and day, and shows only its own
//! organisation.
use crate::helpers::*;
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{AdminEvent, EventResult};
use portvakt_store::testing::raw_execute;

fn event(org: &OrganisationId, actor: &UserId, at: i64, action: &str, target: &str) -> AdminEvent {
    AdminEvent {
        id: EventId::generate(),
        organisation_id: org.clone(),
        actor_id: actor.clone(),
        at,
        ip: "10.10.1.5".into(),
        user_agent: "Firefox".into(),
        action: action.into(),
        target: target.into(),
        result: EventResult::Success,
        detail: "ok".into(),
    }
}

/// Runs `portvakt audit verify`; (exit code, output).
async fn verify(config: &std::path::Path) -> (Option<i32>, String) {
    let config = config.to_owned();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
            .args(["audit", "verify", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .unwrap()
}

async fn tamper_tests(app: &TestApp, url: &str) {
    let (org, sara) = app.org_and_user(SARA).await;
    let (_, anna) = app.org_and_user(ANNA).await;
    for i in 0..6 {
        app.store
            .record_admin_event(&event(
                &org.id,
                &sara.id,
                START + i,
                "user.unlock",
                anna.id.as_str(),
            ))
            .await
            .unwrap();
    }
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("exempelkommun: 6 entries, chain intact"),
        "{out}"
    );

    let o = org.id.as_str();
    let sql = |s: String| {
        let url = url.to_owned();
        async move { raw_execute(&url, &s).await.unwrap() }
    };
    let bad = |out: &str, needle: &str| {
        assert!(out.contains("exempelkommun: BROKEN"), "{out}");
        assert!(out.contains(needle), "expected {needle:?} in {out}");
    };

    // Edited: one field of entry 3.
    assert_eq!(
        sql(format!("UPDATE admin_events SET detail = 'sessions=0' WHERE organisation_id = '{o}' AND seq = 3")).await,
        1
    );
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    bad(&out, "entry 3 ");
    bad(&out, "was changed");
    sql(format!(
        "UPDATE admin_events SET detail = 'ok' WHERE organisation_id = '{o}' AND seq = 3"
    ))
    .await;
    assert_eq!(verify(&config).await.0, Some(0), "restored");

    // Swapped: the targets of entries 4 and 5 change places.
    sql(format!(
        "UPDATE admin_events SET target = 'swapped' WHERE organisation_id = '{o}' AND seq = 4"
    ))
    .await;
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    bad(&out, "entry 4 ");
    sql(format!(
        "UPDATE admin_events SET target = '{}' WHERE organisation_id = '{o}' AND seq = 4",
        anna.id
    ))
    .await;
    // Reordered: entries 2 and 5 swap their places in the chain.
    sql(format!(
        "UPDATE admin_events SET seq = -2 WHERE organisation_id = '{o}' AND seq = 2"
    ))
    .await;
    sql(format!(
        "UPDATE admin_events SET seq = 2 WHERE organisation_id = '{o}' AND seq = 5"
    ))
    .await;
    sql(format!(
        "UPDATE admin_events SET seq = 5 WHERE organisation_id = '{o}' AND seq = -2"
    ))
    .await;
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    bad(&out, "entry 2 ");
    sql(format!(
        "UPDATE admin_events SET seq = -5 WHERE organisation_id = '{o}' AND seq = 5"
    ))
    .await;
    sql(format!(
        "UPDATE admin_events SET seq = 5 WHERE organisation_id = '{o}' AND seq = 2"
    ))
    .await;
    sql(format!(
        "UPDATE admin_events SET seq = 2 WHERE organisation_id = '{o}' AND seq = -5"
    ))
    .await;
    assert_eq!(verify(&config).await.0, Some(0), "restored");

    // Deleted: entry 2 (the chain then jumps from 1 to 3).
    assert_eq!(
        sql(format!(
            "DELETE FROM admin_events WHERE organisation_id = '{o}' AND seq = 2"
        ))
        .await,
        1
    );
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    bad(&out, "entry 3 ");
    bad(&out, "does not follow entry 1");

    // The newest entry removed (on a fresh chain in another organisation).
    let oid = app.neighbour_org().await;
    for i in 0..3 {
        app.store
            .record_admin_event(&event(&oid, &sara.id, START + i, "user.unlock", "x"))
            .await
            .unwrap();
    }
    sql(format!(
        "DELETE FROM admin_events WHERE organisation_id = '{}' AND seq = 3",
        oid.as_str()
    ))
    .await;
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("grannkommun: BROKEN: entries 3 to 3 were removed"),
        "{out}"
    );
    // A row slipped in beside the chain is seen too.
    sql(format!(
        "INSERT INTO admin_events (id, organisation_id, actor_id, at, ip, user_agent, action, target, result, detail) \
         VALUES ('evt_forged', '{}', 'usr_x', {START}, '1.2.3.4', 'x', 'user.unlock', 'x', 'success', 'ok')",
        oid.as_str()
    ))
    .await;
    sql(format!(
        "UPDATE audit_heads SET seq = 2, hash = (SELECT hash FROM admin_events WHERE organisation_id = '{0}' AND seq = 2) \
         WHERE organisation_id = '{0}'",
        oid.as_str()
    ))
    .await;
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("grannkommun: BROKEN: 1 entries were put in the log outside the chain"),
        "{out}"
    );
    // A row given place 0 is outside the chain too, and not shown.
    sql(
        "UPDATE admin_events SET seq = 0, prev_hash = '', hash = '' WHERE id = 'evt_forged'"
            .to_owned(),
    )
    .await;
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("grannkommun: BROKEN: 1 entries were put in the log outside the chain"),
        "{out}"
    );

    // Un-linking every entry and dropping the head does not make Portvakt
    // link them again (opening the database is not a repair).
    sql(format!(
        "UPDATE admin_events SET seq = NULL, prev_hash = NULL, hash = NULL WHERE organisation_id = '{o}'"
    ))
    .await;
    sql(format!(
        "DELETE FROM audit_heads WHERE organisation_id = '{o}'"
    ))
    .await;
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("exempelkommun: BROKEN"), "{out}");
    let (code, out) = verify(&config).await;
    assert_eq!(code, Some(1), "still broken on the second look: {out}");
}

#[tokio::test]
async fn audit_verify_names_the_first_bad_entry_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("t.db").display());
    let app = spawn_on(&url, "", dir).await;
    tamper_tests(&app, &url).await;
}

#[tokio::test]
async fn audit_verify_names_the_first_bad_entry_on_postgres() {
    let admin = std::env::var("TEST_POSTGRES_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("portvakt_audit_{}", &EventId::generate().as_str()[4..20]);
    let url = portvakt_store::testing::create_database(&admin, &name)
        .await
        .expect("PostgreSQL (scripts/test starts it)");
    let app = spawn_on(&url, "", TempDir::new()).await;
    tamper_tests(&app, &url).await;
    drop(app);
    portvakt_store::testing::drop_database(&admin, &name)
        .await
        .ok();
}

#[tokio::test]
async fn the_audit_page_shows_admin_actions_in_words_filtered_and_only_its_own() {
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    // An admin action through the web: it lands in the chain.
    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let token = csrf_from(&desk.get(&format!("/admin/users/{}", anna.id)).await.body);
    let r = desk
        .post_raw(
            &format!("/admin/users/{}/unlock", anna.id),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(r.status, 200);
    // Another organisation's entry, with a canary.
    let oid = app.neighbour_org().await;
    app.store
        .record_admin_event(&event(
            &oid,
            &anna.id,
            START,
            "CANARY-ACTION",
            "CANARY-TARGET",
        ))
        .await
        .unwrap();

    let page = desk.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Låste upp kontot"), "{}", page.body);
    assert!(page.body.contains(ANNA), "the account by its username");
    assert!(page.body.contains(SARA), "who did it");
    assert!(
        page.body.contains("2026-11-23 13:00:"),
        "Stockholm time with seconds"
    );
    assert!(
        !page.body.contains("CANARY"),
        "another organisation's entries"
    );

    // Filtered: by a person with no entries, by days, and bad input.
    let p = desk
        .get("/admin/audit?person=erik.larsson%40exempelkommun.se")
        .await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("Låste upp kontot"));
    let p = desk
        .get(&format!("/admin/audit?person={}", ANNA.replace('@', "%40")))
        .await;
    assert!(p.body.contains("Låste upp kontot"));
    let p = desk.get("/admin/audit?from=2026-11-24").await;
    assert!(!p.body.contains("Låste upp kontot"), "after the day");
    let p = desk
        .get("/admin/audit?from=2026-11-23&until=2026-11-23")
        .await;
    assert!(
        p.body.contains("Låste upp kontot"),
        "that day, Stockholm time"
    );
    let p = desk.get("/admin/audit?from=igår").await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("Datumet ska skrivas ÅÅÅÅ-MM-DD."),
        "{}",
        p.body
    );
    let p = desk
        .get("/admin/audit?person=ingen%40exempelkommun.se")
        .await;
    assert!(p
        .body
        .contains("Det finns ingen användare med det användarnamnet"));
    let p = desk.get("/admin/audit?before=abc").await;
    assert_eq!(p.status, 400, "a malformed page number");

    // A person without the role is refused (and that is recorded too).
    let plain = app.client();
    plain.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(plain.get("/admin/audit").await.status, 403);
    let events = app.store.admin_events(&org.id, 10).await.unwrap();
    assert_eq!(events[0].action, "refused");
    assert_eq!(events[0].target, "GET /admin/audit");
}
