//! The words of a notice about a change to a person's sign-in (password,
//! second factors): what changed, when, and what to do if it was not them.
//! A notice never carries a code or a secret: it may reach a phone or a
//! mailbox that is no longer only the person's.

use crate::http::i18n::{Lang, Tr};
use crate::http::time_fmt;
use portvakt_core::ids::{EventId, OrganisationId};
use portvakt_core::store::{Channel, FactorKind, OutboxMessage};

/// What happened to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    PasswordChanged,
    /// Through "Glömt lösenordet" (a code or a passkey).
    PasswordReset,
    Added(FactorKind),
    Removed(FactorKind),
    /// Told to the removed address or number itself.
    RemovedThis(FactorKind),
}

impl Change {
    fn key(self) -> &'static str {
        use FactorKind::{Email, Passkey, Sms, Totp};
        match self {
            Change::PasswordChanged => "notice.password_changed",
            Change::PasswordReset => "notice.password_reset",
            Change::Added(Totp) => "notice.added.totp",
            Change::Added(Passkey) => "notice.added.passkey",
            Change::Added(Sms) => "notice.added.sms",
            Change::Added(Email) => "notice.added.email",
            Change::Removed(Totp) => "notice.removed.totp",
            Change::Removed(Passkey) => "notice.removed.passkey",
            Change::Removed(Sms) => "notice.removed.sms",
            Change::Removed(Email) => "notice.removed.email",
            Change::RemovedThis(Sms) => "notice.removed_this.sms",
            Change::RemovedThis(_) => "notice.removed_this.email",
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Change::PasswordChanged | Change::PasswordReset => "mail.notice.password_subject",
            _ => "mail.notice.subject",
        }
    }
}

/// One notice, before it is addressed.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub change: Change,
    /// When the change was made (unix seconds), shown in Stockholm time.
    pub at: i64,
    /// Where the organisation's people call for help, if it says.
    pub phone: Option<&'a str>,
    /// The person's own choice; without one an SMS is Swedish and an
    /// e-mail Swedish then English, as the other messages are.
    pub lang: Option<Lang>,
}

impl Notice<'_> {
    /// What changed and when, then what to do if it was not them.
    fn sentences(&self, t: Tr) -> (String, String) {
        let stamp = time_fmt::stockholm(self.at);
        let (date, time) = stamp.split_once(' ').unwrap_or((&stamp, ""));
        let when = t
            .get("notice.when")
            .replace("{date}", date)
            .replace("{time}", time);
        let what = t.get(self.change.key()).replace("{when}", &when);
        let not_you = match self.phone {
            Some(p) => t.get("notice.not_you_phone").replace("{phone}", p),
            None => t.get("notice.not_you").to_owned(),
        };
        (what, not_you)
    }

    /// The notice as an SMS to `to_digits`.
    #[must_use]
    pub fn sms(&self, org: &OrganisationId, to_digits: &str, now: i64) -> OutboxMessage {
        let t = Tr::new(self.lang.unwrap_or_default());
        let (what, not_you) = self.sentences(t);
        let body = t
            .get("sms.notice")
            .replace("{text}", &format!("{what} {not_you}"));
        crate::messaging::messages::sms(org, to_digits, body, now)
    }

    /// The notice as an e-mail to `to`.
    #[must_use]
    pub fn email(&self, org: &OrganisationId, to: &str, now: i64) -> OutboxMessage {
        let langs = match self.lang {
            Some(l) => vec![l],
            None => vec![Lang::Sv, Lang::En],
        };
        let subject: Vec<&str> = langs
            .iter()
            .map(|l| Tr::new(*l).get(self.change.subject()))
            .collect();
        let body: Vec<String> = langs
            .iter()
            .map(|l| {
                let t = Tr::new(*l);
                let (what, not_you) = self.sentences(t);
                format!("{what}\n\n{not_you}\n\n{}", t.get("mail.notice.footer"))
            })
            .collect();
        OutboxMessage {
            id: EventId::generate_at(now).to_string(),
            organisation_id: org.clone(),
            channel: Channel::Email,
            recipient: to.into(),
            subject: subject.join(" / "),
            body: format!("{}\n", body.join("\n\n--\n\n")),
            created_at: now,
            attempts: 0,
        }
    }
}

/// The first phone number in the organisation's contact text (the lines
/// its status page shows), preferring a line about the servicedesk.
#[must_use]
pub fn help_phone(contact: &str) -> Option<String> {
    let about_servicedesk = |l: &str| {
        let l = l.to_lowercase();
        l.contains("servicedesk") || l.contains("service desk")
    };
    let (first, rest): (Vec<&str>, Vec<&str>) = contact.lines().partition(|l| about_servicedesk(l));
    first.into_iter().chain(rest).find_map(phone_in)
}

