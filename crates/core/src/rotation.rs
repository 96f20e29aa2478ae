//! Crisis rotation (issue 15, seed 002: "samtliga medarbetare får idag ett
//! nytt lösenord"): every person of an organisation, or of one group, loses
//! their password and sessions at once and gets a one-time start code by
//! the first channel that works for them, from the organisation's ordered
//! list. This module holds the rules; the store keeps the state per person
//! so a rotation interrupted at any point is finished by running it again.

use crate::clock::UnixTime;
use crate::domain::{Slug, Username};
use crate::ids::{OrganisationId, RotationId, UserId};
use crate::store::User;
use rand::Rng;
use sha2::{Digest, Sha256};

/// How a start code can reach a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RotationChannel {
    /// A digital mailbox (Kivra, Billo, Min myndighetspost) through the
    /// organisation's HTTP adapter.
    Mailbox,
    /// The person's registered mobile number.
    Sms,
    /// The person's registered address for codes (often private).
    Email,
    /// A printed page handed over by the person's manager (or unit).
    Manager,
    /// In person at the servicedesk, after checking ID.
    Servicedesk,
}

impl RotationChannel {
    pub const ALL: [Self; 5] = [
        Self::Mailbox,
        Self::Sms,
        Self::Email,
        Self::Manager,
        Self::Servicedesk,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mailbox => "mailbox",
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Manager => "manager",
            Self::Servicedesk => "servicedesk",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Delivered by a machine (and confirmed or failed by it), rather than
    /// by hand.
    #[must_use]
    pub fn is_automatic(self) -> bool {
        matches!(self, Self::Mailbox | Self::Sms | Self::Email)
    }
}

/// The organisation's crisis settings, from its file (`[organisation.crisis]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrisisPlan {
    /// Channels in the order they are tried; the servicedesk is always last
    /// (it always works), whether listed or not.
    pub channels: Vec<RotationChannel>,
    /// The digital-mailbox adapter (`docs/crisis.md` gives its contract).
    pub mailbox_url: Option<String>,
    /// The environment variable holding the adapter's `Authorization` value.
    pub mailbox_auth_env: Option<String>,
    /// How long a start code works.
    pub code_hours: u32,
}

impl Default for CrisisPlan {
    fn default() -> Self {
        Self {
            channels: vec![
                RotationChannel::Mailbox,
                RotationChannel::Sms,
                RotationChannel::Manager,
                RotationChannel::Servicedesk,
            ],
            mailbox_url: None,
            mailbox_auth_env: None,
            code_hours: DEFAULT_CODE_HOURS,
        }
    }
}

pub const DEFAULT_CODE_HOURS: u32 = 72;
/// What `mailbox_auth_env` must start with: the organisation file must not
/// be able to send any other of the server's variables (its database URL,
/// its mail password) to an adapter.
pub const MAILBOX_ENV_PREFIX: &str = "PORTVAKT_MAILBOX_";
/// The longest a start code may be made to work (two weeks).
pub const MAX_CODE_HOURS: u32 = 336;

/// Who hands a person their code when machines cannot, and their
/// digital-mailbox id; from the organisation file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrisisContact {
    pub manager: Option<Username>,
    pub unit: Option<String>,
    /// What the mailbox adapter knows the person by (often a personal
    /// identity number); the adapter may also look people up by username.
    pub mailbox_id: Option<String>,
}

/// What a rotation needs to know of one person to plan their route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user: User,
    /// The first confirmed SMS number (digits, international).
    pub sms: Option<String>,
    /// The first confirmed address for codes.
    pub email: Option<String>,
    pub contact: CrisisContact,
}

/// One channel of a person's route and where on it they are reached: the
/// number, the address, the mailbox recipient (JSON), the manager's
/// list (`manager:<username>` or `unit:<name>`), or nothing for the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub channel: RotationChannel,
    pub address: String,
}

