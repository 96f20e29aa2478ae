//! The second step of signing in: a code from the authenticator app, or one
//! sent by e-mail to an address registered beforehand.

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, PageLang, SecondFactorStep, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt;
use crate::messaging::messages;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::email_codes::{masked, SendCodeError};
use portvakt_core::auth::mfa::{pending_expires_at, SecondFactorError};
use portvakt_core::auth::session::SessionToken;
use portvakt_core::domain::PhoneNumber;
use portvakt_core::ids::FactorId;
use portvakt_core::store::FactorKind;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "factor.html")]
struct FactorPage {
    p: Page,
    expires: String,
    has_app: bool,
    has_passkey: bool,
    /// (factor id, masked destination, button text)
    emails: Vec<(String, String, String)>,
    sent_to: Option<String>,
    sent_id: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct FactorQuery {
    sent: Option<String>,
}

async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    step: &SecondFactorStep,
    sent: Option<&str>,
    error: Option<String>,
) -> Result<String, AppError> {
    let u = &step.0;
    let factors = state.store.factors(&u.organisation.id, &u.user.id).await?;
    let confirmed = factors.iter().filter(|f| f.confirmed);
    let has_app = confirmed.clone().any(|f| f.kind == FactorKind::Totp);
    let has_passkey =
        state.auth.passkeys_enabled() && confirmed.clone().any(|f| f.kind == FactorKind::Passkey);
    let emails: Vec<(String, String, String)> = confirmed
        .filter(|f| state.senders.delivers(f.kind))
        .filter_map(|f| {
            let d = f.destination.as_deref()?;
            let (shown, verb) = if f.kind == FactorKind::Sms {
                (
                    PhoneNumber::from_stored(d.to_owned()).masked(),
                    t.get("factor.sms_to"),
                )
            } else {
                (masked(d), t.get("factor.email_to"))
            };
            Some((f.id.to_string(), shown.clone(), format!("{verb} {shown}")))
        })
        .collect();
    let sent_to = sent.and_then(|id| {
        emails
            .iter()
            .find(|(fid, _, _)| fid == id)
            .map(|(_, m, _)| m.clone())
    });
    let sent_id = sent.unwrap_or_default().to_owned();
    let expires = time_fmt::stockholm_time(pending_expires_at(&u.session));
    Ok(FactorPage {
        p: Page::anonymous(t, csrf, "/login/factor"),
        expires,
        has_app,
        has_passkey,
        emails,
        sent_to,
        sent_id,
        error,
    }
    .render()?)
}

pub async fn factor_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    step: SecondFactorStep,
    Query(q): Query<FactorQuery>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render(&state, t, &csrf, &step, q.sent.as_deref(), None).await?,
    ))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    factor: String,
    #[serde(default)]
    code: String,
}

/// The second factor was accepted: the full session replaces the pending one.
pub(crate) fn completed(
    state: &AppState,
    step: &SecondFactorStep,
    token: &SessionToken,
    headers: &axum::http::HeaderMap,
) -> Response {
    let c = cookies::build(
        &state.cookies,
        state.cookies.session,
        token.as_str(),
        SameSite::Lax,
        None,
    );
    let to = if step.0.user.must_change_password {
        "/password"
    } else {
        "/"
    };
    super::login::finish_at(
        state,
        headers,
        to,
        with_cookie(Redirect::to(to).into_response(), c),
    )
}

/// Too many failures or too late: back to the start, session cookie cleared.
pub(crate) fn attempt_over(state: &AppState) -> Response {
    let clear = cookies::build(
        &state.cookies,
        state.cookies.session,
        "",
        SameSite::Lax,
        Some(0),
    );
    with_cookie(
        Redirect::to("/signed-out?reason=codes").into_response(),
        clear,
    )
}

pub async fn factor_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    step: SecondFactorStep,
    ValidForm(form): ValidForm<CodeForm>,
) -> Result<Response, AppError> {
    let code: String = form.code.chars().take(64).collect();
    let result = match form.method.as_str() {
        "sent" | "email" => {
            state
                .auth
                .verify_sent_code(&step.0.token, &code, &client)
                .await
        }
        _ => state.auth.verify_totp(&step.0.token, &code, &client).await,
    };
    let sent = matches!(form.method.as_str(), "sent" | "email").then_some(form.factor.as_str());
    let mut status = StatusCode::UNAUTHORIZED;
    let msg = match result {
        Ok(token) => return Ok(completed(&state, &step, &token, &headers)),
        Err(SecondFactorError::Refused(r)) => {
            let (s, text) = crate::http::texts::refusal_text(t, r);
            status = s;
            text
        }
        Err(SecondFactorError::WrongCode { tries_left }) => t
            .get("factor.error.wrong")
            .replace("{n}", &tries_left.to_string()),
        Err(SecondFactorError::CodeVoid) => t.get("factor.error.void").to_owned(),
        Err(SecondFactorError::Malformed) => {
            status = StatusCode::BAD_REQUEST;
            t.get("factor.error.shape").to_owned()
        }
        Err(SecondFactorError::AttemptOver) => return Ok(attempt_over(&state)),
        Err(SecondFactorError::Store(e)) => return Err(e.into()),
    };
    let body = render(&state, t, &csrf, &step, sent, Some(msg)).await?;
    Ok((status, Html(body)).into_response())
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

/// Sends a code to a registered address: queued, never sent inside the request.
pub async fn send_email_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    step: SecondFactorStep,
    Path(id): Path<String>,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    if !state.senders.any() {
        return Err(AppError::NotFound);
    }
    match state
        .auth
        .send_signin_code(&step.0.token, &FactorId::from_raw(id.clone()))
        .await
    {
        Ok(issued) => {
            let now = state.clock.now();
            let lang = step.0.user.language.unwrap_or_default();
            let m = messages::code_message(&step.0.organisation.id, &issued, lang, now);
            state.store.enqueue_message(&m).await?;
            Ok(Redirect::to(&format!("/login/factor?sent={id}")).into_response())
        }
        Err(
            e @ (SendCodeError::TooSoon { .. }
            | SendCodeError::TooMany { .. }
            | SendCodeError::NumberRefused),
        ) => {
            let key = match e {
                SendCodeError::TooMany { .. } => "factor.error.too_many_codes",
                SendCodeError::NumberRefused => "settings.error.phone_country",
                _ => "factor.error.too_soon",
            };
            let body = render(
                &state,
                t,
                &csrf,
                &step,
                Some(&id),
                Some(t.get(key).to_owned()),
            )
            .await?;
            Ok((StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response())
        }
        Err(SendCodeError::NotFound) => Err(AppError::NotFound),
        Err(SendCodeError::AttemptOver) => Ok(Redirect::to("/login").into_response()),
        Err(SendCodeError::Store(e)) => Err(e.into()),
    }
}
