//! Issue 10 H2: apps never on the portal's origin (SECURITY.md B1, B6),
//! the ticket that hands a session to the apps origin (G3, E3), one
//! session for both; against a real upstream that misbehaves on purpose.
use crate::helpers::*;
use crate::proxy_helpers::{anna_at_the_app, setup, Browser, APPS, PORTAL};

/// The `…/.portvakt/enter?ticket=…&to=…` a signed-in portal hands out to
/// `b` for `path` on the apps origin, and the state cookie it is bound to.
async fn enter_url(b: &Browser, path: &str) -> (String, String) {
    let r = b.get(&format!("{APPS}{path}")).await;
    assert_eq!(r.status(), 303);
    let hand_over = r.headers()["location"].to_str().unwrap().to_owned();
    let state = b.cookie(APPS, "portvakt-apps-state").unwrap();
    assert!(hand_over.contains(state.split('=').nth(1).unwrap()));
    let r = b.get(&hand_over).await;
    assert_eq!(r.status(), 303, "{hand_over}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    (r.headers()["location"].to_str().unwrap().to_owned(), state)
}

/// Redeems an enter URL with exactly this `Cookie` (none if empty).
async fn redeem(app: &TestApp, to: &str, cookie: &str) -> reqwest::Response {
    let c = Browser::plain(app);
    let mut r = c.get(to);
    if !cookie.is_empty() {
        r = r.header("Cookie", cookie);
    }
    r.send().await.unwrap()
}

/// A refused ticket: used up, and the answer sends the browser to an
/// address without it (issue 10 H2: an app's script reading a frame's
/// address must find nothing), setting no link.
fn refused(r: &reqwest::Response) -> bool {
    r.status() == 303
        && r.headers()["location"] == "/.portvakt/enter"
        && !r
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("portvakt-apps="))
}

/// A signed-in browser that does not follow redirects.
async fn signed_in(app: &TestApp) -> Browser {
    let b = Browser::new(app, false);
    assert_eq!(b.sign_in(ANNA, ANNA_PW).await.status(), 303);
    b
}

