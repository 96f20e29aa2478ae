//! `/.well-known/openid-configuration` and the JWK Set: public, cacheable,
//! readable from any origin (single-page apps fetch them directly).

use crate::app::state::AppState;
use crate::oidc::error::OAuthError;
use crate::oidc::issuer_for;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

fn public_json(body: axum::body::Bytes) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Keys are published an hour before they sign, so five minutes of
    // caching never hides a key a token needs.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

pub async fn configuration(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Response, OAuthError> {
    let issuer = issuer_for(&state, &org).await?;
    Ok(public_json(issuer.discovery.clone()))
}

pub async fn jwks(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Response, OAuthError> {
    let issuer = issuer_for(&state, &org).await?;
    Ok(public_json(issuer.jwks(state.clock.now())))
}
