//! `POST /oidc/{org}/token` (RFC 6749 §3.2). Only grants Portvakt
//! implements exist; the implicit and password grants are unknown here.

use crate::app::state::AppState;
use crate::oidc::client_auth::{caller, Caller};
use crate::oidc::error::OAuthError;
use crate::oidc::exchange::Exchange;
use crate::oidc::form::OAuthForm;
use crate::oidc::issuer_for;
use crate::oidc::issuers::Issuer;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use portvakt_core::access::Method;
use portvakt_core::clock::UnixTime;
use portvakt_core::oidc::client::GrantType;
use portvakt_core::oidc::flow::amr_and_acr;
use portvakt_core::oidc::grants::{client_credentials_scope, CodeExchange, GrantError};
use portvakt_core::oidc::tokens::{
    at_hash, new_jti, new_secret, secret_hash, AccessClaims, IdClaims, ProfileClaims,
};
use portvakt_core::store::{GrantRecord, NewRefreshToken, Redeemed, Rotation};
use serde::Serialize;

/// ID tokens are read once, at sign-in (the issue: at most five minutes).
const ID_TOKEN_SECONDS: i64 = 300;

#[derive(Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

impl From<GrantError> for OAuthError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::UnauthorizedClient => Self::UnauthorizedClient,
            GrantError::InvalidScope => Self::InvalidScope,
        }
    }
}

fn access_ttl(state: &AppState) -> i64 {
    i64::from(
        state
            .config
            .oidc
            .as_ref()
            .map_or(5, |o| o.access_token_minutes),
    ) * 60
}

fn grant_ttl(state: &AppState) -> i64 {
    i64::from(state.config.oidc.as_ref().map_or(12, |o| o.grant_hours)) * 3600
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
        "client_credentials" => client_credentials(&state, &issuer, &caller, &form),
        "authorization_code" => authorization_code(&state, &issuer, &caller, &form).await,
        "refresh_token" => refresh_token(&state, &issuer, &caller, &form).await,
        _ => Err(OAuthError::UnsupportedGrantType),
    }
}

fn client_credentials(
    state: &AppState,
    issuer: &Issuer,
    caller: &Caller,
    form: &OAuthForm,
) -> Result<Json<TokenResponse>, OAuthError> {
    if !caller.authenticated {
        return Err(OAuthError::UnauthorizedClient);
    }
    let client = &caller.client;
    let scope = client_credentials_scope(client, form.get("scope"))?;
    let now = state.clock.now();
    let ttl = access_ttl(state);
    let claims = AccessClaims {
        iss: issuer.issuer.clone(),
        sub: client.client_id.clone(),
        aud: client.audience().to_owned(),
        client_id: client.client_id.clone(),
        iat: now,
        exp: now + ttl,
        jti: new_jti(),
        scope,
        grant_id: None,
        auth_time: None,
        acr: None,
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
        id_token: None,
        refresh_token: None,
    }))
}

async fn authorization_code(
    state: &AppState,
    issuer: &Issuer,
    caller: &Caller,
    form: &OAuthForm,
) -> Result<Json<TokenResponse>, OAuthError> {
    let client = &caller.client;
    if !client.grants.contains(&GrantType::AuthorizationCode) {
        return Err(OAuthError::UnauthorizedClient);
    }
    let code = form
        .get("code")
        .ok_or(OAuthError::InvalidRequest("code is missing."))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or(OAuthError::InvalidRequest("redirect_uri is missing."))?;
    let now = state.clock.now();
    let refresh = client
        .grants
        .contains(&GrantType::RefreshToken)
        .then(new_secret);
    let outcome = state
        .oidc_exchanges
        .redeem(Exchange {
            organisation: issuer.organisation.clone(),
            code_hash: secret_hash(code),
            shown: CodeExchange {
                client_row_id: client.id.clone(),
                redirect_uri: redirect_uri.to_owned(),
                code_verifier: form.get("code_verifier").map(str::to_owned),
            },
            refresh_hash: refresh.as_deref().map(secret_hash),
            grant_seconds: grant_ttl(state),
        })
        .await?;
    // A code shown with anything wrong is burnt, and a second use revoked
    // what the first one issued (both in the store).
    let Redeemed::Issued { code, user, grant } = outcome else {
        return Err(OAuthError::InvalidGrant(
            "The code is invalid, used or expired.",
        ));
    };
    tokens(
        state, issuer, caller, &grant, &user, code.nonce, refresh, now,
    )
    .await
}

