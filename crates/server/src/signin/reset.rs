//! Forgotten password (issue 3): the same pages and answers whether or not
//! the account exists.

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::messaging::messages;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::SameSite;
use portvakt_core::auth::reset::ResetError;
use portvakt_core::auth::session::SessionToken;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    p: Page,
    passkeys: bool,
}

pub async fn reset_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
) -> Result<Html<String>, AppError> {
    let mut p = Page::anonymous(t, &csrf, "/reset");
    if let Some(org) = super::login::organisation_to_contact(&state, "").await? {
        p = p.with_contact(&org);
    }
    Ok(Html(
        ResetPage {
            p,
            passkeys: state.auth.passkeys_enabled(),
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    username: String,
}

pub async fn reset_post(
    State(state): State<AppState>,
    Client(client): Client,
    ValidForm(form): ValidForm<ResetForm>,
) -> Result<Response, AppError> {
    let username: String = form.username.chars().take(256).collect();
    // During a change freeze, resets by code are off for the whole
    // organisation (known from the name's domain alone): say so now.
    if let Some(f) = state.auth.freeze_for(&username).await? {
        crate::audit::events::record_anonymous(
            &state,
            &f.organisation_id,
            &client,
            "freeze.refused",
            "reset",
            portvakt_core::freeze::FrozenChange::ResetByCode.as_str(),
        )
        .await;
        return Err(crate::crisis::freeze::frozen_anonymous());
    }
    let token = SessionToken::generate();
    // The answer is the same whatever the name; the work that depends on
    // it (lookups, the code, the messages) happens after the answer, so
    // its duration says nothing about whether the account exists.
    let (st, hash) = (state.clone(), token.hash());
    tokio::spawn(async move {
        let result = async {
            let started = st.auth.start_reset(&username, &client, hash).await?;
            for m in messages::reset_messages(&started, st.clock.now()) {
                st.store.enqueue_message(&m).await?;
            }
            Ok::<_, portvakt_core::StoreError>(())
        };
        if let Err(e) = result.await {
            tracing::error!(error = %e, "password reset not started");
        }
    });
    // The name typed travels with the attempt, so `/reset/code` counts
    // tries against it whether or not an account exists (issue 10 A1).
    let value = format!(
        "{}.{}",
        token.as_str(),
        URL_SAFE_NO_PAD.encode(clipped(&form.username, 150))
    );
    let c = cookies::build(
        &state.cookies,
        state.cookies.reset,
        &value,
        SameSite::Strict,
        Some(15 * 60),
    );
    Ok(with_cookie(Redirect::to("/reset/code").into_response(), c))
}

/// At most `max` bytes of `s`, cut at a character boundary (the cookie
/// holding it must stay under the 256 bytes `cookies::read` accepts).
fn clipped(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[derive(Template)]
#[template(path = "reset_code.html")]
struct ResetCodePage {
    p: Page,
    rules: String,
    error: Option<String>,
    error_field: &'static str,
}

fn code_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    error: Option<(&'static str, &'static str)>,
) -> Result<String, AppError> {
    let rules = t
        .get("password.rules")
        .replace("{min}", &state.config.password.min_length.to_string());
    Ok(ResetCodePage {
        error: error.map(|(k, _)| t.get(k).to_owned()),
        error_field: error.map_or("", |(_, f)| f),
        p: Page::anonymous(t, csrf, "/reset/code"),
        rules,
    }
    .render()?)
}

pub async fn reset_code_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
) -> Result<Html<String>, AppError> {
    Ok(Html(code_page(&state, t, &csrf, None)?))
}

#[derive(Deserialize)]
pub struct ResetCodeForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn reset_code_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: HeaderMap,
    ValidForm(form): ValidForm<ResetCodeForm>,
) -> Result<Response, AppError> {
    let bad = |key, field| -> Result<Response, AppError> {
        Ok((
            StatusCode::BAD_REQUEST,
            Html(code_page(&state, t, &csrf, Some((key, field)))?),
        )
            .into_response())
    };
    if form.new != form.confirm {
        return bad("password.error.mismatch", "confirm");
    }
    let Some(attempt) = cookies::read(&headers, state.cookies.reset) else {
        return bad("reset.error.code", "code");
    };
    let (token, typed) = attempt.split_once('.').unwrap_or((attempt.as_str(), ""));
    let token = SessionToken::from_cookie(token);
    let typed = URL_SAFE_NO_PAD
        .decode(typed)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let code: String = form.code.chars().take(64).collect();
    match state
        .auth
        .finish_reset(&token, &typed, &code, &form.new, &client)
        .await
    {
        Ok(user) => {
            tell_of_reset(&state, &user).await;
            let clear = cookies::build(
                &state.cookies,
                state.cookies.reset,
                "",
                SameSite::Strict,
                Some(0),
            );
            Ok(with_cookie(
                Redirect::to("/signed-out?reason=reset").into_response(),
                clear,
            ))
        }
        Err(ResetError::Code) => bad("reset.error.code", "code"),
        Err(ResetError::Rule(r)) => bad(crate::http::texts::rule_key(&r), "new"),
        Err(ResetError::Busy) => Err(AppError::Busy),
        Err(ResetError::Frozen(f)) => {
            crate::audit::events::record_anonymous(
                &state,
                &f.organisation_id,
                &client,
                "freeze.refused",
                "reset",
                portvakt_core::freeze::FrozenChange::ResetByCode.as_str(),
            )
            .await;
            Err(crate::crisis::freeze::frozen_anonymous())
        }
        Err(ResetError::Store(e)) => Err(e.into()),
    }
}

/// Tells the account's contacts that its password was reset, whichever way
/// (a code or a passkey); only ever after a reset that succeeded, so the
/// notice says nothing about accounts to someone guessing names.
pub(crate) async fn tell_of_reset(state: &AppState, user: &portvakt_core::store::User) {
    match state.store.organisation(&user.organisation_id).await {
        Ok(Some(org)) => {
            crate::messaging::notices::tell_contacts(
                state,
                &org,
                user,
                crate::messaging::notice_text::Change::PasswordReset,
                None,
            )
            .await;
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, user = %user.id, "reset notice not queued"),
    }
}
