//! Publishing by path on the apps origin (issue 10 H2, SECURITY.md B1, B6).
//!
//! The portal's session cookie never goes to the apps origin (it is
//! host-only), so the browser is handed over, OAuth-style:
//! 1. `<apps>/apps/<slug>/…` without a (live) link: the apps origin sets
//!    a random `state` cookie and sends the browser to the portal's
//!    `/.portvakt/hand-over?state=…&to=/apps/<slug>/…`;
//! 2. the portal, signed in (else after signing in), mints a one-time
//!    ticket (256 random bits, stored hashed, ≤ 60 s, bound to the session
//!    and to that state) and sends the browser to
//!    `<apps>/.portvakt/enter?ticket=…&to=…`;
//! 3. the apps origin exchanges the ticket, once and only with the same
//!    state cookie, for a session link, and sets its own host-only cookie
//!    with the link's token.
//!
//! Every request there checks the portal session behind the link, so
//! signing out, "end all sessions" and idle time end app access too, and
//! activity on either side keeps the one session alive. The state binding
//! stops login CSRF: a ticket minted for an attacker's session does not
//! work in a victim's browser. `/apps/…` on the portal's host only
//! redirects to the apps origin. Tickets never reach a log.

use super::{forward, path_target, refuse, to_portal_sign_in, Target};
use crate::app::config::Config;
use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::session::{hash_token, SessionToken};
use portvakt_core::handoff::{AppsTicket, TICKET_SECS};

/// Where the apps origin takes a ticket.
pub const ENTER: &str = "/.portvakt/enter";
/// Where the portal mints one.
pub const HAND_OVER: &str = "/.portvakt/hand-over";
/// How long the apps origin waits for a hand-over (a sign-in may come first).
const STATE_SECS: i64 = 600;

/// The apps origin's host name, lower case.
#[must_use]
pub fn apps_host(config: &Config) -> Option<String> {
    let origin = config.proxy.apps_origin()?;
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    let name = rest.rsplit_once(':').map_or(rest, |(n, _)| n);
    Some(name.to_ascii_lowercase())
}

/// A portal tile's address for a service published by path (a local
/// `/apps/<slug>/…` or one on any origin): the same place on the apps
/// origin, so opening it never runs the app on the portal's origin.
#[must_use]
pub fn app_url(config: &Config, slug: &str, url: &str) -> Option<String> {
    let origin = config.proxy.apps_origin()?;
    let at = url.find(&format!("{}{slug}", super::PREFIX))?;
    let before = &url[..at];
    let is_origin = before.is_empty()
        || before
            .split_once("://")
            .is_some_and(|(_, host)| !host.is_empty() && !host.contains('/'));
    is_origin.then(|| format!("{origin}{}", &url[at..]))
}

/// `/apps/…` on the portal's own host: never proxied, only sent on to the
/// same place on the apps origin (old links and bookmarks keep working).
pub fn from_portal(state: &AppState, req: &Request, t: &Target) -> Response {
    let Some(origin) = state.config.proxy.apps_origin() else {
        // Publishing by path is off until an apps origin is configured.
        return AppError::NotFound.into_response();
    };
    if let Some(refused) = refuse(req, t) {
        return refused;
    }
    Redirect::to(&format!("{origin}{}{}", t.prefix, t.path_and_query)).into_response()
}

/// The query of a hand-over or enter request: each key once, none other.
fn query_pair(query: &str, a: &str, b: &str) -> Option<(String, String)> {
    let (mut x, mut y) = (None, None);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        // A repeated parameter is a crafted URL, not a browser following ours.
        match k.as_ref() {
            k if k == a && x.is_none() => x = Some(v.into_owned()),
            k if k == b && y.is_none() => y = Some(v.into_owned()),
            _ => return None,
        }
    }
    x.zip(y)
}

