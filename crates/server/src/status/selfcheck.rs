//! "Är det mitt nät eller tjänsten?" — the seed's checks (000), run by the
//! browser: can it reach Portvakt, the status page's copy elsewhere, and an
//! address outside the organisation? The answer says in plain words where
//! the fault most likely is and what to do. Without JavaScript the page is
//! the same checklist, to follow by hand.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, PageLang};
use crate::http::page::Page;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "selfcheck.html")]
struct SelfCheckPage {
    p: Page,
    copy_url: String,
    outside_url: String,
    status_json_url: String,
}

/// The self-check as a file of the status page's static copy: it tries
/// Portvakt at its public address, the outside address, and (being the
/// copy) counts the copy as reachable.
#[derive(Template)]
#[template(path = "selfcheck_static.html")]
pub(crate) struct StaticSelfCheckPage {
    pub(crate) t: crate::http::i18n::Tr,
    pub(crate) org_name: String,
    pub(crate) root: &'static str,
    pub(crate) other: &'static str,
    pub(crate) portvakt_health: String,
    pub(crate) copy_url: String,
    pub(crate) outside_url: String,
    pub(crate) status_json: String,
}

/// The script that runs the checks.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/selfcheck.js"),
    )
        .into_response()
}

/// The origin (`https://host:port`) of a configured URL, for the CSP.
fn origin(url: &str) -> Option<String> {
    let u = portvakt_core::auth::passkey::Url::parse(url).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.origin().ascii_serialization())
}

pub async fn selfcheck_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
) -> Result<Response, AppError> {
    let copy_url = state
        .config
        .status
        .public_copy_url
        .clone()
        .unwrap_or_default();
    let outside_url = state
        .config
        .status
        .outside_check_url
        .clone()
        .unwrap_or_default();
    let extra: Vec<String> = [&copy_url, &outside_url]
        .into_iter()
        .filter_map(|u| origin(u))
        .collect();
    // The portal's policy, plus connections to exactly the two configured origins.
    let csp = crate::http::headers::CSP.replace(
        "default-src 'none';",
        &format!(
            "default-src 'none'; connect-src 'self' {};",
            extra.join(" ")
        ),
    );
    let body = SelfCheckPage {
        p: Page::anonymous(t, &csrf, "/status/check"),
        copy_url,
        outside_url,
        status_json_url: state
            .config
            .default_organisation
            .as_deref()
            .map(|s| format!("/status/{s}.json"))
            .unwrap_or_default(),
    }
    .render()?;
    let mut resp = Html(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(resp)
}
