//! One error type for every HTML route, with the status mapping written once.
//! People see a short Swedish and English message and a reference; the log
//! gets the detail, tagged with the same reference.

use crate::http::i18n::{Lang, Tr};
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request")]
    BadRequest,
    #[error("csrf check failed")]
    Csrf,
    #[error("forbidden")]
    Forbidden,
    /// A signed-in user without the role the page needs (403). The
    /// response carries who it was ([`RoleRefusal`]), so the admin-events
    /// layer records it with the request's address (issue 10 L7).
    #[error("role refused")]
    RoleRefused(RoleRefusal),
    #[error("not found")]
    NotFound,
    /// A store uniqueness rule refused the change (409, never 500).
    #[error("conflict on {0}")]
    Conflict(String),
    #[error("busy")]
    Busy,
    #[error("internal: {0}")]
    Internal(String),
    /// The organisation's change freeze refuses this (423), with its
    /// reason and since when, in Stockholm time.
    #[error("frozen")]
    Frozen { reason: String, since: String },
}

/// Who was refused, in which organisation (see [`AppError::RoleRefused`]).
#[derive(Debug, Clone)]
pub struct RoleRefusal {
    pub organisation: portvakt_core::ids::OrganisationId,
    pub actor: portvakt_core::ids::UserId,
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(on) => AppError::Conflict(on),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    sv: Tr,
    en: Tr,
    key: &'a str,
    /// The heading: "Något gick fel", or what it was.
    title: &'a str,
    reference: Option<String>,
    /// Shown once, as written (a freeze's reason and time).
    detail: Option<String>,
}

impl AppError {
    fn status_and_key(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest => (StatusCode::BAD_REQUEST, "error.bad_request"),
            AppError::Csrf => (StatusCode::FORBIDDEN, "error.csrf"),
            AppError::Forbidden | AppError::RoleRefused(_) => {
                (StatusCode::FORBIDDEN, "error.forbidden")
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "error.conflict"),
            AppError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "login.error.busy"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
            AppError::Frozen { .. } => (StatusCode::LOCKED, "error.frozen"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, key) = self.status_and_key();
        let reference = if let AppError::Internal(detail) = &self {
            let r = portvakt_core::ids::EventId::generate().as_str()[4..16].to_owned();
            tracing::error!(reference = %r, error = %detail, "request failed");
            Some(r)
        } else {
            if let AppError::Conflict(on) = &self {
                tracing::info!(constraint = %on, "request refused: store conflict");
            }
            None
        };
        let page = ErrorPage {
            sv: Tr::new(Lang::Sv),
            en: Tr::new(Lang::En),
            key,
            title: if matches!(self, AppError::Frozen { .. }) {
                "error.frozen_title"
            } else {
                "error.title"
            },
            reference,
            detail: match &self {
                AppError::Frozen { reason, since } if !reason.is_empty() => {
                    Some(format!("{since}: {reason}"))
                }
                _ => None,
            },
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "Internt fel / Internal error".into());
        let mut resp = (status, Html(body)).into_response();
        if matches!(self, AppError::Busy) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        if let AppError::RoleRefused(who) = self {
            resp.extensions_mut().insert(who);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A store conflict is the person's 409 page in both languages, never a
    /// 500 with a reference.
    #[tokio::test]
    async fn a_store_conflict_is_a_409_page_in_swedish_and_english() {
        let e: AppError = StoreError::Conflict("users_username_key".into()).into();
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(html.contains("krockar"), "{html}");
        assert!(html.contains("clashes"), "{html}");
        assert!(!html.contains("users_username_key"));
    }
}
