//! The file as written, with every value's place in it (for line numbers).

use serde::Deserialize;

use super::S;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) organisation: Vec<RawOrg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrg {
    pub(super) slug: S<String>,
    pub(super) name: S<String>,
    /// "always", "outside_internal" (default) or "never".
    #[serde(default)]
    pub(super) mfa: Option<S<String>>,
    #[serde(default)]
    pub(super) domains: Vec<S<String>>,
    #[serde(default)]
    pub(super) group: Vec<RawGroup>,
    #[serde(default)]
    pub(super) zone: Vec<RawZone>,
    #[serde(default)]
    pub(super) service: Vec<RawService>,
    #[serde(default)]
    pub(super) user: Vec<RawUser>,
    /// Parts of the status page ("Driftinformation").
    #[serde(default)]
    pub(super) status_component: Vec<RawComponent>,
    /// Who is told about incidents, and who an editor can message.
    #[serde(default)]
    pub(super) emergency: Option<RawEmergency>,
    /// Health probes watching the status components.
    #[serde(default)]
    pub(super) probe: Vec<S<RawProbe>>,
    /// How the public reaches the organisation when things are down.
    #[serde(default)]
    pub(super) status_contact: Option<S<String>>,
    /// Country codes whose mobile numbers may receive SMS codes (`["+46"]`).
    #[serde(default)]
    pub(super) sms_country_codes: Option<Vec<S<String>>>,
    /// When people are e-mailed about their own sign-ins: "outside"
    /// (outside every zone), "new_device" (a browser new to the account).
    #[serde(default)]
    pub(super) notify_signins: Option<Vec<S<String>>>,
    /// Apps that sign their users in through the OpenID provider.
    #[serde(default)]
    pub(super) client: Vec<RawClient>,
    /// How start codes reach people in a crisis rotation.
    #[serde(default)]
    pub(super) crisis: Option<S<RawCrisis>>,
}

/// `[organisation.crisis]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrisis {
    /// In order: "mailbox", "sms", "email", "manager", "servicedesk".
    #[serde(default)]
    pub(super) channels: Option<Vec<S<String>>>,
    #[serde(default)]
    pub(super) mailbox_url: Option<S<String>>,
    /// Name of the environment variable holding the adapter's
    /// `Authorization` header value.
    #[serde(default)]
    pub(super) mailbox_auth_env: Option<S<String>>,
    #[serde(default)]
    pub(super) start_code_hours: Option<S<u32>>,
}

/// `[[organisation.client]]`: an app of the organisation's OpenID provider.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    pub(super) client_id: S<String>,
    pub(super) name: S<String>,
    /// "confidential" (default) or "public".
    #[serde(default)]
    pub(super) kind: Option<S<String>>,
    #[serde(default)]
    pub(super) redirect_uris: Vec<S<String>>,
    /// Default: authorization_code and refresh_token.
    #[serde(default)]
    pub(super) grants: Option<Vec<S<String>>>,
    /// Default: openid, profile, email.
    #[serde(default)]
    pub(super) scopes: Option<Vec<S<String>>>,
    #[serde(default)]
    pub(super) audience: Option<S<String>>,
    /// "ES256" (default) or "RS256".
    #[serde(default)]
    pub(super) signing_alg: Option<S<String>>,
    #[serde(default)]
    pub(super) first_party: bool,
    #[serde(default)]
    pub(super) client_secret_hash: Option<S<String>>,
    #[serde(default)]
    pub(super) groups: Vec<S<String>>,
    #[serde(default)]
    pub(super) zones: Option<Vec<S<String>>>,
    #[serde(default)]
    pub(super) methods: Option<Vec<S<String>>>,
    #[serde(default)]
    pub(super) open: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbe {
    pub(super) slug: S<String>,
    pub(super) component: S<String>,
    /// Exactly one of these three says what is checked.
    #[serde(default)]
    pub(super) http: Option<S<String>>,
    #[serde(default)]
    pub(super) tcp: Option<S<String>>,
    #[serde(default)]
    pub(super) tls: Option<S<String>>,
    #[serde(default)]
    pub(super) expect_status: Option<S<Vec<u16>>>,
    #[serde(default)]
    pub(super) expect_body: Option<S<String>>,
    #[serde(default)]
    pub(super) server_name: Option<S<String>>,
    #[serde(default)]
    pub(super) min_days_left: Option<S<u32>>,
    #[serde(default)]
    pub(super) interval: Option<S<String>>,
    #[serde(default)]
    pub(super) timeout: Option<S<String>>,
    #[serde(default)]
    pub(super) failures: Option<S<u32>>,
    #[serde(default)]
    pub(super) recoveries: Option<S<u32>>,
    #[serde(default)]
    pub(super) impact: Option<S<String>>,
    #[serde(default)]
    pub(super) ca_file: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEmergency {
    #[serde(default)]
    pub(super) team: Vec<S<String>>,
    #[serde(default)]
    pub(super) list: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    pub(super) slug: S<String>,
    pub(super) name: S<String>,
    /// The heading it is listed under.
    pub(super) group: S<String>,
    /// Other ways to get things done when it is down.
    #[serde(default)]
    pub(super) alternatives: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) slug: S<String>,
    pub(super) name: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZone {
    pub(super) slug: S<String>,
    pub(super) name: S<String>,
    pub(super) cidrs: S<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) slug: S<String>,
    pub(super) name: S<String>,
    #[serde(default)]
    pub(super) description: Option<S<String>>,
    pub(super) url: S<String>,
    #[serde(default)]
    pub(super) category: Option<S<String>>,
    #[serde(default)]
    pub(super) groups: Vec<S<String>>,
    /// Only from these zones (slugs of `[[organisation.zone]]`).
    #[serde(default)]
    pub(super) zones: Option<Vec<S<String>>>,
    /// At least one of these sign-in methods.
    #[serde(default)]
    pub(super) methods: Option<Vec<S<String>>>,
    /// Opening hours, Europe/Stockholm: `["mon-fri 07:00-18:00"]`.
    #[serde(default)]
    pub(super) open: Vec<S<String>>,
    /// Host name of the app behind forward-auth.
    #[serde(default)]
    pub(super) host: Option<S<String>>,
    /// Internal address for Portvakt's own reverse proxy.
    #[serde(default)]
    pub(super) upstream: Option<S<String>>,
    /// A built-in icon name.
    #[serde(default)]
    pub(super) icon: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    pub(super) username: S<String>,
    pub(super) name: S<String>,
    #[serde(default)]
    pub(super) email: Option<S<String>>,
    #[serde(default)]
    pub(super) groups: Vec<S<String>>,
    #[serde(default)]
    pub(super) roles: Vec<S<String>>,
    #[serde(default)]
    pub(super) disabled: bool,
    #[serde(default)]
    pub(super) initial_password: Option<S<String>>,
    #[serde(default)]
    pub(super) password_hash: Option<S<String>>,
    /// Base32 authenticator secret migrated from another system.
    #[serde(default)]
    pub(super) totp_secret: Option<S<String>>,
    /// Username of the person's manager, who hands over a start code in a
    /// crisis rotation when nothing else reaches them.
    #[serde(default)]
    pub(super) manager: Option<S<String>>,
    /// Unit (school, department) whose list the code is on, for people
    /// without a manager in the file.
    #[serde(default)]
    pub(super) unit: Option<S<String>>,
    /// What the digital-mailbox adapter knows the person by.
    #[serde(default)]
    pub(super) mailbox_id: Option<S<String>>,
}