async fn refresh_token(
    state: &AppState,
    issuer: &Issuer,
    caller: &Caller,
    form: &OAuthForm,
) -> Result<Json<TokenResponse>, OAuthError> {
    let client = &caller.client;
    if !client.grants.contains(&GrantType::RefreshToken) {
        return Err(OAuthError::UnauthorizedClient);
    }
    let old = form
        .get("refresh_token")
        .ok_or(OAuthError::InvalidRequest("refresh_token is missing."))?;
    let org = &issuer.organisation;
    let now = state.clock.now();
    let bad = OAuthError::InvalidGrant("The refresh token is invalid, used or expired.");
    let old_hash = secret_hash(old);
    let Some(current) = state
        .store
        .grant_of_refresh_token(org, &client.id, &old_hash)
        .await?
    else {
        return Err(bad);
    };
    if let Some(asked) = form.get("scope") {
        let granted: Vec<&str> = current.scope.split(' ').collect();
        if !asked
            .split(' ')
            .filter(|s| !s.is_empty())
            .all(|s| granted.contains(&s))
        {
            return Err(OAuthError::InvalidScope);
        }
    }
    let new = new_secret();
    let stored = NewRefreshToken {
        token_hash: secret_hash(&new),
        expires_at: current.expires_at,
    };
    let grant = match state
        .store
        .rotate_refresh_token(org, &client.id, &old_hash, &stored, now)
        .await?
    {
        Rotation::Rotated(g) => g,
        Rotation::Reused => {
            tracing::warn!(grant = %current.id, "a used refresh token was shown again; the grant is revoked");
            return Err(bad);
        }
        Rotation::Invalid => return Err(bad),
    };
    let Some(user) = state
        .store
        .user(org, &grant.user_id)
        .await?
        .filter(portvakt_core::store::User::is_active)
    else {
        state
            .store
            .revoke_grant(org, &grant.id, "disabled", now)
            .await?;
        return Err(bad);
    };
    if !still_allowed(state, issuer, client, &grant, now).await? {
        state
            .store
            .revoke_grant(org, &grant.id, "rule_refuses", now)
            .await?;
        return Err(bad);
    }
    // A narrower scope may be asked for (RFC 6749 §6); the grant keeps its own.
    let grant = match form.get("scope") {
        Some(asked) => GrantRecord {
            scope: asked
                .split(' ')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            ..grant
        },
        None => grant,
    };
    tokens(state, issuer, caller, &grant, &user, None, Some(new), now).await
}

/// Whether the client's rule still lets the person in: groups and
/// opening hours as they are now, and the methods of the sign-in the
/// grant came from. Not the zone: a refresh comes from the app's server,
/// not from where the person is.
async fn still_allowed(
    state: &AppState,
    issuer: &Issuer,
    client: &portvakt_core::oidc::client::OidcClient,
    grant: &GrantRecord,
    now: UnixTime,
) -> Result<bool, OAuthError> {
    use portvakt_core::access::{decide, AccessRule, LocalTime, Subject};
    let groups = state
        .store
        .user_groups(&issuer.organisation, &grant.user_id)
        .await?
        .into_iter()
        .map(|g| g.slug)
        .collect();
    let methods = Method::from_amr(&grant.amr);
    let rule = AccessRule {
        zones: None,
        ..client.access.rule(client.groups.clone())
    };
    let who = Subject {
        groups: &groups,
        methods: &methods,
        zone: None,
        at: LocalTime::stockholm(now),
    };
    Ok(decide(&rule, &who).is_ok())
}

/// The claims about the person a scope lets the app see.
pub async fn profile(
    state: &AppState,
    issuer: &Issuer,
    user: &portvakt_core::store::User,
    scope: &str,
) -> Result<ProfileClaims, OAuthError> {
    let has = |s: &str| scope.split(' ').any(|x| x == s);
    let mut p = ProfileClaims::default();
    if has("profile") {
        p.name = Some(user.display_name.clone());
        p.preferred_username = Some(user.username.to_string());
    }
    if has("email") {
        if let Some(e) = &user.email {
            p.email = Some(e.clone());
            // Set by the organisation, or confirmed with a code.
            p.email_verified = Some(true);
        }
    }
    if has("groups") {
        p.groups = Some(
            state
                .store
                .user_groups(&issuer.organisation, &user.id)
                .await?
                .into_iter()
                .map(|g| g.slug.to_string())
                .collect(),
        );
    }
    Ok(p)
}

#[allow(clippy::too_many_arguments)]
async fn tokens(
    state: &AppState,
    issuer: &Issuer,
    caller: &Caller,
    grant: &GrantRecord,
    user: &portvakt_core::store::User,
    nonce: Option<String>,
    refresh_token: Option<String>,
    now: UnixTime,
) -> Result<Json<TokenResponse>, OAuthError> {
    let client = &caller.client;
    let methods = Method::from_amr(&grant.amr);
    let (amr, acr) = amr_and_acr(&methods);
    let ttl = access_ttl(state);
    let key = issuer.signer(client.signing_alg, now)?;
    let access = AccessClaims {
        iss: issuer.issuer.clone(),
        sub: user.id.to_string(),
        aud: client.audience().to_owned(),
        client_id: client.client_id.clone(),
        iat: now,
        exp: now + ttl,
        jti: new_jti(),
        scope: grant.scope.clone(),
        grant_id: Some(grant.id.clone()),
        auth_time: Some(grant.auth_time),
        acr: Some(acr.clone()),
    };
    let access_token = access
        .sign(key)
        .map_err(|e| OAuthError::Server(e.to_string()))?;
    let id_token = if grant.scope.split(' ').any(|s| s == "openid") {
        let claims = IdClaims {
            iss: issuer.issuer.clone(),
            sub: user.id.to_string(),
            aud: client.client_id.clone(),
            azp: client.client_id.clone(),
            exp: now + ID_TOKEN_SECONDS,
            iat: now,
            auth_time: grant.auth_time,
            nonce,
            acr,
            amr,
            at_hash: at_hash(&access_token),
            profile: profile(state, issuer, user, &grant.scope).await?,
        };
        Some(
            claims
                .sign(key)
                .map_err(|e| OAuthError::Server(e.to_string()))?,
        )
    } else {
        None
    };
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: grant.scope.clone(),
        id_token,
        refresh_token,
    }))
}
