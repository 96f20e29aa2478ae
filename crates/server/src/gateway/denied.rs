//! The page that says why a service is closed to this person now, shown
//! by `/auth/denied` (nginx's `error_page 403`) and by the built-in proxy.

use crate::app::state::AppState;
use crate::http::access_text;
use crate::http::error::AppError;
use crate::http::page::Page;
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "denied.html")]
struct DeniedPage {
    p: Page,
    service: String,
    reasons: Vec<String>,
    portal: String,
}

/// 403 with the reasons a service is closed to this user now.
pub(crate) fn denied_page(
    state: &AppState,
    t: crate::http::i18n::Tr,
    org: &super::verify_cache::OrgView,
    service: &portvakt_core::store::Service,
    denials: &[portvakt_core::access::Denial],
) -> Result<Response, AppError> {
    let zones = &org.zones;
    let mut reasons = access_text::reasons(t, denials, zones);
    if reasons.is_empty() {
        reasons.push(t.get("denied.not_yours").to_owned());
    }
    let portal = state.config.forward_auth.as_ref().map_or_else(
        || "/".to_owned(),
        |fa| fa.portal_url.trim_end_matches('/').to_owned() + "/",
    );
    let body = DeniedPage {
        p: Page::bare(t).with_contact(&org.organisation),
        service: service.name.clone(),
        reasons,
        portal,
    }
    .render()?;
    // Served on an app's host, outside the portal's header layer.
    Ok((
        StatusCode::FORBIDDEN,
        [
            (header::CONTENT_SECURITY_POLICY, crate::http::headers::CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(body),
    )
        .into_response())
}
