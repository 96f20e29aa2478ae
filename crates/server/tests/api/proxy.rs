//! The built-in reverse proxy (issue 4): the same access decision, the
//! identity headers, Portvakt's cookies and hop-by-hop headers kept back,
//! streamed bodies, an upgraded (WebSocket) connection, and a clear page
//! when the app is down. Apps published by path are reached on the apps
//! origin (`apps.localhost`), never on the portal's (issue 10 H2).
use crate::helpers::*;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use futures_util::StreamExt;
use reqwest::cookie::CookieStore;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOMAIN: &str = "exempelkommun.test";
/// The portal and the apps origin: two hosts on the one test server.
pub const PORTAL: &str = "http://portal.localhost";
pub const APPS: &str = "http://apps.localhost";
const MIB: usize = 1024 * 1024;

/// The app behind the proxy: echoes what it got, counts uploaded bytes,
/// and streams large downloads.
pub async fn upstream() -> u16 {
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
            "/set-cookies",
            get(|| async {
                // An app that tries to sign the browser in as someone else,
                // fix the CSRF token, or replace the apps origin's link.
                let mut h = HeaderMap::new();
                for c in [
                    "portvakt=from-the-app; Path=/",
                    "portvakt-csrf=from-the-app; Path=/",
                    "__Host-portvakt-csrf=from-the-app; Path=/; Secure",
                    "__Secure-portvakt=from-the-app; Path=/; Secure",
                    "Portvakt-Apps=from-the-app; Path=/",
                    "appsession=1; Path=/",
                ] {
                    h.append("set-cookie", c.parse().unwrap());
                }
                (h, "ok")
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
            // Repeated headers are joined with " | ", so none hides another.
            let mut map = serde_json::Map::new();
            for k in headers.keys() {
                let all: Vec<String> = headers
                    .get_all(k)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                map.insert(k.as_str().to_owned(), all.join(" | ").into());
            }
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
pub async fn upgrade_echo() -> u16 {
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
                    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                      Set-Cookie: portvakt=from-the-app; Path=/\r\nSet-Cookie: ws=1\r\n\r\n",
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
/// (host-based publishing).
pub async fn setup(extra: &str, shared_cookie: bool) -> TestApp {
    let up = upstream().await;
    let ws = upgrade_echo().await;
    let cookie_domain = if shared_cookie {
        format!("cookie_domain = \"{DOMAIN}\"\n")
    } else {
        String::new()
    };
    let app = spawn_with(&format!(
        "{extra}[forward_auth]\nportal_url = \"http://portal.{DOMAIN}\"\n\
         domains = [\"{DOMAIN}\"]\n{cookie_domain}allow_http = true\n\
         [proxy]\napps_origin = \"{APPS}\"\nportal_url = \"{PORTAL}\"\n"
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
            "larplattform" => format!("http://127.0.0.1:{up}"),
            "arendehantering" => {
                // Its tile, as the docs suggest, names its place under /apps/.
                s.url = format!("{PORTAL}/apps/arendehantering/");
                format!("http://127.0.0.1:{up}")
            }
            _ => continue,
        };
        s.access.upstream = Some(upstream);
    }
    portvakt_server::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    app
}

/// A browser on the portal and the apps origin (both on the test server):
/// keeps cookies per host and, if `follow`, follows redirects across them.
pub struct Browser {
    pub http: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Browser {
    /// A client that keeps no cookies and follows no redirect.
    pub fn plain(app: &TestApp) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve("portal.localhost", app.addr)
            .resolve("apps.localhost", app.addr)
            .build()
            .unwrap()
    }

    pub fn new(app: &TestApp, follow: bool) -> Self {
        Self::with_headers(app, follow, reqwest::header::HeaderMap::new())
    }

    pub fn with_headers(app: &TestApp, follow: bool, h: reqwest::header::HeaderMap) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let policy = if follow {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        };
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(policy)
            .default_headers(h)
            .resolve("portal.localhost", app.addr)
            .resolve("apps.localhost", app.addr)
            .resolve(&format!("app.{DOMAIN}"), app.addr)
            .resolve(&format!("portal.{DOMAIN}"), app.addr)
            .build()
            .unwrap();
        Self { http, jar }
    }

    /// Signs in at the portal; answers the sign-in's redirect target.
    pub async fn sign_in(&self, user: &str, pw: &str) -> reqwest::Response {
        self.sign_in_at(PORTAL, user, pw).await
    }

    pub async fn sign_in_at(&self, portal: &str, user: &str, pw: &str) -> reqwest::Response {
        let page = self
            .http
            .get(format!("{portal}/login"))
            .send()
            .await
            .unwrap();
        let page = page.text().await.unwrap();
        self.http
            .post(format!("{portal}/login"))
            .form(&[
                ("csrf", csrf_from(&page).as_str()),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// `name=value` of a cookie the browser holds for `origin`.
    pub fn cookie(&self, origin: &str, name: &str) -> Option<String> {
        let all = self.jar.cookies(&origin.parse().unwrap())?;
        all.to_str()
            .unwrap()
            .split("; ")
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// What the echoing upstream saw.
pub async fn seen(r: reqwest::Response) -> serde_json::Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// One raw HTTP/1.1 exchange (reqwest would normalise what is tested),
/// answering the response head and as much body as arrived with it.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn published_apps_get_who_and_never_our_cookies_or_spoofed_headers() {
    // No trusted proxies: a client's own X-Forwarded-For counts for nothing.
    let app = setup("trusted_proxies = []\n", false).await;
    let b = Browser::new(&app, false);
    let r = b
        .get(&format!("{PORTAL}/apps/webbmejl/inkorg?mapp=1"))
        .await;
    assert_eq!(
        r.headers()["location"],
        format!("{APPS}/apps/webbmejl/inkorg?mapp=1").as_str(),
        "the portal's origin only sends on to the apps origin"
    );
    let r = b.get(&format!("{APPS}/apps/webbmejl/inkorg?mapp=1")).await;
    assert_eq!(r.status(), 303, "the apps origin asks the portal");
    let hand_over = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        hand_over.starts_with(&format!("{PORTAL}/.portvakt/hand-over?state=")),
        "{hand_over}"
    );
    let r = b.get(&hand_over).await;
    assert_eq!(r.headers()["location"], "/login", "to sign-in first");
    let r = b.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(
        r.headers()["location"],
        "/apps/webbmejl/inkorg?mapp=1",
        "and back afterwards"
    );
    let follow = Browser::new(&app, true);
    follow.sign_in(ANNA, ANNA_PW).await;
    let session = follow.cookie(PORTAL, "portvakt").unwrap();
    let r = follow
        .get(&format!("{PORTAL}/apps/webbmejl/inkorg?mapp=1"))
        .await;
    assert_eq!(
        r.url().as_str(),
        format!("{APPS}/apps/webbmejl/inkorg?mapp=1")
    );
    let apps = follow.cookie(APPS, "portvakt-apps").unwrap();
    let r = follow
        .http
        .get(format!("{APPS}/apps/webbmejl/inkorg?mapp=1"))
        .header("Remote-User", SARA)
        .header("X-Forwarded-For", "10.10.1.1")
        .header(
            "Cookie",
            format!("{apps}; {session}; portvakt-csrf=x; appsession=abc"),
        )
        .header("Connection", "keep-alive, X-Hemlig")
        .header("X-Hemlig", "1")
        .send()
        .await
        .unwrap();
    let seen = seen(r).await;
    let h = &seen["headers"];
    assert_eq!(seen["path"], "/inkorg?mapp=1", "prefix removed");
    assert_eq!(h["x-forwarded-prefix"], "/apps/webbmejl");
    assert_eq!(h["x-forwarded-host"], "apps.localhost");
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
        !cookie.contains(apps.split('=').nth(1).unwrap()),
        "{cookie}"
    );
    assert!(
        h.get("x-hemlig").is_none(),
        "hop-by-hop headers stay on their hop"
    );
    assert!(h
        .get("connection")
        .is_none_or(|v| v != "keep-alive, X-Hemlig"));

    let r = follow
        .http
        .get(format!("{APPS}/apps/webbmejl"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.url().as_str(),
        format!("{APPS}/apps/webbmejl/"),
        "to the folder, so relative links work"
    );

    // Pay slips need a stronger sign-in: the same rule as everywhere.
    let r = follow.get(&format!("{APPS}/apps/lonebesked/")).await;
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Kräver inloggning med autentiseringsapp eller passkey."));
    // Another group's service, and opening hours: the same rule as everywhere.
    let r = follow.get(&format!("{APPS}/apps/larplattform/")).await;
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Tjänsten ingår inte i dina behörigheter."));
    assert_eq!(
        follow
            .get(&format!("{APPS}/apps/arendehantering/"))
            .await
            .status(),
        200,
        "Monday 13:00"
    );
    // A slug that is not a published service of this organisation.
    assert_eq!(
        follow
            .get(&format!("{APPS}/apps/no-such-app/"))
            .await
            .status(),
        404
    );
    assert_eq!(
        follow
            .get(&format!("{APPS}/apps/intranat-x/"))
            .await
            .status(),
        404
    );

    // 19:00: case handling has closed (a fresh sign-in; the old one idled out).
    app.clock.set(START + 6 * 3600);
    let late = Browser::new(&app, true);
    late.sign_in(ANNA, ANNA_PW).await;
    let r = late.get(&format!("{PORTAL}/apps/arendehantering/")).await;
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Öppen måndag–fredag 07.00–18.00."));
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
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-forwarded-for", "10.10.1.1".parse().unwrap());
    let b = Browser::with_headers(&app, true, h);
    b.sign_in(ANNA, ANNA_PW).await;
    let r = b.get(&format!("{PORTAL}/apps/webbmejl/")).await;
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
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(
        b.get(&format!("{PORTAL}/apps/webbmejl/")).await.status(),
        200
    );
    let upload = vec![b'a'; 30 * MIB];
    let r = b
        .http
        .post(format!("{APPS}/apps/webbmejl/count"))
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
    let r = b.get(&format!("{APPS}/apps/webbmejl/big")).await;
    assert_eq!(r.status(), 200);
    let mut n = 0;
    let mut s = r.bytes_stream();
    while let Some(chunk) = s.next().await {
        n += chunk.unwrap().len();
    }
    assert_eq!(n, 20 * MIB);
}

/// Opens a WebSocket-style tunnel to the intranet app on the apps origin;
/// answers the stream after the 101 and the response head.
pub async fn open_tunnel(app: &TestApp, b: &Browser) -> (tokio::net::TcpStream, String) {
    let r = b.get(&format!("{PORTAL}/apps/arendehantering/")).await;
    assert_eq!(r.status(), 200);
    let apps = b.cookie(APPS, "portvakt-apps").unwrap();
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        format!(
            "GET /apps/intranat/ws HTTP/1.1\r\nHost: apps.localhost\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: {apps}\r\n\r\n"
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
    (s, String::from_utf8_lossy(&head).into_owned())
}

#[tokio::test]
async fn websocket_upgrades_are_tunnelled_without_our_cookies_b1() {
    let app = setup("", false).await;
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    let (mut s, head) = open_tunnel(&app, &b).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_lowercase().contains("set-cookie: ws=1"), "{head}");
    assert!(
        !head.contains("from-the-app"),
        "no Set-Cookie of ours, even on a 101: {head}"
    );
    let mut buf = vec![0u8; 4096];
    for msg in ["hej", "från", "Portvakt"] {
        s.write_all(msg.as_bytes()).await.unwrap();
        let n = s.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], msg.as_bytes());
    }
}

#[tokio::test]
async fn an_open_websocket_closes_within_a_second_of_its_session_ending_l2_b3() {
    let app = setup("", false).await;
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    let (mut s, head) = open_tunnel(&app, &b).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let mut buf = vec![0u8; 64];
    s.write_all(b"hej").await.unwrap();
    assert_eq!(s.read(&mut buf).await.unwrap(), 3);

    // "End all sessions", as an administrator (or another node) does it.
    let (org, user) = app.org_and_user(ANNA).await;
    app.store
        .revoke_user_sessions(&org.id, &user.id, START)
        .await
        .unwrap();
    let ended = std::time::Instant::now();
    let closed = tokio::time::timeout(std::time::Duration::from_millis(1500), async {
        loop {
            // Writes may still succeed until the close is seen; reads end at 0.
            let _ = s.write_all(b"x").await;
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the tunnel outlived its session");
    assert!(ended.elapsed() <= std::time::Duration::from_millis(1500));
}

#[tokio::test]
async fn an_app_that_is_down_gets_a_clear_page() {
    let app = setup("", false).await;
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    let r = b.get(&format!("{PORTAL}/apps/vab/")).await;
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("Tjänsten svarar inte just nu"), "{body}");
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
