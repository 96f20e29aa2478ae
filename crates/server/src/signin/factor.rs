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
use axum::http::{HeaderMap, StatusCode};
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
    /// Why a second step is asked for: a step-up, outside the zones, or
    /// the organisation's policy.
    lead: &'static str,
    /// "… senast kl. 18:05": when the pending sign-in ends.
    deadline: String,
    has_app: bool,
    has_passkey: bool,
    /// (factor id, masked destination, button text)
    emails: Vec<(String, String, String)>,
    sent_to: Option<String>,
    sent_id: String,
    error: Option<String>,
    step_up: bool,
}

#[derive(Deserialize, Default)]
pub struct FactorQuery {
    sent: Option<String>,
}

/// The session a step-up kept aside, if this browser's step-up cookie was
/// made for this very pending session.
fn kept_session(
    state: &AppState,
    headers: &HeaderMap,
    pending: &portvakt_core::store::SessionRecord,
) -> Option<SessionToken> {
    cookies::read(headers, state.cookies.step_up)
        .and_then(|raw| cookies::kept_session_for(&raw, &pending.token_hash))
}

/// Where the person is and the step-up cookie: what the factor page's
/// first sentence depends on.
pub struct Situation {
    ip: std::net::IpAddr,
    headers: HeaderMap,
}

impl Situation {
    fn is_step_up(&self, state: &AppState, step: &SecondFactorStep) -> bool {
        kept_session(state, &self.headers, &step.0.session).is_some()
    }
}

impl axum::extract::FromRequestParts<AppState> for Situation {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self {
            ip: crate::http::extract::client_ip_of(parts, state),
            headers: parts.headers.clone(),
        })
    }
}

async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    step: &SecondFactorStep,
    page: PageContext<'_>,
) -> Result<String, AppError> {
    let u = &step.0;
    let usable = state
        .auth
        .usable_factors(&u.user, |k| state.senders.delivers(k))
        .await?;
    let emails: Vec<(String, String, String)> = usable
        .sent
        .iter()
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
    let sent_to = page.sent.and_then(|id| {
        emails
            .iter()
            .find(|(fid, _, _)| fid == id)
            .map(|(_, m, _)| m.clone())
    });
    let sent_id = page.sent.unwrap_or_default().to_owned();
    let now = state.clock.now();
    let lead = if page.step_up {
        "factor.lead_step_up"
    } else if state
        .auth
        .zone_of(&u.organisation.id, page.ip)
        .await?
        .is_none()
    {
        "factor.lead_outside"
    } else {
        "factor.lead_policy"
    };
    Ok(FactorPage {
        p: Page::anonymous(t, csrf, "/login/factor").with_contact(&u.organisation),
        lead: t.get(lead),
        deadline: t.get("factor.deadline").replace(
            "{time}",
            &time_fmt::moment(t, pending_expires_at(&u.session), now),
        ),
        has_app: usable.app,
        has_passkey: usable.passkey,
        emails,
        sent_to,
        sent_id,
        error: page.error,
        step_up: page.step_up,
    }
    .render()?)
}

/// What the factor page shows besides the person's methods.
struct PageContext<'a> {
    sent: Option<&'a str>,
    error: Option<String>,
    step_up: bool,
    ip: std::net::IpAddr,
}

