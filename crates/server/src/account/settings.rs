//! "Mina inställningar": the user's second factors, and re-authentication
//! before changing them (SECURITY.md B4).

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::{Lang, Tr};
use crate::http::page::Page;
use crate::http::return_to::local_path;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use cookie::SameSite;
use portvakt_core::auth::mfa::FactorError;
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::auth::totp::TotpSecret;
use portvakt_core::ids::FactorId;
use portvakt_core::store::FactorKind;
use serde::Deserialize;

struct FactorRow {
    id: String,
    label: String,
    kind: String,
    added: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
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

#[derive(Deserialize)]
pub struct SettingsQuery {
    done: Option<String>,
}

async fn settings_page(
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

pub async fn settings_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<SettingsQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("added") => Some("settings.added"),
        Some("removed") => Some("settings.removed"),
        Some("language") => Some("settings.language_saved"),
        _ => None,
    };
    Ok(Html(
        settings_page(&state, t, &csrf, &user, notice, None).await?,
    ))
}

fn factor_error(e: FactorError) -> Result<&'static str, AppError> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfForm {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn totp_start_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(_): ValidForm<CsrfForm>,
) -> Result<Response, AppError> {
    let inside_only = state.config.factors.inside_only_for(FactorKind::Totp);
    if let Err(e) = state
        .auth
        .may_register(&user.organisation, &user.session, client.ip, inside_only)
        .await
    {
        return refused(&state, t, &csrf, &user, e, "/settings").await;
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
        Ok(()) => Ok(Redirect::to("/settings?done=added").into_response()),
        Err(e) => {
            let key = factor_error(e)?;
            let body = totp_page(&state, t, &csrf, &user, &id, &label, Some(key)).await?;
            Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
        }
    }
}

pub async fn factor_remove_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(_): ValidForm<CsrfForm>,
) -> Result<Response, AppError> {
    if !state.auth.is_fresh(&user.session) {
        return Ok(Redirect::to("/reauth?next=/settings").into_response());
    }
    let fid = FactorId::from_raw(id);
    let removed = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?
        .into_iter()
        .find(|f| f.id == fid);
    match state
        .auth
        .remove_factor(&user.organisation, &user.user, &fid, &client)
        .await
    {
        Ok(()) => {
            // The removed address or number hears about it: a stranger
            // removing the owner's contact would otherwise go unnoticed.
            if let Some(f) = removed.filter(|f| f.confirmed) {
                crate::messaging::notices::notify_removed(&state, &user.organisation.id, &f)
                    .await?;
            }
            Ok(Redirect::to("/settings?done=removed").into_response())
        }
        Err(e) => refused(&state, t, &csrf, &user, e, "/settings").await,
    }
}

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    p: Page,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn reauth_get(
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<NextQuery>,
) -> Result<Html<String>, AppError> {
    let next = local_path(q.next.as_deref().unwrap_or("/settings")).to_owned();
    let username = user.user.username.to_string();
    Ok(Html(
        ReauthPage {
            p: Page::for_user(t, &csrf, "/settings", &user),
            username,
            next,
            error: None,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct ReauthForm {
    #[allow(dead_code)]
    csrf: String,
    #[allow(dead_code)]
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn reauth_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<ReauthForm>,
) -> Result<Response, AppError> {
    let next = local_path(&form.next).to_owned();
    match state
        .auth
        .reauthenticate(&user.session, &user.user, &form.password, &client)
        .await
    {
        Ok(token) => {
            let c = cookies::build(
                &state.cookies,
                state.cookies.session,
                token.as_str(),
                SameSite::Lax,
                None,
            );
            Ok(with_cookie(Redirect::to(&next).into_response(), c))
        }
        Err(e @ (FactorError::NotFresh | FactorError::Refused(_))) => {
            let username = user.user.username.to_string();
            let (status, error) = match e {
                FactorError::Refused(r) => crate::http::texts::refusal_text(t, r),
                _ => (StatusCode::UNAUTHORIZED, t.get("reauth.error").to_owned()),
            };
            let error = Some(error);
            let body = ReauthPage {
                p: Page::for_user(t, &csrf, "/settings", &user),
                username,
                next,
                error,
            }
            .render()?;
            Ok((status, Html(body)).into_response())
        }
        Err(e) => Err(factor_error(e).err().unwrap_or(AppError::BadRequest)),
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
        return refused(state, t, csrf, user, e, "/settings").await;
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
            let m = crate::messaging::messages::code_message(
                &user.organisation.id,
                &issued,
                lang,
                state.clock.now(),
            );
            state.store.enqueue_message(&m).await?;
            Ok(Redirect::to(&format!("/settings/verify/{}", factor.id)).into_response())
        }
        Err(e) => refused(state, t, csrf, user, e, "/settings").await,
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
    let code: String = form.code.chars().take(64).collect();
    let fid = FactorId::from_raw(id.clone());
    match state
        .auth
        .confirm_sent_factor(&user.session, &user.user, &fid, &code, &client)
        .await
    {
        Ok(()) => {
            crate::messaging::notices::notify_other_contacts(&state, &user, &fid).await?;
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
    let number: String = form.number.chars().take(40).collect();
    start_code_factor(&state, t, &csrf, &client, &user, FactorKind::Sms, &number).await
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    language: String,
}

/// The user's own language: kept on the account, applied at every sign-in
/// (on any device), and at once in this browser. Empty follows the browser.
pub async fn language_post(
    State(state): State<AppState>,
    user: CurrentUser,
    ValidForm(form): ValidForm<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = match form.language.as_str() {
        "" => None,
        other => Some(Lang::from_tag(other).ok_or(AppError::BadRequest)?),
    };
    state
        .store
        .set_user_language(&user.organisation.id, &user.user.id, lang)
        .await?;
    let resp = Redirect::to("/settings?done=language").into_response();
    Ok(match lang {
        Some(l) => crate::http::language::language_cookie(&state, l, resp),
        None => resp,
    })
}
