//! "Mina inställningar" as a page: the factors with their dates, and the
//! page again with what was wrong.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, CurrentUser};
use crate::http::i18n::{Lang, Tr};
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::auth::mfa::FactorError;

pub(super) struct FactorRow {
    id: String,
    label: String,
    kind: String,
    added: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub(super) struct SettingsPage {
    p: Page,
    factors: Vec<FactorRow>,
    email_enabled: bool,
    sms_enabled: bool,
    passkeys_enabled: bool,
    /// The user's language choice: "", "sv" or "en".
    language: &'static str,
    notice: Option<String>,
    error: Option<String>,
}

pub(super) async fn settings_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<String, AppError> {
    let factors = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?
        .into_iter()
        .filter(|f| f.confirmed)
        .map(|f| FactorRow {
            id: f.id.to_string(),
            kind: t.get(crate::http::texts::kind_key(f.kind)).to_owned(),
            label: f.label,
            added: stockholm(f.created_at),
            last_used: f.last_used_at.map(stockholm).unwrap_or_default(),
        })
        .collect();
    Ok(SettingsPage {
        p: Page::for_user(t, csrf, "/settings", user),
        factors,
        email_enabled: state.senders.email.is_some(),
        sms_enabled: state.senders.sms.is_some(),
        passkeys_enabled: state.auth.passkeys_enabled(),
        language: user.user.language.map_or("", Lang::as_str),
        notice: notice.map(|k| t.get(k).to_owned()),
        error: error.map(|k| t.get(k).to_owned()),
    }
    .render()?)
}

pub(super) fn factor_error(e: FactorError) -> Result<&'static str, AppError> {
    Ok(match e {
        FactorError::WrongCode => "settings.error.code",
        FactorError::OutsideInternal => "settings.error.outside",
        FactorError::BadLabel => "settings.error.label",
        FactorError::LastFactor => "settings.error.last",
        FactorError::NotFound => return Err(AppError::NotFound),
        FactorError::NotFresh => "settings.error.fresh",
        FactorError::BadAddress => "settings.error.address",
        FactorError::TooSoon => "settings.error.too_soon",
        FactorError::BadPhone(portvakt_core::domain::PhoneError::NotAccepted) => {
            "settings.error.phone_country"
        }
        FactorError::BadPhone(_) => "settings.error.phone",
        FactorError::TooMany => "settings.error.too_many",
        FactorError::Duplicate => "settings.error.duplicate",
        FactorError::TooManyCodes => "factor.error.too_many_codes",
        FactorError::Refused(_) => "login.error.locked",
        FactorError::Store(e) => return Err(e.into()),
    })
}

pub(crate) async fn refused(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    e: FactorError,
    next: &str,
) -> Result<Response, AppError> {
    if matches!(e, FactorError::NotFresh) {
        // Back to the same place afterwards (the settings page opened at
        // the change the person was making), not to the top of settings.
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return Ok(Redirect::to(&format!("/reauth?next={next}")).into_response());
    }
    let key = factor_error(e)?;
    let status = if key == "settings.error.outside" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((
        status,
        Html(settings_page(state, t, csrf, user, None, Some(key)).await?),
    )
        .into_response())
}
