//! The OpenID Connect provider's endpoints, one issuer per organisation at
//! `/oidc/{org}` (issue 13). The protocol decisions live in
//! `portvakt_core::oidc`; this folder speaks HTTP.

pub mod authorize;
pub mod cli;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod exchange;
pub mod form;
pub mod introspect;
pub mod issuers;
pub mod token;
pub mod userinfo;

use crate::app::state::AppState;
use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use error::OAuthError;
use std::sync::Arc;
use Access::{Bearer, Client, Public, SignedIn};

pub fn routes(r: Routes) -> Routes {
    r.add_api(
        &["GET"],
        "/oidc/{org}/.well-known/openid-configuration",
        Public,
        get(discovery::configuration),
    )
    .add_api(&["GET"], "/oidc/{org}/jwks", Public, get(discovery::jwks))
    .add_api(&["POST"], "/oidc/{org}/token", Client, post(token::token))
    .add_api(
        &["POST"],
        "/oidc/{org}/introspect",
        Client,
        post(introspect::introspect),
    )
    .add_api(
        &["POST"],
        "/oidc/{org}/revoke",
        Client,
        post(userinfo::revoke),
    )
    .add_api(
        &["GET", "POST"],
        "/oidc/{org}/userinfo",
        Bearer,
        get(userinfo::userinfo).post(userinfo::userinfo),
    )
    .add(
        &["GET", "POST"],
        "/oidc/{org}/authorize",
        Public,
        get(authorize::authorize_get).post(authorize::authorize_post),
    )
    .add(
        &["GET"],
        "/oidc/{org}/continue/{request}",
        Public,
        get(authorize::continue_get),
    )
    .add(
        &["POST"],
        "/oidc/{org}/consent",
        SignedIn,
        post(authorize::consent_post),
    )
    .add(
        &["POST"],
        "/oidc/{org}/step-up",
        SignedIn,
        post(authorize::step_up_post),
    )
}

/// The issuer of the organisation in the path; `NotFound` when the
/// provider is off or the organisation unknown.
///
/// # Errors
/// As [`issuers::Issuers::get`].
pub async fn issuer_for(state: &AppState, org: &str) -> Result<Arc<issuers::Issuer>, OAuthError> {
    let Some(config) = &state.config.oidc else {
        return Err(OAuthError::NotFound);
    };
    state
        .oidc
        .get(config.base(), &*state.store, &*state.clock, org)
        .await
}

/// Creates the first signing keys of every organisation that has none,
/// at start-up, so the first sign-in through an app does not wait for an
/// RSA key to be generated.
pub async fn prepare_keys(state: &AppState) {
    if state.config.oidc.is_none() {
        return;
    }
    if !state.store.seals_keys() {
        tracing::error!(
            "[oidc] needs secret_key_file: the OpenID provider's keys are stored only sealed"
        );
        return;
    }
    let orgs = match state.store.list_organisations().await {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::error!(error = %e, "could not list organisations for OpenID keys");
            return;
        }
    };
    for org in orgs {
        match issuers::ensure_keys(&*state.store, &org.id, state.clock.now()).await {
            Ok(true) => tracing::info!(organisation = %org.slug, "OpenID signing keys created"),
            Ok(false) => {}
            Err(e) => tracing::error!(organisation = %org.slug, error = %e, "OpenID signing keys"),
        }
    }
}
