//! Who is calling the token, introspection and revocation endpoints:
//! `client_secret_basic` (RFC 6749 §2.3.1: id and secret form-encoded,
//! then Basic), `client_secret_post`, or, for public clients, `none` (the
//! client only names itself; its code must then be bound by PKCE).

use crate::oidc::error::OAuthError;
use crate::oidc::form::OAuthForm;
use crate::oidc::issuers::Issuer;
use axum::http::{header, HeaderMap};
use base64::Engine;
use portvakt_core::oidc::client::{ClientKind, OidcClient};
use std::sync::Arc;

/// An authenticated (or, for a public client, only named) caller.
pub struct Caller {
    pub client: Arc<OidcClient>,
    /// Proved it holds the client secret.
    pub authenticated: bool,
}

fn basic(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| OAuthError::InvalidClient)?;
    let Some((scheme, b64)) = value.split_once(' ') else {
        return Err(OAuthError::InvalidClient);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::InvalidClient);
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| OAuthError::InvalidClient)?;
    let raw = String::from_utf8(raw).map_err(|_| OAuthError::InvalidClient)?;
    let (id, secret) = raw.split_once(':').ok_or(OAuthError::InvalidClient)?;
    let decode = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((decode(id), decode(secret))))
}

/// The calling client of `issuer`'s organisation.
///
/// # Errors
/// `invalid_request` for two methods at once; `invalid_client` for an
/// unknown client, a wrong secret, or a confidential client without one.
pub fn caller(
    issuer: &Issuer,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> Result<Caller, OAuthError> {
    let from_header = basic(headers)?;
    let (client_id, secret) = match (from_header, form.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "Use one client authentication method, not two.",
            ))
        }
        (Some((id, secret)), None) => {
            if form.get("client_id").is_some_and(|f| f != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id does not match the authenticated client.",
                ));
            }
            (id, Some(secret))
        }
        (None, secret) => (
            form.get("client_id")
                .ok_or(OAuthError::InvalidClient)?
                .to_owned(),
            secret.map(str::to_owned),
        ),
    };
    let client = issuer
        .client(&client_id)
        .ok_or(OAuthError::InvalidClient)?
        .clone();
    match (client.kind, secret) {
        (ClientKind::Confidential, Some(s)) if client.secret_matches(&s) => Ok(Caller {
            client,
            authenticated: true,
        }),
        (ClientKind::Public, None) => Ok(Caller {
            client,
            authenticated: false,
        }),
        _ => Err(OAuthError::InvalidClient),
    }
}
