//! The stylesheet every page shares, and the site's icon.

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

/// The site's icon: a keyhole in the accent colour, drawn by hand.
/// Presentation attributes only (no `style`), so the strict CSP holds.
pub(crate) const FAVICON: &str = include_str!("../../static/favicon.svg");

pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// Browsers ask for `/favicon.ico` whether or not a page names an icon;
/// they follow a redirect to the SVG.
pub async fn favicon_ico() -> Response {
    (
        axum::http::StatusCode::MOVED_PERMANENTLY,
        [
            (header::LOCATION, "/favicon.svg"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
    )
        .into_response()
}
