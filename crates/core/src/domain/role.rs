use serde::{Deserialize, Serialize};

/// Administrative roles. All but [`Role::InstallationAdmin`] are held within
/// one organisation and grant nothing in any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    OrgAdmin,
    Servicedesk,
    StatusEditor,
    DataProtectionOfficer,
    InstallationAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::OrgAdmin,
        Role::Servicedesk,
        Role::StatusEditor,
        Role::DataProtectionOfficer,
        Role::InstallationAdmin,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::OrgAdmin => "org_admin",
            Role::Servicedesk => "servicedesk",
            Role::StatusEditor => "status_editor",
            Role::DataProtectionOfficer => "data_protection_officer",
            Role::InstallationAdmin => "installation_admin",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether holding `self` is enough for an action that needs `needed`.
    /// Organisation admins can do what servicedesk can; nothing else is implied.
    #[must_use]
    pub fn covers(self, needed: Role) -> bool {
        self == needed
            || (self == Role::OrgAdmin && matches!(needed, Role::Servicedesk | Role::StatusEditor))
    }
}