/// Step 2, on the portal: a ticket for this session and that state.
pub async fn hand_over(
    state: &AppState,
    is_get: bool,
    query: &str,
    session: Option<String>,
) -> Response {
    let Some(origin) = state.config.proxy.apps_origin() else {
        return AppError::NotFound.into_response();
    };
    if !is_get {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some((browser, to)) = query_pair(query, "state", "to") else {
        return AppError::BadRequest.into_response();
    };
    // Only a state the apps origin made (256 bits, base64url) is worth a ticket.
    if browser.len() != 43 {
        return AppError::BadRequest.into_response();
    }
    let Some(to) = checked_to(&to) else {
        return AppError::BadRequest.into_response();
    };
    let active = match &session {
        Some(v) => {
            state
                .verify
                .session(&state.auth, &SessionToken::from_cookie(v))
                .await
        }
        None => Ok(None),
    };
    let active = match active {
        Ok(Some(a)) => a,
        // Back to the app's address on the portal after signing in, which
        // starts the hand-over again with a fresh state.
        Ok(None) => return to_portal_sign_in(state, to),
        Err(e) => return AppError::from(e).into_response(),
    };
    let ticket = SessionToken::generate();
    let now = state.clock.now();
    let stored = AppsTicket {
        ticket_hash: ticket.hash(),
        session_hash: active.session.token_hash.clone(),
        state_hash: hash_token(&browser),
        organisation_id: active.user.organisation_id.clone(),
        expires_at: now + TICKET_SECS,
    };
    if let Err(e) = state.store.create_apps_ticket(&stored, now).await {
        return AppError::from(e).into_response();
    }
    let to: String = form_urlencoded::byte_serialize(to.as_bytes()).collect();
    let mut r = Redirect::to(&format!(
        "{origin}{ENTER}?ticket={}&to={to}",
        ticket.as_str()
    ))
    .into_response();
    private(&mut r);
    r
}

/// No caching, and the ticket never travels on as a `Referer`.
fn private(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// Everything on the apps origin: the ticket exchange and the apps. None
/// of the portal's pages or endpoints exist here.
pub async fn apps_origin(state: AppState, req: Request) -> Response {
    if req.uri().path() == ENTER {
        let query = req.uri().query().unwrap_or_default().to_owned();
        let browser = cookies::read(req.headers(), state.cookies.apps_state);
        return enter(&state, req.method() == Method::GET, &query, browser).await;
    }
    let Some(t) = path_target(&req) else {
        return AppError::NotFound.into_response();
    };
    if let Some(refused) = refuse(&req, &t) {
        return refused;
    }
    let link = cookies::read(req.headers(), state.cookies.apps).map(|v| hash_token(&v));
    let active = match link {
        Some(h) => linked_session(&state, &h).await,
        None => Ok(None),
    };
    match active {
        Ok(Some(a)) => forward::forward(state, req, t, a)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Ok(None) => back_to_portal(&state, &t),
        Err(e) => e.into_response(),
    }
}

async fn linked_session(
    state: &AppState,
    link_hash: &str,
) -> Result<Option<std::sync::Arc<crate::gateway::verify_cache::ActiveSession>>, AppError> {
    let now = state.clock.now();
    let Some(link) = state.verify.link(&*state.store, link_hash, now).await? else {
        return Ok(None);
    };
    let active = state
        .verify
        .session_by_hash(&state.auth, &link.session_hash)
        .await?;
    Ok(active.filter(|a| a.user.organisation_id == link.organisation_id))
}

/// Step 1: not let in here yet (or any more). The portal decides, and
/// hands over again while the session there is good.
fn back_to_portal(state: &AppState, t: &Target) -> Response {
    let Some(portal) = state.config.portal_url() else {
        return AppError::NotFound.into_response();
    };
    let to = format!("{}{}", t.prefix, t.path_and_query);
    let Some(to) = checked_to(&to) else {
        return AppError::BadRequest.into_response();
    };
    let browser = SessionToken::generate();
    let to: String = form_urlencoded::byte_serialize(to.as_bytes()).collect();
    let r = Redirect::to(&format!(
        "{portal}{HAND_OVER}?state={}&to={to}",
        browser.as_str()
    ))
    .into_response();
    let c = cookies::build(
        &state.cookies,
        state.cookies.apps_state,
        browser.as_str(),
        // Lax: it must come back with the redirect from the portal.
        SameSite::Lax,
        Some(STATE_SECS),
    );
    crate::http::extract::with_cookie(r, c)
}

/// Only a path under `/apps/` on this origin: no open redirect (SECURITY.md E3).
fn checked_to(to: &str) -> Option<&str> {
    let ok = to.starts_with(super::PREFIX)
        && crate::http::return_to::local_path(to) == to
        && to
            .split('?')
            .next()
            .and_then(|p| p.strip_prefix("/apps"))
            .is_some_and(portvakt_core::app_path::stays_inside);
    ok.then_some(to)
}

/// Step 3: the ticket, from the browser that asked for it, for a link.
///
/// Any ticket that arrives is used up, whatever else is wrong with the
/// request (another browser's state, no state, a bad `to`), and a failure
/// answers with a redirect to an address without it: an app's script that
/// led the browser here in a frame and reads the frame's address finds no
/// ticket, and one it found could not be redeemed elsewhere (issue 10 H2).
async fn enter(state: &AppState, is_get: bool, query: &str, browser: Option<String>) -> Response {
    if !is_get {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let tickets: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .collect();
    if tickets.is_empty() {
        let mut r = AppError::BadRequest.into_response();
        private(&mut r);
        return r;
    }
    let now = state.clock.now();
    let until = now + state.config.session.absolute_hours * 3600;
    let wanted = query_pair(query, "ticket", "to")
        .and_then(|(t, to)| checked_to(&to).map(|to| (t, to.to_owned())));
    let browser = match (&wanted, browser) {
        (Some(_), Some(b)) => hash_token(&b),
        // Never a stored state: the exchange below only burns the ticket.
        _ => String::new(),
    };
    let link = SessionToken::generate();
    let mut linked = false;
    for ticket in &tickets {
        match state
            .store
            .exchange_apps_ticket(&hash_token(ticket), &browser, &link.hash(), now, until)
            .await
        {
            Ok(Some(_)) => linked = wanted.is_some() && tickets.len() == 1,
            Ok(None) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let mut r = match wanted {
        Some((_, to)) if linked => {
            let c = cookies::build(
                &state.cookies,
                state.cookies.apps,
                link.as_str(),
                // Lax: the first request arrives by a redirect from the portal.
                SameSite::Lax,
                None,
            );
            let done = cookies::build(
                &state.cookies,
                state.cookies.apps_state,
                "",
                SameSite::Lax,
                Some(0),
            );
            let r = crate::http::extract::with_cookie(Redirect::to(&to).into_response(), c);
            let mut r = crate::http::extract::with_cookie(r, done);
            // Whatever an earlier person's apps left in this browser on the
            // shared apps origin (storage, service workers, cache) goes
            // with a new link.
            r.headers_mut().insert(
                HeaderName::from_static("clear-site-data"),
                HeaderValue::from_static("\"cache\", \"storage\""),
            );
            r
        }
        _ => {
            tracing::info!("apps origin: a used, expired, unknown or another browser's ticket");
            Redirect::to("/.portvakt/enter").into_response()
        }
    };
    private(&mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_for_apps_published_by_path_point_at_the_apps_origin() {
        let c = Config::from_toml(
            "database_url = \"x\"\n[proxy]\napps_origin = \"https://apps.k.se/\"\n\
             portal_url = \"https://portal.k.se\"",
            std::iter::empty(),
            "t",
        )
        .unwrap();
        let at = |url| app_url(&c, "lon", url);
        assert_eq!(
            at("https://portal.k.se/apps/lon/").as_deref(),
            Some("https://apps.k.se/apps/lon/")
        );
        assert_eq!(
            at("/apps/lon/x?y").as_deref(),
            Some("https://apps.k.se/apps/lon/x?y")
        );
        assert_eq!(at("https://lon.k.se/"), None);
        assert_eq!(at("https://k.se/docs/apps/lon/"), None);
    }

    #[test]
    fn only_app_paths_on_this_origin_are_places_to_go() {
        for ok in ["/apps/lon/", "/apps/lon/a?b=c"] {
            assert_eq!(checked_to(ok), Some(ok));
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/apps/x/",
            "/admin/users",
            "/apps/../admin",
            "/apps/x/%2e%2e/%2e%2e/admin",
            "/apps/x/\r\nSet-Cookie: a=b",
            "javascript:alert(1)",
        ] {
            assert_eq!(checked_to(bad), None, "{bad}");
        }
    }
}
