//! Issue 13: signing out, ending sessions and disabling end a person's app
//! sign-ins; the signed-in apps under Mina inställningar and on the
//! servicedesk's user page; key rotation without an outage.

use crate::helpers::{ANNA, ANNA_PW, SARA, SARA_PW, START};
use crate::oidc_helpers::*;
use portvakt_core::domain::Slug;
use portvakt_core::oidc::jose::{Alg, SigningKey};
use portvakt_core::oidc::keyring::KeyTimes;
use portvakt_core::store::StoredSigningKey;
use serde_json::Value;

async fn signed_in_app(o: &OidcApp) -> (crate::helpers::Client, Value) {
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let url = format!(
        "{}/authorize?client_id=intranat&redirect_uri={}&response_type=code&scope=openid%20profile&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        o.issuer,
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let r = browser.http.get(url).send().await.unwrap();
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    let (_, _, t) = o
        .post_form(
            "token",
            Some(("intranat", SERVICE_SECRET)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert!(t["refresh_token"].is_string(), "{t}");
    (browser, t)
}

async fn still_works(o: &OidcApp, t: &Value) -> (u16, u16) {
    let userinfo = reqwest::Client::new()
        .get(format!("{}/userinfo", o.issuer))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let (refresh, _, _) = o
        .post_form(
            "token",
            Some(("intranat", SERVICE_SECRET)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    (userinfo, refresh)
}

#[tokio::test]
async fn signing_out_ends_the_apps_sign_ins() {
    let o = with_code_clients().await;
    let (browser, t) = signed_in_app(&o).await;
    let userinfo = reqwest::Client::new()
        .get(format!("{}/userinfo", o.issuer))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let out = browser.post_form("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(still_works(&o, &t).await, (401, 400));
}

#[tokio::test]
async fn the_servicedesk_sees_the_apps_and_ending_sessions_ends_them() {
    let o = with_code_clients().await;
    let (_, t) = signed_in_app(&o).await;
    let (_, anna) = o.app.org_and_user(ANNA).await;
    let sara = o.app.client();
    sara.sign_in(SARA, SARA_PW).await;
    let page = sara.get(&format!("/admin/users/{}", anna.id)).await;
    assert!(page.body.contains("App intranat"), "{}", page.body);
    let r = sara
        .post_form(
            &format!("/admin/users/{}/revoke-sessions", anna.id),
            &[("confirm", "1")],
        )
        .await;
    assert!(r.status == 303 || r.status == 200, "{}", r.status);
    assert_eq!(still_works(&o, &t).await, (401, 400));
}

#[tokio::test]
async fn a_disabled_account_stops_at_userinfo_and_refresh() {
    let o = with_code_clients().await;
    let (_, t) = signed_in_app(&o).await;
    let (org, mut anna) = o.app.org_and_user(ANNA).await;
    anna.disabled = true;
    o.app
        .store
        .apply_changes(&[portvakt_core::apply::Change::PutUser {
            org: org.id.clone(),
            user: anna.clone(),
            groups: o
                .app
                .store
                .user_groups(&org.id, &anna.id)
                .await
                .unwrap()
                .into_iter()
                .map(|g| g.id)
                .collect(),
            roles: Default::default(),
            new_password: None,
            new_totp: None,
        }])
        .await
        .unwrap();
    assert_eq!(still_works(&o, &t).await, (401, 400));
}

#[tokio::test]
async fn a_person_sees_their_apps_and_removes_one() {
    let o = with_code_clients().await;
    let (browser, t) = signed_in_app(&o).await;
    let page = browser.get("/settings").await;
    assert!(page.body.contains("Appar du är inloggad i"));
    assert!(page.body.contains("App intranat"));
    assert!(page.body.contains("Organisationens egen app"));
    let r = browser.post_form("/settings/apps/intranat/end", &[]).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/settings?done=app_ended#signed-in-apps")
    );
    assert_eq!(still_works(&o, &t).await, (401, 400));
    let page = browser.get("/settings?done=app_ended").await;
    assert!(page.body.contains("Du är utloggad ur appen"));
    assert!(!page.body.contains("App intranat"));
    // Another organisation's client id, or none: not found, nothing ends.
    let r = browser
        .post_form("/settings/apps/lonesystem-x/end", &[])
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_rotated_key_is_announced_first_and_leaves_after_its_tokens() {
    let o = with_code_clients().await;
    let org = o
        .app
        .store
        .organisation_by_slug(&Slug::parse(ORG).unwrap())
        .await
        .unwrap()
        .unwrap();
    let cc = |o: &OidcApp| {
        let o = o.clone_ref();
        async move {
            let (_, _, b) = o
                .post_form(
                    "token",
                    Some(("lonesystem", SERVICE_SECRET)),
                    &[("grant_type", "client_credentials")],
                )
                .await;
            b["access_token"].as_str().unwrap().to_owned()
        }
    };
    let kid = |t: &str| -> String {
        let h: Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                t.split('.').next().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        h["kid"].as_str().unwrap().to_owned()
    };
    let active = |o: &OidcApp, t: String| {
        let o = o.clone_ref();
        async move {
            let (_, _, v) = o
                .post_form(
                    "introspect",
                    Some(("lonesystem", SERVICE_SECRET)),
                    &[("token", &t)],
                )
                .await;
            v["active"] == true
        }
    };
    let jwks_kids = |o: &OidcApp| {
        let o = o.clone_ref();
        async move {
            let (_, _, j) = o.get_json(&format!("{}/jwks", o.issuer)).await;
            j["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let wait = || tokio::time::sleep(std::time::Duration::from_millis(1100));
    let before = cc(&o).await;
    let old_kid = kid(&before);
    let (pkcs8, key) = SigningKey::generate(Alg::Es256).unwrap();
    let new_kid = key.kid().to_owned();
    o.app
        .store
        .add_oidc_key(
            &org.id,
            &StoredSigningKey {
                kid: new_kid.clone(),
                alg: Alg::Es256,
                pkcs8,
                times: KeyTimes {
                    created_at: START,
                    activates_at: START + 3600,
                    unpublish_at: None,
                },
            },
            START + 3600 + 600,
        )
        .await
        .unwrap();
    wait().await;
    // Announced, not yet signing; the old key still signs and verifies.
    assert!(jwks_kids(&o).await.contains(&new_kid));
    assert_eq!(kid(&cc(&o).await), old_kid);
    assert!(active(&o, before.clone()).await);
    // After the hour: the new key signs; a token the old key signed just
    // before still verifies until it expires.
    o.app.clock.set(START + 3590);
    let last_old = cc(&o).await;
    assert_eq!(kid(&last_old), old_kid);
    o.app.clock.set(START + 3600);
    wait().await;
    assert_eq!(kid(&cc(&o).await), new_kid);
    assert!(
        active(&o, last_old.clone()).await,
        "no outage for tokens already out"
    );
    assert!(jwks_kids(&o).await.contains(&old_kid));
    // Then the old key leaves the set.
    o.app.clock.set(START + 4200);
    wait().await;
    let kids = jwks_kids(&o).await;
    assert!(
        !kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
}

#[tokio::test]
async fn access_check_covers_clients() {
    let o = with_code_clients().await;
    let dir = crate::helpers::TempDir::new();
    let config = o.app.cli_config(&dir, "");
    let run = |client: &str, method: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
            .args(["access", "check", "--config"])
            .arg(&config)
            .args(["--user", ANNA, "--client", client, "--ip", "10.10.1.1"])
            .args(["--method", method, "--time", "2026-11-23T13:00"])
            .output()
            .unwrap()
    };
    let out = run("stark", "password");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("client:  App stark (stark)"), "{text}");
    assert!(text.contains("decision: DENY"), "{text}");
    let out = run("stark", "password,app");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run("lararappen", "password");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not shared with any of the user's groups")
    );
    let out = run("okand", "password");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--client: no client okand"));
}

#[tokio::test]
async fn a_refresh_checks_the_apps_rule_again() {
    let o = with_code_clients().await;
    // Erik, a teacher, signs in to the teachers' app.
    let browser = o.app.client();
    browser
        .sign_in("erik.larsson@exempelkommun.se", crate::helpers::ERIK_PW)
        .await;
    let url = format!(
        "{}/authorize?client_id=lararappen&redirect_uri={}&response_type=code&scope=openid&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        o.issuer,
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let r = browser.http.get(url).send().await.unwrap();
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    let (_, _, t) = o
        .post_form(
            "token",
            Some(("lararappen", SERVICE_SECRET)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    // He moves to another group: the app may no longer sign him in.
    let (org, erik) = o.app.org_and_user("erik.larsson@exempelkommun.se").await;
    let other = o
        .app
        .store
        .snapshot(&org.slug)
        .await
        .unwrap()
        .groups
        .into_iter()
        .find(|g| g.slug.as_str() == "ovrig-personal")
        .unwrap()
        .id;
    o.app
        .store
        .apply_changes(&[portvakt_core::apply::Change::PutUser {
            org: org.id.clone(),
            user: erik,
            groups: [other].into(),
            roles: Default::default(),
            new_password: None,
            new_totp: None,
        }])
        .await
        .unwrap();
    let (s, _, b) = o
        .post_form(
            "token",
            Some(("lararappen", SERVICE_SECRET)),
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", o.issuer))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the grant is revoked");
}

#[tokio::test]
async fn thirty_parallel_refreshes_have_one_winner_and_no_server_error() {
    let o = std::sync::Arc::new(with_code_clients().await);
    let (_, t) = signed_in_app(&o).await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let (o, rt) = (o.clone(), rt.clone());
        tasks.push(tokio::spawn(async move {
            o.post_form(
                "token",
                Some(("intranat", SERVICE_SECRET)),
                &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}
