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

/// Basic credentials, as RFC 6749 §2.3.1 says (form-encoded, then
/// Basic) and as many clients send them (raw; authlib, for one, encodes
/// them as Latin-1). Both readings are tried: for a secret of 256 random
/// bits they are the same, and a hand-set secret works either way.
struct Basic {
    ids: Vec<String>,
    secrets: Vec<String>,
}

fn basic(headers: &HeaderMap) -> Result<Option<Basic>, OAuthError> {
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
    let text = String::from_utf8(raw.clone())
        .unwrap_or_else(|_| raw.iter().map(|&b| char::from(b)).collect());
    let (id, secret) = text.split_once(':').ok_or(OAuthError::InvalidClient)?;
    let decode = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let both = |s: &str| {
        let mut v = vec![decode(s)];
        if v[0] != s {
            v.push(s.to_owned());
        }
        v
    };
    Ok(Some(Basic {
        ids: both(id),
        secrets: both(secret),
    }))
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
    let (ids, secrets) = match (basic(headers)?, form.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "Use one client authentication method, not two.",
            ))
        }
        (Some(b), None) => {
            if form
                .get("client_id")
                .is_some_and(|f| !b.ids.iter().any(|i| i == f))
            {
                return Err(OAuthError::InvalidRequest(
                    "client_id does not match the authenticated client.",
                ));
            }
            (b.ids, b.secrets)
        }
        (None, secret) => (
            vec![form
                .get("client_id")
                .ok_or(OAuthError::InvalidClient)?
                .to_owned()],
            secret.map(str::to_owned).into_iter().collect(),
        ),
    };
    let client = ids
        .iter()
        .find_map(|id| issuer.client(id))
        .ok_or(OAuthError::InvalidClient)?
        .clone();
    match client.kind {
        ClientKind::Confidential if secrets.iter().any(|s| client.secret_matches(s)) => {
            Ok(Caller {
                client,
                authenticated: true,
            })
        }
        ClientKind::Public if secrets.is_empty() => Ok(Caller {
            client,
            authenticated: false,
        }),
        _ => Err(OAuthError::InvalidClient),
    }
}
