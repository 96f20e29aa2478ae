//! The words for outcomes that several capabilities show: refusals by the
//! sign-in guard, broken password rules, kinds of factor.

use crate::http::i18n::Tr;
use portvakt_core::auth::password_rules::PasswordRuleError;
use portvakt_core::store::FactorKind;

/// What a person is told when the account or the connection has failed
/// too often (the same words as at `/login`), and the status that goes
/// with it.
pub(crate) fn refusal_text(
    t: Tr,
    r: portvakt_core::auth::guard::Refusal,
    now: i64,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    use portvakt_core::auth::guard::Refusal;
    match r {
        Refusal::Throttled { until } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} {}.",
                t.get("login.error.throttled"),
                crate::http::time_fmt::moment(t, until, now)
            ),
        ),
        Refusal::Locked => (StatusCode::LOCKED, t.get("login.error.locked").to_owned()),
        Refusal::IpThrottled => (
            StatusCode::TOO_MANY_REQUESTS,
            t.get("login.error.ip").to_owned(),
        ),
    }
}

/// The message for a broken password rule.
pub(crate) fn rule_key(r: &PasswordRuleError) -> &'static str {
    match r {
        PasswordRuleError::TooShort(_) => "password.error.short",
        PasswordRuleError::TooLong => "password.error.long",
        PasswordRuleError::Common => "password.error.common",
        PasswordRuleError::ContainsOrganisation => "password.error.org",
        PasswordRuleError::ContainsUsername => "password.error.username",
        PasswordRuleError::Mismatch => "password.error.mismatch",
    }
}

/// The translation key naming a kind of factor.
pub(crate) fn kind_key(kind: FactorKind) -> &'static str {
    match kind {
        FactorKind::Totp => "admin.user.kind.totp",
        FactorKind::Email => "admin.user.kind.email",
        FactorKind::Sms => "admin.user.kind.sms",
        FactorKind::Passkey => "admin.user.kind.passkey",
    }
}
