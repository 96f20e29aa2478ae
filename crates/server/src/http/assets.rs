//! The stylesheet every page shares.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/portvakt.css"),
    )
        .into_response()
}
