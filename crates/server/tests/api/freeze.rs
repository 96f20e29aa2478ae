//! Issue 15, acceptance 3: during a change freeze each listed change is
//! refused (with the reason, recorded) and allowed again after; lifting
//! needs two people, so the admin who proposed it cannot lift it alone.
use crate::helpers::*;
use portvakt_core::domain::Role;

fn portvakt(args: &[&str], config: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

const CLIENT_FILE: &str = r#"
[[organisation]]
slug = "exempelkommun"
name = "Exempelkommun"
domains = ["exempelkommun.se"]
[[organisation.group]]
slug = "personal"
name = "Personal"
[[organisation.client]]
client_id = "ny-app"
name = "Ny app"
kind = "public"
redirect_uris = ["https://ny-app.exempelkommun.se/cb"]
groups = ["personal"]
"#;

#[tokio::test]
async fn a_freeze_refuses_each_listed_change_until_two_admins_lift_it() {
    let app = spawn_app().await;
    // Erik is a second org admin, Anna works at the servicedesk.
    app.reapply_demo(|org| {
        for u in &mut org.users {
            if u.username.as_str().starts_with("erik") {
                u.roles = [Role::OrgAdmin].into();
            }
            if u.username.as_str().starts_with("anna") {
                u.roles = [Role::Servicedesk].into();
            }
        }
    })
    .await;
    let (org, _) = app.org_and_user(ANNA).await;
    let sara = app.client();
    assert_eq!(sara.sign_in(SARA, SARA_PW).await.status, 303);
    let token = sara.csrf().await;
    // A reason is needed.
    let r = sara
        .post_raw("/admin/freeze", &[("csrf", &token), ("reason", " ")])
        .await;
    assert_eq!(r.status, 400);
    let r = sara
        .post_raw(
            "/admin/freeze",
            &[("csrf", &token), ("reason", "Cyberangrepp mot kommunen")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        sara.post_raw("/admin/freeze", &[("csrf", &token), ("reason", "igen")])
            .await
            .status,
        409,
        "one freeze at a time"
    );

    // Everyone signed in sees the banner.
    let anna = app.client();
    assert_eq!(anna.sign_in(ANNA, ANNA_PW).await.status, 303);
    let home = anna.get("/").await;
    assert!(home.body.contains("Ändringsfrys.") && home.body.contains("Cyberangrepp mot kommunen"));

    // Each listed change is refused, with the reason.
    let at = anna.csrf().await;
    for (path, field) in [
        ("/settings/totp", None),
        ("/settings/sms", Some(("number", "0701234567"))),
        ("/settings/email", Some(("address", "anna@example.org"))),
        ("/settings/passkey", None),
        ("/settings/factors/fac_x/remove", None),
    ] {
        let mut fields = vec![("csrf", at.as_str())];
        fields.extend(field);
        let r = anna.post_raw(path, &fields).await;
        assert_eq!(r.status, 423, "{path}: {}", r.body);
        assert!(r.body.contains("Cyberangrepp mot kommunen"), "{path}");
        assert!(r.body.contains("Ändringar är frysta"), "{path}");
    }
    let r = app
        .client()
        .post_form("/reset", &[("username", ANNA)])
        .await;
    assert_eq!(r.status, 423, "reset by code");
    assert!(
        !r.body.contains("Cyberangrepp mot kommunen"),
        "the reason is not for the internet"
    );
    // One org admin cannot hand another's account over to themselves.
    let (_, erik_user) = app.org_and_user("erik.larsson@exempelkommun.se").await;
    for action in ["oral-reset", "factors/fac_x/remove"] {
        let r = sara
            .post_raw(
                &format!("/admin/users/{}/{action}", erik_user.id),
                &[("csrf", &token), ("confirm", "1")],
            )
            .await;
        assert_eq!(r.status, 403, "{action}");
        assert!(r.body.contains("ensam kunna häva frysningen"), "{action}");
    }
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let file = dir.0.join("org.toml");
    std::fs::write(&file, CLIENT_FILE).unwrap();
    let out = portvakt(&["apply", file.to_str().unwrap()], &config);
    assert!(!out.status.success(), "apply adding a client is refused");
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("frozen") && text.contains("ny-app"), "{text}");
    let refused = app
        .store
        .admin_events(&org.id, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "freeze.refused")
        .count();
    assert_eq!(
        refused, 7,
        "each refusal is recorded (five pages, the reset, apply)"
    );

    // The status from the command line.
    let out = portvakt(&["freeze", "status", "--org", "exempelkommun"], &config);
    assert!(String::from_utf8_lossy(&out.stdout).contains("changes frozen since"));

    // Lifting: not without a proposal, not by the proposer alone.
    let r = sara
        .post_raw("/admin/freeze/lift", &[("csrf", &token)])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Ingen har föreslagit"));
    let out = portvakt(&["freeze", "lift", "--org", "exempelkommun"], &config);
    assert!(
        !out.status.success(),
        "the command line approves a proposal, it does not make one"
    );
    assert_eq!(
        sara.post_raw("/admin/freeze/propose-lift", &[("csrf", &token)])
            .await
            .status,
        303
    );
    let r = sara
        .post_raw("/admin/freeze/lift", &[("csrf", &token)])
        .await;
    assert_eq!(r.status, 403, "the same admin alone");
    assert!(r.body.contains("En annan administratör måste godkänna"));
    assert!(app.store.active_freeze(&org.id).await.unwrap().is_some());
    // A servicedesk member who is no org admin cannot reach the page.
    let desk_only = app.client();
    desk_only.sign_in(ANNA, ANNA_PW).await;
    let dt = desk_only.csrf().await;
    assert_eq!(
        desk_only
            .post_raw("/admin/freeze/lift", &[("csrf", &dt)])
            .await
            .status,
        403
    );
    assert!(app.store.active_freeze(&org.id).await.unwrap().is_some());
    // A second org admin approves.
    let erik = app.client();
    assert_eq!(
        erik.sign_in("erik.larsson@exempelkommun.se", ERIK_PW)
            .await
            .status,
        303
    );
    let page = erik.get("/admin/freeze").await;
    assert!(page.body.contains("Godkänn och häv frysningen"));
    let et = csrf_from(&page.body);
    assert_eq!(
        erik.post_raw("/admin/freeze/lift", &[("csrf", &et)])
            .await
            .status,
        303
    );
    assert!(app.store.active_freeze(&org.id).await.unwrap().is_none());
    let actions: Vec<String> = app
        .store
        .admin_events(&org.id, 60)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in ["freeze.declare", "freeze.propose_lift", "freeze.lift"] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }

    // After: allowed again.
    let anna = app.client();
    anna.sign_in(ANNA, ANNA_PW).await;
    assert!(!anna.get("/").await.body.contains("Ändringsfrys."));
    let r = anna.post_form("/settings/totp", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = app
        .client()
        .post_form("/reset", &[("username", ANNA)])
        .await;
    assert_eq!(r.status, 303);
    let out = portvakt(&["apply", file.to_str().unwrap(), "--dry-run"], &config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_command_line_declares_and_approves_a_proposed_lift() {
    let app = spawn_app().await;
    let (org, _) = app.org_and_user(SARA).await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let out = portvakt(
        &[
            "freeze",
            "declare",
            "--org",
            "exempelkommun",
            "--reason",
            "Driftstörning",
        ],
        &config,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = app.store.active_freeze(&org.id).await.unwrap().unwrap();
    assert!(f.declared_by.as_str().starts_with("cli:"));
    let sara = app.client();
    sara.sign_in(SARA, SARA_PW).await;
    let page = sara.get("/admin/freeze").await;
    assert!(page.body.contains("Driftstörning"));
    let t = csrf_from(&page.body);
    assert_eq!(
        sara.post_raw("/admin/freeze/propose-lift", &[("csrf", &t)])
            .await
            .status,
        303
    );
    let out = portvakt(&["freeze", "lift", "--org", "exempelkommun"], &config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(app.store.active_freeze(&org.id).await.unwrap().is_none());
}
