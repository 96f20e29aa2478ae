//! The personal-data breach register (issue 15, seed 001): what the data
//! protection officer records and reports to IMY under GDPR Art. 33 (every
//! field of Art. 33(3) and of IMY's e-service form), kept even when not
//! reported (Art. 33(5)), updated in phases (Art. 33(4)), with the 72-hour
//! clock from discovery and, for incidents marked significant, the NIS2
//! milestones (Art. 23(4): early warning in 24 hours, notification in 72,
//! final report one month after the notification).
//!
//! One breach may touch several organisations of an installation (seed 001:
//! one platform, 30 municipalities): each organisation has its own part,
//! the parts share a `group_id`, and each DPO sees and reports only theirs.

use crate::clock::UnixTime;
pub use crate::ids::BreachId;
use crate::ids::{OrganisationId, UserId};
use serde::{Deserialize, Serialize};

/// Hours from discovery within which IMY must be told (Art. 33(1)).
pub const DEADLINE_HOURS: i64 = 72;
/// When the DPO is reminded, in hours after discovery, while it is undecided.
pub const REMINDER_HOURS: [i64; 2] = [48, 66];
/// The longest free text kept in one field.
pub const MAX_TEXT: usize = 5000;

/// What kind of breach (IMY: "Vilken typ av incident är det?").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nature {
    /// Disclosed to or reached by someone who should not have it.
    pub confidentiality: bool,
    /// Changed or destroyed without authority.
    pub integrity: bool,
    /// Lost or unreachable.
    pub availability: bool,
}

/// Whether the people affected were told (Art. 34).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Informed {
    #[default]
    NotYet,
    Yes,
    Planned,
    /// Not needed (Art. 34(3)): the reason says why.
    NotNeeded,
}

impl Informed {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotYet => "not_yet",
            Self::Yes => "yes",
            Self::Planned => "planned",
            Self::NotNeeded => "not_needed",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::NotYet, Self::Yes, Self::Planned, Self::NotNeeded]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Whether it was reported to IMY.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reporting {
    /// Not decided yet: the clock runs and reminders go out.
    #[default]
    Undecided,
    Reported,
    /// Kept in the register without a report (Art. 33(5)): the reason says why.
    NotReported,
}

impl Reporting {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undecided => "undecided",
            Self::Reported => "reported",
            Self::NotReported => "not_reported",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Undecided, Self::Reported, Self::NotReported]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Everything the DPO fills in: the fields of Art. 33(3) and of IMY's
/// form. Times are Unix seconds; counts are approximate by nature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Details {
    /// What happened, in the DPO's words.
    pub description: String,
    /// When it started, and ended (`None`: not known yet, or still going).
    pub occurred_from: Option<UnixTime>,
    pub occurred_until: Option<UnixTime>,
    /// How it was found, and by whom.
    pub how_discovered: String,
    pub nature: Nature,
    /// Art. 33(3)(a): categories of people (pupils, guardians, staff…).
    pub subject_categories: String,
    pub subjects_approx: Option<u64>,
    /// Art. 33(3)(a): categories of personal data (names, e-mail, class,
    /// pictures…), and whether special categories (Art. 9, 10) or personal
    /// identity numbers are among them.
    pub data_categories: String,
    pub sensitive_data: bool,
    pub records_approx: Option<u64>,
    /// Art. 33(3)(c): the likely consequences for the people.
    pub consequences: String,
    /// Art. 33(3)(d): measures taken, and planned.
    pub measures_taken: String,
    pub measures_planned: String,
    /// Art. 33(3)(b): the DPO or another contact point.
    pub contact: String,
    /// Art. 34: whether, when and how people were told, or why not.
    pub informed: Informed,
    pub informed_at: Option<UnixTime>,
    pub informed_how: String,
    /// Reported to IMY: when and under which reference; or why not
    /// (Art. 33(5)); why late, if after 72 hours (Art. 33(1)).
    pub reporting: Reporting,
    pub reported_at: Option<UnixTime>,
    pub imy_reference: String,
    pub reason_not_reported: String,
    pub reason_late: String,
    /// A significant incident under NIS2 (the cybersecurity act): its
    /// milestones apply, and when each was sent.
    pub significant: bool,
    pub early_warning_at: Option<UnixTime>,
    pub notification_at: Option<UnixTime>,
    pub final_report_at: Option<UnixTime>,
    /// Intrusion cases of the same organisation (their ids) and audit
    /// entries (their ids) this breach is about.
    pub cases: Vec<String>,
    pub audit_entries: Vec<String>,
}

/// One organisation's part of a breach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub id: BreachId,
    pub organisation_id: OrganisationId,
    /// Shared by the parts of one breach across organisations.
    pub group_id: Option<String>,
    /// Numbered per organisation (`PUI 3`).
    pub number: i64,
    pub title: String,
    /// When the organisation became aware: the 72-hour clock starts here.
    pub discovered_at: UnixTime,
    pub details: Details,
    pub created_at: UnixTime,
    pub created_by: UserId,
    pub updated_at: UnixTime,
}

/// A later addition (Art. 33(4): information in phases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    pub at: UnixTime,
    pub by: UserId,
    pub text: String,
    /// Sent to IMY as a supplement.
    pub submitted: bool,
}

/// A moment the register counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// Art. 33(1): report to IMY.
    Imy,
    /// NIS2: early warning.
    EarlyWarning,
    /// NIS2: incident notification.
    Notification,
    /// NIS2: final report.
    FinalReport,
}

impl Milestone {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imy => "imy",
            Self::EarlyWarning => "early_warning",
            Self::Notification => "notification",
            Self::FinalReport => "final_report",
        }
    }
}

