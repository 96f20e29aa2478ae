//! `POST /oidc/{org}/token` (RFC 6749 §3.2). Only grants Portvakt
//! implements exist; the implicit and password grants are unknown here.

use crate::app::state::AppState;
use crate::oidc::client_auth::caller;
use crate::oidc::error::OAuthError;
use crate::oidc::form::OAuthForm;
use crate::oidc::issuer_for;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use portvakt_core::oidc::grants::{client_credentials_scope, GrantError};
use portvakt_core::oidc::tokens::{new_jti, AccessClaims};
use serde::Serialize;

#[derive(Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
}

impl From<GrantError> for OAuthError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::UnauthorizedClient => Self::UnauthorizedClient,
            GrantError::InvalidScope => Self::InvalidScope,
        }
    }
}

pub async fn token(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Json<TokenResponse>, OAuthError> {
    let issuer = issuer_for(&state, &org).await?;
    let caller = caller(&issuer, &headers, &form)?;
    let grant = form
        .get("grant_type")
        .ok_or(OAuthError::InvalidRequest("grant_type is missing."))?;
    match grant {
        "client_credentials" => {
            if !caller.authenticated {
                return Err(OAuthError::UnauthorizedClient);
            }
            let client = &caller.client;
            let scope = client_credentials_scope(client, form.get("scope"))?;
            let now = state.clock.now();
            let ttl = i64::from(
                state
                    .config
                    .oidc
                    .as_ref()
                    .map_or(5, |o| o.access_token_minutes),
            ) * 60;
            let claims = AccessClaims {
                iss: issuer.issuer.clone(),
                sub: client.client_id.clone(),
                aud: client.audience().to_owned(),
                client_id: client.client_id.clone(),
                iat: now,
                exp: now + ttl,
                jti: new_jti(),
                scope,
            };
            let key = issuer.signer(client.signing_alg, now)?;
            let access_token = claims
                .sign(key)
                .map_err(|e| OAuthError::Server(e.to_string()))?;
            Ok(Json(TokenResponse {
                access_token,
                token_type: "Bearer",
                expires_in: ttl,
                scope: claims.scope,
            }))
        }
        _ => Err(OAuthError::UnsupportedGrantType),
    }
}
