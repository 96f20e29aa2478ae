//! Texts of outgoing messages, from the catalogue, Swedish then English
//! (the recipient's language is not known when a code is sent).

use crate::i18n::{Lang, Tr};
use crate::time_fmt;
use portvakt_core::ids::{EventId, OrganisationId};
use portvakt_core::store::OutboxMessage;

/// A one-time code message for `to`.
#[must_use]
pub fn code_email(
    org: &OrganisationId,
    to: &str,
    code: &str,
    expires_at: i64,
    now: i64,
) -> OutboxMessage {
    let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
    let until = time_fmt::stockholm_time(expires_at);
    let body = format!(
        "{}\n\n    {code}\n\n{} {until}.\n{}\n\n--\n\n{}\n\n    {code}\n\n{} {until} (Swedish time).\n{}\n",
        sv.get("mail.code.intro"),
        sv.get("mail.code.valid"),
        sv.get("mail.code.not_you"),
        en.get("mail.code.intro"),
        en.get("mail.code.valid"),
        en.get("mail.code.not_you"),
    );
    OutboxMessage {
        id: EventId::generate().to_string(),
        organisation_id: org.clone(),
        channel: "email".into(),
        recipient: to.into(),
        subject: format!(
            "{} / {}",
            sv.get("mail.code.subject"),
            en.get("mail.code.subject")
        ),
        body,
        created_at: now,
        attempts: 0,
    }
}
