//! `GET /auth/verify`: forward-auth for nginx (`auth_request`), Traefik
//! (`forwardAuth`) and Caddy (`forward_auth`). 200 with the identity
//! headers when the service's rule allows; 401 without a valid session
//! (Traefik and Caddy get a redirect to sign-in instead, which they pass
//! on); 403 when signed in but not allowed. No password hashing and no
//! database work per request: see `verify_cache`.

use crate::app::metrics::Metrics;
use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{client_ip_of, page_lang};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use portvakt_core::access::{LocalTime, Subject};
use portvakt_core::auth::session::SessionToken;
use portvakt_core::forward::{original_url, ForwardedHeaders};
use std::net::{IpAddr, SocketAddr};

fn h<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A forward-auth check: a proxy's sub-request for some app's page, which
/// the proxy layer lets through to [`verify`] whatever the host.
pub(crate) fn is_forward_auth(req: &Request) -> bool {
    req.uri().path() == "/auth/verify" && req.method() == HttpMethod::GET
}

fn empty(status: StatusCode) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")]).into_response()
}

/// Called once per request to every protected app, so it reads the
/// request's parts in place (no header map copied, the page language only
/// worked out for the denied page) and runs without the page layers (see
/// `app::startup::app`).
pub async fn verify(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    Metrics::inc(&state.metrics.http_requests);
    check(&state, &req.into_parts().0, false).await
}

/// The same check, always answered with the explanatory page: nginx's
/// `error_page 403` points here, since `auth_request` drops bodies.
pub async fn denied(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    check(&state, &req.into_parts().0, true).await
}

async fn check(state: &AppState, parts: &Parts, explain: bool) -> Result<Response, AppError> {
    let headers = &parts.headers;
    let method = &parts.method;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let Some(fa) = state.config.forward_auth.as_ref() else {
        return Err(AppError::NotFound);
    };
    let trusted = state
        .config
        .trusted_proxies
        .iter()
        .any(|n| n.contains(&peer));
    let nginx = headers.contains_key("x-original-url");
    let url = trusted
        .then(|| {
            original_url(&ForwardedHeaders {
                original_url: h(headers, "x-original-url"),
                proto: h(headers, "x-forwarded-proto"),
                host: h(headers, "x-forwarded-host"),
                uri: h(headers, "x-forwarded-uri"),
            })
        })
        .flatten();

    let token =
        cookies::read(headers, state.cookies.session).map(|v| SessionToken::from_cookie(&v));
    let active = match &token {
        Some(t) => state.verify.session(&state.auth, t).await?,
        None => None,
    };
    let Some(active) = active else {
        // Traefik and Caddy pass our answer to the browser: send it to
        // sign in, with a return address only if it is one of ours.
        let back = url
            .as_ref()
            .and_then(|u| fa.return_policy().check(u.as_str()));
        if !nginx && matches!(*method, HttpMethod::GET | HttpMethod::HEAD) {
            if let Some(back) = back {
                let to = format!(
                    "{}/login?rd={}",
                    fa.portal_url.trim_end_matches('/'),
                    form_urlencoded::byte_serialize(back.as_str().as_bytes()).collect::<String>()
                );
                return Ok((
                    StatusCode::FOUND,
                    [
                        (header::LOCATION, to),
                        (header::CACHE_CONTROL, "no-store".into()),
                    ],
                )
                    .into_response());
            }
        }
        return Ok(empty(StatusCode::UNAUTHORIZED));
    };

    let Some(org) = state
        .verify
        .organisation(&*state.store, &active.user.organisation_id)
        .await?
    else {
        return Ok(empty(StatusCode::FORBIDDEN));
    };
    let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
    let Some((service, groups)) = org.service_at(host) else {
        // Nothing of this organisation is published at that host: closed.
        return Ok(empty(StatusCode::FORBIDDEN));
    };
    let who = Subject {
        groups: &active.groups,
        methods: &active.methods,
        zone: org.zone_of(client_ip_of(parts, state)),
        at: LocalTime::stockholm(state.clock.now()),
    };
    match service.access.decide(groups, &who) {
        Ok(()) if !explain => {
            let u = &active.user;
            let group_list: Vec<&str> = active.groups.iter().map(|g| g.as_str()).collect();
            let mut resp = empty(StatusCode::OK);
            let hs = resp.headers_mut();
            for (name, value) in [
                ("remote-user", u.username.as_str().to_owned()),
                ("remote-groups", group_list.join(",")),
                ("remote-email", u.email.clone().unwrap_or_default()),
                ("remote-name", u.display_name.clone()),
            ] {
                hs.insert(
                    HeaderName::from_static(name),
                    crate::http::headers::header_value(&value),
                );
            }
            Ok(resp)
        }
        Ok(()) => Ok(empty(StatusCode::OK)),
        Err(_) if nginx && !explain => Ok(empty(StatusCode::FORBIDDEN)),
        Err(denials) => {
            super::denied::denied_page(state, page_lang(headers, state), &org, service, &denials)
        }
    }
}
