//! Security headers on every response (SECURITY.md B5) and request counting.

use crate::app::metrics::Metrics;
use crate::app::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub(crate) const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    Metrics::inc(&state.metrics.http_requests);
    let mut resp = next.run(req).await;
    if resp.status().is_server_error() {
        Metrics::inc(&state.metrics.http_server_errors);
    }
    let h = resp.headers_mut();
    // A page that needs more (the self-check's connections) sets its own,
    // built from this one.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if state.cookies.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    // Authenticated pages must not linger in caches; static assets set their own.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Headers on the machine endpoints (the OpenID provider's): nothing a
/// browser renders, so no CSP or frame rules, but never sniffed and never
/// cached unless the endpoint says so (discovery and the JWK Set do);
/// `Pragma` for old caches, as RFC 6749 §5.1 asks of token responses.
pub async fn api_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    Metrics::inc(&state.metrics.http_requests);
    let mut resp = next.run(req).await;
    if resp.status().is_server_error() {
        Metrics::inc(&state.metrics.http_server_errors);
    }
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    if state.cookies.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    resp
}

/// Header values from user data: control characters dropped; UTF-8 is
/// sent as is (nginx, Traefik and Caddy pass such bytes through).
pub(crate) fn header_value(s: &str) -> HeaderValue {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    HeaderValue::from_bytes(clean.as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}
