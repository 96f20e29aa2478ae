//! Extractors for what most handlers need: who is asking, from where, in
//! which language, and the current user.

use crate::app::state::AppState;
use crate::http::client_ip;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::i18n::{Lang, Tr};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use cookie::SameSite;
use portvakt_core::auth::session::SessionToken;
use portvakt_core::auth::signin::{ClientInfo, SessionCheck};
use portvakt_core::domain::Role;
use portvakt_core::store::{Organisation, SessionRecord, User};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// The client's IP and user agent, with forwarding headers believed only
/// from trusted proxies.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_of(parts, state)))
    }
}

/// Who sent the request: the address (through trusted proxies) and the
/// browser. A function too, for handlers that read the request's parts
/// themselves.
#[must_use]
pub fn client_of(parts: &Parts, state: &AppState) -> ClientInfo {
    let ip = client_ip_of(parts, state);
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ClientInfo { ip, user_agent }
}

/// The client's address: the peer, or what a trusted proxy says it is.
#[must_use]
pub fn client_ip_of(parts: &Parts, state: &AppState) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let xff = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|h| h.to_str().ok());
    client_ip::resolve(peer, xff, &state.config.trusted_proxies)
}

/// The page language: the browser's choice cookie, then `Accept-Language`,
/// then the installation default.
pub struct PageLang(pub Tr);

impl FromRequestParts<AppState> for PageLang {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(PageLang(page_lang(&parts.headers, state)))
    }
}

/// The texts in the page language (see [`PageLang`]).
#[must_use]
pub fn page_lang(headers: &axum::http::HeaderMap, state: &AppState) -> Tr {
    let lang = cookies::read(headers, state.cookies.lang)
        .and_then(|v| Lang::from_tag(&v))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|h| h.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(state.config.default_language);
    Tr::new(lang).with_min_password(state.config.password.min_length)
}

/// The CSRF token for forms on this page (set by [`crate::http::csrf`]).
#[derive(Clone)]
pub struct CsrfToken(pub String);

impl FromRequestParts<AppState> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or(AppError::Internal("csrf layer missing".into()))
    }
}

/// A signed-in user whose session is active. Rejects with a redirect: to
/// the sign-in page, to a page explaining an idle or expired session, or to
/// the password page while a temporary password must be changed.
pub struct CurrentUser {
    pub user: User,
    pub organisation: Organisation,
    pub session: SessionRecord,
    pub roles: Vec<Role>,
    pub token: SessionToken,
    /// The organisation's change freeze in force (issue 15): shown on every
    /// page and checked by the changes it refuses.
    pub freeze: Option<portvakt_core::freeze::Freeze>,
}

/// Like [`CurrentUser`] but also lets through a user who must change a
/// temporary password: the password page itself needs that.
pub struct PendingUser(pub CurrentUser);

fn clear_session(state: &AppState, to: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookies::build(
            &state.cookies,
            state.cookies.session,
            "",
            SameSite::Lax,
            Some(0),
        ),
    );
    r
}

async fn load_user(parts: &Parts, state: &AppState) -> Result<CurrentUser, Response> {
    let u = load_session(parts, state).await?;
    if u.session.pending_mfa {
        return Err(Redirect::to("/login/factor").into_response());
    }
    Ok(u)
}

/// A session that has passed the password and waits for its second factor.
pub struct SecondFactorStep(pub CurrentUser);

impl FromRequestParts<AppState> for SecondFactorStep {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let u = load_session(parts, state).await?;
        if !u.session.pending_mfa {
            return Err(Redirect::to("/").into_response());
        }
        Ok(SecondFactorStep(u))
    }
}

async fn load_session(parts: &Parts, state: &AppState) -> Result<CurrentUser, Response> {
    let Some(raw) = cookies::read(&parts.headers, state.cookies.session) else {
        return Err(Redirect::to("/login").into_response());
    };
    let token = SessionToken::from_cookie(&raw);
    let check = state
        .auth
        .check_session(&token)
        .await
        .map_err(|e| AppError::from(e).into_response())?;
    match check {
        SessionCheck::Active { session, user }
        | SessionCheck::Pending { session, user }
        | SessionCheck::MustChangePassword { session, user } => {
            let organisation = state
                .store
                .organisation(&user.organisation_id)
                .await
                .map_err(|e| AppError::from(e).into_response())?
                .ok_or_else(|| clear_session(state, "/login"))?;
            let roles = state
                .store
                .user_roles(&organisation.id, &user.id)
                .await
                .map_err(|e| AppError::from(e).into_response())?;
            let freeze = state
                .freezes
                .get(&*state.store, &organisation.id)
                .await
                .map_err(|e| AppError::from(e).into_response())?;
            Ok(CurrentUser {
                user: *user,
                organisation,
                session: *session,
                roles,
                token,
                freeze,
            })
        }
        SessionCheck::Idle => Err(clear_session(state, "/signed-out?reason=idle")),
        SessionCheck::Expired => Err(clear_session(state, "/signed-out?reason=expired")),
        SessionCheck::Ended { reason } => Err(clear_session(
            state,
            match reason.as_str() {
                "servicedesk" => "/signed-out?reason=servicedesk",
                "not_me" | "other_sessions_ended" => "/signed-out?reason=elsewhere",
                "password" => "/signed-out?reason=password",
                "reset" => "/signed-out?reason=reset",
                _ => "/login",
            },
        )),
        SessionCheck::Invalid => Err(clear_session(state, "/login")),
    }
}

impl FromRequestParts<AppState> for PendingUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        load_user(parts, state).await.map(PendingUser)
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for PendingUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(load_user(parts, state).await.ok().map(PendingUser))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let u = load_user(parts, state).await?;
        if u.user.must_change_password {
            return Err(Redirect::to("/password").into_response());
        }
        Ok(u)
    }
}

impl CurrentUser {
    /// Whether the user holds `role` (or one that covers it) in their own organisation.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.covers(role))
    }
}

/// A form whose parse errors become a clear error page instead of a bare 422.
pub struct ValidForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ValidForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        Form::<T>::from_request(req, state)
            .await
            .map(|Form(v)| ValidForm(v))
            .map_err(|_| AppError::BadRequest)
    }
}

/// Adds a `Set-Cookie` header to a response.
pub fn with_cookie(mut resp: Response, cookie: HeaderValue) -> Response {
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    resp
}
