use crate::app::metrics::Metrics;
use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::csrf;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, PageLang, PendingUser, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::signin::{ClientInfo, SignInError, SignedIn};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    p: Page,
    username: String,
    error: Option<&'static str>,
    until: Option<String>,
    passkeys: bool,
}

async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    username: String,
    error: Option<&'static str>,
    until: Option<String>,
) -> Result<String, AppError> {
    let error = error.map(|k| t.get(k));
    let mut p = Page::anonymous(t, csrf, "/login");
    if let Some(org) = organisation_to_contact(state, &username).await? {
        p = p.with_contact(&org);
    }
    Ok(LoginPage {
        p,
        username,
        error,
        until,
        passkeys: state.auth.passkeys_enabled(),
    }
    .render()?)
}

/// Whose contact lines the sign-in page shows: the organisation the typed
/// name's domain belongs to (public knowledge, so nothing about the account
/// is revealed), or the installation's only organisation.
pub(super) async fn organisation_to_contact(
    state: &AppState,
    username: &str,
) -> Result<Option<portvakt_core::store::Organisation>, AppError> {
    if let Some((_, domain)) = username.rsplit_once('@') {
        if let Some(org) = state
            .store
            .organisation_by_domain(&domain.to_lowercase())
            .await?
        {
            return Ok(Some(org));
        }
    }
    let mut all = state.store.list_organisations().await?;
    Ok(if all.len() == 1 { all.pop() } else { None })
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    /// Where a forward-auth proxy wants the browser back after sign-in.
    rd: Option<String>,
    /// The user name an app suggested (OpenID Connect `login_hint`),
    /// filled in for the person to check.
    login_hint: Option<String>,
}

/// A return address from a forward-auth redirect, if it is one of ours.
fn checked_return(state: &AppState, raw: &str) -> Option<String> {
    // A path on Portvakt's own host (an app published under /apps/, or an
    // OpenID sign-in waiting to continue).
    if (raw.starts_with(crate::http::return_to::APPS_PREFIX)
        || raw.starts_with(crate::http::return_to::OIDC_PREFIX))
        && crate::http::return_to::local_path(raw) == raw
    {
        return Some(raw.to_owned());
    }
    let fa = state.config.forward_auth.as_ref()?;
    fa.return_policy().check(raw).map(|u| u.to_string())
}

pub async fn login_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: Option<PendingUser>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let back = q.rd.as_deref().and_then(|r| checked_return(&state, r));
    if let Some(u) = user {
        if u.0.user.must_change_password {
            // Apps treat this session as signed out (issue 10 L4): sending
            // the person back there would loop. The password page first,
            // and the app after it.
            let to = Redirect::to("/password").into_response();
            return Ok(match back {
                Some(back) => with_cookie(
                    to,
                    cookies::build(
                        &state.cookies,
                        state.cookies.return_to,
                        &back,
                        SameSite::Lax,
                        Some(600),
                    ),
                ),
                None => to,
            });
        }
        if !u.0.session.pending_mfa {
            if let Some(back) = back {
                return Ok(Redirect::to(&back).into_response());
            }
        }
        return Ok(Redirect::to("/").into_response());
    }
    let hint = q
        .login_hint
        .filter(|h| h.chars().count() <= 256 && !h.chars().any(char::is_control))
        .unwrap_or_default();
    let page = Html(render(&state, t, &csrf, hint, None, None).await?).into_response();
    // Remembered in a short-lived cookie through the password and the
    // second step, and used once.
    Ok(match back {
        Some(back) => with_cookie(
            page,
            cookies::build(
                &state.cookies,
                state.cookies.return_to,
                &back,
                SameSite::Lax,
                Some(600),
            ),
        ),
        None => page,
    })
}