/// A number as people write them, "0123-45 60 00" or "+46 123 45 60 00":
/// starting a word with `0` or `+`, then digits, spaces and hyphens, 7–15
/// digits in all. Times ("08.00–16.30") and postcodes do not qualify.
fn phone_in(line: &str) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    (0..chars.len()).find_map(|i| {
        let starts = matches!(chars[i], '0' | '+')
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !starts {
            return None;
        }
        let mut end = i + 1;
        while end < chars.len() && (chars[end].is_ascii_digit() || matches!(chars[end], ' ' | '-'))
        {
            end += 1;
        }
        let candidate: String = chars[i..end].iter().collect();
        let candidate = candidate.trim_end_matches([' ', '-']);
        let digits = candidate.chars().filter(char::is_ascii_digit).count();
        let followed_by_digit = chars.get(end).is_some_and(|c| c.is_alphanumeric());
        ((7..=15).contains(&digits) && !followed_by_digit).then(|| candidate.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str =
        "Kontaktcenter: 0123-45 60 00 (vardagar 08.00–16.30), kontakt@exempelkommun.se.\n\
                        Besök receptionen på Storgatan 1, vardagar 08.30–16.00.\n\
                        Akuta ärenden för skolan: expeditionen, 0123-45 67 00.";

    #[test]
    fn the_contact_number_is_found_and_times_are_not_numbers() {
        assert_eq!(help_phone(DEMO).as_deref(), Some("0123-45 60 00"));
        assert_eq!(
            help_phone("Besök oss 08.00–16.30.\nServicedesk: +46 123 45 99 00, dygnet runt")
                .as_deref(),
            Some("+46 123 45 99 00")
        );
        assert_eq!(help_phone("Storgatan 1, 012 34 Kommunby"), None);
        assert_eq!(help_phone("Mejla kontakt@exempelkommun.se"), None);
        assert_eq!(help_phone(""), None);
    }

    fn notice(change: Change, lang: Option<Lang>) -> Notice<'static> {
        Notice {
            change,
            at: 1_795_435_200, // 2026-11-23 13:00 in Stockholm
            phone: Some("0123-45 60 00"),
            lang,
        }
    }

    #[test]
    fn an_sms_says_what_when_and_who_to_call_in_the_persons_language() {
        let org = OrganisationId::from_raw("o");
        let sv = notice(Change::PasswordChanged, None).sms(&org, "46701234567", 0);
        assert_eq!(
            sv.body,
            "Portvakt: Lösenordet till ditt konto byttes 2026-11-23 kl. 13:00. \
             Var det inte du? Kontakta servicedesk på 0123-45 60 00."
        );
        let en = notice(Change::Added(FactorKind::Totp), Some(Lang::En)).sms(&org, "4670", 0);
        assert!(
            en.body.contains("An authenticator app was added"),
            "{}",
            en.body
        );
        assert!(en.body.contains("on 2026-11-23 at 13:00"), "{}", en.body);
    }

    #[test]
    fn an_email_is_in_the_chosen_language_or_both() {
        let org = OrganisationId::from_raw("o");
        let both = notice(Change::Removed(FactorKind::Sms), None).email(&org, "a@b.se", 0);
        assert!(both.body.contains("Ett mobilnummer togs bort"));
        assert!(both.body.contains("A mobile number was removed"));
        let en = notice(Change::PasswordReset, Some(Lang::En)).email(&org, "a@b.se", 0);
        assert!(!en.body.contains("Lösenordet"), "{}", en.body);
        assert!(!en.subject.contains('/'), "{}", en.subject);
    }

    #[test]
    fn every_change_has_its_words_in_both_languages() {
        let kinds = [
            FactorKind::Totp,
            FactorKind::Passkey,
            FactorKind::Sms,
            FactorKind::Email,
        ];
        let changes = [Change::PasswordChanged, Change::PasswordReset]
            .into_iter()
            .chain(kinds.iter().map(|k| Change::Added(*k)))
            .chain(kinds.iter().map(|k| Change::Removed(*k)))
            .chain(kinds.iter().map(|k| Change::RemovedThis(*k)));
        for c in changes {
            for l in [Lang::Sv, Lang::En] {
                let t = Tr::new(l);
                assert_ne!(t.get(c.key()), c.key(), "{c:?}");
                assert!(t.get(c.key()).contains("{when}"), "{c:?}");
            }
        }
    }
}
