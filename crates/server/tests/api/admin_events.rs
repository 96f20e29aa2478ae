//! Issue 10 L7 (SECURITY.md F1): admin actions and refused admin requests
//! leave a durable record with organisation, actor, IP, user agent, UTC
//! time, action, target and result — and nothing secret.
use crate::helpers::*;
use portvakt_core::store::EventResult;

#[tokio::test]
async fn l7_admin_actions_and_refused_admin_requests_are_recorded() {
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let (_, sara) = app.org_and_user(SARA).await;

    let plain = app.client();
    plain.sign_in(ANNA, ANNA_PW).await;
    let r = plain
        .http
        .get(app.url("/admin/users"))
        .header("user-agent", "Nyfiken/1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let desk = app.client();
    assert_eq!(desk.sign_in(SARA, SARA_PW).await.status, 303);
    let token = csrf_from(&desk.get(&format!("/admin/users/{}", anna.id)).await.body);
    for action in ["unlock", "revoke-sessions"] {
        app.clock.advance(1);
        let r = desk
            .post_raw(
                &format!("/admin/users/{}/{action}", anna.id),
                &[("csrf", &token), ("confirm", "1")],
            )
            .await;
        assert_eq!(r.status, 200, "{action}");
    }

    let events = app.store.admin_events(&org.id, 10).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.end_sessions", "user.unlock", "refused"]);

    let refused = &events[2];
    assert_eq!(refused.actor_id, anna.id);
    assert_eq!(refused.target, "GET /admin/users");
    assert_eq!(refused.result, EventResult::Failure);
    assert_eq!(refused.detail, "forbidden");
    assert_eq!(refused.user_agent, "Nyfiken/1.0");
    assert_eq!(refused.ip, "127.0.0.1");

    let ended = &events[0];
    assert_eq!(ended.actor_id, sara.id);
    assert_eq!(ended.organisation_id, org.id);
    assert_eq!(ended.target, anna.id.as_str());
    assert_eq!(ended.result, EventResult::Success);
    assert_eq!(ended.detail, "sessions=1");
    assert_eq!(ended.at, portvakt_core::Clock::now(&app.clock));
    assert_eq!(events[1].target, anna.id.as_str());

    for e in &events {
        let text = format!("{e:?}");
        assert!(!text.contains(ANNA_PW) && !text.contains(SARA_PW) && !text.contains(&token));
    }
}

/// Publishing an incident is recorded the same way (L7); its text is not.
#[tokio::test]
async fn l7_publishing_an_incident_is_recorded() {
    let app = spawn_app().await;
    let (org, sara) = app.org_and_user(SARA).await;
    let c = app.client();
    c.sign_in(SARA, SARA_PW).await;
    let r = c
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "E-posten fungerar inte"),
                ("body", "Hemlig felsökningstext"),
                ("impact_e-post", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/status?done=opened"));
    let events = app.store.admin_events(&org.id, 10).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].action, "incident.open");
    assert_eq!(events[0].actor_id, sara.id);
    assert!(!events[0].target.is_empty(), "the incident id");
    assert!(!format!("{events:?}").contains("Hemlig"));
}

/// `portvakt unlock` from the command line is recorded like the web's
/// unlock, with the operating-system account as the actor (L7, F1).
#[tokio::test]
async fn l7_unlock_from_the_command_line_is_recorded() {
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
        .args(["unlock", "--config"])
        .arg(&config)
        .args(["--org", "exempelkommun", "--user", ANNA])
        .env("USER", "drift")
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = app.store.admin_events(&org.id, 10).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.action == "user.unlock")
        .expect("recorded");
    assert_eq!(e.actor_id.as_str(), "cli:drift");
    assert_eq!(e.target, anna.id.to_string());
    assert_eq!(e.ip, "cli");
    assert_eq!(e.result, EventResult::Success);
}
