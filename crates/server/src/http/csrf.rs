//! CSRF protection for every state-changing request (SECURITY.md B6).
//!
//! Double-submit token: a random value in a `__Host-` cookie (which a
//! sibling subdomain cannot set) must equal the `csrf` field of the form.
//! On top, browsers' Fetch Metadata and `Origin` headers are checked, so a
//! cross-site POST is refused even before the token is looked at. The check
//! runs in one layer for all routes, so no handler can forget it.

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::CsrfToken;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use cookie::SameSite;
use rand::RngCore;
use sha2::{Digest, Sha256};

const MAX_FORM_BYTES: usize = 64 * 1024;

fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Compares digests so the comparison time says nothing about the token.
pub(crate) fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// The scheme browsers use to reach us: https whenever cookies are
/// `Secure` (behind TLS, also when a proxy terminates it), http only in
/// `dev_mode` on loopback.
fn expected_scheme(state: &AppState) -> &'static str {
    if state.config.secure_cookies() {
        "https"
    } else {
        "http"
    }
}

fn cross_site(req: &Request, scheme: &str) -> bool {
    let h = req.headers();
    // Fetch Metadata is the precise signal where the browser sends it.
    let fetch_site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return true;
    }
    // HTTP/2 carries the host in `:authority`, which hyper keeps in the URI.
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        });
    match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
        // Chromium sends `Origin: null` on same-origin form posts under some
        // referrer policies, so `null` is trusted only with Fetch Metadata.
        (Some("null"), _) => fetch_site.is_none(),
        // An origin is scheme, host and port (RFC 6454): `https://host` is
        // another origin than `http://host` (SECURITY.md B6).
        (Some(origin), Some(host)) => match origin.split_once("://") {
            Some((s, rest)) => !(s.eq_ignore_ascii_case(scheme) && rest.eq_ignore_ascii_case(host)),
            None => true,
        },
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// An app's form POST to the OpenID authorization endpoint (OpenID
/// Connect Core §3.1.2.1) comes from the app's page, so it cannot carry our
/// token. It changes nothing for the browser: it waits for a sign-in on the
/// portal's own pages, which are protected as ever.
fn authorization_request(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == Method::POST
        && path
            .strip_prefix("/oidc/")
            .and_then(|rest| rest.strip_suffix("/authorize"))
            .is_some_and(|org| !org.is_empty() && !org.contains('/'))
}

/// Whether a request is an evidence upload to an intrusion case
/// (`admin::intrusion::evidence`): the one form sent as
/// `multipart/form-data`, whose CSRF field its handler checks first.
pub(crate) fn is_evidence_upload(path: &str) -> bool {
    path.strip_prefix("/admin/cases/")
        .and_then(|rest| rest.strip_suffix("/evidence"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let existing = cookies::read(req.headers(), state.cookies.csrf).filter(|v| v.len() == 43);
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (new_token(), true),
    };
    let mut req = req;
    if matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && !authorization_request(&req)
    {
        if cross_site(&req, expected_scheme(&state)) || fresh {
            return AppError::Csrf.into_response();
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // The one multipart form (evidence for an intrusion case) is
        // streamed, not buffered here: its handler checks the `csrf` field,
        // which must come first, before it reads the file.
        if content_type.starts_with("multipart/form-data")
            && req.method() == Method::POST
            && is_evidence_upload(req.uri().path())
        {
            req.extensions_mut().insert(CsrfToken(token.clone()));
            return next.run(req).await;
        }
        if !content_type.starts_with("application/x-www-form-urlencoded") {
            return AppError::BadRequest.into_response();
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return AppError::BadRequest.into_response();
        };
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        if !sent.is_some_and(|s| same(&s, &token)) {
            return AppError::Csrf.into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if fresh {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::build(
                &state.cookies,
                state.cookies.csrf,
                &token,
                SameSite::Strict,
                None,
            ),
        );
    }
    resp
}

/// A fresh token cookie, set at sign-in so a token seen before sign-in is
/// useless afterwards.
#[must_use]
pub fn rotated_cookie(state: &AppState) -> (String, axum::http::HeaderValue) {
    let t = new_token();
    let c = cookies::build(
        &state.cookies,
        state.cookies.csrf,
        &t,
        SameSite::Strict,
        None,
    );
    (t, c)
}
