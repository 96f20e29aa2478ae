//! Passkey pages. Every ceremony is two form posts: the first starts it and
//! renders a page carrying the browser options; a small script
//! (`/static/passkey.js`) asks the browser for the passkey when the user
//! presses the button and posts the answer as an ordinary form field, so
//! errors come back as ordinary pages.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, SecondFactorStep, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::texts::rule_key;
use crate::messaging::notice_text::Change;
use crate::signin::login::signed_in;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::auth::passkey::{PasskeyError, PasskeyPrompt};
use portvakt_core::store::FactorKind;
use serde::Deserialize;

/// Which ceremony a page runs; decides texts, fields and where it posts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    SignIn,
    SecondFactor,
    Register,
    Reset,
}

impl Flow {
    fn action(self) -> &'static str {
        match self {
            Flow::SignIn => "/login/passkey/finish",
            Flow::SecondFactor => "/login/factor/passkey/finish",
            Flow::Register => "/settings/passkey/finish",
            Flow::Reset => "/reset/passkey/finish",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Flow::SignIn => "signin",
            Flow::SecondFactor => "second",
            Flow::Register => "register",
            Flow::Reset => "reset",
        }
    }
    fn back(self) -> &'static str {
        match self {
            Flow::SignIn => "/login",
            Flow::SecondFactor => "/login/factor",
            Flow::Register => "/settings",
            Flow::Reset => "/reset",
        }
    }
}

#[derive(Template)]
#[template(path = "passkey.html")]
struct PasskeyPage {
    p: Page,
    title: String,
    lead: String,
    button: String,
    action: &'static str,
    back: &'static str,
    back_text: String,
    /// `create` (registration) or `get`.
    mode: &'static str,
    ceremony: String,
    options: String,
    ask_label: bool,
    ask_password: bool,
    rules: String,
    label: String,
    error: Option<String>,
    error_field: &'static str,
}

fn page(
    state: &AppState,
    p: Page,
    flow: Flow,
    prompt: &PasskeyPrompt,
    label: &str,
    error: Option<(&str, &'static str)>,
) -> Result<String, AppError> {
    let t = p.t;
    let k = |s: &str| t.get(&format!("passkey.{}.{s}", flow.key())).to_owned();
    Ok(PasskeyPage {
        title: k("title"),
        lead: k("lead"),
        button: k("button"),
        action: flow.action(),
        back: flow.back(),
        back_text: t.get("passkey.back").to_owned(),
        mode: if flow == Flow::Register {
            "create"
        } else {
            "get"
        },
        ceremony: prompt.ceremony.clone(),
        options: prompt.options.clone(),
        ask_label: flow == Flow::Register,
        ask_password: flow == Flow::Reset,
        rules: t
            .get("password.rules")
            .replace("{min}", &state.config.password.min_length.to_string()),
        label: label.to_owned(),
        error: error.map(|(key, _)| t.get(key).to_owned()),
        error_field: error.map_or("", |(_, f)| f),
        p,
    }
    .render()?)
}

fn passkey_failure(e: PasskeyError) -> Result<(StatusCode, &'static str, &'static str), AppError> {
    Ok(match e {
        PasskeyError::NotConfigured => return Err(AppError::NotFound),
        PasskeyError::NotAccepted | PasskeyError::AttemptOver => {
            (StatusCode::UNAUTHORIZED, "passkey.error.not_accepted", "")
        }
        PasskeyError::Duplicate => (StatusCode::CONFLICT, "passkey.error.duplicate", ""),
        PasskeyError::BadLabel => (StatusCode::BAD_REQUEST, "settings.error.label", "label"),
        PasskeyError::Disabled => (StatusCode::FORBIDDEN, "login.error.disabled", ""),
        PasskeyError::Locked => (StatusCode::LOCKED, "login.error.locked", ""),
        PasskeyError::Frozen => (StatusCode::LOCKED, "error.frozen", ""),
        PasskeyError::Rule(r) => (StatusCode::BAD_REQUEST, rule_key(&r), "new"),
        PasskeyError::Busy => return Err(AppError::Busy),
        PasskeyError::Store(e) => return Err(e.into()),
    })
}

#[derive(Deserialize)]
pub struct StartForm {
    #[allow(dead_code)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct FinishForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// The script that talks to the browser's WebAuthn API.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/passkey.js"),
    )
        .into_response()
}

