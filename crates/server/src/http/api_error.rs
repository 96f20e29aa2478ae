//! One error type for every JSON API (the identity provider's endpoints,
//! the admin API), answered as `application/problem+json` (RFC 9457) with
//! the status mapping written once. `type` is a stable URN a client can
//! match on; `title` is fixed per type; `detail` only ever carries text we
//! wrote, never an internal message. An internal error gets a reference
//! that the log line carries too.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portvakt_core::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; `detail` says what, in our words.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A store uniqueness rule refused the change (the constraint is
    /// logged, not sent).
    #[error("conflict on {0}")]
    Conflict(String),
    /// Too many tries; `retry_after` in seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    #[error("unavailable")]
    Unavailable,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(on) => ApiError::Conflict(on),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

/// The body of a problem response (RFC 9457 section 3).
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For an internal error: the reference in the server's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ApiError {
    /// Status, stable type and title.
    #[must_use]
    pub fn describe(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "urn:portvakt:problem:bad-request",
                "Bad request",
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "urn:portvakt:problem:unauthorized",
                "Authentication required",
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "urn:portvakt:problem:forbidden",
                "Not allowed",
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "urn:portvakt:problem:not-found",
                "Not found",
            ),
            ApiError::Conflict(_) => (
                StatusCode::CONFLICT,
                "urn:portvakt:problem:conflict",
                "Conflicts with the current state",
            ),
            ApiError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "urn:portvakt:problem:too-many-requests",
                "Too many requests",
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "urn:portvakt:problem:unavailable",
                "Temporarily unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "urn:portvakt:problem:internal",
                "Internal error",
            ),
        }
    }

    fn problem(&self) -> Problem {
        let (status, kind, title) = self.describe();
        let mut p = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: None,
            reference: None,
        };
        match self {
            ApiError::BadRequest(detail) => p.detail = Some(detail.clone()),
            ApiError::Internal(detail) => {
                let r = portvakt_core::ids::EventId::generate().as_str()[4..16].to_owned();
                tracing::error!(reference = %r, error = %detail, "api request failed");
                p.reference = Some(r);
            }
            ApiError::Conflict(on) => {
                tracing::info!(constraint = %on, "api request refused: store conflict");
            }
            _ => {}
        }
        p
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response();
        if let ApiError::TooManyRequests { retry_after } = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn answer(e: ApiError) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let resp = e.into_response();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_store_conflict_is_409_problem_json_without_the_constraint() {
        let e: ApiError = StoreError::Conflict("users_username_key".into()).into();
        let (status, headers, body) = answer(e).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["type"], "urn:portvakt:problem:conflict");
        assert_eq!(body["status"], 409);
        assert!(!body.to_string().contains("users_username_key"), "{body}");
    }

    #[tokio::test]
    async fn an_internal_error_gets_a_reference_and_no_detail() {
        let e: ApiError =
            StoreError::Backend("password authentication failed for db-S3CRET".into()).into();
        let (status, _, body) = answer(e).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["type"], "urn:portvakt:problem:internal");
        assert_eq!(body["reference"].as_str().unwrap().len(), 12);
        assert!(!body.to_string().contains("S3CRET"), "{body}");
    }

    #[tokio::test]
    async fn every_kind_has_its_own_stable_type_and_matching_status() {
        let all = [
            ApiError::BadRequest("the field 'name' is missing".into()),
            ApiError::Unauthorized,
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::Conflict("x".into()),
            ApiError::TooManyRequests { retry_after: 30 },
            ApiError::Unavailable,
            ApiError::Internal("x".into()),
        ];
        let mut types = std::collections::BTreeSet::new();
        for e in all {
            let (expected, kind, _) = e.describe();
            let detail = matches!(e, ApiError::BadRequest(_));
            let retry = matches!(e, ApiError::TooManyRequests { .. });
            let (status, headers, body) = answer(e).await;
            assert_eq!(status, expected);
            assert_eq!(body["status"], status.as_u16());
            assert_eq!(body["type"], kind);
            assert!(body["title"].is_string());
            assert_eq!(body.get("detail").is_some(), detail, "{body}");
            assert_eq!(headers.get(header::RETRY_AFTER).is_some(), retry);
            assert!(types.insert(kind));
        }
    }
}