/// The channels that can reach `c`, in the plan's order, ending with the
/// servicedesk.
#[must_use]
pub fn route(plan: &CrisisPlan, c: &Candidate) -> Vec<Stop> {
    let mut out = Vec::new();
    for ch in &plan.channels {
        let address = match ch {
            RotationChannel::Mailbox => plan.mailbox_url.as_ref().map(|_| {
                serde_json::json!({
                    "username": c.user.username.as_str(),
                    "name": c.user.display_name,
                    "email": c.user.email,
                    "mailbox_id": c.contact.mailbox_id,
                })
                .to_string()
            }),
            RotationChannel::Sms => c.sms.clone(),
            RotationChannel::Email => c.email.clone(),
            RotationChannel::Manager => c
                .contact
                .manager
                .as_ref()
                .map(|m| format!("manager:{m}"))
                .or_else(|| c.contact.unit.as_ref().map(|u| format!("unit:{u}"))),
            RotationChannel::Servicedesk => None,
        };
        if let Some(address) = address {
            out.push(Stop {
                channel: *ch,
                address,
            });
        }
    }
    out.push(Stop {
        channel: RotationChannel::Servicedesk,
        address: String::new(),
    });
    out
}

/// Routes as stored: one line per stop, `channel address`.
#[must_use]
pub fn encode_route(route: &[Stop]) -> String {
    route
        .iter()
        .map(|s| format!("{} {}", s.channel.as_str(), s.address.replace('\n', " ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[must_use]
pub fn decode_route(s: &str) -> Vec<Stop> {
    s.lines()
        .filter_map(|l| {
            let (ch, addr) = l.split_once(' ').unwrap_or((l, ""));
            RotationChannel::parse(ch).map(|channel| Stop {
                channel,
                address: addr.to_owned(),
            })
        })
        .collect()
}

/// Where a person stands in a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonState {
    /// Password and sessions ended; no code yet.
    Pending,
    /// Code issued, a message on its way by an automatic channel.
    Sending,
    /// Code issued, waiting to be handed over (manager or servicedesk).
    Waiting,
    /// Handed over in person at the servicedesk.
    HandedOut,
    /// A later rotation included the person; this code no longer works.
    Superseded,
}

impl PersonState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Waiting => "waiting",
            Self::HandedOut => "handed_out",
            Self::Superseded => "superseded",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Sending,
            Self::Waiting,
            Self::HandedOut,
            Self::Superseded,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// The state a person is in once their code is on `channel`.
    #[must_use]
    pub fn on(channel: RotationChannel) -> Self {
        if channel.is_automatic() {
            Self::Sending
        } else {
            Self::Waiting
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationPhase {
    /// Codes are still being issued (a server or the command carries on).
    Issuing,
    /// Every person has a code; deliveries may still be under way.
    Issued,
}

impl RotationPhase {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issuing => "issuing",
            Self::Issued => "issued",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "issuing" => Some(Self::Issuing),
            "issued" => Some(Self::Issued),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub id: RotationId,
    pub organisation_id: OrganisationId,
    /// `None` when started on the command line.
    pub started_by: Option<UserId>,
    pub started_at: UnixTime,
    pub group: Option<Slug>,
    pub revoke_passkeys: bool,
    /// When its start codes stop working.
    pub expires_at: UnixTime,
    pub phase: RotationPhase,
    pub people: u32,
}

/// A person whose code is due: to be issued, or sent on by the next channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedPerson {
    pub user_id: UserId,
    pub username: Username,
    pub display_name: String,
    pub language: Option<crate::domain::Language>,
    pub route: Vec<Stop>,
    /// Index into `route` of the channel in use.
    pub position: usize,
    /// The code, when already issued (resending, falling back).
    pub code: Option<String>,
}

/// A code being issued (or sent again): where the person now is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub user_id: UserId,
    /// The plain code, sealed by the store for handing out and resending.
    pub code: String,
    pub code_hash: String,
    pub position: usize,
    pub channel: RotationChannel,
    pub state: PersonState,
    pub message: Option<crate::store::OutboxMessage>,
}

/// Counts for one channel in a rotation's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelCounts {
    pub channel: Option<RotationChannel>,
    /// People whose code is on this channel now.
    pub current: u32,
    /// Of those, confirmed delivered (automatic) or handed out (desk).
    pub delivered: u32,
    /// Of those, failing now (automatic channels; retried until moved on).
    pub failing: u32,
    /// People this channel failed for, who were moved on to the next.
    pub failed: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub people: u32,
    /// No code yet.
    pub pending: u32,
    pub channels: Vec<ChannelCounts>,
    /// Signed in with their code.
    pub used: u32,
    /// Chose a new password since.
    pub password_set: u32,
}

impl RotationReport {
    #[must_use]
    pub fn counts(&self, ch: RotationChannel) -> ChannelCounts {
        self.channels
            .iter()
            .find(|c| c.channel == Some(ch))
            .cloned()
            .unwrap_or(ChannelCounts {
                channel: Some(ch),
                ..ChannelCounts::default()
            })
    }

    /// Not yet reached: pending, or on a channel without confirmation.
    #[must_use]
    pub fn unreached(&self) -> u32 {
        self.pending
            + self
                .channels
                .iter()
                .map(|c| c.current - c.delivered)
                .sum::<u32>()
    }
}

/// One person on a manager's or the servicedesk's hand-out list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOut {
    pub user_id: UserId,
    pub username: Username,
    pub display_name: String,
    /// `manager:<username>`, `unit:<name>` or empty (servicedesk).
    pub list: String,
    pub code: String,
    pub state: PersonState,
    pub used: bool,
}

/// What a start code typed at sign-in turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartCodeCheck {
    Valid,
    Expired,
    Used,
}

