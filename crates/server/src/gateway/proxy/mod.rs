//! The built-in reverse proxy: Portvakt publishes internal web apps itself,
//! either at a host of the app's own (a service with `host`) or by path,
//! `/apps/<service>/…`, on the separate apps origin (`[proxy]
//! apps_origin`). Never on the portal's own origin: there an app's script
//! could read portal pages, take the CSRF token and act as the signed-in
//! user (issue 10 H2), so `/apps/…` on the portal's host only sends the
//! browser on to the apps origin, which lets it in through a hand-over
//! from the portal (see [`handoff`]).
//!
//! Every request passes the same access decision as the portal and
//! `/auth/verify`; bodies stream both ways; WebSocket (and any HTTP/1.1
//! upgrade) is tunnelled until its session ends; the header hygiene is in
//! [`hygiene`], the path check in `portvakt_core::app_path`. An upstream that is down or
//! slow gets a clear page.
//!
//! It runs outside the portal's layers (CSRF, CSP, body limit): those
//! belong to Portvakt's pages, not to the apps behind it.

pub mod config;
mod forward;
pub mod handoff;
pub mod hygiene;
mod tunnel;

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::i18n::Tr;
use crate::http::page::Page;
use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use portvakt_core::auth::session::SessionToken;
use std::time::Duration;

/// Waiting for an upstream's response headers longer than this gives 504.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Where path-based publishing lives on the apps origin.
pub use crate::http::return_to::APPS_PREFIX as PREFIX;

pub type Upstreams = HyperClient<HttpConnector, Body>;

/// One pooled HTTP/1.1 client for every upstream.
#[must_use]
pub fn client() -> Upstreams {
    let mut c = HttpConnector::new();
    c.set_connect_timeout(Some(CONNECT_TIMEOUT));
    c.set_nodelay(true);
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(c)
}

#[derive(Template)]
#[template(path = "upstream_error.html")]
struct UpstreamErrorPage {
    p: Page,
    title: String,
    lead: String,
}

fn upstream_error(t: Tr, status: StatusCode) -> Response {
    let (title, lead) = if status == StatusCode::GATEWAY_TIMEOUT {
        ("proxy.timeout.title", "proxy.timeout.lead")
    } else {
        ("proxy.down.title", "proxy.down.lead")
    };
    let page = UpstreamErrorPage {
        p: Page::bare(t),
        title: t.get(title).to_owned(),
        lead: t.get(lead).to_owned(),
    };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// Which service a request is for, and the path to forward.
pub struct Target {
    /// `/apps/<slug>` for path-based publishing, empty for host-based.
    prefix: String,
    slug: Option<String>,
    host: Option<String>,
    path_and_query: String,
}

/// The request's host name, lower case, without the port.
fn request_host(h: &HeaderMap) -> Option<String> {
    let host = h.get(header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => host,
    };
    Some(name.to_ascii_lowercase())
}

/// `/apps/<slug>/rest?q` split into the service and what the app gets.
fn path_target(req: &Request) -> Option<Target> {
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let rest = pq.strip_prefix(PREFIX)?;
    let (slug, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if slug.is_empty() {
        return None;
    }
    let tail = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    };
    Some(Target {
        prefix: format!("{PREFIX}{slug}"),
        slug: Some(slug.to_owned()),
        host: None,
        path_and_query: tail,
    })
}

/// The outermost layer: requests for published apps go to the proxy,
/// everything else to Portvakt's own pages.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = request_host(req.headers());
    if host.is_some() && host.as_deref() == handoff::apps_host(&state.config).as_deref() {
        // Nothing of the portal is served on the apps origin.
        return handoff::apps_origin(state, req).await;
    }
    if crate::gateway::verify::is_forward_auth(&req) {
        return next.run(req).await;
    }
    if let Err(e) = state.verify.refresh_proxied_hosts(&*state.store).await {
        tracing::error!(error = %e, "reading published hosts");
    }
    if let Some(h) = host.filter(|h| state.verify.is_proxied_host(h)) {
        let t = Target {
            prefix: String::new(),
            slug: None,
            host: Some(h),
            path_and_query: req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
        };
        return by_host(state, req, t).await;
    }
    if req.uri().path() == handoff::HAND_OVER {
        let query = req.uri().query().unwrap_or_default().to_owned();
        let session = cookies::read(req.headers(), state.cookies.session);
        return handoff::hand_over(&state, req.method() == Method::GET, &query, session).await;
    }
    match path_target(&req) {
        Some(t) => handoff::from_portal(&state, &req, &t),
        None => next.run(req).await,
    }
}

/// Host-based publishing: the shared session cookie says who it is.
async fn by_host(state: AppState, req: Request, t: Target) -> Response {
    if let Some(refused) = refuse(&req, &t) {
        return refused;
    }
    let token =
        cookies::read(req.headers(), state.cookies.session).map(|v| SessionToken::from_cookie(&v));
    let active = match &token {
        Some(tok) => state.verify.session(&state.auth, tok).await,
        None => Ok(None),
    };
    match active {
        Ok(Some(a)) => forward::forward(state, req, t, a)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Ok(None) => to_sign_in(&state, &t, req.headers()),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// What no app is asked: `TRACE` echoes the request, credentials included,
/// and `CONNECT` would turn Portvakt into a tunnel (SECURITY.md E4); a path
/// that climbs out of the app's base (issue 10 L5).
fn refuse(req: &Request, t: &Target) -> Option<Response> {
    if req.method() == Method::TRACE || req.method() == Method::CONNECT {
        return Some(StatusCode::METHOD_NOT_ALLOWED.into_response());
    }
    let path = t.path_and_query.split('?').next().unwrap_or_default();
    (!portvakt_core::app_path::stays_inside(path)).then(|| AppError::BadRequest.into_response())
}

/// No session at an app's own host: to the portal's sign-in, remembering
/// where the user was going.
fn to_sign_in(state: &AppState, t: &Target, headers: &HeaderMap) -> Response {
    let Some(fa) = state.config.forward_auth.as_ref() else {
        return AppError::NotFound.into_response();
    };
    let scheme = if fa.allow_http && !state.cookies.secure {
        "http"
    } else {
        "https"
    };
    let port = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit_once(':'))
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default();
    let host = t.host.as_deref().unwrap_or_default();
    let original = format!("{scheme}://{host}{port}{}", t.path_and_query);
    let rd = fa
        .return_policy()
        .check(&original)
        .map(|b| {
            format!(
                "?rd={}",
                form_urlencoded::byte_serialize(b.as_str().as_bytes()).collect::<String>()
            )
        })
        .unwrap_or_default();
    Redirect::to(&format!(
        "{}/login{rd}",
        fa.portal_url.trim_end_matches('/')
    ))
    .into_response()
}

/// No session on the portal: sign in, then back to `back` (an `/apps/…`
/// path) on the portal, which sends the browser on to the apps origin.
fn to_portal_sign_in(state: &AppState, back: &str) -> Response {
    let c = cookies::build(
        &state.cookies,
        state.cookies.return_to,
        crate::http::return_to::local_path(back),
        SameSite::Lax,
        Some(600),
    );
    crate::http::extract::with_cookie(Redirect::to("/login").into_response(), c)
}
