//! Adding a second factor: an authenticator app (TOTP with a QR code), an
//! e-mail address or a mobile number confirmed with a code.

use super::settings::CsrfForm;
use super::settings_page::{factor_error, refused, refused_at};
use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::messaging::notice_text::Change;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use portvakt_core::auth::mfa::FactorError;
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::auth::totp::TotpSecret;
use portvakt_core::ids::FactorId;
use portvakt_core::store::FactorKind;
use serde::Deserialize;

pub async fn totp_start_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(_): ValidForm<CsrfForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    let inside_only = state.config.factors.inside_only_for(FactorKind::Totp);
    if let Err(e) = state
        .auth
        .may_register(&user.organisation, &user.session, client.ip, inside_only)
        .await
    {
        return refused(&state, t, &csrf, &user, e, "/settings?continue=app#apps").await;
    }
    let factor = state.auth.start_totp(&user.user).await?;
    Ok(Redirect::to(&format!("/settings/totp/{}", factor.id)).into_response())
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    p: Page,
    id: String,
    qr: String,
    uri: String,
    secret: String,
    label: String,
    error: Option<String>,
}

async fn totp_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    id: &str,
    label: &str,
    error: Option<&str>,
) -> Result<String, AppError> {
    let factors = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?;
    let f = factors
        .iter()
        .find(|f| f.id.as_str() == id && !f.confirmed)
        .ok_or(AppError::NotFound)?;
    let secret = f
        .secret
        .as_deref()
        .and_then(TotpSecret::parse)
        .ok_or(AppError::NotFound)?;
    let issuer = format!("Portvakt {}", user.organisation.name);
    let uri = secret
        .otpauth_uri(&issuer, user.user.username.as_str())
        .ok_or(AppError::Internal("otpauth uri".into()))?;
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    let qr = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    );
    Ok(TotpPage {
        p: Page::for_user(t, csrf, "/settings", user),
        id: id.to_owned(),
        qr,
        uri,
        secret: secret.grouped(),
        label: label.to_owned(),
        error: error.map(|k| t.get(k).to_owned()),
    }
    .render()?)
}

pub async fn totp_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        totp_page(&state, t, &csrf, &user, &id, "", None).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    code: String,
}

pub async fn totp_confirm_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<ConfirmForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    let inside_only = state.config.factors.inside_only_for(FactorKind::Totp);
    if let Err(e) = state
        .auth
        .may_register(&user.organisation, &user.session, client.ip, inside_only)
        .await
    {
        return refused(&state, t, &csrf, &user, e, "/settings").await;
    }
    let label: String = form.label.chars().take(200).collect();
    match state
        .auth
        .confirm_totp(
            &user.user,
            &FactorId::from_raw(id.clone()),
            &label,
            &form.code,
            &client,
        )
        .await
    {
        Ok(()) => {
            tell_added(
                &state,
                &user,
                FactorKind::Totp,
                &FactorId::from_raw(id.clone()),
            )
            .await;
            audit_added(&state, &user, &client, FactorKind::Totp, &id).await;
            Ok(Redirect::to("/settings?done=added").into_response())
        }
        Err(e) => {
            let key = factor_error(e)?;
            let body = totp_page(&state, t, &csrf, &user, &id, &label, Some(key)).await?;
            Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    address: String,
}

/// Registers an address for codes: sends a code there first.
pub async fn email_start_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<EmailForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    let address: String = form.address.chars().take(300).collect();
    start_code_factor(
        &state,
        t,
        &csrf,
        &client,
        &user,
        FactorKind::Email,
        &address,
    )
    .await
}

