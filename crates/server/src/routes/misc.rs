use crate::error::AppError;
use crate::extract::{CsrfToken, PageLang, ValidForm};
use crate::i18n::Lang;
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.list_organisations().await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

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

#[derive(Deserialize)]
pub struct SignedOutQuery {
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage {
    p: Page,
    message: String,
}

pub async fn signed_out(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Query(q): Query<SignedOutQuery>,
) -> Result<Html<String>, AppError> {
    let message = match q.reason.as_deref() {
        Some("idle") if state.config.session.idle_minutes == 15 => {
            t.get("signedout.idle").to_owned()
        }
        Some("idle") => t.get("signedout.idle_n").to_owned(),
        Some("expired") => t.get("signedout.expired").to_owned(),
        Some("password") => t.get("signedout.password").to_owned(),
        Some("codes") => t.get("signedout.codes").to_owned(),
        Some("reset") => t.get("signedout.reset").to_owned(),
        _ => t.get("signedout.logout").to_owned(),
    };
    Ok(Html(
        SignedOutPage {
            p: Page::anonymous(t, &csrf, "/signed-out"),
            message,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[allow(dead_code)]
    csrf: String,
    lang: String,
    #[serde(default)]
    back: String,
}

/// Only our own paths are valid return addresses (no `//host`, `/\host`).
pub fn local_path(s: &str) -> &str {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && !s.starts_with("/\\")
        && s.len() < 512
        && s.chars().all(|c| c.is_ascii_graphic());
    if ok {
        s
    } else {
        "/"
    }
}

pub async fn language_post(
    State(state): State<AppState>,
    ValidForm(form): ValidForm<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&form.lang).ok_or(AppError::BadRequest)?;
    Ok(crate::routes::login::language_cookie(
        &state,
        lang,
        Redirect::to(local_path(&form.back)).into_response(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed() {
        for bad in [
            "//evil",
            "/\\evil",
            "https://evil",
            "javascript:alert(1)",
            "/a b",
            "",
        ] {
            assert_eq!(super::local_path(bad), "/", "{bad}");
        }
        assert_eq!(super::local_path("/password"), "/password");
    }
}
