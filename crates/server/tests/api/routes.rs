//! SECURITY.md A2 and C2, generated from the router's own table.
use crate::helpers::*;
use portvakt_server::routes::{route_table, Access};

fn concrete(path: &str) -> String {
    path.replace("{id}", "usr_00000000000000000000000000000000")
        .replace("{factor}", "fac_00000000000000000000000000000000")
}

#[tokio::test]
async fn every_non_public_route_refuses_anonymous_callers() {
    let app = spawn_app().await;
    let c = app.client();
    let token = c.csrf().await;
    let table = route_table();
    assert!(table.len() >= 10);
    for r in table.iter().filter(|r| r.access != Access::Public) {
        let url = app.url(&concrete(r.path));
        let resp = match r.method {
            "GET" => c.http.get(&url).send().await.unwrap(),
            _ => c
                .http
                .post(&url)
                .form(&[("csrf", token.as_str())])
                .send()
                .await
                .unwrap(),
        };
        let status = resp.status().as_u16();
        let loc = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            (status == 303 && loc.as_deref() == Some("/login")) || status == 401 || status == 403,
            "{} {} answered {status} {loc:?}",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn public_routes_are_exactly_the_expected_ones() {
    let mut public: Vec<String> = route_table()
        .iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "GET /auth/denied",
            "GET /auth/verify",
            "GET /healthz",
            "GET /login",
            "GET /readyz",
            "GET /reset",
            "GET /reset/code",
            "GET /signed-out",
            "GET /static/passkey.js",
            "GET /static/portvakt.css",
            "GET /static/selfcheck.js",
            "GET /status",
            "GET /status/check",
            "GET /status/{org}",
            "POST /language",
            "POST /login",
            "POST /login/passkey",
            "POST /login/passkey/finish",
            "POST /reset",
            "POST /reset/code",
            "POST /reset/passkey",
            "POST /reset/passkey/finish"
        ]
    );
}

#[tokio::test]
async fn users_without_the_role_get_403_on_every_admin_route_and_role_changes_apply_at_once() {
    let app = spawn_app().await;
    let anna = app.client();
    anna.sign_in(ANNA, ANNA_PW).await;
    let token = anna.csrf().await;
    let admin_routes: Vec<_> = route_table()
        .into_iter()
        .filter(|r| matches!(r.access, Access::Role(_)))
        .collect();
    assert!(!admin_routes.is_empty());
    for r in &admin_routes {
        let url = app.url(&concrete(r.path));
        let resp = match r.method {
            "GET" => anna.http.get(&url).send().await.unwrap(),
            _ => anna
                .http
                .post(&url)
                .form(&[("csrf", token.as_str())])
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(resp.status(), 403, "{} {}", r.method, r.path);
    }
    // Give Anna the servicedesk role; her very next request sees it.
    let mut org = portvakt_server::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.retain(|u| u.username.as_str() == ANNA);
    org.users[0]
        .roles
        .insert(portvakt_core::domain::Role::Servicedesk);
    portvakt_server::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    assert_eq!(anna.get("/admin/users").await.status, 200);
}
