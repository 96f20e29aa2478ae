//! What every page's frame needs: language, CSRF token, and who is signed in.

use crate::http::extract::{CsrfToken, CurrentUser};
use crate::http::i18n::Tr;
use portvakt_core::domain::Role;
use portvakt_core::store::Organisation;

pub struct Page {
    pub t: Tr,
    pub csrf: String,
    /// Where the language switch returns to (a local path).
    pub back: String,
    pub user_name: Option<String>,
    pub org_name: Option<String>,
    pub is_admin: bool,
    pub is_status_editor: bool,
    /// May read the audit log (organisation admins, the data protection
    /// officer).
    pub is_auditor: bool,
    /// Keeps the breach register (the data protection officer).
    pub is_dpo: bool,
    /// How to reach the organisation (its status page's contact lines),
    /// shown wherever a page tells someone to contact servicedesk.
    pub contact: Vec<String>,
    /// The organisation's change freeze, as the banner says it: since
    /// when and why.
    pub freeze: Option<(String, String)>,
    /// May declare and lift a change freeze (organisation admins).
    pub is_org_admin: bool,
}

impl Page {
    /// A page without forms (no CSRF token): served on an app's host or
    /// as an error.
    #[must_use]
    pub fn bare(t: Tr) -> Self {
        Self {
            t,
            csrf: String::new(),
            back: "/".into(),
            user_name: None,
            org_name: None,
            is_admin: false,
            is_status_editor: false,
            is_auditor: false,
            is_dpo: false,
            contact: Vec::new(),
            freeze: None,
            is_org_admin: false,
        }
    }

    #[must_use]
    pub fn anonymous(t: Tr, csrf: &CsrfToken, back: &str) -> Self {
        Self {
            t,
            csrf: csrf.0.clone(),
            back: back.into(),
            user_name: None,
            org_name: None,
            is_admin: false,
            is_status_editor: false,
            is_auditor: false,
            is_dpo: false,
            contact: Vec::new(),
            freeze: None,
            is_org_admin: false,
        }
    }

    #[must_use]
    pub fn for_user(t: Tr, csrf: &CsrfToken, back: &str, u: &CurrentUser) -> Self {
        Self {
            t,
            csrf: csrf.0.clone(),
            back: back.into(),
            user_name: Some(u.user.display_name.clone()),
            org_name: Some(u.organisation.name.clone()),
            is_admin: u.has_role(Role::Servicedesk),
            is_status_editor: u.has_role(Role::StatusEditor),
            is_auditor: crate::audit::READERS.iter().any(|r| u.has_role(*r)),
            is_dpo: u.has_role(Role::DataProtectionOfficer),
            contact: contact_lines(&u.organisation),
            freeze: u.freeze.as_ref().map(|f| {
                (
                    crate::http::time_fmt::stockholm(f.declared_at),
                    f.reason.clone(),
                )
            }),
            is_org_admin: u.has_role(Role::OrgAdmin),
        }
    }

    /// The page with `org`'s contact lines, for pages where the person is
    /// known but not (yet) fully signed in.
    #[must_use]
    pub fn with_contact(mut self, org: &Organisation) -> Self {
        self.contact = contact_lines(org);
        self
    }
}

fn contact_lines(org: &Organisation) -> Vec<String> {
    org.status_contact
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
