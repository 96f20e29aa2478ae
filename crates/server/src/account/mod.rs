//! A signed-in person's own account: settings, second factors, passkey
//! registration, re-authentication, password change, and their sign-in
//! history ("Mina inloggningar").

pub mod factors;
pub mod history;
pub mod password;
pub mod reauth;
pub mod settings;
pub(crate) mod settings_page;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use Access::SignedIn;

/// "Mina inställningar", re-authentication and the password page.
pub fn routes(r: Routes) -> Routes {
    r.add(&["GET"], "/settings", SignedIn, get(settings::settings_get))
        .add(
            &["GET"],
            "/settings/signins",
            SignedIn,
            get(history::signins_get),
        )
        .add(
            &["POST"],
            "/settings/signins/end-others",
            SignedIn,
            post(history::end_others_post),
        )
        .add(
            &["GET", "POST"],
            "/settings/signins/{id}/not-me",
            SignedIn,
            get(history::not_me_get).post(history::not_me_post),
        )
        .add(
            &["POST"],
            "/settings/apps/{client}/end",
            SignedIn,
            post(settings::app_end_post),
        )
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
            post(factors::totp_start_post),
        )
        .add(
            &["POST"],
            "/settings/email",
            SignedIn,
            post(factors::email_start_post),
        )
        .add(
            &["POST"],
            "/settings/sms",
            SignedIn,
            post(factors::sms_start_post),
        )
        .add(
            &["GET", "POST"],
            "/settings/verify/{id}",
            SignedIn,
            get(factors::email_get).post(factors::email_confirm_post),
        )
        .add(
            &["GET", "POST"],
            "/settings/totp/{id}",
            SignedIn,
            get(factors::totp_get).post(factors::totp_confirm_post),
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
            get(reauth::reauth_get).post(reauth::reauth_post),
        )
        .add(
            &["GET", "POST"],
            "/password",
            SignedIn,
            get(password::password_get).post(password::password_post),
        )
}
