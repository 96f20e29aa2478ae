//! Publishing by path on the apps origin (issue 10 H2, SECURITY.md B1, B6).
//!
//! The portal's session cookie never goes to the apps origin (it is
//! host-only), so the browser is handed over: `/apps/<slug>/…` on the
//! portal mints a one-time ticket (256 random bits, stored hashed, ≤ 60 s,
//! bound to the session) and redirects to
//! `<apps origin>/.portvakt/enter?ticket=…&to=/apps/<slug>/…`. The apps
//! origin exchanges the ticket, once, for a session link and sets its own
//! host-only cookie with the link's token. Every request there checks the
//! portal session behind the link, so signing out, "end all sessions" and
//! idle time end app access too, and activity on either side keeps the
//! one session alive. Tickets never reach a log.

use super::{forward, path_target, refuse, to_portal_sign_in, Target};
use crate::config::Config;
use crate::cookies;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::session::{hash_token, SessionToken};
use portvakt_core::handoff::{AppsTicket, TICKET_SECS};

/// Where the apps origin takes a ticket.
pub const ENTER: &str = "/.portvakt/enter";

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

/// `/apps/…` on the portal's own host: never proxied. Signed in, the
/// browser is handed to the apps origin; not signed in, it signs in first.
pub async fn from_portal(state: AppState, req: Request, t: Target) -> Response {
    let Some(origin) = state.config.proxy.apps_origin() else {
        // Publishing by path is off until an apps origin is configured.
        return AppError::NotFound.into_response();
    };
    if let Some(refused) = refuse(&req, &t) {
        return refused;
    }
    let token =
        cookies::read(req.headers(), state.cookies.session).map(|v| SessionToken::from_cookie(&v));
    let active = match &token {
        Some(tok) => state.verify.session(&state.auth, tok).await,
        None => Ok(None),
    };
    let active = match active {
        Ok(Some(a)) => a,
        Ok(None) => return to_portal_sign_in(&state, &t),
        Err(e) => return AppError::from(e).into_response(),
    };
    let ticket = SessionToken::generate();
    let now = state.clock.now();
    let stored = AppsTicket {
        ticket_hash: ticket.hash(),
        session_hash: active.session.token_hash.clone(),
        organisation_id: active.user.organisation_id.clone(),
        expires_at: now + TICKET_SECS,
    };
    if let Err(e) = state.store.create_apps_ticket(&stored, now).await {
        return AppError::from(e).into_response();
    }
    let to = format!("{}{}", t.prefix, t.path_and_query);
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
        return enter(&state, req.method() == Method::GET, &query).await;
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
) -> Result<Option<std::sync::Arc<crate::verify_cache::ActiveSession>>, AppError> {
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

/// Not let in here yet (or any more): the portal decides, and hands over
/// again when the session there is still good.
fn back_to_portal(state: &AppState, t: &Target) -> Response {
    match state.config.portal_url() {
        Some(portal) => {
            Redirect::to(&format!("{portal}{}{}", t.prefix, t.path_and_query)).into_response()
        }
        None => AppError::NotFound.into_response(),
    }
}

/// Only a path under `/apps/` on this origin: no open redirect (SECURITY.md E3).
fn checked_to(to: &str) -> Option<&str> {
    let ok = to.starts_with(super::PREFIX)
        && crate::routes::misc::local_path(to) == to
        && to
            .split('?')
            .next()
            .and_then(|p| p.strip_prefix("/apps"))
            .is_some_and(super::path::stays_inside);
    ok.then_some(to)
}

async fn enter(state: &AppState, is_get: bool, query: &str) -> Response {
    if !is_get {
        return axum::http::StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let mut ticket = None;
    let mut to = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            // A repeated parameter is a crafted URL, not a browser following ours.
            "ticket" if ticket.is_none() => ticket = Some(v.into_owned()),
            "to" if to.is_none() => to = Some(v.into_owned()),
            _ => return AppError::BadRequest.into_response(),
        }
    }
    let (Some(ticket), Some(to)) = (ticket, to) else {
        return AppError::BadRequest.into_response();
    };
    let Some(to) = checked_to(&to) else {
        return AppError::BadRequest.into_response();
    };
    let link = SessionToken::generate();
    let now = state.clock.now();
    let until = now + state.config.session.absolute_hours * 3600;
    let exchanged = state
        .store
        .exchange_apps_ticket(&hash_token(&ticket), &link.hash(), now, until)
        .await;
    let mut r = match exchanged {
        Ok(Some(_)) => {
            let c = cookies::build(
                &state.cookies,
                state.cookies.apps,
                link.as_str(),
                // Lax: the first request arrives by a redirect from the portal.
                SameSite::Lax,
                None,
            );
            crate::extract::with_cookie(Redirect::to(to).into_response(), c)
        }
        Ok(None) => {
            tracing::info!("apps origin: a used, expired or unknown ticket");
            AppError::BadRequest.into_response()
        }
        Err(e) => AppError::from(e).into_response(),
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
