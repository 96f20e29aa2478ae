//! The built-in reverse proxy: Portvakt publishes internal web apps itself,
//! at `/apps/<service>/…` on its own host and, when the service has a
//! `host`, at that host. Every request passes the same access decision as
//! the portal and `/auth/verify`; bodies stream both ways; WebSocket (and
//! any HTTP/1.1 upgrade) is tunnelled; `X-Forwarded-*` and the identity
//! headers are set; Portvakt's own cookies never reach the app; hop-by-hop
//! headers stay on their hop; an upstream that is down or slow gets a
//! clear page.
//!
//! It runs outside the portal's layers (CSRF, CSP, body limit): those
//! belong to Portvakt's pages, not to the apps behind it.

use crate::cookies;
use crate::error::AppError;
use crate::extract::{Client, PageLang};
use crate::i18n::Tr;
use crate::page::Page;
use crate::routes::header_value;
use crate::state::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use portvakt_core::access::{LocalTime, Subject};
use portvakt_core::auth::session::SessionToken;
use std::net::SocketAddr;
use std::time::Duration;

/// Waiting for an upstream's response headers longer than this gives 504.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Where path-based publishing lives on Portvakt's own host.
pub const PREFIX: &str = "/apps/";

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

/// Hop-by-hop headers (RFC 9110 7.6.1): never forwarded.
const HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Headers only Portvakt may set towards the app.
const OURS: [&str; 9] = [
    "remote-user",
    "remote-groups",
    "remote-email",
    "remote-name",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-prefix",
    "forwarded",
];

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
struct Target {
    /// `/apps/<slug>` for path-based publishing, empty for host-based.
    prefix: String,
    slug: Option<String>,
    host: Option<String>,
    path_and_query: String,
}

fn target(state: &AppState, req: &Request) -> Option<Target> {
    let pq = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if let Some(rest) = pq.strip_prefix(PREFIX) {
        let (slug, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        if slug.is_empty() {
            return None;
        }
        let tail = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        return Some(Target {
            prefix: format!("{PREFIX}{slug}"),
            slug: Some(slug.to_owned()),
            host: None,
            path_and_query: tail,
        });
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())?;
    let host = host
        .rsplit_once(':')
        .map_or(host, |(h, _)| h)
        .to_ascii_lowercase();
    state.verify.is_proxied_host(&host).then(|| Target {
        prefix: String::new(),
        slug: None,
        host: Some(host),
        path_and_query: pq,
    })
}

/// The outermost layer: requests for published apps go to the proxy,
/// everything else to Portvakt's own pages.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if crate::csrf::is_forward_auth(&req) {
        return next.run(req).await;
    }
    if let Err(e) = state.verify.refresh_proxied_hosts(&*state.store).await {
        tracing::error!(error = %e, "reading published hosts");
    }
    match target(&state, &req) {
        Some(t) => match forward(state, req, t).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        },
        None => next.run(req).await,
    }
}

/// Portvakt's cookies removed from a `Cookie` header; `None` if none remain.
fn strip_our_cookies(state: &AppState, value: &str) -> Option<String> {
    let c = &state.cookies;
    let ours = [c.session, c.csrf, c.lang, c.reset, c.return_to];
    let kept: Vec<String> = Cookie::split_parse(value.to_owned())
        .filter_map(Result::ok)
        .filter(|k| !ours.contains(&k.name()))
        .map(|k| k.stripped().to_string())
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

fn is_upgrade(h: &HeaderMap) -> bool {
    h.get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        })
        && h.contains_key(header::UPGRADE)
}

/// Removes hop-by-hop headers, including those `Connection` names.
fn drop_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<String> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    for n in HOP.iter().map(|s| (*s).to_owned()).chain(named) {
        if let Ok(name) = HeaderName::from_bytes(n.as_bytes()) {
            h.remove(name);
        }
    }
}

