//! `/oidc/{org}/userinfo` (OpenID Connect Core §5.3) and `/revoke`
//! (RFC 7009). A person's access token is good only while its grant is:
//! signing out or ending sessions revokes the grant, and these endpoints
//! see that at once, whatever the token's own expiry says.

use crate::app::state::AppState;
use crate::oidc::client_auth::caller;
use crate::oidc::error::OAuthError;
use crate::oidc::form::OAuthForm;
use crate::oidc::introspect::active_access_token;
use crate::oidc::issuer_for;
use crate::oidc::issuers::Issuer;
use crate::oidc::token::profile;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portvakt_core::clock::UnixTime;
use portvakt_core::oidc::tokens::{secret_hash, AccessClaims};
use portvakt_core::store::GrantRecord;
use serde_json::Value;

/// A person's access token whose grant is still live.
pub async fn live_user_token(
    state: &AppState,
    issuer: &Issuer,
    token: &str,
    now: UnixTime,
) -> Result<Option<(AccessClaims, GrantRecord)>, OAuthError> {
    let Some(claims) = active_access_token(issuer, token, now) else {
        return Ok(None);
    };
    let Some(grant_id) = &claims.grant_id else {
        return Ok(None);
    };
    let grant = state
        .store
        .grant(&issuer.organisation, grant_id)
        .await?
        .filter(|g| g.live(now) && g.user_id.as_str() == claims.sub);
    let Some(grant) = grant else {
        return Ok(None);
    };
    // A disabled account's tokens stop with it, grant or not.
    let enabled = state
        .store
        .user(&issuer.organisation, &grant.user_id)
        .await?
        .is_some_and(|u| u.is_active());
    Ok(enabled.then_some((claims, grant)))
}

pub async fn userinfo(
    State(state): State<AppState>,
    Path(org): Path<String>,
    req: Request,
) -> Result<Json<Value>, OAuthError> {
    let issuer = issuer_for(&state, &org).await?;
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let body_token = if req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        let form = OAuthForm::from_request(req, &state).await?;
        form.get("access_token").map(str::to_owned)
    } else {
        None
    };
    let token = match (header_token, body_token) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "Send the access token one way, not two.",
            ))
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Err(OAuthError::InvalidToken),
    };
    let now = state.clock.now();
    let Some((claims, grant)) = live_user_token(&state, &issuer, &token, now).await? else {
        return Err(OAuthError::InvalidToken);
    };
    let Some(user) = state
        .store
        .user(&issuer.organisation, &grant.user_id)
        .await?
        .filter(portvakt_core::store::User::is_active)
    else {
        return Err(OAuthError::InvalidToken);
    };
    let mut out = serde_json::to_value(profile(&state, &issuer, &user, &grant.scope).await?)
        .map_err(|e| OAuthError::Server(e.to_string()))?;
    if let Value::Object(map) = &mut out {
        map.insert("sub".into(), Value::String(claims.sub));
    }
    Ok(Json(out))
}

/// RFC 7009: a refresh token or access token of the calling client ends
/// its grant. The answer is 200 whatever the token was (§2.2).
pub async fn revoke(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: axum::http::HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let issuer = issuer_for(&state, &org).await?;
    let caller = caller(&issuer, &headers, &form)?;
    let token = form
        .get("token")
        .ok_or(OAuthError::InvalidRequest("token is missing."))?;
    let now = state.clock.now();
    let org_id = &issuer.organisation;
    let grant = match state
        .store
        .grant_of_refresh_token(org_id, &caller.client.id, &secret_hash(token))
        .await?
    {
        Some(g) => Some(g),
        None => live_user_token(&state, &issuer, token, now)
            .await?
            .filter(|(c, _)| c.client_id == caller.client.client_id)
            .map(|(_, g)| g),
    };
    if let Some(g) = grant {
        state
            .store
            .revoke_grant(org_id, &g.id, "revoked_by_app", now)
            .await?;
    }
    Ok(StatusCode::OK.into_response())
}
