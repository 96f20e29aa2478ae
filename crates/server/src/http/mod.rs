//! HTTP plumbing shared by every capability: errors, extractors, CSRF,
//! cookies, security headers, language, page chrome and the recorded route
//! table.

pub mod access_text;
pub mod api_error;
pub mod assets;
pub mod body_deadline;
pub mod client_ip;
pub mod cookies;
pub mod csrf;
pub mod device;
pub mod error;
pub mod event_words;
pub mod extract;
pub mod headers;
pub mod i18n;
pub mod icons;
pub mod language;
pub mod page;
pub mod return_to;
pub mod router;
pub mod texts;
pub mod time_fmt;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use Access::Public;

/// The shared stylesheet, the site's icon and the language switch.
pub fn routes(r: Routes) -> Routes {
    r.add(
        &["GET"],
        "/static/portvakt.css",
        Public,
        get(assets::stylesheet),
    )
    .add(&["GET"], "/favicon.svg", Public, get(assets::favicon))
    .add(&["GET"], "/favicon.ico", Public, get(assets::favicon_ico))
    .add(
        &["POST"],
        "/language",
        Public,
        post(language::language_post),
    )
}
