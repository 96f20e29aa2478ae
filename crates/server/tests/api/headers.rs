use crate::helpers::*;

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = spawn_app().await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    for path in [
        "/login",
        "/",
        "/password",
        "/signed-out",
        "/does-not-exist",
        "/admin/users",
    ] {
        let r = c.http.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn production_cookies_are_host_prefixed_secure_httponly_samesite() {
    let app = spawn_app().await;
    // A second server on the same store, configured for production cookies.
    let mut cfg = app.config.clone();
    cfg.dev_mode = false;
    let server = portvakt_server::app::startup::Application::build_with_store(
        cfg,
        app.store.clone(),
        std::sync::Arc::new(app.clock.clone()),
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let csrf_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(csrf_cookie.starts_with("__Host-portvakt-csrf="));
    assert!(
        csrf_cookie.contains("Secure")
            && csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Strict")
    );
    let token = csrf_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let r = http
        .post(format!("http://{addr}/login"))
        .header("cookie", format!("__Host-portvakt-csrf={token}"))
        .form(&[
            ("csrf", token.as_str()),
            ("username", ANNA),
            ("password", ANNA_PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-portvakt="))
        .expect("session cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    assert!(
        !session.to_ascii_lowercase().contains("domain="),
        "__Host- cookies carry no Domain"
    );
}

#[tokio::test]
async fn trace_debug_and_metrics_are_not_served_publicly() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let r = http
        .request(reqwest::Method::TRACE, app.url("/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        http.get(app.url("/metrics")).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        http.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http.get(app.url("/readyz")).send().await.unwrap().status(),
        200
    );
}
