//! Signing in and out: password, second factor, passkeys and password
//! reset.

pub mod factor;
pub mod login;
pub mod notice;
pub mod passkey;
pub mod reset;
pub mod signed_out;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use Access::{Public, SignedIn};

/// Sign-in, second factor, passkeys, reset and sign-out.
pub fn routes(r: Routes) -> Routes {
    r.add(
        &["GET", "POST"],
        "/login",
        Public,
        get(login::login_get).post(login::login_post),
    )
    .add(&["GET"], "/signed-out", Public, get(signed_out::signed_out))
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
    .add(&["POST"], "/logout", SignedIn, post(login::logout_post))
    .add(
        &["GET", "POST"],
        "/login/factor",
        SignedIn,
        get(factor::factor_get).post(factor::factor_post),
    )
    .add(
        &["POST"],
        "/login/factor/cancel",
        SignedIn,
        post(factor::cancel_post),
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
    // Registration shares the passkey ceremony page with sign-in.
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
}
