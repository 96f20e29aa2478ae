//! Intrusion cases (issue 14): the seed's paper checklist for a suspected
//! intrusion in an account ("Misstänkt intrång i användarkonto") as a case
//! the servicedesk works through: the accounts it concerns, a timeline,
//! notes, evidence, the checklist's steps and an outcome. Pure rules; the
//! store keeps them and the server shows them.

pub mod evidence;
pub mod handover;

use crate::clock::UnixTime;
use crate::ids::{EventId, OrganisationId, UserId};
use std::fmt;

/// A case's id (`case_…`, 128 random bits): opaque in URLs, so a number
/// from another organisation cannot be guessed into.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(String);

impl CaseId {
    #[must_use]
    pub fn generate() -> Self {
        Self(EventId::generate().as_str().replacen("evt_", "case_", 1))
    }
    #[must_use]
    pub fn from_raw(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a case came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseSource {
    /// Opened by the servicedesk by hand.
    Servicedesk,
    /// Opened by the person's own "Det här var inte jag".
    NotMe,
}

impl CaseSource {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Servicedesk => "servicedesk",
            Self::NotMe => "not_me",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "servicedesk" => Some(Self::Servicedesk),
            "not_me" => Some(Self::NotMe),
            _ => None,
        }
    }
}

/// What a closed case concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Someone else did use the account.
    Confirmed,
    /// It was the person after all, or a misunderstanding.
    NotAnIntrusion,
    /// Could not be established either way.
    Inconclusive,
}

impl Outcome {
    pub const ALL: [Self; 3] = [Self::Confirmed, Self::NotAnIntrusion, Self::Inconclusive];
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::NotAnIntrusion => "not_an_intrusion",
            Self::Inconclusive => "inconclusive",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// The seed's checklist, in its order. Stored by key; the words live with
/// the server's texts.
pub const STEPS: [&str; 11] = [
    // When did it happen and how was it discovered; where were the person
    // and their computer?
    "established",
    // Does the person's original password still work, or was it changed?
    "password_checked",
    // What happened is documented, with screenshots (evidence).
    "documented",
    // Ruled out: the person shared the password.
    "not_shared",
    // Ruled out: the computer was left unattended.
    "not_unattended",
    // Ruled out: a public or shared computer still signed in or with the
    // password saved.
    "not_public_computer",
    // No other account of the person is affected.
    "other_accounts",
    // If the e-mail may be hijacked, its password is changed first.
    "email_secured",
    // The e-mail address and mobile numbers on the account are checked,
    // and removed if in doubt.
    "contacts_checked",
    // The password is reset (handed over orally if the e-mail may be read).
    "password_reset",
    // The sign-in history with IP addresses is reviewed (one shared public
    // address says little).
    "history_reviewed",
];

#[must_use]
pub fn is_step(s: &str) -> bool {
    STEPS.contains(&s)
}

/// The most a case holds of what people type, in characters.
pub const MAX_TITLE: usize = 200;
pub const MAX_NOTE: usize = 10_000;
pub const MAX_ACCOUNTS: usize = 50;

/// One case, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: CaseId,
    pub organisation_id: OrganisationId,
    pub number: i64,
    pub title: String,
    pub opened_at: UnixTime,
    pub opened_by: UserId,
    pub source: CaseSource,
    /// The sign-in the person reported as not theirs.
    pub reported_event: Option<EventId>,
    pub closed: Option<Closed>,
    pub accounts: Vec<UserId>,
}

impl Case {
    /// Notes, evidence, steps and accounts change only while the case is
    /// open; a closed case is reopened first (and that is logged).
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub at: UnixTime,
    pub by: UserId,
    pub outcome: Outcome,
    pub note: String,
}

/// What opening a case needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub id: CaseId,
    pub organisation_id: OrganisationId,
    pub title: String,
    pub opened_at: UnixTime,
    pub opened_by: UserId,
    pub source: CaseSource,
    pub reported_event: Option<EventId>,
    pub accounts: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: EventId,
    /// When what it tells happened (the writer's own time).
    pub at: UnixTime,
    pub written_at: UnixTime,
    pub author: UserId,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDone {
    pub step: String,
    pub at: UnixTime,
    pub by: UserId,
}

/// An uploaded file's record, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    pub id: EventId,
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded_by: UserId,
    pub uploaded_at: UnixTime,
}

/// One line of the case list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub id: CaseId,
    pub number: i64,
    pub title: String,
    pub opened_at: UnixTime,
    pub source: CaseSource,
    pub closed_at: Option<UnixTime>,
    pub accounts: Vec<UserId>,
}

/// A title as typed: one line, no control characters, bounded; `None`
/// when nothing is left.
#[must_use]
pub fn clean_title(s: &str) -> Option<String> {
    let t: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let t: String = t.chars().take(MAX_TITLE).collect();
    (!t.is_empty()).then_some(t)
}

/// A note as typed: line breaks kept, other control characters dropped;
/// `None` when empty or too long (refused, not cut).
#[must_use]
pub fn clean_note(s: &str) -> Option<String> {
    let t: String = s
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect();
    let t = t.trim().to_owned();
    (!t.is_empty() && t.chars().count() <= MAX_NOTE).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_unique_and_known() {
        let mut s = STEPS.to_vec();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), STEPS.len());
        assert!(is_step("documented"));
        assert!(!is_step("documented "));
    }

    #[test]
    fn titles_are_one_line_and_notes_keep_their_lines() {
        assert_eq!(clean_title("  a\r\nb\u{7}  c "), Some("a b c".into()));
        assert_eq!(clean_title(" \n "), None);
        assert_eq!(clean_title(&"x".repeat(500)).unwrap().len(), MAX_TITLE);
        assert_eq!(
            clean_note("rad 1\r\nrad 2\u{1b}"),
            Some("rad 1\nrad 2".into())
        );
        assert_eq!(clean_note(&"x".repeat(MAX_NOTE + 1)), None);
        assert_eq!(clean_note("  "), None);
    }

    #[test]
    fn words_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        for s in [CaseSource::Servicedesk, CaseSource::NotMe] {
            assert_eq!(CaseSource::parse(s.as_str()), Some(s));
        }
        assert!(CaseId::generate().as_str().starts_with("case_"));
    }
}
