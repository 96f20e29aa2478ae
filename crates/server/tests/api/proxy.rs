//! The built-in reverse proxy (issue 4): the same access decision, the
//! identity headers, Portvakt's cookies and hop-by-hop headers kept back,
//! streamed bodies, an upgraded (WebSocket) connection, and a clear page
//! when the app is down.
use crate::helpers::*;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use futures_util::StreamExt;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOMAIN: &str = "exempelkommun.test";
const MIB: usize = 1024 * 1024;

/// The app behind the proxy: echoes what it got, counts uploaded bytes,
/// and streams large downloads.
async fn upstream() -> u16 {
    let app = axum::Router::new()
        .route(
            "/count",
            post(|body: Body| async move {
                let mut n = 0usize;
                let mut s = body.into_data_stream();
                while let Some(chunk) = s.next().await {
                    n += chunk.unwrap().len();
                }
                n.to_string()
            }),
        )
        .route(
            "/big",
            get(|| async {
                let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b'x'; MIB]));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .fallback(|req: Request| async move {
            let headers: &HeaderMap = req.headers();
            let map: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                    )
                })
                .collect();
            axum::Json(serde_json::json!({
                "path": req.uri().to_string(),
                "headers": map,
            }))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A raw HTTP/1.1 server that switches protocols and then echoes bytes,
/// as a WebSocket server does after its handshake.
async fn upgrade_echo() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                let text = String::from_utf8_lossy(&req).to_lowercase();
                assert!(text.contains("upgrade: websocket"), "{text}");
                assert!(
                    !text.contains("portvakt="),
                    "no session cookie upstream: {text}"
                );
                s.write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                )
                .await
                .unwrap();
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    s.write_all(&buf[..n]).await.unwrap();
                }
            });
        }
    });
    port
}

/// `shared_cookie`: the session cookie goes to every host under DOMAIN
/// (host-based publishing); the other tests talk to 127.0.0.1 directly.
async fn setup(extra: &str, shared_cookie: bool) -> TestApp {
    let up = upstream().await;
    let ws = upgrade_echo().await;
    let cookie_domain = if shared_cookie {
        format!("cookie_domain = \"{DOMAIN}\"\n")
    } else {
        String::new()
    };
    let app = spawn_with(&format!(
        "{extra}[forward_auth]\nportal_url = \"http://portal.{DOMAIN}\"\n\
         domains = [\"{DOMAIN}\"]\n{cookie_domain}allow_http = true\n"
    ))
    .await;
    let mut org = portvakt_server::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.clear();
    for s in &mut org.services {
        let upstream = match s.slug.as_str() {
            "webbmejl" => {
                s.access.host = Some(format!("app.{DOMAIN}"));
                format!("http://127.0.0.1:{up}")
            }
            "lonebesked" => format!("http://127.0.0.1:{up}"),
            "intranat" => format!("http://127.0.0.1:{ws}"),
            // Nothing listens there.
            "vab" => "http://127.0.0.1:9".into(),
            // Another group's service; closed at night; only from the school network.
            "larplattform" | "arendehantering" => format!("http://127.0.0.1:{up}"),
            _ => continue,
        };
        s.access.upstream = Some(upstream);
    }
    portvakt_server::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    app
}