#[tokio::test]
async fn apps_are_never_served_on_the_portals_origin_h2_b1() {
    let app = setup("", false).await;
    let b = signed_in(&app).await;
    let r = b.get(&format!("{PORTAL}/apps/arendehantering/x?y=1")).await;
    assert_eq!(
        r.headers()["location"],
        format!("{APPS}/apps/arendehantering/x?y=1").as_str(),
        "never proxied on the portal's origin"
    );
    let (to, _) = enter_url(&b, "/apps/arendehantering/x?y=1").await;
    assert!(
        to.starts_with(&format!("{APPS}/.portvakt/enter?ticket=")),
        "handed over to the apps origin: {to}"
    );
    assert!(
        to.ends_with("&to=%2Fapps%2Farendehantering%2Fx%3Fy%3D1"),
        "{to}"
    );
    let ticket = to
        .split("ticket=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_eq!(ticket.len(), 43, "256 random bits");

    // The apps origin serves nothing of the portal: no page, form or endpoint.
    let c = Browser::new(&app, false);
    for path in [
        "/",
        "/login",
        "/admin/users",
        "/settings",
        "/auth/verify",
        "/static/app.css",
    ] {
        let r = c.get(&format!("{APPS}{path}")).await;
        assert_eq!(r.status(), 404, "{path} on the apps origin");
    }
    // The portal's tiles point at the apps origin.
    let portal = b.get(&format!("{PORTAL}/")).await.text().await.unwrap();
    assert!(
        portal.contains(&format!("href=\"{APPS}/apps/arendehantering/\"")),
        "tiles link to the apps origin"
    );
    assert!(
        !portal.contains(&format!("{PORTAL}/apps/")),
        "no tile on the portal's origin"
    );
}

#[tokio::test]
async fn without_an_apps_origin_publishing_by_path_is_off_h2() {
    let app = spawn_with("").await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(c.get("/apps/webbmejl/").await.status, 404);
}

#[tokio::test]
async fn an_apps_set_cookie_for_our_names_never_reaches_the_browser_b1_b6() {
    // By path on the apps origin, and at the app's own host (shared cookie).
    let domain = "exempelkommun.test";
    for (shared, portal, url) in [
        (
            false,
            PORTAL.to_owned(),
            format!("{APPS}/apps/arendehantering/set-cookies"),
        ),
        (
            true,
            format!("http://portal.{domain}"),
            format!("http://app.{domain}/set-cookies"),
        ),
    ] {
        let app = setup("", shared).await;
        let b = Browser::new(&app, true);
        b.sign_in_at(&portal, ANNA, ANNA_PW).await;
        let r = b.get(&url.replace("/set-cookies", "/")).await;
        assert_eq!(r.status(), 200, "{url}");
        let r = b.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(
            r.headers()["content-security-policy"],
            "frame-ancestors 'self'",
            "no other site may frame an app"
        );
        let set: Vec<&str> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(set, vec!["appsession=1; Path=/"], "{url}");
        assert!(r.headers().get("clear-site-data").is_none(), "{url}");
        assert!(r.headers().get("service-worker-allowed").is_none(), "{url}");
    }
}

#[tokio::test]
async fn a_ticket_is_single_use_short_lived_bound_to_its_browser_and_goes_only_to_app_paths_h2_g3_e3(
) {
    let app = setup("", false).await;
    let b = signed_in(&app).await;

    // Once: the second use of the same ticket is refused.
    let (to, state) = enter_url(&b, "/apps/arendehantering/").await;
    let r = redeem(&app, &to, &state).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/apps/arendehantering/");
    let set: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let link = set
        .iter()
        .find(|c| c.starts_with("portvakt-apps="))
        .unwrap();
    assert!(
        link.contains("HttpOnly") && link.contains("SameSite=Lax"),
        "{link}"
    );
    assert!(
        set.iter()
            .any(|c| c.starts_with("portvakt-apps-state=;") && c.contains("Max-Age=0")),
        "the state is spent: {set:?}"
    );
    assert!(refused(&redeem(&app, &to, &state).await), "used once");
    let r = redeem(&app, &format!("{APPS}/.portvakt/enter"), "").await;
    assert_eq!(
        r.status(),
        400,
        "where a refused ticket ends: no ticket in it"
    );
    let link = link.split(';').next().unwrap();
    let r = Browser::plain(&app)
        .get(format!("{APPS}/apps/arendehantering/"))
        .header("Cookie", link)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the link lets this browser in");

    // Login CSRF: a ticket works only in the browser that asked for it.
    let (to, _) = enter_url(&b, "/apps/arendehantering/").await;
    let victim = Browser::new(&app, false);
    victim.get(&format!("{APPS}/apps/arendehantering/")).await;
    let own = victim.cookie(APPS, "portvakt-apps-state").unwrap();
    assert!(
        refused(&redeem(&app, &to, &own).await),
        "another browser's state"
    );
    let (_, state) = (to.clone(), b.cookie(APPS, "portvakt-apps-state").unwrap());
    assert!(
        refused(&redeem(&app, &to, &state).await),
        "a ticket tried with the wrong state is used up: one that leaked is worth nothing"
    );
    let (to, _) = enter_url(&b, "/apps/arendehantering/").await;
    assert!(refused(&redeem(&app, &to, "").await), "no state");

    // 50 at once: one wins (SECURITY.md G3).
    let (to, state) = enter_url(&b, "/apps/arendehantering/").await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (c, to, state) = (Browser::plain(&app), to.clone(), state.clone());
        tasks.push(tokio::spawn(async move {
            let r = c.get(&to).header("Cookie", state).send().await.unwrap();
            !refused(&r) && r.status() == 303
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one of 50 redemptions");

    // Within a minute only.
    let (to, state) = enter_url(&b, "/apps/arendehantering/").await;
    app.clock.set(START + 61);
    assert!(refused(&redeem(&app, &to, &state).await));
    app.clock.set(START);

    // Only to an app's path on the apps origin (E3); a ticket sent with a
    // refused target is used up like any other refused ticket.
    let (to, state) = enter_url(&b, "/apps/arendehantering/").await;
    let ticket = to
        .split("ticket=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    for bad in [
        "//evil.example/",
        "/%5Cevil.example",
        "https://evil.example/apps/x/",
        "/admin/users",
        "/apps/x/%2e%2e/%2e%2e/admin",
        "/apps/x/%0d%0aSet-Cookie:%20a=b",
    ] {
        let r = redeem(
            &app,
            &format!("{APPS}/.portvakt/enter?ticket={ticket}&to={bad}"),
            &state,
        )
        .await;
        assert!(refused(&r), "{bad}");
    }
    let dup = format!("{APPS}/.portvakt/enter?ticket={ticket}&to=/apps/x/&to=//evil.example");
    assert!(refused(&redeem(&app, &dup, &state).await));
    let (to, state) = enter_url(&b, "/apps/arendehantering/").await;
    // A ticket is worth nothing on the portal's origin.
    let on_portal = to.replace(APPS, PORTAL);
    assert_eq!(redeem(&app, &on_portal, &state).await.status(), 404);
    assert_eq!(redeem(&app, &to, &state).await.status(), 303);
    // Nor does the portal hand over to a place outside the apps, or for a
    // state the apps origin did not make.
    let s43 = "s".repeat(43);
    for bad in ["//evil.example/", "/admin/users", "/apps/x/../../admin"] {
        let r = b
            .get(&format!(
                "{PORTAL}/.portvakt/hand-over?state={s43}&to={bad}"
            ))
            .await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let r = b
        .get(&format!("{PORTAL}/.portvakt/hand-over?state=s&to=/apps/x/"))
        .await;
    assert_eq!(r.status(), 400, "a short state");
}

#[tokio::test]
async fn signing_out_at_the_portal_ends_app_access_b1() {
    let app = setup("", false).await;
    let (b, _) = anna_at_the_app(&app).await;
    let page = b.get(&format!("{PORTAL}/")).await.text().await.unwrap();
    b.http
        .post(format!("{PORTAL}/logout"))
        .form(&[("csrf", csrf_from(&page))])
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let stay = Browser::new(&app, false);
    let apps = b.cookie(APPS, "portvakt-apps").unwrap();
    let r = stay
        .http
        .get(format!("{APPS}/apps/arendehantering/"))
        .header("Cookie", apps)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the link died with its session");
    let to = r.headers()["location"].to_str().unwrap();
    assert!(
        to.starts_with(&format!("{PORTAL}/.portvakt/hand-over?state=")),
        "{to}"
    );
}

#[tokio::test]
async fn the_portal_and_the_apps_origin_share_one_idle_clock_b2() {
    let app = setup("", false).await;
    let b = Browser::new(&app, true);
    b.sign_in(ANNA, ANNA_PW).await;
    let open = format!("{APPS}/apps/arendehantering/");
    assert_eq!(b.get(&open).await.status(), 200);
    let cache = std::time::Duration::from_millis(1100);

    // Ten minutes of work in the app alone keep the portal session alive …
    app.clock.set(START + 10 * 60);
    tokio::time::sleep(cache).await;
    assert_eq!(b.get(&open).await.url().as_str(), open);
    app.clock.set(START + 20 * 60);
    tokio::time::sleep(cache).await;
    let portal = b.get(&format!("{PORTAL}/")).await;
    assert!(
        portal.text().await.unwrap().contains("Mina tjänster"),
        "still signed in at the portal after 20 minutes"
    );

    // … and idle time ends both (15 minutes by default).
    app.clock.set(START + 36 * 60);
    tokio::time::sleep(cache).await;
    let r = Browser::plain(&app)
        .get(&open)
        .header("Cookie", b.cookie(APPS, "portvakt-apps").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "the app is closed once the session idled out"
    );
}
