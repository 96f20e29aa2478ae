//! A deadline for request bodies (issue 10 L6): the header-read timeout
//! bounds a slow client only until its headers are in; this bounds the
//! body. Forms and API requests are small, so they are read whole, within
//! `connections.body_timeout_secs` and the body limit, before any handler
//! runs; a client that trickles gets 408 and its connection closed. The
//! one streamed upload (evidence for an intrusion case) is not buffered
//! here: its handler reads it under a deadline of its own.

use crate::app::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// The most a page or API request body may hold here; the routes' own
/// limits are lower.
const MAX_BUFFERED: usize = 64 * 1024;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if crate::http::csrf::is_evidence_upload(req.uri().path()) {
        return next.run(req).await;
    }
    let deadline = Duration::from_secs(state.config.connections.body_timeout_secs);
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, to_bytes(body, MAX_BUFFERED)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response(),
        Err(_) => {
            tracing::info!(path = %parts.uri.path(), "request body not sent in time");
            let mut r = (
                StatusCode::REQUEST_TIMEOUT,
                "request body not sent in time\n",
            )
                .into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

/// The evidence upload's own deadline: six times the body timeout.
#[must_use]
pub fn upload_deadline(state: &AppState) -> Duration {
    Duration::from_secs(state.config.connections.body_timeout_secs * 6)
}