/// `name=value` of the session cookie a sign-in answer set.
fn session_cookie(p: &Page) -> String {
    p.set_cookies
        .iter()
        .find(|s| s.starts_with("portvakt="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn published_apps_get_who_and_never_our_cookies_or_spoofed_headers() {
    // No trusted proxies: a client's own X-Forwarded-For counts for nothing.
    let app = setup("trusted_proxies = []\n", false).await;
    let c = app.client();
    let r = c.get("/apps/webbmejl/inkorg?mapp=1").await;
    assert_eq!(r.location.as_deref(), Some("/login"), "to sign-in first");
    let r = c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/apps/webbmejl/inkorg?mapp=1"),
        "and back afterwards"
    );
    let session = session_cookie(&r);
    let r = c
        .http
        .get(app.url("/apps/webbmejl/inkorg?mapp=1"))
        .header("Remote-User", "sara.lind@exempelkommun.se")
        .header("X-Forwarded-For", "10.10.1.1")
        .header(
            "Cookie",
            format!("{session}; portvakt-csrf=x; appsession=abc"),
        )
        .header("Connection", "keep-alive, X-Hemlig")
        .header("X-Hemlig", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let h = &seen["headers"];
    assert_eq!(seen["path"], "/inkorg?mapp=1", "prefix removed");
    assert_eq!(h["x-forwarded-prefix"], "/apps/webbmejl");
    assert_eq!(h["remote-user"], ANNA);
    assert_eq!(h["remote-name"], "Anna Andersson");
    assert_eq!(h["remote-groups"], "ovrig-personal");
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    let cookie = h["cookie"].as_str().unwrap_or_default();
    assert!(cookie.contains("appsession=abc"), "{cookie}");
    assert!(
        !cookie.contains("portvakt"),
        "our cookies stay here: {cookie}"
    );
    assert!(
        h.get("x-hemlig").is_none(),
        "hop-by-hop headers stay on their hop"
    );
    assert!(h
        .get("connection")
        .is_none_or(|v| v != "keep-alive, X-Hemlig"));

    // The app's own answer keeps its headers: no portal CSP imposed on it.
    let r = c.get("/apps/webbmejl").await;
    assert_eq!(r.status, 308, "to the folder, so relative links work");

    // Pay slips need a stronger sign-in: the same rule as everywhere.
    let r = c.get("/apps/lonebesked/").await;
    assert_eq!(r.status, 403);
    assert!(r
        .body
        .contains("Kräver inloggning med autentiseringsapp eller passkey."));
    // Another group's service, and opening hours: the same rule as everywhere.
    let r = c.get("/apps/larplattform/").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Tjänsten ingår inte i dina behörigheter."));
    assert_eq!(
        c.get("/apps/arendehantering/").await.status,
        200,
        "Monday 13:00"
    );
    // A slug that is not a published service of this organisation.
    assert_eq!(c.get("/apps/no-such-app/").await.status, 404);
    assert_eq!(c.get("/apps/intranat-x/").await.status, 404);

    // 19:00: case handling has closed (a fresh sign-in; the old one idled out).
    app.clock.set(START + 6 * 3600);
    let late = app.client();
    late.sign_in(ANNA, ANNA_PW).await;
    let r = late.get("/apps/arendehantering/").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Öppen måndag–fredag 07.00–18.00."));
}

#[tokio::test]
async fn a_zone_rule_holds_and_a_spoofed_address_does_not_move_anyone_inside() {
    let app = setup("trusted_proxies = []\n", false).await;
    let mut org = portvakt_server::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.clear();
    let current = app
        .store
        .services_with_groups(&app.org_and_user(ANNA).await.0.id)
        .await
        .unwrap();
    for s in &mut org.services {
        // Keep what setup() published, and restrict the mail app to the
        // administrative network.
        if let Some((published, _)) = current.iter().find(|(p, _)| p.slug == s.slug) {
            s.access = published.access.clone();
        }
        if s.slug.as_str() == "webbmejl" {
            s.access.zones =
                Some([portvakt_core::domain::Slug::parse("administrativa-natet").unwrap()].into());
        }
    }
    portvakt_server::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let r = c
        .http
        .get(app.url("/apps/webbmejl/"))
        .header("X-Forwarded-For", "10.10.1.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Kan bara öppnas från Administrativa nätet."));
}

#[tokio::test]
async fn large_bodies_stream_both_ways() {
    let app = setup("", false).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let upload = vec![b'a'; 30 * MIB];
    let r = c
        .http
        .post(app.url("/apps/webbmejl/count"))
        .header("Content-Type", "application/octet-stream")
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "no CSRF form check or 64 KiB limit for apps"
    );
    assert_eq!(r.text().await.unwrap(), (30 * MIB).to_string());
    let r = c
        .http
        .get(app.url("/apps/webbmejl/big"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut n = 0;
    let mut s = r.bytes_stream();
    while let Some(chunk) = s.next().await {
        n += chunk.unwrap().len();
    }
    assert_eq!(n, 20 * MIB);
}

#[tokio::test]
async fn websocket_upgrades_are_tunnelled() {
    let app = setup("", false).await;
    let c = app.client();
    let session = session_cookie(&c.sign_in(ANNA, ANNA_PW).await);
    let addr: SocketAddr = app.addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "GET /apps/intranat/ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: {session}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&head));
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    for msg in ["hej", "från", "Portvakt"] {
        s.write_all(msg.as_bytes()).await.unwrap();
        let n = s.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], msg.as_bytes());
    }
}

#[tokio::test]
async fn an_app_that_is_down_gets_a_clear_page() {
    let app = setup("", false).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let r = c.get("/apps/vab/").await;
    assert_eq!(r.status, 502);
    assert!(
        r.body.contains("Tjänsten svarar inte just nu"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn an_app_is_published_at_its_own_host_name() {
    let app = setup("", true).await;

    // Host-based: the same app at its own name, with the shared cookie.
    let portvakt = app.addr;
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&format!("portal.{DOMAIN}"), portvakt)
        .resolve(&format!("app.{DOMAIN}"), portvakt)
        .build()
        .unwrap();
    let app_url = format!("http://app.{DOMAIN}:{}/start", portvakt.port());
    let r = b.get(&app_url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let login = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        login.starts_with(&format!("http://portal.{DOMAIN}/login?rd=")),
        "{login}"
    );
    let portal = format!("http://portal.{DOMAIN}:{}", portvakt.port());
    let page = b
        .get(format!("{portal}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(format!("{portal}/login"))
        .form(&[
            ("csrf", csrf_from(&page).as_str()),
            ("username", ANNA),
            ("password", ANNA_PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = b.get(&app_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let seen: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(seen["path"], "/start");
    assert_eq!(seen["headers"]["remote-user"], ANNA);
    assert_eq!(
        seen["headers"]["x-forwarded-host"],
        format!("app.{DOMAIN}:{}", portvakt.port())
    );
}
