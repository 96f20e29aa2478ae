//! `POST /oidc/{org}/introspect` (RFC 7662) for the organisation's own
//! clients. A token is active only if one of *this* organisation's keys
//! signed it, it is an access token, names this issuer and has not
//! expired; anything else, including another organisation's token, is
//! `{"active": false}` and nothing more (§2.2). Only the client the token
//! was issued to, or the API it is for (`aud` equal to the caller's
//! `client_id`), learns that it is active.

use crate::app::state::AppState;
use crate::oidc::client_auth::caller;
use crate::oidc::error::OAuthError;
use crate::oidc::form::OAuthForm;
use crate::oidc::issuer_for;
use crate::oidc::issuers::Issuer;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use portvakt_core::clock::UnixTime;
use portvakt_core::oidc::jose::verify_own;
use portvakt_core::oidc::tokens::{AccessClaims, ACCESS_TOKEN_TYP};
use serde_json::{json, Value};

/// The claims of an access token this issuer signed and that is still
/// valid at `now`.
#[must_use]
pub fn active_access_token(issuer: &Issuer, token: &str, now: UnixTime) -> Option<AccessClaims> {
    let verified = verify_own(issuer.keys.published(now), token).ok()?;
    if verified.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return None;
    }
    let claims: AccessClaims = serde_json::from_value(Value::Object(verified.claims)).ok()?;
    (claims.iss == issuer.issuer && now < claims.exp).then_some(claims)
}

pub async fn introspect(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Json<Value>, OAuthError> {
    let issuer = issuer_for(&state, &org).await?;
    let caller = caller(&issuer, &headers, &form)?;
    if !caller.authenticated {
        return Err(OAuthError::InvalidClient);
    }
    let token = form
        .get("token")
        .ok_or(OAuthError::InvalidRequest("token is missing."))?;
    let now = state.clock.now();
    let active = match active_access_token(&issuer, token, now) {
        // A person's token counts only while its grant is live.
        Some(c) if c.grant_id.is_some() => {
            crate::oidc::userinfo::live_user_token(&state, &issuer, token, now)
                .await?
                .map(|(c, _)| c)
        }
        other => other,
    };
    // A token is described only to the client it was issued to, or to the
    // API it is meant for (its audience), never to another app (C5).
    let active = active
        .filter(|c| c.client_id == caller.client.client_id || c.aud == caller.client.client_id);
    Ok(Json(match active {
        Some(c) => json!({
            "active": true,
            "scope": c.scope,
            "client_id": c.client_id,
            "sub": c.sub,
            "aud": c.aud,
            "iss": c.iss,
            "exp": c.exp,
            "iat": c.iat,
            "jti": c.jti,
            "token_type": "Bearer",
        }),
        None => json!({ "active": false }),
    }))
}
