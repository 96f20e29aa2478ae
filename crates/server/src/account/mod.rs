//! A signed-in person's own account: settings, second factors, passkey
//! registration, re-authentication and password change.

pub mod password;
pub mod settings;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use Access::SignedIn;

/// "Mina inställningar", re-authentication and the password page.
pub fn routes(r: Routes) -> Routes {
    r.add(&["GET"], "/settings", SignedIn, get(settings::settings_get))
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
}