/// The start code's alphabet (Crockford's base 32: no I, L, O or U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code: 60 random bits, read and typed as three groups.
pub const CODE_LEN: usize = 12;

/// A new start code, as printed: `K7QM-3XPA-9TRD`.
#[must_use]
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let raw: String = (0..CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

/// A typed start code in its canonical form: any case, spaces and dashes
/// ignored, O read as 0 and I or L as 1 (they look alike on paper).
/// `None` when it cannot be one.
#[must_use]
pub fn normalise(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == CODE_LEN {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// The stored form of a code: salted with the organisation and the person,
/// so one leaked table cannot be attacked for all codes at once; 60 random
/// bits that expire within days need no slow hash (and 10,000 codes must be
/// issued in seconds).
#[must_use]
pub fn code_hash(org: &OrganisationId, user: &UserId, code: &str) -> String {
    let canonical = normalise(code).unwrap_or_default();
    let d = Sha256::digest(format!("portvakt-start-code\0{org}\0{user}\0{canonical}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_forgivingly() {
        let c = new_code();
        assert_eq!(c.len(), 14);
        let n = normalise(&c).unwrap();
        assert_eq!(normalise(&c.to_lowercase()).as_deref(), Some(n.as_str()));
        assert_eq!(
            normalise(" k7qm 3xpa 9trd ").as_deref(),
            Some("K7QM3XPA9TRD")
        );
        assert_eq!(normalise("o1il-0000-0000").as_deref(), Some("011100000000"));
        assert_eq!(normalise("K7QM-3XPA-9TR"), None);
        assert_eq!(normalise("K7QM-3XPA-9TRDX"), None);
        assert_eq!(normalise("K7QM-3XPA-9TRU"), None);
        assert_eq!(normalise("hunter2 password"), None);
    }

    #[test]
    fn hashes_depend_on_the_person() {
        let o = OrganisationId::from_raw("org_a");
        let a = code_hash(&o, &UserId::from_raw("usr_a"), "K7QM-3XPA-9TRD");
        assert_eq!(a, code_hash(&o, &UserId::from_raw("usr_a"), "k7qm3xpa9trd"));
        assert_ne!(
            a,
            code_hash(&o, &UserId::from_raw("usr_b"), "K7QM-3XPA-9TRD")
        );
    }

    #[test]
    fn routes_end_at_the_servicedesk_and_survive_storage() {
        let user = User {
            id: UserId::from_raw("usr_a"),
            organisation_id: OrganisationId::from_raw("org_a"),
            username: Username::parse("anna").unwrap(),
            display_name: "Anna".into(),
            email: Some("anna@example.org".into()),
            password_hash: None,
            must_change_password: false,
            disabled: false,
            created_at: 0,
            language: None,
            password_expires_at: None,
            lock_reason: String::new(),
            credential_epoch: 0,
        };
        let mut c = Candidate {
            user,
            sms: Some("46701234567".into()),
            email: None,
            contact: CrisisContact::default(),
        };
        let plan = CrisisPlan::default();
        let r = route(&plan, &c);
        // No mailbox adapter, no manager: SMS, then the desk.
        assert_eq!(
            r.iter().map(|s| s.channel).collect::<Vec<_>>(),
            [RotationChannel::Sms, RotationChannel::Servicedesk]
        );
        c.contact.unit = Some("Skola Norr".into());
        let plan = CrisisPlan {
            mailbox_url: Some("https://adapter.example/deliver".into()),
            ..CrisisPlan::default()
        };
        let r = route(&plan, &c);
        assert_eq!(r.len(), 4);
        assert_eq!(r[2].address, "unit:Skola Norr");
        assert_eq!(decode_route(&encode_route(&r)), r);
    }
}
