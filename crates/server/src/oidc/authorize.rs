//! The authorization endpoint (`/oidc/{org}/authorize`) and the pages
//! behind it. A request is checked first (`portvakt_core::oidc::request`);
//! what happens next is decided in `portvakt_core::oidc::flow` from the
//! person's session, groups, zone and earlier consent. Sign-in, step-up
//! and re-authentication are the portal's own pages: the request waits in
//! the store (ten minutes) and `/oidc/{org}/continue/{id}` picks it up.

use crate::app::state::AppState;
use crate::http::access_text;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, PageLang, PendingUser, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::oidc::error::OAuthError;
use crate::oidc::issuer_for;
use crate::oidc::issuers::Issuer;
use askama::Template;
use axum::extract::{Path, RawQuery};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::domain::Slug;
use portvakt_core::oidc::client::OidcClient;
use portvakt_core::oidc::flow::{decide, Next, SignedIn};
use portvakt_core::oidc::request::{self, AuthRequest, PageError, Refusal};
use portvakt_core::oidc::tokens::{new_secret, secret_hash};
use portvakt_core::store::CodeRecord;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How long a request waits for the person to sign in.
const REQUEST_SECONDS: i64 = 600;
/// How long a code is valid (RFC 9700 §2.1.1 asks for short).
const CODE_SECONDS: i64 = 60;
/// Longest query or form an authorization request may have.
const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// What every step needs about the browser in front of us.
pub struct Ctx {
    /// The browser arrived by our own redirect after a form (sign-in,
    /// second step, consent): the way back to the app is then a page, not
    /// a redirect, because browsers hold a form's redirects to the form
    /// page's `form-action 'self'` (CSP) all the way along the chain.
    after_form: bool,
    /// The person pressed "confirm" on the step-up page: a step-up starts
    /// only from that form, never from a GET another site can trigger.
    confirmed_step_up: bool,
    /// The person chose a language (the switch's cookie): an app's
    /// `ui_locales` does not override that.
    lang_chosen: bool,
    state: AppState,
    t: Tr,
    csrf: CsrfToken,
    client: ClientInfo,
    user: Option<PendingUser>,
}

impl Ctx {
    /// The pages of this request in the language the app asked for
    /// (`ui_locales`), unless the person chose one themselves.
    fn localised(self, req: &AuthRequest) -> Self {
        match req
            .ui_locale
            .as_deref()
            .and_then(crate::http::i18n::Lang::from_tag)
        {
            Some(lang) if !self.lang_chosen => Self {
                t: Tr::new(lang).with_min_password(self.state.config.password.min_length),
                ..self
            },
            _ => self,
        }
    }
}

impl axum::extract::FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, AppError> {
        use axum::extract::OptionalFromRequestParts;
        let PageLang(t) = PageLang::from_request_parts(parts, state).await?;
        let csrf = CsrfToken::from_request_parts(parts, state).await?;
        let Client(client) = Client::from_request_parts(parts, state).await?;
        let user =
            <PendingUser as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .unwrap_or(None);
        let lang_chosen = crate::http::cookies::read(&parts.headers, state.cookies.lang).is_some();
        Ok(Self {
            after_form: false,
            confirmed_step_up: false,
            lang_chosen,
            state: state.clone(),
            t,
            csrf,
            client,
            user,
        })
    }
}

