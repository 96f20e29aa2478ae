//! SECURITY.md A2 and C2, generated from the router's own table.
use crate::helpers::*;
use portvakt_server::http::router::{route_table, Access};

fn concrete(path: &str) -> String {
    path.replace("{id}", "usr_00000000000000000000000000000000")
        .replace("{factor}", "fac_00000000000000000000000000000000")
}

/// A GET, or a POST carrying only the CSRF token.
async fn call(http: &reqwest::Client, method: &str, url: &str, token: &str) -> reqwest::Response {
    match method {
        "GET" => http.get(url).send().await.unwrap(),
        _ => http
            .post(url)
            .form(&[("csrf", token)])
            .send()
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn every_non_public_route_refuses_anonymous_callers() {
    let app = spawn_app().await;
    let c = app.client();
    let token = c.csrf().await;
    let table = route_table();
    assert!(table.len() >= 10);
    // OAuth client and bearer endpoints answer `invalid_client` and
    // `invalid_token`, with the provider on:
    // oidc_tokens::client_endpoints_refuse_anonymous_callers.
    for r in table
        .iter()
        .filter(|r| !matches!(r.access, Access::Public | Access::Client | Access::Bearer))
    {
        let url = app.url(&concrete(r.path));
        let resp = call(&c.http, r.method, &url, &token).await;
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
            "GET /favicon.ico",
            "GET /favicon.svg",
            "GET /healthz",
            "GET /login",
            "GET /oidc/{org}/.well-known/openid-configuration",
            "GET /oidc/{org}/authorize",
            "GET /oidc/{org}/continue/{request}",
            "GET /oidc/{org}/jwks",
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
            "POST /oidc/{org}/authorize",
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
        .filter(|r| r.access.roles().is_some())
        .collect();
    assert!(!admin_routes.is_empty());
    for r in &admin_routes {
        let url = app.url(&concrete(r.path));
        let resp = call(&anna.http, r.method, &url, &token).await;
        assert_eq!(resp.status(), 403, "{} {}", r.method, r.path);
    }
    // Give Anna the servicedesk role; her very next request sees it.
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.retain(|u| u.username.as_str() == ANNA);
    org.users[0]
        .roles
        .insert(portvakt_core::domain::Role::Servicedesk);
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    assert_eq!(anna.get("/admin/users").await.status, 200);
}

/// C2 for every role in the table: a user who holds every *other* role
/// (none that covers the one needed) is refused on each route that needs
/// it, so no role stands in for another by accident.
#[tokio::test]
async fn a_user_lacking_each_role_gets_403_on_every_route_that_needs_it() {
    use portvakt_core::domain::Role;
    let app = spawn_app().await;
    // Each set of roles a route accepts (any one of them).
    let needed: std::collections::BTreeSet<Vec<Role>> = route_table()
        .iter()
        .filter_map(|r| r.access.roles())
        .collect();
    assert!(needed.len() >= 2, "{needed:?}");
    for role in needed {
        let others: std::collections::BTreeSet<Role> = Role::ALL
            .into_iter()
            .filter(|r| !role.iter().any(|n| r.covers(*n)))
            .collect();
        let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
            .await
            .unwrap();
        org.users.retain(|u| u.username.as_str() == ANNA);
        org.users[0].roles = others.clone();
        portvakt_server::provisioning::apply_run::apply(
            &*app.store,
            &app.hasher,
            &[org],
            START,
            false,
        )
        .await
        .unwrap();
        let anna = app.client();
        anna.sign_in(ANNA, ANNA_PW).await;
        let token = anna.csrf().await;
        for r in route_table()
            .iter()
            .filter(|r| r.access.roles().as_ref() == Some(&role))
        {
            let url = app.url(&concrete(r.path));
            let resp = call(&anna.http, r.method, &url, &token).await;
            assert_eq!(
                resp.status(),
                403,
                "{} {} with {others:?} (needs {role:?})",
                r.method,
                r.path
            );
        }
    }
}