/// Where to go once fully signed in: a remembered return address (checked
/// again), else `default`. Clears the remembered one.
pub(crate) fn finish_at(
    state: &AppState,
    headers: &HeaderMap,
    default: &str,
    resp: Response,
) -> Response {
    let back =
        cookies::read(headers, state.cookies.return_to).and_then(|r| checked_return(state, &r));
    let Some(back) = back else {
        return resp;
    };
    if default != "/" {
        // A temporary password must be changed first; keep the address.
        return resp;
    }
    let mut r = with_cookie(
        Redirect::to(&back).into_response(),
        cookies::build(
            &state.cookies,
            state.cookies.return_to,
            "",
            SameSite::Lax,
            Some(0),
        ),
    );
    for v in resp.headers().get_all(header::SET_COOKIE) {
        r.headers_mut().append(header::SET_COOKIE, v.clone());
    }
    r
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The answer to any successful sign-in: the new session cookie, a new
/// CSRF token, and the next page.
pub(crate) async fn signed_in(
    state: &AppState,
    signed: &SignedIn,
    headers: &HeaderMap,
    client: &ClientInfo,
) -> Response {
    Metrics::inc(&state.metrics.signin_success);
    let to = if signed.pending_mfa {
        "/login/factor"
    } else if signed.user.must_change_password {
        "/password"
    } else {
        "/"
    };
    let session = cookies::build(
        &state.cookies,
        state.cookies.session,
        signed.token.as_str(),
        SameSite::Lax,
        None,
    );
    let (_, csrf_cookie) = csrf::rotated_cookie(state);
    let resp = with_cookie(Redirect::to(to).into_response(), session);
    let resp = with_cookie(resp, csrf_cookie);
    // The account's own language follows the user to any device.
    let resp = match signed.user.language {
        Some(l) => crate::http::language::language_cookie(state, l, resp),
        None => resp,
    };
    if signed.pending_mfa {
        resp
    } else {
        let device = super::notice::after_sign_in(
            state,
            headers,
            &signed.user,
            &signed.organisation,
            client,
        )
        .await;
        with_cookie(finish_at(state, headers, to, resp), device)
    }
}

/// Signs in. Failures that could reveal whether an account exists share one
/// status and one message (SECURITY.md A1).
pub async fn login_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    headers: HeaderMap,
    ValidForm(form): ValidForm<LoginForm>,
) -> Result<Response, AppError> {
    let username: String = form.username.chars().take(256).collect();
    if username.trim().is_empty() || form.password.is_empty() {
        let body = render(
            &state,
            t,
            &csrf,
            username,
            Some("login.error.missing"),
            None,
        )
        .await?;
        return Ok((StatusCode::BAD_REQUEST, Html(body)).into_response());
    }
    match state.auth.sign_in(&username, &form.password, &client).await {
        Ok(signed) => Ok(signed_in(&state, &signed, &headers, &client).await),
        Err(e) => {
            let (status, key, until) = match e {
                SignInError::InvalidCredentials => {
                    (StatusCode::UNAUTHORIZED, "login.error.invalid", None)
                }
                SignInError::Throttled { until } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "login.error.throttled",
                    Some(time_fmt::moment(t, until, state.clock.now())),
                ),
                SignInError::Locked => (StatusCode::LOCKED, "login.error.locked", None),
                SignInError::IpThrottled => (StatusCode::TOO_MANY_REQUESTS, "login.error.ip", None),
                SignInError::Disabled => (StatusCode::FORBIDDEN, "login.error.disabled", None),
                SignInError::NoSecondFactor => {
                    (StatusCode::FORBIDDEN, "login.error.no_factor", None)
                }
                SignInError::TemporaryPasswordExpired => {
                    (StatusCode::FORBIDDEN, "login.error.temporary_expired", None)
                }
                SignInError::StartCodeExpired => (
                    StatusCode::FORBIDDEN,
                    "login.error.start_code_expired",
                    None,
                ),
                SignInError::StartCodeUsed => {
                    (StatusCode::FORBIDDEN, "login.error.start_code_used", None)
                }
                SignInError::Busy => {
                    Metrics::inc(&state.metrics.signin_busy);
                    let body =
                        render(&state, t, &csrf, username, Some("login.error.busy"), None).await?;
                    let mut r = (StatusCode::SERVICE_UNAVAILABLE, Html(body)).into_response();
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                    return Ok(r);
                }
                SignInError::Store(e) => return Err(e.into()),
                SignInError::Hash(e) => return Err(AppError::Internal(e)),
            };
            Metrics::inc(&state.metrics.signin_failure);
            let body = render(&state, t, &csrf, username, Some(key), until).await?;
            Ok((status, Html(body)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn logout_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    PendingUser(user): PendingUser,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    state.auth.sign_out(&user.token).await?;
    // Signing out signs the person out of the apps too: their refresh
    // tokens end, and their access tokens stop at /userinfo.
    state
        .store
        .revoke_user_grants(
            &user.organisation.id,
            &user.user.id,
            "signed_out",
            state.clock.now(),
        )
        .await?;
    let forget = super::factor::end_kept_session(&state, &headers, &user.session).await;
    let clear = cookies::build(
        &state.cookies,
        state.cookies.session,
        "",
        SameSite::Lax,
        Some(0),
    );
    let resp = with_cookie(
        Redirect::to("/signed-out?reason=logout").into_response(),
        clear,
    );
    Ok(match forget {
        Some(h) => with_cookie(resp, h),
        None => resp,
    })
}