async fn forward(state: AppState, req: Request, t: Target) -> Result<Response, AppError> {
    let (mut parts, body) = req.into_parts();
    let PageLang(tr) = PageLang::from_request_parts(&mut parts, &state).await?;
    let Client(client) = Client::from_request_parts(&mut parts, &state).await?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);

    // Who is asking.
    let token =
        cookies::read(&parts.headers, state.cookies.session).map(|v| SessionToken::from_cookie(&v));
    let active = match &token {
        Some(tok) => state.verify.session(&state.auth, tok).await?,
        None => None,
    };
    let original = match (&t.host, state.config.forward_auth.as_ref()) {
        (Some(h), Some(fa)) => {
            let scheme = if fa.allow_http && !state.cookies.secure {
                "http"
            } else {
                "https"
            };
            let port = parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit_once(':'))
                .map(|(_, p)| format!(":{p}"))
                .unwrap_or_default();
            Some(format!("{scheme}://{h}{port}{}", t.path_and_query))
        }
        _ => None,
    };
    let Some(active) = active else {
        return Ok(to_sign_in(&state, &t, original));
    };
    let Some(org) = state
        .verify
        .organisation(&*state.store, &active.user.organisation_id)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let found = org.services.iter().find(|(s, _)| {
        s.access.upstream.is_some()
            && match (&t.slug, &t.host) {
                (Some(slug), _) => s.slug.as_str() == slug,
                (None, Some(h)) => s.access.host.as_deref() == Some(h.as_str()),
                _ => false,
            }
    });
    // Another organisation's service looks exactly like no service.
    let Some((service, groups)) = found else {
        return Err(AppError::NotFound);
    };
    let who = Subject {
        groups: &active.groups,
        methods: &active.methods,
        zone: org.zone_of(client.ip),
        at: LocalTime::stockholm(state.clock.now()),
    };
    if let Err(denials) = service.access.decide(groups, &who) {
        return crate::routes::denied_page(&state, tr, service, &denials, &org.zones);
    }
    if t.slug.is_some() && t.path_and_query == "/" && !parts.uri.path().ends_with('/') {
        // `/apps/lon` → `/apps/lon/`, so the app's relative links resolve.
        return Ok(Redirect::permanent(&format!("{}/", t.prefix)).into_response());
    }

    // The request towards the app.
    let upstream = service.access.upstream.clone().unwrap_or_default();
    let uri: Uri = format!("{upstream}{}", t.path_and_query)
        .parse()
        .map_err(|_| AppError::BadRequest)?;
    let upgrade = is_upgrade(&parts.headers);
    let mut headers = parts.headers.clone();
    let upgrade_value = headers.get(header::UPGRADE).cloned();
    drop_hop_by_hop(&mut headers);
    headers.remove(header::UPGRADE);
    for h in OURS {
        headers.remove(h);
    }
    let original_host = headers.remove(header::HOST);
    match headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(|v| strip_our_cookies(&state, v))
    {
        Some(Some(kept)) => {
            headers.insert(header::COOKIE, header_value(&kept));
        }
        Some(None) => {
            headers.remove(header::COOKIE);
        }
        None => {}
    }
    if let Some(h) = uri.authority() {
        headers.insert(header::HOST, header_value(h.as_str()));
    }
    let u = &active.user;
    let group_list: Vec<&str> = active.groups.iter().map(|g| g.as_str()).collect();
    let proto = if state.cookies.secure {
        "https"
    } else {
        "http"
    };
    for (name, value) in [
        ("x-forwarded-for", client.ip.to_string()),
        ("x-forwarded-proto", proto.to_owned()),
        ("remote-user", u.username.as_str().to_owned()),
        ("remote-groups", group_list.join(",")),
        ("remote-email", u.email.clone().unwrap_or_default()),
        ("remote-name", u.display_name.clone()),
    ] {
        headers.insert(HeaderName::from_static(name), header_value(&value));
    }
    if let Some(h) = original_host {
        headers.insert(HeaderName::from_static("x-forwarded-host"), h);
    }
    if !t.prefix.is_empty() {
        headers.insert(
            HeaderName::from_static("x-forwarded-prefix"),
            header_value(&t.prefix),
        );
    }
    let client_upgrade = if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        if let Some(v) = upgrade_value {
            headers.insert(header::UPGRADE, v);
        }
        parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
    } else {
        None
    };
    let mut out = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(uri)
        .body(body)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    *out.headers_mut() = headers;

    let sent = tokio::time::timeout(RESPONSE_TIMEOUT, state.upstreams.request(out)).await;
    let mut resp = match sent {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::warn!(service = %service.slug.as_str(), error = %e, peer = ?peer, "upstream unreachable");
            return Ok(upstream_error(tr, StatusCode::BAD_GATEWAY));
        }
        Err(_) => {
            tracing::warn!(service = %service.slug.as_str(), "upstream timed out");
            return Ok(upstream_error(tr, StatusCode::GATEWAY_TIMEOUT));
        }
    };

    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let Some(client_upgrade) = client_upgrade else {
            return Ok(upstream_error(tr, StatusCode::BAD_GATEWAY));
        };
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            if let (Ok(a), Ok(b)) = (client_upgrade.await, upstream_upgrade.await) {
                let (mut a, mut b) = (TokioIo::new(a), TokioIo::new(b));
                let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
            }
        });
        let (rp, _) = resp.into_parts();
        return Ok(Response::from_parts(rp, Body::empty()));
    }

    let (mut rp, incoming) = resp.into_parts();
    drop_hop_by_hop(&mut rp.headers);
    Ok(Response::from_parts(rp, Body::new(incoming)))
}

/// No session: to sign-in, remembering where the user was going.
fn to_sign_in(state: &AppState, t: &Target, original: Option<String>) -> Response {
    match (&t.host, state.config.forward_auth.as_ref()) {
        (Some(_), Some(fa)) => {
            let back = original.and_then(|o| fa.return_policy().check(&o));
            let rd = back
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
        _ => {
            let back = format!("{}{}", t.prefix, t.path_and_query);
            let c = cookies::build(
                &state.cookies,
                state.cookies.return_to,
                crate::routes::misc::local_path(&back),
                SameSite::Lax,
                Some(600),
            );
            crate::extract::with_cookie(Redirect::to("/login").into_response(), c)
        }
    }
}
