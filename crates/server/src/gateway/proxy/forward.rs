//! One request to an app, for a signed-in person: the access decision,
//! the cleaned request, the app's answer with Portvakt's cookies taken out.

use super::{hygiene, tunnel, upstream_error, Target, RESPONSE_TIMEOUT};
use crate::app::state::AppState;
use crate::gateway::verify_cache::ActiveSession;
use crate::http::error::AppError;
use crate::http::extract::{Client, PageLang};
use crate::http::headers::header_value;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use portvakt_core::access::{LocalTime, Subject};
use std::net::SocketAddr;
use std::sync::Arc;

/// No `Origin` (not a browser), or one whose host is the request's host.
fn same_host_origin(h: &HeaderMap) -> bool {
    let Some(origin) = h.get(header::ORIGIN) else {
        return true;
    };
    // The host name without a port (`[::1]:8080` → `[::1]`).
    let host = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        match s.find(']') {
            Some(i) if s.starts_with('[') => s[..=i].to_owned(),
            _ => s.split(':').next().unwrap_or_default().to_owned(),
        }
    };
    let (Ok(origin), Some(req)) = (
        origin.to_str(),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| host(rest) == host(req))
}

fn is_upgrade(h: &HeaderMap) -> bool {
    h.get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
        && h.contains_key(header::UPGRADE)
}

/// The headers the app gets: the client's, cleaned, then who is asking.
fn upstream_headers(
    state: &AppState,
    client_headers: &HeaderMap,
    t: &Target,
    uri: &Uri,
    active: &ActiveSession,
    client_ip: std::net::IpAddr,
) -> HeaderMap {
    let mut headers = client_headers.clone();
    hygiene::drop_hop_by_hop(&mut headers);
    headers.remove(header::UPGRADE);
    hygiene::drop_reserved(&mut headers);
    hygiene::strip_our_cookies(&state.cookies, &mut headers);
    let original_host = headers.remove(header::HOST);
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
        ("x-forwarded-for", client_ip.to_string()),
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
    headers
}

pub async fn forward(
    state: AppState,
    req: Request,
    t: Target,
    active: Arc<ActiveSession>,
) -> Result<Response, AppError> {
    let (mut parts, body) = req.into_parts();
    let PageLang(tr) = PageLang::from_request_parts(&mut parts, &state).await?;
    let Client(client) = Client::from_request_parts(&mut parts, &state).await?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
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
        return crate::gateway::denied::denied_page(&state, tr, &org, service, &denials);
    }
    if t.slug.is_some() && t.path_and_query == "/" && !parts.uri.path().ends_with('/') {
        // `/apps/lon` → `/apps/lon/`, so the app's relative links resolve.
        return Ok(Redirect::permanent(&format!("{}/", t.prefix)).into_response());
    }

    let upstream = service.access.upstream.clone().unwrap_or_default();
    let uri: Uri = format!("{upstream}{}", t.path_and_query)
        .parse()
        .map_err(|_| AppError::BadRequest)?;
    let upgrade = is_upgrade(&parts.headers);
    if upgrade && !same_host_origin(&parts.headers) {
        // The link cookie is SameSite=Lax and sibling hosts are same-site,
        // so a page on another host could open a WebSocket as this person
        // (cross-site WebSocket hijacking): only the app's own pages may.
        return Err(AppError::Forbidden);
    }
    let mut headers = upstream_headers(&state, &parts.headers, &t, &uri, &active, client.ip);
    let client_upgrade = if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        if let Some(v) = parts.headers.get(header::UPGRADE) {
            headers.insert(header::UPGRADE, v.clone());
        }
        parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
    } else {
        None
    };
    let slot = parts
        .extensions
        .get::<crate::app::listener::ConnectionSlot>()
        .cloned()
        .unwrap_or_default();
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
        tunnel::spawn(
            state.clone(),
            active.session.token_hash.clone(),
            client_upgrade,
            upstream_upgrade,
            slot,
        );
        let (mut rp, _) = resp.into_parts();
        hygiene::drop_our_set_cookies(&state.cookies, &mut rp.headers);
        return Ok(Response::from_parts(rp, Body::empty()));
    }

    let (mut rp, incoming) = resp.into_parts();
    // The app's HTTP version is its hop's business (wsgiref answers 1.0).
    rp.version = parts.version;
    hygiene::drop_hop_by_hop(&mut rp.headers);
    hygiene::drop_our_set_cookies(&state.cookies, &mut rp.headers);
    hygiene::add_app_csp(&mut rp.headers);
    Ok(Response::from_parts(rp, Body::new(incoming)))
}
