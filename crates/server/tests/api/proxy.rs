//! The built-in reverse proxy (issue 4): the same access decision, the
//! identity headers, Portvakt's cookies and hop-by-hop headers kept back,
//! streamed bodies, an upgraded (WebSocket) connection, and a clear page
//! when the app is down. Apps published by path are reached on the apps
//! origin (`apps.localhost`), never on the portal's (issue 10 H2).
use crate::helpers::*;
use crate::proxy_helpers::*;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
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
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
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

/// Issue 10 review: the apps origin's cookie is SameSite=Lax and sibling
/// hosts are same-site, so a page elsewhere could open a WebSocket as the
/// person (cross-site WebSocket hijacking); only the app's own origin may.
#[tokio::test]
async fn a_websocket_from_another_origin_is_refused_b6() {
    let app = setup("", false).await;
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    for other in ["http://evil.localhost", "http://portal.localhost", "null"] {
        let (_, head) = crate::proxy_helpers::open_tunnel_from(&app, &b, other).await;
        assert!(head.starts_with("HTTP/1.1 403"), "{other}: {head}");
    }
    let (_, head) =
        crate::proxy_helpers::open_tunnel_from(&app, &b, "http://apps.localhost:1234").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
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
        .revoke_user_sessions(&org.id, &user.id, "servicedesk", START)
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

/// Issue 10 L6: an open WebSocket keeps counting toward its client's
/// connection cap after the upgrade, so tunnels cannot be stacked past it;
/// closing them frees the places.
#[tokio::test]
async fn open_websockets_count_toward_the_connection_cap_l6() {
    let app = setup(
        "trusted_proxies = []\n[connections]\nmax_per_ip = 8\n",
        false,
    )
    .await;
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    let (first, head) = open_tunnel(&app, &b).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let apps = b.cookie(APPS, "portvakt-apps").unwrap();
    let mut tunnels = vec![first];
    let mut refused = false;
    for _ in 0..20 {
        let Ok(mut s) = tokio::net::TcpStream::connect(app.addr).await else {
            refused = true;
            break;
        };
        let req = format!(
            "GET /apps/intranat/ws HTTP/1.1\r\nHost: apps.localhost\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://apps.localhost\r\nCookie: {apps}\r\n\r\n"
        );
        let mut buf = vec![0u8; 1024];
        let answered = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            s.write_all(req.as_bytes()).await.ok()?;
            let n = s.read(&mut buf).await.ok()?;
            (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).to_string())
        })
        .await
        .ok()
        .flatten();
        match answered {
            Some(h) if h.starts_with("HTTP/1.1 101") => tunnels.push(s),
            _ => {
                refused = true;
                break;
            }
        }
    }
    assert!(refused, "tunnels were stacked past the cap");
    assert!(tunnels.len() <= 8, "{} tunnels", tunnels.len());
    drop(tunnels);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let r = b.get(&format!("{PORTAL}/login")).await;
        if r.status() == 200 || r.status() == 303 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no place freed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
