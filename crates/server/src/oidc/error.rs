//! Errors of the OpenID provider's machine endpoints, in the shape the
//! RFCs fix (RFC 6749 §5.2, RFC 6750 §3): `{"error", "error_description"}`,
//! not problem+json. The description comes from a fixed table, never from
//! the request or an internal message; internal errors are logged with a
//! reference that the answer does not carry further.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portvakt_core::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// Unknown client, wrong secret, or no authentication (401).
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unauthorized_client")]
    UnauthorizedClient,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope")]
    InvalidScope,
    /// A bearer token that is missing, expired or not ours (RFC 6750).
    #[error("invalid_token")]
    InvalidToken,
    /// No such issuer (unknown organisation, or the provider is off).
    #[error("not found")]
    NotFound,
    #[error("server_error: {0}")]
    Server(String),
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::Server(e.to_string())
    }
}

impl OAuthError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::InvalidRequest(what) => (StatusCode::BAD_REQUEST, "invalid_request", what),
            Self::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed.",
            ),
            Self::InvalidGrant(what) => (StatusCode::BAD_REQUEST, "invalid_grant", what),
            Self::UnauthorizedClient => (
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "This client may not use this grant type.",
            ),
            Self::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The grant type is not supported.",
            ),
            Self::InvalidScope => (
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "A requested scope is not allowed for this client.",
            ),
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The access token is missing, expired or not valid here.",
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "No such issuer."),
            Self::Server(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The server could not complete the request.",
            ),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let Self::Server(message) = &self {
            tracing::error!(error = %message, "OpenID provider request failed");
        }
        let (status, error, description) = self.parts();
        let body = serde_json::json!({ "error": error, "error_description": description });
        let mut resp = (status, axum::Json(body)).into_response();
        match self {
            Self::InvalidClient => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"portvakt\""),
                );
            }
            Self::InvalidToken => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        resp
    }
}