fn params(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub async fn authorize_get(
    ctx: Ctx,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_REQUEST_BYTES {
        return Err(AppError::BadRequest);
    }
    start(ctx, &org, &params(query.as_bytes())).await
}

/// The same by form POST (OpenID Connect Core §3.1.2.1). It comes from the
/// app's page, so no CSRF token is asked for (see `http::csrf`); the
/// session cookie is not sent with a cross-site POST, so the request
/// waits and the person goes through `/login`, which knows them.
pub async fn authorize_post(
    ctx: Ctx,
    Path(org): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form || body.len() > MAX_REQUEST_BYTES {
        return Err(AppError::BadRequest);
    }
    start(ctx, &org, &params(&body)).await
}

pub async fn continue_get(
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let ctx = Ctx {
        after_form: true,
        ..ctx
    };
    let issuer = issuer_page(&ctx.state, &org).await?;
    let Some((req, made)) = waiting(&ctx.state, &issuer, &id).await? else {
        return error_page(&ctx, &issuer, "oidc.error.expired").await;
    };
    let ctx = ctx.localised(&req);
    proceed(&ctx, &issuer, &org, req, Some((id, made))).await
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[allow(dead_code)]
    csrf: String,
    request: String,
    decision: String,
}

pub async fn consent_post(
    ctx: Ctx,
    Path(org): Path<String>,
    user: crate::http::extract::CurrentUser,
    ValidForm(form): ValidForm<ConsentForm>,
) -> Result<Response, AppError> {
    let issuer = issuer_page(&ctx.state, &org).await?;
    let Some((req, made)) = waiting(&ctx.state, &issuer, &form.request).await? else {
        return error_page(&ctx, &issuer, "oidc.error.expired").await;
    };
    let Some(app) = issuer.client(&req.client_id).cloned() else {
        return error_page(&ctx, &issuer, "oidc.error.unknown_client").await;
    };
    if user.organisation.id != issuer.organisation {
        return error_page(&ctx, &issuer, "oidc.error.other_org").await;
    }
    if form.decision != "allow" {
        return to_app(
            &ctx,
            &issuer,
            &req,
            "access_denied",
            "The person did not allow the sign-in.",
        );
    }
    ctx.state
        .store
        .put_consent(
            &issuer.organisation,
            &user.user.id,
            &app.id,
            &req.scope_string(),
            ctx.state.clock.now(),
        )
        .await?;
    let ctx = Ctx {
        user: Some(PendingUser(user)),
        after_form: true,
        ..ctx
    };
    // The consent just given is part of this request.
    let req = AuthRequest {
        prompt_consent: false,
        ..req
    };
    let ctx = ctx.localised(&req);
    proceed(&ctx, &issuer, &org, req, Some((form.request, made))).await
}

async fn issuer_page(state: &AppState, org: &str) -> Result<Arc<Issuer>, AppError> {
    match issuer_for(state, org).await {
        Ok(i) => Ok(i),
        Err(OAuthError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}

async fn waiting(
    state: &AppState,
    issuer: &Issuer,
    id: &str,
) -> Result<Option<(AuthRequest, i64)>, AppError> {
    if id.len() != 43 {
        return Ok(None);
    }
    let found = state
        .store
        .auth_request(&issuer.organisation, &secret_hash(id), state.clock.now())
        .await?;
    Ok(found.and_then(|(json, made)| serde_json::from_str(&json).ok().map(|r| (r, made))))
}

async fn start(ctx: Ctx, org: &str, params: &[(String, String)]) -> Result<Response, AppError> {
    let issuer = issuer_page(&ctx.state, org).await?;
    match request::parse(params, |id| issuer.client(id).map(|c| &**c)) {
        Ok(req) => {
            let ctx = ctx.localised(&req);
            proceed(&ctx, &issuer, org, req, None).await
        }
        Err(Refusal::Page(e)) => {
            let key = match e {
                PageError::MissingClient => "oidc.error.missing_client",
                PageError::UnknownClient => "oidc.error.unknown_client",
                PageError::RedirectUri => "oidc.error.redirect_uri",
                PageError::NotForSignIn => "oidc.error.not_for_sign_in",
            };
            error_page(&ctx, &issuer, key).await
        }
        Err(Refusal::ToApp(e)) => Ok(redirect(&app_url(
            &e.redirect_uri,
            &issuer.issuer,
            e.state.as_deref(),
            &[("error", e.error), ("error_description", e.description)],
        ))),
    }
}

/// The steps of [`decide`], for a request that passed its checks.
async fn proceed(
    ctx: &Ctx,
    issuer: &Issuer,
    org: &str,
    req: AuthRequest,
    waiting: Option<(String, i64)>,
) -> Result<Response, AppError> {
    let state = &ctx.state;
    let Some(app) = issuer.client(&req.client_id).cloned() else {
        return error_page(ctx, issuer, "oidc.error.unknown_client").await;
    };
    let now = state.clock.now();
    let user = ctx
        .user
        .as_ref()
        .map(|u| &u.0)
        .filter(|u| !u.user.must_change_password);
    if let Some(u) = user {
        if u.organisation.id != issuer.organisation {
            if req.prompt_none {
                return to_app(ctx, issuer, &req, "login_required", "Not signed in here.");
            }
            return error_page(ctx, issuer, "oidc.error.other_org").await;
        }
    }
    let (groups, methods, zone) = match user {
        Some(u) => {
            let groups: BTreeSet<Slug> = state
                .store
                .user_groups(&issuer.organisation, &u.user.id)
                .await?
                .into_iter()
                .map(|g| g.slug)
                .collect();
            let zone = state
                .auth
                .zone_of(&issuer.organisation, ctx.client.ip)
                .await?
                .and_then(|z| Slug::parse(&z));
            (groups, u.session.amr.methods(), zone)
        }
        None => Default::default(),
    };
    let signed = user.map(|u| SignedIn {
        groups: &groups,
        methods: &methods,
        auth_time: u.session.created_at,
        zone: zone.as_ref(),
    });
    let consented = match user {
        Some(u) if !app.first_party => {
            state
                .store
                .consent(&issuer.organisation, &u.user.id, &app.id)
                .await?
        }
        _ => None,
    };
    let next = decide(
        &app,
        &req,
        signed.as_ref(),
        waiting.as_ref().map(|(_, t)| *t),
        consented.as_deref(),
        now,
    );
    let quiet = |error: &'static str, description: &'static str| {
        to_app(ctx, issuer, &req, error, description)
    };
    match (next, user) {
        (Next::Issue, Some(u)) => {
            // Answered once: the waiting request cannot be replayed for
            // another code.
            if let Some((id, _)) = &waiting {
                state
                    .store
                    .drop_auth_request(&issuer.organisation, &secret_hash(id))
                    .await?;
            }
            issue(ctx, issuer, &app, &req, u, now).await
        }
        (Next::SignIn | Next::Issue, _) => {
            if req.prompt_none {
                return quiet("login_required", "The person is not signed in.");
            }
            let path = put_aside(ctx, issuer, org, &req, waiting).await?;
            // The app's guess at who signs in is filled in, not trusted.
            let hint = req
                .login_hint
                .as_deref()
                .map(|h| format!("&login_hint={}", urlencode(h)))
                .unwrap_or_default();
            Ok(redirect(&format!("/login?rd={path}{hint}")))
        }
        (_, None) => quiet("login_required", "The person is not signed in."),
        (Next::Reauthenticate, Some(_)) => {
            if req.prompt_none {
                return quiet("login_required", "A new sign-in is needed.");
            }
            let path = put_aside(ctx, issuer, org, &req, waiting).await?;
            Ok(redirect(&format!("/reauth?next={}", urlencode(&path))))
        }
        (Next::StepUp(_), Some(u)) => {
            if req.prompt_none {
                return quiet("interaction_required", "A stronger sign-in is needed.");
            }
            if ctx.confirmed_step_up {
                return step_up(ctx, issuer, org, &app, &req, u, waiting).await;
            }
            step_up_page(ctx, issuer, org, &app, &req, u, waiting).await
        }
        (Next::Denied(denials), Some(u)) => {
            if req.prompt_none {
                return quiet(
                    "access_denied",
                    "The organisation's rules refuse this sign-in.",
                );
            }
            let zones = state.store.zones(&issuer.organisation).await?;
            let mut reasons = access_text::reasons(ctx.t, &denials, &zones);
            if reasons.is_empty() {
                reasons.push(ctx.t.get("denied.not_yours").to_owned());
            }
            denied_page(ctx, issuer, &app, &req, u, reasons, false)
        }
        (Next::Consent, Some(u)) => {
            if req.prompt_none {
                return quiet(
                    "consent_required",
                    "The person has not allowed this app yet.",
                );
            }
            let path = put_aside(ctx, issuer, org, &req, waiting).await?;
            consent_page(ctx, org, &app, &req, u, &path)
        }
    }
}

/// Stores the request to wait (unless it already waits) and returns the
/// path that picks it up again.
async fn put_aside(
    ctx: &Ctx,
    issuer: &Issuer,
    org: &str,
    req: &AuthRequest,
    waiting: Option<(String, i64)>,
) -> Result<String, AppError> {
    let state = &ctx.state;
    let id = match waiting {
        Some((id, _)) => id,
        None => {
            let now = state.clock.now();
            // Anyone may start a sign-in, and each waits in the database:
            // one address gets a bounded number of them.
            if state.oidc_requests.is_blocked(ctx.client.ip, now) {
                return Err(AppError::Busy);
            }
            state.oidc_requests.record_failure(ctx.client.ip, now);
            let id = new_secret();
            let json = serde_json::to_string(req).map_err(|e| AppError::Internal(e.to_string()))?;
            state
                .store
                .put_auth_request(
                    &issuer.organisation,
                    &secret_hash(&id),
                    &json,
                    now,
                    now + REQUEST_SECONDS,
                )
                .await?;
            id
        }
    };
    Ok(format!("/oidc/{org}/continue/{id}"))
}

async fn issue(
    ctx: &Ctx,
    issuer: &Issuer,
    app: &OidcClient,
    req: &AuthRequest,
    u: &crate::http::extract::CurrentUser,
    now: i64,
) -> Result<Response, AppError> {
    let code = new_secret();
    let record = CodeRecord {
        organisation_id: issuer.organisation.clone(),
        client_row_id: app.id.clone(),
        user_id: u.user.id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        scope: req.scope_string(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        auth_time: u.session.created_at,
        amr: u.session.amr.to_string(),
        expires_at: now + CODE_SECONDS,
        used_at: None,
    };
    ctx.state
        .store
        .create_code(&secret_hash(&code), &record, now)
        .await?;
    back_to_app(
        ctx,
        app_url(
            &req.redirect_uri,
            &issuer.issuer,
            req.state.as_deref(),
            &[("code", &code)],
        ),
    )
}

#[derive(Template)]
#[template(path = "oidc_step_up.html")]
struct StepUpPage {
    p: Page,
    app: String,
    action: String,
    request: String,
    back: String,
}

/// Says that the app needs a stronger sign-in and offers to give one (a
/// form), or, with no method to give it with, says how to get one.
async fn step_up_page(
    ctx: &Ctx,
    issuer: &Issuer,
    org: &str,
    app: &OidcClient,
    req: &AuthRequest,
    u: &crate::http::extract::CurrentUser,
    waiting: Option<(String, i64)>,
) -> Result<Response, AppError> {
    let state = &ctx.state;
    let usable = state
        .auth
        .usable_factors(&u.user, |k| state.senders.delivers(k))
        .await?;
    if !usable.any() {
        let reasons = vec![ctx.t.get("oidc.denied.no_factor").to_owned()];
        return denied_page(ctx, issuer, app, req, u, reasons, true);
    }
    let path = put_aside(ctx, issuer, org, req, waiting).await?;
    let back = app_url(
        &req.redirect_uri,
        &issuer.issuer,
        req.state.as_deref(),
        &[
            ("error", "access_denied"),
            (
                "error_description",
                "The person did not give a stronger sign-in.",
            ),
        ],
    );
    let body = StepUpPage {
        p: Page::for_user(ctx.t, &ctx.csrf, &path, u),
        app: app.name.clone(),
        action: format!("/oidc/{org}/step-up"),
        request: path.rsplit('/').next().unwrap_or_default().to_owned(),
        back,
    }
    .render()?;
    Ok(Html(body).into_response())
}

#[derive(Deserialize)]
pub struct StepUpForm {
    #[allow(dead_code)]
    csrf: String,
    request: String,
}

/// The step-up page's button: starts the portal's step-up for the waiting
/// request.
pub async fn step_up_post(
    ctx: Ctx,
    Path(org): Path<String>,
    user: crate::http::extract::CurrentUser,
    ValidForm(form): ValidForm<StepUpForm>,
) -> Result<Response, AppError> {
    let issuer = issuer_page(&ctx.state, &org).await?;
    let Some((req, made)) = waiting(&ctx.state, &issuer, &form.request).await? else {
        return error_page(&ctx, &issuer, "oidc.error.expired").await;
    };
    let ctx = Ctx {
        user: Some(PendingUser(user)),
        after_form: true,
        confirmed_step_up: true,
        ..ctx
    };
    let ctx = ctx.localised(&req);
    proceed(&ctx, &issuer, &org, req, Some((form.request, made))).await
}

#[allow(clippy::too_many_arguments)]
async fn step_up(
    ctx: &Ctx,
    issuer: &Issuer,
    org: &str,
    app: &OidcClient,
    req: &AuthRequest,
    u: &crate::http::extract::CurrentUser,
    waiting: Option<(String, i64)>,
) -> Result<Response, AppError> {
    let state = &ctx.state;
    let usable = state
        .auth
        .usable_factors(&u.user, |k| state.senders.delivers(k))
        .await?;
    let token = if usable.any() {
        state.auth.step_up(&u.session, &u.user, &ctx.client).await?
    } else {
        None
    };
    let Some(token) = token else {
        let reasons = vec![ctx.t.get("oidc.denied.no_factor").to_owned()];
        return denied_page(ctx, issuer, app, req, u, reasons, true);
    };
    let path = put_aside(ctx, issuer, org, req, waiting).await?;
    // The portal's step-up, with the request as where to go afterwards.
    let pending = cookies::build(
        &state.cookies,
        state.cookies.session,
        token.as_str(),
        SameSite::Lax,
        None,
    );
    let kept = cookies::build(
        &state.cookies,
        state.cookies.step_up,
        &cookies::kept_session_value(&u.token, &token),
        SameSite::Strict,
        None,
    );
    let back = cookies::build(
        &state.cookies,
        state.cookies.return_to,
        &path,
        SameSite::Lax,
        Some(600),
    );
    Ok(with_cookie(
        with_cookie(with_cookie(redirect("/login/factor"), pending), kept),
        back,
    ))
}

#[derive(Template)]
#[template(path = "oidc_consent.html")]
struct ConsentPage {
    p: Page,
    app: String,
    scopes: Vec<String>,
    action: String,
    request: String,
}

fn consent_page(
    ctx: &Ctx,
    org: &str,
    app: &OidcClient,
    req: &AuthRequest,
    u: &crate::http::extract::CurrentUser,
    path: &str,
) -> Result<Response, AppError> {
    let t = ctx.t;
    let request = path.rsplit('/').next().unwrap_or_default().to_owned();
    // Who you are first, then what else, in a fixed order.
    const ORDER: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];
    let mut ordered: Vec<&String> = req.scope.iter().collect();
    ordered.sort_by_key(|s| ORDER.iter().position(|o| o == s).unwrap_or(ORDER.len()));
    let scopes = ordered
        .into_iter()
        .map(|s| match s.as_str() {
            "openid" | "profile" | "email" | "groups" | "offline_access" => {
                t.get(&format!("oidc.consent.scope.{s}")).to_owned()
            }
            other => format!("{}: {other}", t.get("oidc.consent.scope.other")),
        })
        .collect();
    let body = ConsentPage {
        // The language switch comes back to this request.
        p: Page::for_user(t, &ctx.csrf, path, u),
        app: app.name.clone(),
        scopes,
        action: format!("/oidc/{org}/consent"),
        request,
    }
    .render()?;
    Ok(Html(body).into_response())
}

#[derive(Template)]
#[template(path = "oidc_denied.html")]
struct DeniedPage {
    p: Page,
    app: String,
    reasons: Vec<String>,
    add_factor: bool,
    back: String,
}

fn denied_page(
    ctx: &Ctx,
    issuer: &Issuer,
    app: &OidcClient,
    req: &AuthRequest,
    u: &crate::http::extract::CurrentUser,
    reasons: Vec<String>,
    add_factor: bool,
) -> Result<Response, AppError> {
    let back = app_url(
        &req.redirect_uri,
        &issuer.issuer,
        req.state.as_deref(),
        &[
            ("error", "access_denied"),
            (
                "error_description",
                "The organisation's rules refuse this sign-in.",
            ),
        ],
    );
    let body = DeniedPage {
        p: Page::for_user(ctx.t, &ctx.csrf, "/", u),
        app: app.name.clone(),
        reasons,
        add_factor,
        back,
    }
    .render()?;
    Ok((StatusCode::FORBIDDEN, Html(body)).into_response())
}

#[derive(Template)]
#[template(path = "oidc_error.html")]
struct ErrorPage {
    p: Page,
    key: &'static str,
}

/// A request that cannot be answered to the app: a page, never a redirect.
async fn error_page(ctx: &Ctx, issuer: &Issuer, key: &'static str) -> Result<Response, AppError> {
    let mut p = Page::anonymous(ctx.t, &ctx.csrf, "/");
    if let Some(org) = ctx.state.store.organisation(&issuer.organisation).await? {
        p = p.with_contact(&org);
    }
    let body = ErrorPage { p, key }.render()?;
    Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
}

fn to_app(
    ctx: &Ctx,
    issuer: &Issuer,
    req: &AuthRequest,
    error: &str,
    description: &str,
) -> Result<Response, AppError> {
    back_to_app(
        ctx,
        app_url(
            &req.redirect_uri,
            &issuer.issuer,
            req.state.as_deref(),
            &[("error", error), ("error_description", description)],
        ),
    )
}

#[derive(Template)]
#[template(path = "oidc_return.html")]
struct ReturnPage {
    p: Page,
    url: String,
}

/// To the app at `url`: a redirect, or after a form a page that goes on
/// at once (see [`Ctx::after_form`]).
fn back_to_app(ctx: &Ctx, url: String) -> Result<Response, AppError> {
    if !ctx.after_form {
        return Ok(redirect(&url));
    }
    let body = ReturnPage {
        p: Page::bare(ctx.t),
        url,
    }
    .render()?;
    Ok(Html(body).into_response())
}

/// The app's redirect URI with the answer added to its query, plus
/// `state` and `iss` (RFC 9207, so the app knows which issuer answered).
fn app_url(redirect_uri: &str, iss: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    if let Some(s) = state {
        out.append_pair("state", s);
    }
    out.append_pair("iss", iss);
    let query = out.finish();
    let (base, fragment_free) = (redirect_uri, !redirect_uri.contains('#'));
    debug_assert!(fragment_free);
    if base.contains('?') {
        format!("{base}&{query}")
    } else {
        format!("{base}?{query}")
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}
