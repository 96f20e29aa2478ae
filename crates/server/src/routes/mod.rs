//! The router, built through [`Routes`] so that every route is recorded with
//! who may reach it. Tests walk [`route_table`] to prove that everything not
//! listed as public refuses anonymous callers (SECURITY.md A2), and that
//! role-restricted routes refuse users without the role (C2).

pub(crate) mod admin;
mod factor;
mod login;
pub(crate) mod misc;
mod passkey;
mod password;
mod portal;
mod reset;
pub(crate) mod selfcheck;
mod settings;
pub(crate) mod status;
mod status_admin;
mod verify;

pub(crate) use verify::{denied_page, header_value};

/// What a person is told when the account or the connection has failed
/// too often (the same words as at `/login`), and the status that goes
/// with it.
pub(crate) fn refusal_text(
    t: crate::i18n::Tr,
    r: portvakt_core::auth::guard::Refusal,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    use portvakt_core::auth::guard::Refusal;
    match r {
        Refusal::Throttled { until } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} {}.",
                t.get("login.error.throttled"),
                crate::time_fmt::stockholm(until)
            ),
        ),
        Refusal::Locked => (StatusCode::LOCKED, t.get("login.error.locked").to_owned()),
        Refusal::IpThrottled => (
            StatusCode::TOO_MANY_REQUESTS,
            t.get("login.error.ip").to_owned(),
        ),
    }
}

use crate::state::AppState;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use portvakt_core::domain::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    SignedIn,
    Role(Role),
}

#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: &'static str,
    /// Path with `{param}` placeholders.
    pub path: &'static str,
    pub access: Access,
}

struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Routes {
    fn add(
        mut self,
        methods: &[&'static str],
        path: &'static str,
        access: Access,
        mr: MethodRouter<AppState>,
    ) -> Self {
        for method in methods {
            self.table.push(RouteInfo {
                method,
                path,
                access,
            });
        }
        self.router = self.router.route(path, mr);
        self
    }
}

fn build() -> Routes {
    use Access::{Public, SignedIn};
    let desk = Access::Role(Role::Servicedesk);
    Routes {
        router: Router::new(),
        table: Vec::new(),
    }
    .add(&["GET"], "/healthz", Public, get(misc::healthz))
    .add(&["GET"], "/readyz", Public, get(misc::readyz))
    .add(&["GET"], "/auth/verify", Public, get(verify::verify))
    .add(&["GET"], "/auth/denied", Public, get(verify::denied))
    .add(
        &["GET"],
        "/static/portvakt.css",
        Public,
        get(misc::stylesheet),
    )
    .add(
        &["GET", "POST"],
        "/login",
        Public,
        get(login::login_get).post(login::login_post),
    )
    .add(&["GET"], "/signed-out", Public, get(misc::signed_out))
    .add(&["GET"], "/status", Public, get(status::default_page))
    .add(
        &["GET"],
        "/status/check",
        Public,
        get(selfcheck::selfcheck_get),
    )
    .add(
        &["GET"],
        "/static/selfcheck.js",
        Public,
        get(selfcheck::script),
    )
    .add(&["GET"], "/status/{org}", Public, get(status::org_page))
    .add(
        &["GET", "POST"],
        "/reset",
        Public,
        get(reset::reset_get).post(reset::reset_post),
    )
    .add(
        &["GET", "POST"],
        "/reset/code",
        Public,
        get(reset::reset_code_get).post(reset::reset_code_post),
    )
    .add(&["GET"], "/static/passkey.js", Public, get(passkey::script))
    .add(
        &["POST"],
        "/login/passkey",
        Public,
        post(passkey::signin_start),
    )
    .add(
        &["POST"],
        "/login/passkey/finish",
        Public,
        post(passkey::signin_finish),
    )
    .add(
        &["POST"],
        "/reset/passkey",
        Public,
        post(passkey::reset_start),
    )
    .add(
        &["POST"],
        "/reset/passkey/finish",
        Public,
        post(passkey::reset_finish),
    )
    .add(&["POST"], "/language", Public, post(misc::language_post))
    .add(&["POST"], "/logout", SignedIn, post(login::logout_post))
    .add(
        &["GET", "POST"],
        "/login/factor",
        SignedIn,
        get(factor::factor_get).post(factor::factor_post),
    )
    .add(
        &["POST"],
        "/login/factor/send/{id}",
        SignedIn,
        post(factor::send_email_post),
    )
    .add(
        &["POST"],
        "/login/factor/passkey",
        SignedIn,
        post(passkey::second_start),
    )
    .add(
        &["POST"],
        "/login/factor/passkey/finish",
        SignedIn,
        post(passkey::second_finish),
    )
    .add(
        &["POST"],
        "/settings/passkey",
        SignedIn,
        post(passkey::register_start),
    )
    .add(
        &["POST"],
        "/settings/passkey/finish",
        SignedIn,
        post(passkey::register_finish),
    )
    .add(&["GET"], "/", SignedIn, get(portal::portal_get))
    .add(&["POST"], "/step-up", SignedIn, post(portal::step_up_post))
    .add(&["GET"], "/settings", SignedIn, get(settings::settings_get))
    .add(
        &["POST"],
        "/settings/language",
        SignedIn,
        post(settings::language_post),
    )
    .add(
        &["POST"],
        "/settings/totp",
        SignedIn,
        post(settings::totp_start_post),
    )
    .add(
        &["POST"],
        "/settings/email",
        SignedIn,
        post(settings::email_start_post),
    )
    .add(
        &["POST"],
        "/settings/sms",
        SignedIn,
        post(settings::sms_start_post),
    )
    .add(
        &["GET", "POST"],
        "/settings/verify/{id}",
        SignedIn,
        get(settings::email_get).post(settings::email_confirm_post),
    )
    .add(
        &["GET", "POST"],
        "/settings/totp/{id}",
        SignedIn,
        get(settings::totp_get).post(settings::totp_confirm_post),
    )
    .add(
        &["POST"],
        "/settings/factors/{id}/remove",
        SignedIn,
        post(settings::factor_remove_post),
    )
    .add(
        &["GET", "POST"],
        "/reauth",
        SignedIn,
        get(settings::reauth_get).post(settings::reauth_post),
    )
    .add(
        &["GET", "POST"],
        "/password",
        SignedIn,
        get(password::password_get).post(password::password_post),
    )
    .add(
        &["GET"],
        "/admin/status",
        Access::Role(Role::StatusEditor),
        get(status_admin::editor_get),
    )
    .add(
        &["POST"],
        "/admin/status/incidents",
        Access::Role(Role::StatusEditor),
        post(status_admin::open_post),
    )
    .add(
        &["POST"],
        "/admin/status/message",
        Access::Role(Role::StatusEditor),
        post(status_admin::message_post),
    )
    .add(
        &["POST"],
        "/admin/status/incidents/{id}/updates",
        Access::Role(Role::StatusEditor),
        post(status_admin::update_post),
    )
    .add(
        &["POST"],
        "/admin/status/drafts/{id}/publish",
        Access::Role(Role::StatusEditor),
        post(status_admin::draft_publish),
    )
    .add(
        &["POST"],
        "/admin/status/drafts/{id}/withdraw",
        Access::Role(Role::StatusEditor),
        post(status_admin::draft_withdraw),
    )
    .add(&["GET"], "/admin/users", desk, get(admin::users_get))
    .add(&["GET"], "/admin/users/{id}", desk, get(admin::user_get))
    .add(
        &["POST"],
        "/admin/users/{id}/unlock",
        desk,
        post(admin::unlock_post),
    )
    .add(
        &["POST"],
        "/admin/users/{id}/revoke-sessions",
        desk,
        post(admin::revoke_post),
    )
    .add(
        &["POST"],
        "/admin/users/{id}/factors/{factor}/remove",
        desk,
        post(admin::factor_remove_post),
    )
}

/// Every route with its access rule.
#[must_use]
pub fn route_table() -> Vec<RouteInfo> {
    build().table
}

pub fn router() -> Router<AppState> {
    build().router
}
