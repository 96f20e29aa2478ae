//! Issue 10: what the proxy refuses to pass on — identity and forwarding
//! headers a client made up (E1 / M5), Portvakt's cookies in any `Cookie`
//! header (L3), paths that leave the app's base (L5), `TRACE` and
//! `CONNECT` (E4) — against real upstreams that echo what they got.
use crate::helpers::*;
use crate::proxy_helpers::{anna_at_the_app, raw, setup, APPS, PORTAL};

#[tokio::test]
async fn identity_and_forwarding_headers_a_client_made_up_never_reach_the_app_e1_m5() {
    let app = setup("", false).await;
    let (_, apps) = anna_at_the_app(&app).await;
    // Raw, as reqwest and hyper's client may refuse or fold some names.
    let spoofed = "Remote_User: admin@evil\r\nREMOTE-GROUPS: admins\r\nX-Forwarded-User: admin\r\n\
                   X-Remote-User: admin\r\nX-Real-IP: 10.10.1.1\r\nX-Forwarded-Port: 1\r\n\
                   X-Forwarded-Uri: /admin\r\nX-Forwarded-Server: evil\r\nX-Original-URL: /admin\r\n\
                   X_Forwarded_Host: evil\r\nForwarded: for=10.10.1.1\r\nX-Auth-Request-Email: a@evil\r\n\
                   X-Remote_Email: a@evil\r\nX-Keep: 1\r\n";
    let out = raw(
        app.addr,
        format!(
            "GET /apps/arendehantering/echo HTTP/1.1\r\nHost: apps.localhost\r\nCookie: {apps}\r\n\
             {spoofed}Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let body: serde_json::Value =
        serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
    let h = body["headers"].as_object().unwrap();
    assert_eq!(h["remote-user"], ANNA, "ours, and only ours");
    assert_eq!(h["remote-groups"], "ovrig-personal");
    assert_eq!(h["x-forwarded-host"], "apps.localhost");
    assert_eq!(h["x-keep"], "1", "other headers pass");
    let text = serde_json::to_string(h).unwrap();
    assert!(!text.contains("evil") && !text.contains("admin"), "{text}");
    assert!(!text.contains("10.10.1.1"), "{text}");
    for k in h.keys() {
        assert!(!k.contains('_'), "a look-alike name passed: {k}");
    }
}

#[tokio::test]
async fn our_cookies_leave_every_cookie_header_whatever_its_bytes_l3() {
    let app = setup("", false).await;
    let (_, apps) = anna_at_the_app(&app).await;
    let mut req = b"GET /apps/arendehantering/echo HTTP/1.1\r\nHost: apps.localhost\r\n\
                    Cookie: a=\xe5\xe4\xf6; portvakt=s1\r\n"
        .to_vec();
    req.extend_from_slice(
        format!("Cookie: {apps}; portvakt=s2; app=1\r\nCookie: __Host-portvakt=s3\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    let out = raw(app.addr, &req).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(body.contains("app=1"), "{body}");
    for secret in [
        "s1",
        "s2",
        "s3",
        "portvakt",
        apps.split('=').nth(1).unwrap(),
    ] {
        assert!(!body.contains(secret), "{secret} reached the app: {body}");
    }
}

#[tokio::test]
async fn dot_segments_never_leave_the_apps_base_path_l5() {
    let app = setup("", false).await;
    let (_, apps) = anna_at_the_app(&app).await;
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: apps.localhost\r\nCookie: {apps}\r\nConnection: close\r\n\r\n")
    };
    for path in [
        "/apps/arendehantering/..",
        "/apps/arendehantering/../webbmejl/",
        "/apps/arendehantering/%2e%2e/x",
        "/apps/arendehantering/%2E%2e/x",
        "/apps/arendehantering/..%2fx",
        "/apps/arendehantering/a/../../x",
        "/apps/arendehantering/..;/x",
        "/apps/arendehantering/..\\x",
        "/apps/arendehantering/%252e%252e/x",
    ] {
        let out = raw(app.addr, get(path).as_bytes()).await;
        assert!(out.starts_with("HTTP/1.1 400"), "{path}: {out}");
    }
    let out = raw(app.addr, get("/apps/arendehantering/a/../b").as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        out.contains("\"path\":\"/a/../b\""),
        "inside the base is fine: {out}"
    );
}

#[tokio::test]
async fn trace_and_connect_are_refused_for_apps_e4() {
    let app = setup("", false).await;
    let (b, _) = anna_at_the_app(&app).await;
    let trace = reqwest::Method::from_bytes(b"TRACE").unwrap();
    for url in [
        format!("{APPS}/apps/arendehantering/"),
        format!("{PORTAL}/apps/arendehantering/"),
        "http://app.exempelkommun.test/".to_owned(),
    ] {
        let r = b.http.request(trace.clone(), &url).send().await.unwrap();
        assert_eq!(r.status(), 405, "{url}");
    }
    let apps = b.cookie(APPS, "portvakt-apps").unwrap();
    let out = raw(
        app.addr,
        format!("CONNECT /apps/arendehantering/ HTTP/1.1\r\nHost: apps.localhost\r\nCookie: {apps}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert!(!out.starts_with("HTTP/1.1 200"), "{out}");
}

/// Python's wsgiref, which folds `-` and `_` into one CGI name: a client's
/// `Remote_User` used to arrive joined with ours as
/// `HTTP_REMOTE_USER='admin,anna'`. It answers the `HTTP_*` it saw.
fn wsgiref() -> (std::process::Child, u16) {
    let app = r#"
import json, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *a): pass
def app(environ, start):
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    start("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]
s = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(s.server_port, flush=True)
s.serve_forever()
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", app])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line.trim().parse().unwrap())
}

#[tokio::test]
async fn behind_wsgiref_only_our_remote_user_arrives_e1_m5() {
    let (mut python, port) = wsgiref();
    let app = setup("", false).await;
    let (org_row, _) = app.org_and_user(ANNA).await;
    let current = app.store.services_with_groups(&org_row.id).await.unwrap();
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.clear();
    for s in &mut org.services {
        if let Some((published, _)) = current.iter().find(|(p, _)| p.slug == s.slug) {
            s.access = published.access.clone();
        }
        if s.slug.as_str() == "webbmejl" {
            s.access.host = None;
            s.access.upstream = Some(format!("http://127.0.0.1:{port}"));
        }
    }
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, apps) = anna_at_the_app(&app).await;
    let out = raw(
        app.addr,
        format!(
            "GET /apps/webbmejl/ HTTP/1.1\r\nHost: apps.localhost\r\nCookie: {apps}\r\n\
             Remote_User: admin@exempelkommun.se\r\nRemote_Groups: admins\r\n\
             X_Forwarded_User: admin\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    python.kill().ok();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let body: serde_json::Value =
        serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
    assert_eq!(body["HTTP_REMOTE_USER"], ANNA, "{body}");
    assert_eq!(body["HTTP_REMOTE_GROUPS"], "ovrig-personal", "{body}");
    assert!(body.get("HTTP_X_FORWARDED_USER").is_none(), "{body}");
    assert!(!body.to_string().contains("admin"), "{body}");
}
