//! A change freeze (issue 15, seed 002: "system owners are asked to make
//! no changes"): while an organisation's freeze lasts, the changes an
//! intruder or a hurried hand would make to sign-in are refused, clearly
//! and on the record; the crisis tools themselves still work. Lifting
//! needs two people: one org admin proposes, another org admin or an
//! installation admin approves (four eyes), so one taken-over admin
//! account cannot lift it.

use crate::clock::UnixTime;
use crate::ids::{EventId, OrganisationId, UserId};

/// The most characters a freeze's reason keeps.
pub const MAX_REASON: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    pub id: EventId,
    pub organisation_id: OrganisationId,
    pub reason: String,
    pub declared_at: UnixTime,
    pub declared_by: UserId,
    /// Who asked to lift it, and when; waiting for a second person.
    pub lift_proposed: Option<(UserId, UnixTime)>,
}

/// What a freeze refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrozenChange {
    /// Registering a second factor (an app, a passkey, a number or an
    /// address for codes).
    AddFactor,
    /// A person removing one of their own second factors.
    RemoveFactor,
    /// Resetting a password by a code or a passkey ("Glömt lösenordet").
    ResetByCode,
    /// `apply` adding or changing an OpenID client (its secret, redirect
    /// URIs, grants, scopes, kind: a changed client is as good as a new one).
    Clients,
    /// `apply` adding an account, changing someone's roles, enabling a
    /// disabled account, or giving a new account a factor.
    Accounts,
    /// `apply` changing what sign-in asks for: the second-factor policy,
    /// the organisation's domains, its zones, a service's access rule.
    SignInRules,
    /// `apply` changing where start codes go in a crisis rotation: the
    /// channels, the mailbox adapter, managers and units.
    CodeRoutes,
}

impl FrozenChange {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddFactor => "add_factor",
            Self::RemoveFactor => "remove_factor",
            Self::ResetByCode => "reset_by_code",
            Self::Clients => "clients",
            Self::Accounts => "accounts",
            Self::SignInRules => "sign_in_rules",
            Self::CodeRoutes => "code_routes",
        }
    }
}

/// Why lifting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiftRefusal {
    /// Nobody has proposed lifting it yet.
    NotProposed,
    /// The one who proposed cannot also approve.
    SamePerson,
}

impl Freeze {
    /// Whether `approver` may lift the freeze now: someone proposed it,
    /// and the approver is another person (an installation admin acting
    /// from the command line counts as another person).
    ///
    /// # Errors
    /// Why not.
    pub fn may_lift(&self, approver: Option<&UserId>) -> Result<(), LiftRefusal> {
        let Some((proposer, _)) = &self.lift_proposed else {
            return Err(LiftRefusal::NotProposed);
        };
        match approver {
            Some(a) if a == proposer => Err(LiftRefusal::SamePerson),
            _ => Ok(()),
        }
    }
}

/// A reason as typed: one line, bounded; `None` when empty.
#[must_use]
pub fn clean_reason(s: &str) -> Option<String> {
    let t = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON)
        .collect::<String>();
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn freeze(proposed: Option<&str>) -> Freeze {
        Freeze {
            id: EventId::from_raw("evt_1"),
            organisation_id: OrganisationId::from_raw("org_1"),
            reason: "Cyberangrepp".into(),
            declared_at: 1,
            declared_by: UserId::from_raw("usr_a"),
            lift_proposed: proposed.map(|p| (UserId::from_raw(p), 2)),
        }
    }

    #[test]
    fn lifting_needs_two_people() {
        let a = UserId::from_raw("usr_a");
        let b = UserId::from_raw("usr_b");
        assert_eq!(
            freeze(None).may_lift(Some(&b)),
            Err(LiftRefusal::NotProposed)
        );
        assert_eq!(
            freeze(Some("usr_a")).may_lift(Some(&a)),
            Err(LiftRefusal::SamePerson)
        );
        assert_eq!(freeze(Some("usr_a")).may_lift(Some(&b)), Ok(()));
        assert_eq!(
            freeze(Some("usr_b")).may_lift(None),
            Ok(()),
            "the command line"
        );
        // The declarer may approve another admin's proposal: two people.
        assert_eq!(freeze(Some("usr_b")).may_lift(Some(&a)), Ok(()));
    }

    #[test]
    fn reasons_are_one_bounded_line() {
        assert_eq!(clean_reason(" a\n b "), Some("a b".into()));
        assert_eq!(clean_reason("  "), None);
        assert_eq!(clean_reason(&"x".repeat(400)).unwrap().len(), MAX_REASON);
    }
}