/// Registers an address or number: checks where the user is and how fresh
/// the sign-in is, then queues the confirmation code.
async fn start_code_factor(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    client: &ClientInfo,
    user: &CurrentUser,
    kind: FactorKind,
    value: &str,
) -> Result<Response, AppError> {
    if !state.senders.delivers(kind) {
        return Err(AppError::NotFound);
    }
    let inside_only = state.config.factors.inside_only_for(kind);
    if let Err(e) = state
        .auth
        .may_register(&user.organisation, &user.session, client.ip, inside_only)
        .await
    {
        return refused_at(state, t, csrf, user, e, kind, value).await;
    }
    let started = if kind == FactorKind::Sms {
        state
            .auth
            .start_sms_factor(&user.session, &user.user, value)
            .await
    } else {
        // Checked here as well as in core: an address that can only fail
        // at delivery (`a@[127.0.0.1]`) is refused while the person is
        // still at the form (issue 10).
        match portvakt_core::domain::EmailAddress::parse(value) {
            Ok(address) => {
                state
                    .auth
                    .start_email_factor(&user.session, &user.user, address.as_str())
                    .await
            }
            Err(_) => Err(FactorError::BadAddress),
        }
    };
    match started {
        Ok((factor, issued)) => {
            let lang = user.user.language.unwrap_or_default();
            let m = crate::messaging::messages::confirm_code_message(
                &user.organisation.id,
                &issued,
                lang,
                state.clock.now(),
            );
            state.store.enqueue_message(&m).await?;
            Ok(Redirect::to(&format!("/settings/verify/{}", factor.id)).into_response())
        }
        Err(e) => refused_at(state, t, csrf, user, e, kind, value).await,
    }
}

#[derive(Template)]
#[template(path = "email_confirm.html")]
struct EmailConfirmPage {
    p: Page,
    id: String,
    sms: bool,
    error: Option<String>,
}

async fn verify_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    id: String,
    error: Option<String>,
) -> Result<String, AppError> {
    let factors = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?;
    let f = factors
        .iter()
        .find(|f| f.id.as_str() == id && !f.confirmed)
        .ok_or(AppError::NotFound)?;
    let sms = f.kind == FactorKind::Sms;
    Ok(EmailConfirmPage {
        p: Page::for_user(t, csrf, "/settings", user),
        id,
        sms,
        error,
    }
    .render()?)
}

pub async fn email_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    Ok(Html(verify_page(&state, t, &csrf, &user, id, None).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfirmForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub async fn email_confirm_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<EmailConfirmForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    let code: String = form.code.chars().take(64).collect();
    let fid = FactorId::from_raw(id.clone());
    // Read before the change, so nothing after it can fail the request.
    let kind = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?
        .into_iter()
        .find(|f| f.id == fid)
        .map_or(FactorKind::Email, |f| f.kind);
    match state
        .auth
        .confirm_sent_factor(&user.session, &user.user, &fid, &code, &client)
        .await
    {
        Ok(()) => {
            tell_added(&state, &user, kind, &fid).await;
            audit_added(&state, &user, &client, kind, &id).await;
            Ok(Redirect::to("/settings?done=added").into_response())
        }
        Err(e) => {
            let key = factor_error(e)?;
            let body =
                verify_page(&state, t, &csrf, &user, id, Some(t.get(key).to_owned())).await?;
            Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    number: String,
}

/// Adds a mobile number (at most two, digits only; from inside by default).
pub async fn sms_start_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<SmsForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    let number: String = form.number.chars().take(40).collect();
    start_code_factor(&state, t, &csrf, &client, &user, FactorKind::Sms, &number).await
}

/// The person's other addresses and numbers hear that a method was added;
/// the new one itself is not the warning (its owner may be the stranger).
async fn tell_added(state: &AppState, user: &CurrentUser, kind: FactorKind, added: &FactorId) {
    crate::messaging::notices::tell_contacts(
        state,
        &user.organisation,
        &user.user,
        Change::Added(kind),
        Some(added),
    )
    .await;
}

/// The person's own security change, in the audit log (issue 14).
async fn audit_added(
    state: &AppState,
    user: &CurrentUser,
    client: &portvakt_core::auth::signin::ClientInfo,
    kind: FactorKind,
    factor: &str,
) {
    crate::audit::events::record(
        state,
        user,
        client,
        "account.add_factor",
        &format!("{}/{factor}", user.user.id),
        kind.as_str(),
    )
    .await;
}
