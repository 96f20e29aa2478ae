//! Texts of outgoing messages, from the catalogue. E-mails carry Swedish
//! then English; an SMS is short, so it is in the user's own language
//! (Swedish unless they chose English).

use crate::http::i18n::{Lang, Tr};
use crate::http::time_fmt;
use portvakt_core::auth::email_codes::IssuedCode;
use portvakt_core::ids::{EventId, OrganisationId};
use portvakt_core::store::{Channel, FactorKind, OutboxMessage};

/// The message carrying a one-time code, by the channel it was issued for.
#[must_use]
pub fn code_message(
    org: &OrganisationId,
    issued: &IssuedCode,
    lang: Lang,
    now: i64,
) -> OutboxMessage {
    issued_code_message(org, issued, lang, now, SIGN_IN)
}

/// The message carrying the code that confirms a new number or address
/// under "Mina inställningar". Its words are its own: a sign-in warning
/// ("Har du inte försökt logga in?") would alarm someone whose number was
/// typed by mistake, and send them to change a password no one knows.
#[must_use]
pub fn confirm_code_message(
    org: &OrganisationId,
    issued: &IssuedCode,
    lang: Lang,
    now: i64,
) -> OutboxMessage {
    issued_code_message(org, issued, lang, now, CONFIRM)
}

/// The SMS text, then the e-mail's subject, introduction and "was it not
/// you?" line, for one purpose of a code.
type CodeWords = (&'static str, [&'static str; 3]);
const SIGN_IN: CodeWords = (
    "sms.code",
    ["mail.code.subject", "mail.code.intro", "mail.code.not_you"],
);
const CONFIRM: CodeWords = (
    "sms.confirm",
    [
        "mail.confirm.subject",
        "mail.confirm.intro",
        "mail.confirm.not_you",
    ],
);

fn issued_code_message(
    org: &OrganisationId,
    issued: &IssuedCode,
    lang: Lang,
    now: i64,
    (sms_key, mail_keys): CodeWords,
) -> OutboxMessage {
    match issued.channel {
        FactorKind::Sms => {
            let body = Tr::new(lang)
                .get(sms_key)
                .replace("{code}", &issued.code)
                .replace("{until}", &time_fmt::stockholm_time(issued.expires_at));
            sms(org, &issued.destination, body, now)
        }
        _ => code_email_with(
            org,
            &issued.destination,
            &issued.code,
            issued.expires_at,
            now,
            mail_keys,
        ),
    }
}

/// An SMS (Swedish: SMS are short, and the number's owner reads Swedish
/// messages from the organisation today).
#[must_use]
pub fn sms(org: &OrganisationId, to_digits: &str, body: String, now: i64) -> OutboxMessage {
    OutboxMessage {
        id: EventId::generate_at(now).to_string(),
        organisation_id: org.clone(),
        channel: Channel::Sms,
        recipient: to_digits.into(),
        subject: String::new(),
        body,
        created_at: now,
        attempts: 0,
    }
}

/// A one-time code e-mail for `to`, for signing in.
#[must_use]
pub fn code_email(
    org: &OrganisationId,
    to: &str,
    code: &str,
    expires_at: i64,
    now: i64,
) -> OutboxMessage {
    code_email_with(org, to, code, expires_at, now, SIGN_IN.1)
}

/// The e-mail around a code, Swedish then English; `keys` are the subject,
/// the introduction and the "was it not you?" line.
fn code_email_with(
    org: &OrganisationId,
    to: &str,
    code: &str,
    expires_at: i64,
    now: i64,
    keys: [&str; 3],
) -> OutboxMessage {
    let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
    let until = time_fmt::stockholm_time(expires_at);
    let [subject, intro, not_you] = keys;
    let body = format!(
        "{}\n\n    {code}\n\n{} {until}.\n{}\n\n--\n\n{}\n\n    {code}\n\n{} {until} (Swedish time).\n{}\n",
        sv.get(intro),
        sv.get("mail.code.valid"),
        sv.get(not_you),
        en.get(intro),
        en.get("mail.code.valid"),
        en.get(not_you),
    );
    OutboxMessage {
        id: EventId::generate_at(now).to_string(),
        organisation_id: org.clone(),
        channel: Channel::Email,
        recipient: to.into(),
        subject: format!("{} / {}", sv.get(subject), en.get(subject)),
        body,
        created_at: now,
        attempts: 0,
    }
}

/// The reset code to every registered address and number.
#[must_use]
pub fn reset_messages(
    started: &portvakt_core::auth::reset::ResetStarted,
    now: i64,
) -> Vec<OutboxMessage> {
    let (Some(code), Some(org)) = (&started.code, &started.organisation) else {
        return Vec::new();
    };
    let until = time_fmt::stockholm_time(started.expires_at);
    let own = Tr::new(started.language.unwrap_or_default());
    started
        .destinations
        .iter()
        .map(|(kind, to)| {
            if *kind == FactorKind::Sms {
                sms(
                    org,
                    to,
                    own.get("sms.reset")
                        .replace("{code}", code)
                        .replace("{until}", &until),
                    now,
                )
            } else {
                code_email_with(
                    org,
                    to,
                    code,
                    started.expires_at,
                    now,
                    [
                        "mail.reset.subject",
                        "mail.reset.intro",
                        "mail.reset.not_you",
                    ],
                )
            }
        })
        .collect()
}
