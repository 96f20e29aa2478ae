use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, PageLang, PendingUser, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::messaging::notice_text::Change;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use cookie::SameSite;
use portvakt_core::auth::signin::ChangePasswordError;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    p: Page,
    forced: bool,
    /// No password to confirm: this session began with a crisis
    /// rotation's start code.
    no_current: bool,
    /// No password, and this session did not begin with the start code
    /// (a passkey sign-in): the code is asked instead.
    start_code_asked: bool,
    username: String,
    rules: String,
    error: Option<String>,
    error_field: &'static str,
    done: Option<String>,
}

fn page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &crate::http::extract::CurrentUser,
    error: Option<(&'static str, &'static str)>,
    done: bool,
) -> Result<String, AppError> {
    let error = error.map(|(k, f)| (t.get(k).to_owned(), f));
    page_text(state, t, csrf, user, error, done)
}

/// The page with a message already in words (a lock with its time).
fn page_with_message(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &crate::http::extract::CurrentUser,
    message: &str,
) -> Result<String, AppError> {
    page_text(
        state,
        t,
        csrf,
        user,
        Some((message.to_owned(), "current")),
        false,
    )
}

fn page_text(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &crate::http::extract::CurrentUser,
    error: Option<(String, &'static str)>,
    done: bool,
) -> Result<String, AppError> {
    let rules = t
        .get("password.rules")
        .replace("{min}", &state.config.password.min_length.to_string());
    let error_field = error.as_ref().map_or("", |(_, f)| *f);
    Ok(PasswordPage {
        forced: user.user.must_change_password,
        no_current: user.user.password_hash.is_none()
            && user.session.start_code.as_deref() == Some(portvakt_core::store::START_CODE_USED),
        start_code_asked: user.user.password_hash.is_none()
            && user.session.start_code.as_deref() != Some(portvakt_core::store::START_CODE_USED),
        username: user.user.username.to_string(),
        rules,
        error: error.map(|(k, _)| k),
        error_field,
        done: done.then(|| t.get("password.done").to_owned()),
        p: Page::for_user(t, csrf, "/password", user),
    }
    .render()?)
}

pub async fn password_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    PendingUser(user): PendingUser,
) -> Result<Html<String>, AppError> {
    Ok(Html(page(&state, t, &csrf, &user, None, false)?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[allow(dead_code)]
    csrf: String,
    #[allow(dead_code)]
    #[serde(default)]
    username: String,
    current: String,
    new: String,
    confirm: String,
}

pub async fn password_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    PendingUser(user): PendingUser,
    ValidForm(form): ValidForm<PasswordForm>,
) -> Result<Response, AppError> {
    let bad = |key, field| -> Result<Response, AppError> {
        let body = page(&state, t, &csrf, &user, Some((key, field)), false)?;
        Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
    };
    if form.new != form.confirm {
        return bad("password.error.mismatch", "confirm");
    }
    let result = state
        .auth
        .change_password(
            &user.user,
            &user.organisation,
            &user.session,
            &form.current,
            &form.new,
            &client,
        )
        .await;
    match result {
        Ok(token) => {
            crate::audit::events::record(
                &state,
                &user,
                &client,
                "account.change_password",
                user.user.id.as_str(),
                "ok",
            )
            .await;
            crate::messaging::notices::tell_contacts(
                &state,
                &user.organisation,
                &user.user,
                Change::PasswordChanged,
                None,
            )
            .await;
            let mut updated = user;
            updated.user.must_change_password = false;
            let body = page(&state, t, &csrf, &updated, None, true)?;
            let c = cookies::build(
                &state.cookies,
                state.cookies.session,
                token.as_str(),
                SameSite::Lax,
                None,
            );
            Ok(with_cookie(Html(body).into_response(), c))
        }
        Err(ChangePasswordError::WrongCurrent) => bad("password.error.current", "current"),
        Err(ChangePasswordError::Refused(r)) => {
            let (status, text) = crate::http::texts::refusal_text(t, r, state.clock.now());
            let body = page_with_message(&state, t, &csrf, &user, &text)?;
            Ok((status, Html(body)).into_response())
        }
        Err(ChangePasswordError::Unchanged) => bad("password.error.unchanged", "new"),
        Err(ChangePasswordError::Rule(r)) => bad(crate::http::texts::rule_key(&r), "new"),
        Err(ChangePasswordError::Busy) => Err(AppError::Busy),
        Err(ChangePasswordError::Store(e)) => Err(e.into()),
        Err(ChangePasswordError::Hash(e)) => Err(AppError::Internal(e)),
    }
}