/// A milestone's deadline and when it was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub milestone: Milestone,
    pub deadline: UnixTime,
    pub done: Option<UnixTime>,
}

impl Due {
    /// Seconds left (negative: overdue); `None` once done.
    #[must_use]
    pub fn left(&self, now: UnixTime) -> Option<i64> {
        self.done.is_none().then(|| self.deadline - now)
    }
}

/// One calendar month after `t`, in Swedish time (NIS2's final report).
#[must_use]
pub fn one_month_after(t: UnixTime) -> UnixTime {
    jiff::Timestamp::from_second(t)
        .ok()
        .map(|ts| ts.to_zoned(crate::clock::stockholm().clone()))
        .and_then(|z| z.checked_add(jiff::Span::new().months(1)).ok())
        .map_or(t + 30 * 86_400, |z| z.timestamp().as_second())
}

impl Breach {
    /// The deadlines that apply: IMY's always (met by a report or by the
    /// decision not to report), NIS2's for significant incidents.
    #[must_use]
    pub fn milestones(&self) -> Vec<Due> {
        let d = &self.details;
        let imy_done = match d.reporting {
            Reporting::Undecided => None,
            Reporting::Reported => d.reported_at.or(Some(self.discovered_at)),
            Reporting::NotReported => Some(self.updated_at),
        };
        let mut out = vec![Due {
            milestone: Milestone::Imy,
            deadline: self.discovered_at + DEADLINE_HOURS * 3600,
            done: imy_done,
        }];
        if d.significant {
            let notified = d.notification_at;
            out.extend([
                Due {
                    milestone: Milestone::EarlyWarning,
                    deadline: self.discovered_at + 24 * 3600,
                    done: d.early_warning_at,
                },
                Due {
                    milestone: Milestone::Notification,
                    deadline: self.discovered_at + 72 * 3600,
                    done: notified,
                },
                Due {
                    milestone: Milestone::FinalReport,
                    deadline: one_month_after(notified.unwrap_or(self.discovered_at + 72 * 3600)),
                    done: d.final_report_at,
                },
            ]);
        }
        out
    }

    /// The reminder due at `now` (hours after discovery, from
    /// [`REMINDER_HOURS`]) while the report to IMY is undecided: only the
    /// latest mark passed, if not `sent` yet (a breach recorded late gets
    /// one reminder, not several counting down to the same deadline), and
    /// none once the deadline itself has passed (the record says overdue).
    #[must_use]
    pub fn reminders_due(&self, now: UnixTime, sent: &[i64]) -> Vec<i64> {
        if self.details.reporting != Reporting::Undecided
            || now >= self.discovered_at + DEADLINE_HOURS * 3600
        {
            return Vec::new();
        }
        REMINDER_HOURS
            .into_iter()
            .filter(|h| now >= self.discovered_at + h * 3600)
            .max()
            .filter(|h| !sent.contains(h))
            .into_iter()
            .collect()
    }
}

/// A text field as kept: trimmed, at most [`MAX_TEXT`] characters, no
/// control characters but line breaks.
#[must_use]
pub fn clean_text(s: &str) -> String {
    s.trim()
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(MAX_TEXT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breach(discovered: i64) -> Breach {
        Breach {
            id: BreachId::from_raw("brc_1"),
            organisation_id: OrganisationId::from_raw("org_1"),
            group_id: None,
            number: 1,
            title: "Lärplattformen".into(),
            discovered_at: discovered,
            details: Details::default(),
            created_at: discovered,
            created_by: UserId::from_raw("usr_1"),
            updated_at: discovered,
        }
    }

    #[test]
    fn the_clock_runs_72_hours_and_reminds_at_48_and_66() {
        let t = 1_795_435_200;
        let mut b = breach(t);
        assert_eq!(b.milestones()[0].deadline, t + 72 * 3600);
        assert!(b.reminders_due(t + 47 * 3600, &[]).is_empty());
        assert_eq!(b.reminders_due(t + 48 * 3600, &[]), [48]);
        assert_eq!(b.reminders_due(t + 70 * 3600, &[48]), [66]);
        assert_eq!(
            b.reminders_due(t + 70 * 3600, &[]),
            [66],
            "recorded late: one"
        );
        assert!(b.reminders_due(t + 70 * 3600, &[66]).is_empty());
        assert!(
            b.reminders_due(t + 72 * 3600, &[]).is_empty(),
            "overdue: no countdown"
        );
        assert_eq!(b.milestones()[0].left(t + 73 * 3600), Some(-3600));
        b.details.reporting = Reporting::NotReported;
        assert!(
            b.reminders_due(t + 70 * 3600, &[]).is_empty(),
            "decided: no reminders"
        );
    }

    #[test]
    fn significant_incidents_have_the_nis2_milestones() {
        let t = 1_795_435_200; // 2026-11-23 13:00 in Stockholm
        let mut b = breach(t);
        assert_eq!(b.milestones().len(), 1);
        b.details.significant = true;
        b.details.notification_at = Some(t + 3600);
        let m = b.milestones();
        assert_eq!(m.len(), 4);
        assert_eq!(m[1].deadline, t + 24 * 3600);
        // 2026-11-23 14:00 + one month = 2026-12-23 14:00 (no DST change).
        assert_eq!(m[3].deadline, t + 3600 + 30 * 86_400);
    }

    #[test]
    fn text_is_kept_clean() {
        assert_eq!(clean_text("  a\r\nb\u{7}  "), "a\nb");
        assert_eq!(clean_text(&"x".repeat(MAX_TEXT + 5)).len(), MAX_TEXT);
    }
}