pub async fn factor_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: HeaderMap,
    step: SecondFactorStep,
    Query(q): Query<FactorQuery>,
) -> Result<Html<String>, AppError> {
    let page = PageContext {
        sent: q.sent.as_deref(),
        error: None,
        step_up: kept_session(&state, &headers, &step.0.session).is_some(),
        ip: client.ip,
    };
    Ok(Html(render(&state, t, &csrf, &step, page).await?))
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

/// Ends the session a step-up kept aside for this pending `session`, and
/// gives the header that forgets any step-up cookie. Completing the
/// step-up and running out of tries end it: a live session must not
/// outlast the attempt in a cookie. A failure to end it is logged, not
/// returned: the person's own outcome (signed in, or signed out) stands,
/// and the kept session still ends at its idle limit.
pub(crate) async fn end_kept_session(
    state: &AppState,
    headers: &HeaderMap,
    session: &portvakt_core::store::SessionRecord,
) -> Option<axum::http::HeaderValue> {
    cookies::read(headers, state.cookies.step_up)?;
    if let Some(previous) = kept_session(state, headers, session) {
        if let Err(e) = state.auth.end_replaced_session(session, &previous).await {
            tracing::warn!(error = %e, "could not end the session a step-up kept aside");
        }
    }
    Some(clear_step_up(state))
}

/// The second factor was accepted: the full session replaces the pending
/// one, and a step-up's earlier session ends.
pub(crate) async fn completed(
    state: &AppState,
    step: &SecondFactorStep,
    token: &SessionToken,
    headers: &HeaderMap,
    client: &portvakt_core::auth::signin::ClientInfo,
) -> Result<Response, AppError> {
    // A step-up is the same browser proving more, not a new sign-in: only
    // when its cookie hands back a live session of this pending one (a
    // made-up cookie must not silence the notice).
    let step_up = kept_session(state, headers, &step.0.session).is_some();
    let forget = end_kept_session(state, headers, &step.0.session).await;
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
    let resp = super::login::finish_at(
        state,
        headers,
        to,
        with_cookie(Redirect::to(to).into_response(), c),
    );
    let resp = match forget {
        Some(h) => with_cookie(resp, h),
        None => resp,
    };
    if step_up {
        return Ok(resp);
    }
    let Some(org) = state
        .store
        .organisation(&step.0.session.organisation_id)
        .await?
    else {
        return Ok(resp);
    };
    let device = super::notice::after_sign_in(state, headers, &step.0.user, &org, client).await;
    Ok(with_cookie(resp, device))
}

fn clear_step_up(state: &AppState) -> axum::http::HeaderValue {
    cookies::build(
        &state.cookies,
        state.cookies.step_up,
        "",
        SameSite::Strict,
        Some(0),
    )
}

/// "Avbryt": a step-up goes back to the session it started from; a
/// sign-in ends, and the sign-in page is free for someone else.
pub async fn cancel_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    step: SecondFactorStep,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let had_cookie = cookies::read(&headers, state.cookies.step_up).is_some();
    let previous = kept_session(&state, &headers, &step.0.session);
    let resumed = match &previous {
        Some(previous) => {
            state
                .auth
                .resume_after_step_up(&step.0.session, previous)
                .await?
        }
        None => {
            state.auth.sign_out(&step.0.token).await?;
            false
        }
    };
    let (to, session) = match (resumed, &previous) {
        (true, Some(previous)) => ("/", previous.as_str()),
        _ => ("/login", ""),
    };
    let session = cookies::build(
        &state.cookies,
        state.cookies.session,
        session,
        SameSite::Lax,
        if session.is_empty() { Some(0) } else { None },
    );
    let resp = with_cookie(Redirect::to(to).into_response(), session);
    Ok(if had_cookie {
        with_cookie(resp, clear_step_up(&state))
    } else {
        resp
    })
}

/// Too many failures or too late: back to the start, session cookie
/// cleared (and a step-up's kept session ended with it).
pub(crate) async fn attempt_over(
    state: &AppState,
    step: &SecondFactorStep,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let clear = cookies::build(
        &state.cookies,
        state.cookies.session,
        "",
        SameSite::Lax,
        Some(0),
    );
    let resp = with_cookie(
        Redirect::to("/signed-out?reason=codes").into_response(),
        clear,
    );
    Ok(
        match end_kept_session(state, headers, &step.0.session).await {
            Some(h) => with_cookie(resp, h),
            None => resp,
        },
    )
}

pub async fn factor_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: HeaderMap,
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
        Ok(token) => return completed(&state, &step, &token, &headers, &client).await,
        Err(SecondFactorError::Refused(r)) => {
            let (s, text) = crate::http::texts::refusal_text(t, r, state.clock.now());
            status = s;
            text
        }
        Err(SecondFactorError::WrongCode { tries_left }) => t
            .get(if sent.is_some() {
                "factor.error.wrong_sent"
            } else {
                "factor.error.wrong"
            })
            .replace("{n}", &tries_left.to_string()),
        Err(SecondFactorError::CodeVoid) => t.get("factor.error.void").to_owned(),
        Err(SecondFactorError::Malformed) => {
            status = StatusCode::BAD_REQUEST;
            t.get("factor.error.shape").to_owned()
        }
        Err(SecondFactorError::AttemptOver) => return attempt_over(&state, &step, &headers).await,
        Err(SecondFactorError::Store(e)) => return Err(e.into()),
    };
    let page = PageContext {
        sent,
        error: Some(msg),
        step_up: kept_session(&state, &headers, &step.0.session).is_some(),
        ip: client.ip,
    };
    let body = render(&state, t, &csrf, &step, page).await?;
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
    here: Situation,
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
            // "Too soon" means a code went out a moment ago: its form stays.
            let sent = matches!(e, SendCodeError::TooSoon { .. }).then_some(id.as_str());
            let page = PageContext {
                sent,
                error: Some(t.get(key).to_owned()),
                step_up: here.is_step_up(&state, &step),
                ip: here.ip,
            };
            let body = render(&state, t, &csrf, &step, page).await?;
            Ok((StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response())
        }
        Err(SendCodeError::NotFound) => Err(AppError::NotFound),
        Err(SendCodeError::AttemptOver) => attempt_over(&state, &step, &here.headers).await,
        Err(SendCodeError::Store(e)) => Err(e.into()),
    }
}
