//! Reading and writing our cookies.

use crate::app::state::CookieNames;
use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

/// The value of cookie `name`, if the request carries exactly one usable one.
#[must_use]
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| Cookie::split_parse(h.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// A `Set-Cookie` value: path `/`, HttpOnly, `Secure` unless in dev mode.
/// `max_age` of `Some(0)` deletes; `None` makes a browser-session cookie.
#[must_use]
pub fn build(
    names: &CookieNames,
    name: &str,
    value: &str,
    same_site: SameSite,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(names.secure)
        .same_site(same_site);
    if let Some(secs) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(secs));
    }
    if name == names.session {
        if let Some(d) = &names.session_domain {
            c = c.domain(d.to_string());
        }
    }
    HeaderValue::from_str(&c.build().to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of the step-up cookie: the session the step-up started from,
/// bound to the pending session made for it (its stored hash), so that the
/// cookie can only ever be used with that one pending session — not with a
/// later sign-in of the same person in the same browser.
#[must_use]
pub fn kept_session_value(
    previous: &portvakt_core::auth::session::SessionToken,
    pending: &portvakt_core::auth::session::SessionToken,
) -> String {
    format!("{}.{}", previous.as_str(), pending.hash())
}

/// The kept session in a step-up cookie, if it was made for the pending
/// session whose stored hash is `pending_hash`.
#[must_use]
pub fn kept_session_for(
    raw: &str,
    pending_hash: &str,
) -> Option<portvakt_core::auth::session::SessionToken> {
    let (previous, bound_to) = raw.rsplit_once('.')?;
    (bound_to == pending_hash && !previous.is_empty())
        .then(|| portvakt_core::auth::session::SessionToken::from_cookie(previous))
}
