//! The proxy tests' world: an app that echoes what it got, one that
//! switches protocols, the test server with both published, and a browser
//! that moves between the portal and the apps origin.
use crate::helpers::*;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use futures_util::StreamExt;
use reqwest::cookie::CookieStore;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const DOMAIN: &str = "exempelkommun.test";
/// The portal and the apps origin: two hosts on the one test server.
pub const PORTAL: &str = "http://portal.localhost";
pub const APPS: &str = "http://apps.localhost";
pub const MIB: usize = 1024 * 1024;

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
                    "=portvakt=nameless; Path=/",
                    "appsession=1; Path=/",
                ] {
                    h.append("set-cookie", c.parse().unwrap());
                }
                // Signing the person out of the portal, and a service
                // worker for the whole shared apps origin.
                h.append("clear-site-data", "\"cookies\"".parse().unwrap());
                h.append("service-worker-allowed", "/".parse().unwrap());
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
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
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
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
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

/// Opens a WebSocket-style tunnel to the intranet app on the apps origin;
/// answers the stream after the 101 and the response head.
pub async fn open_tunnel(app: &TestApp, b: &Browser) -> (tokio::net::TcpStream, String) {
    open_tunnel_from(app, b, "http://apps.localhost").await
}

/// As [`open_tunnel`], with the page's `Origin` as a browser sends it.
pub async fn open_tunnel_from(
    app: &TestApp,
    b: &Browser,
    origin: &str,
) -> (tokio::net::TcpStream, String) {
    let r = b.get(&format!("{PORTAL}/apps/arendehantering/")).await;
    assert_eq!(r.status(), 200);
    let apps = b.cookie(APPS, "portvakt-apps").unwrap();
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        format!(
            "GET /apps/intranat/ws HTTP/1.1\r\nHost: apps.localhost\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\nCookie: {apps}\r\n\r\n"
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

/// Anna signed in at the portal with `arendehantering` opened once (200),
/// so the apps origin has given her browser its link cookie, returned as
/// `portvakt-apps=…`.
pub async fn anna_at_the_app(app: &TestApp) -> (Browser, String) {
    let b = Browser::new(app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(
        b.get(&format!("{PORTAL}/apps/arendehantering/"))
            .await
            .status(),
        200
    );
    let apps = b.cookie(APPS, "portvakt-apps").unwrap();
    (b, apps)
}
