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
use portvakt_core::auth::email_codes::MAX_NUMBERS;
use portvakt_core::auth::mfa::FactorError;
use portvakt_core::store::FactorKind;

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
    /// The person already has as many numbers as allowed: no form, a line
    /// saying why.
    sms_full: bool,
    /// What was typed in the number and address fields when it was
    /// refused, and why, shown at the field.
    sms_value: String,
    sms_error: Option<String>,
    email_value: String,
    email_error: Option<String>,
    /// Apps the person is signed in to through the OpenID provider, or has
    /// allowed.
    apps: Vec<AppRow>,
}

pub(crate) struct AppRow {
    pub client_id: String,
    pub name: String,
    /// "Inloggad sedan …", or that the person is not signed in now.
    pub since: String,
    pub consented: bool,
}

/// The apps `user` is signed in to or has allowed, for the settings page
/// and the servicedesk's user page.
pub(crate) async fn app_rows(
    state: &AppState,
    t: Tr,
    org: &portvakt_core::ids::OrganisationId,
    user: &portvakt_core::ids::UserId,
) -> Result<Vec<AppRow>, AppError> {
    let clients = state.store.oidc_clients(org).await?;
    let mut rows: Vec<AppRow> = state
        .store
        .user_apps(org, user, state.clock.now())
        .await?
        .into_iter()
        .filter_map(|a| {
            let c = clients.iter().find(|c| c.id == a.client_row_id)?;
            Some(AppRow {
                client_id: c.client_id.clone(),
                name: c.name.clone(),
                since: a.signed_in_since.map_or_else(
                    || t.get("settings.oidc_not_signed_in").to_owned(),
                    stockholm,
                ),
                consented: a.consented,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// An add-form that was refused: which one, what was typed, and why.
pub(super) struct FieldError<'a> {
    pub kind: FactorKind,
    pub value: &'a str,
    pub key: &'static str,
}

pub(super) async fn settings_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<String, AppError> {
    settings_page_at(state, t, csrf, user, notice, error, None).await
}

/// The page, with a refusal shown at the field it is about.
async fn settings_page_at(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    notice: Option<&str>,
    error: Option<&str>,
    field: Option<FieldError<'_>>,
) -> Result<String, AppError> {
    let confirmed: Vec<_> = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?
        .into_iter()
        .filter(|f| f.confirmed)
        .collect();
    let numbers = confirmed
        .iter()
        .filter(|f| f.kind == FactorKind::Sms)
        .count();
    let at = |kind| field.as_ref().filter(|f| f.kind == kind);
    let value = |kind| at(kind).map_or_else(String::new, |f| f.value.to_owned());
    let message = |kind| at(kind).map(|f| t.get(f.key).to_owned());
    let factors = confirmed
        .into_iter()
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
        sms_full: numbers >= MAX_NUMBERS,
        sms_value: value(FactorKind::Sms),
        sms_error: message(FactorKind::Sms),
        email_value: value(FactorKind::Email),
        email_error: message(FactorKind::Email),
        apps: app_rows(state, t, &user.organisation.id, &user.user.id).await?,
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

/// A refused number or address: the page again with what was typed kept
/// and the reason next to the field (WCAG 3.3.1). Where the person is or
/// how fresh the sign-in is concerns the whole page, as with `refused`.
pub(super) async fn refused_at(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    e: FactorError,
    kind: FactorKind,
    value: &str,
) -> Result<Response, AppError> {
    if matches!(e, FactorError::NotFresh | FactorError::OutsideInternal) {
        let back = if kind == FactorKind::Sms {
            "/settings?continue=sms#sms"
        } else {
            "/settings?continue=email#email"
        };
        return refused(state, t, csrf, user, e, back).await;
    }
    let field = FieldError {
        kind,
        value,
        key: factor_error(e)?,
    };
    let body = settings_page_at(state, t, csrf, user, None, None, Some(field)).await?;
    Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
}