async fn start_anonymous(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    flow: Flow,
    error: Option<(StatusCode, &str, &'static str)>,
) -> Result<Response, AppError> {
    let prompt = state
        .auth
        .start_passkey_discovery(flow == Flow::Reset)
        .await
        .map_err(|e| passkey_failure(e).err().unwrap_or(AppError::NotFound))?;
    let p = Page::anonymous(t, csrf, flow.back());
    let status = error.map_or(StatusCode::OK, |(s, _, _)| s);
    let body = page(state, p, flow, &prompt, "", error.map(|(_, k, f)| (k, f)))?;
    Ok((status, Html(body)).into_response())
}

/// "Logga in med passkey": no username, the browser offers its passkeys.
pub async fn signin_start(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    ValidForm(_): ValidForm<StartForm>,
) -> Result<Response, AppError> {
    start_anonymous(&state, t, &csrf, Flow::SignIn, None).await
}

pub async fn signin_finish(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    ValidForm(form): ValidForm<FinishForm>,
) -> Result<Response, AppError> {
    match state
        .auth
        .finish_passkey_signin(&form.ceremony, &form.credential, &client)
        .await
    {
        Ok(signed) => Ok(signed_in(&state, &signed, &headers, &client).await),
        Err(e) => {
            let (status, key, field) = passkey_failure(e)?;
            start_anonymous(&state, t, &csrf, Flow::SignIn, Some((status, key, field))).await
        }
    }
}

/// A passkey as the second step after the password.
pub async fn second_start(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    step: SecondFactorStep,
    ValidForm(_): ValidForm<StartForm>,
) -> Result<Response, AppError> {
    second_page(&state, t, &csrf, &step, None).await
}

async fn second_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    step: &SecondFactorStep,
    error: Option<(StatusCode, &str, &'static str)>,
) -> Result<Response, AppError> {
    match state.auth.start_passkey_second_factor(&step.0.token).await {
        Ok(prompt) => {
            let p = Page::anonymous(t, csrf, Flow::SecondFactor.back());
            let status = error.map_or(StatusCode::OK, |(s, _, _)| s);
            let body = page(
                state,
                p,
                Flow::SecondFactor,
                &prompt,
                "",
                error.map(|(_, k, f)| (k, f)),
            )?;
            Ok((status, Html(body)).into_response())
        }
        Err(PasskeyError::AttemptOver) => Ok(Redirect::to("/login").into_response()),
        Err(e) => Err(passkey_failure(e).err().unwrap_or(AppError::NotFound)),
    }
}

pub async fn second_finish(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    step: SecondFactorStep,
    ValidForm(form): ValidForm<FinishForm>,
) -> Result<Response, AppError> {
    match state
        .auth
        .finish_passkey_second_factor(&step.0.token, &form.ceremony, &form.credential, &client)
        .await
    {
        Ok(token) => super::factor::completed(&state, &step, &token, &headers, &client).await,
        Err(PasskeyError::AttemptOver) => {
            super::factor::attempt_over(&state, &step, &headers).await
        }
        Err(e) => {
            let (status, key, field) = passkey_failure(e)?;
            second_page(&state, t, &csrf, &step, Some((status, key, field))).await
        }
    }
}

/// Registering a passkey on "Mina inställningar": a fresh sign-in and, by
/// default, an internal network, as for every factor.
pub async fn register_start(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(_): ValidForm<StartForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    register_page(&state, t, &csrf, &client, &user, "", None).await
}

async fn register_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    client: &portvakt_core::auth::signin::ClientInfo,
    user: &CurrentUser,
    label: &str,
    error: Option<(StatusCode, &str, &'static str)>,
) -> Result<Response, AppError> {
    if !state.auth.passkeys_enabled() {
        return Err(AppError::NotFound);
    }
    let inside_only = state.config.factors.inside_only_for(FactorKind::Passkey);
    if let Err(e) = state
        .auth
        .may_register(&user.organisation, &user.session, client.ip, inside_only)
        .await
    {
        return crate::account::settings_page::refused(
            state,
            t,
            csrf,
            user,
            e,
            "/settings?continue=passkey#passkeys",
        )
        .await;
    }
    let prompt = state
        .auth
        .start_passkey_registration(&user.user, &user.session)
        .await
        .map_err(|e| passkey_failure(e).err().unwrap_or(AppError::NotFound))?;
    let p = Page::for_user(t, csrf, "/settings", user);
    let status = error.map_or(StatusCode::OK, |(s, _, _)| s);
    let body = page(
        state,
        p,
        Flow::Register,
        &prompt,
        label,
        error.map(|(_, k, f)| (k, f)),
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn register_finish(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<FinishForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check_add_factor(&state, &user, &client).await?;
    let inside_only = state.config.factors.inside_only_for(FactorKind::Passkey);
    if let Err(e) = state
        .auth
        .may_register(&user.organisation, &user.session, client.ip, inside_only)
        .await
    {
        return crate::account::settings_page::refused(&state, t, &csrf, &user, e, "/settings")
            .await;
    }
    let label: String = form.label.chars().take(200).collect();
    match state
        .auth
        .finish_passkey_registration(
            &user.user,
            &user.session,
            &form.ceremony,
            &label,
            &form.credential,
            &client,
        )
        .await
    {
        Ok(factor) => {
            crate::messaging::notices::tell_contacts(
                &state,
                &user.organisation,
                &user.user,
                Change::Added(FactorKind::Passkey),
                Some(&factor.id),
            )
            .await;
            Ok(Redirect::to("/settings?done=added").into_response())
        }
        Err(e) => {
            let (status, key, field) = passkey_failure(e)?;
            register_page(
                &state,
                t,
                &csrf,
                &client,
                &user,
                &label,
                Some((status, key, field)),
            )
            .await
        }
    }
}

/// Forgotten password, with a passkey registered beforehand.
pub async fn reset_start(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    ValidForm(_): ValidForm<StartForm>,
) -> Result<Response, AppError> {
    start_anonymous(&state, t, &csrf, Flow::Reset, None).await
}

pub async fn reset_finish(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    ValidForm(form): ValidForm<FinishForm>,
) -> Result<Response, AppError> {
    if form.new != form.confirm {
        let e = (
            StatusCode::BAD_REQUEST,
            "password.error.mismatch",
            "confirm",
        );
        return start_anonymous(&state, t, &csrf, Flow::Reset, Some(e)).await;
    }
    match state
        .auth
        .finish_passkey_reset(&form.ceremony, &form.credential, &form.new, &client)
        .await
    {
        Ok(user) => {
            super::reset::tell_of_reset(&state, &user).await;
            Ok(Redirect::to("/signed-out?reason=reset").into_response())
        }
        Err(e) => {
            let (status, key, field) = passkey_failure(e)?;
            start_anonymous(&state, t, &csrf, Flow::Reset, Some((status, key, field))).await
        }
    }
}
