//! Identifier newtypes. Different ids are different types, so an
//! organisation id can never stand where a user id belongs.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `prefix` followed by `bytes` in lower-case hex.
fn with_hex(prefix: &str, bytes: &[u8]) -> String {
    let mut s = String::with_capacity(prefix.len() + 2 * bytes.len());
    s.push_str(prefix);
    for byte in bytes {
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (128 bits, hex) with a readable prefix.
            #[must_use]
            pub fn generate() -> Self {
                let mut b = [0u8; 16];
                rand::thread_rng().fill_bytes(&mut b);
                Self(with_hex($prefix, &b))
            }
            /// A fresh id that sorts after those made in earlier seconds:
            /// `unix_secs` in hex, then 88 random bits. Rows keyed by it are
            /// added at the end of their index instead of anywhere in it,
            /// so a batch of inserts rewrites a few index pages rather than
            /// one page per row (a crisis rotation queues 10,000 messages).
            #[must_use]
            pub fn generate_at(unix_secs: i64) -> Self {
                let mut b = [0u8; 11];
                rand::thread_rng().fill_bytes(&mut b);
                let at = format!("{:010x}", unix_secs.clamp(0, 0xff_ffff_ffff));
                Self(with_hex(&format!("{}{at}", $prefix), &b))
            }
            /// Wraps an id read from storage or a URL. Ids are opaque; a
            /// malformed one simply matches nothing.
            #[must_use]
            pub fn from_raw(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// An organisation (tenant).
    OrganisationId, "org_");
id_type!(
    /// A user within one organisation.
    UserId, "usr_");
id_type!(
    /// A group within one organisation.
    GroupId, "grp_");
id_type!(
    /// A published service within one organisation.
    ServiceId, "svc_");
id_type!(
    /// A named network zone within one organisation.
    ZoneId, "zon_");
id_type!(
    /// A stored event (sign-in attempt, admin action).
    EventId, "evt_");
id_type!(
    /// A registered second factor.
    FactorId, "fac_");
id_type!(
    /// An app registered as an OpenID client (its row; apps send `client_id`).
    ClientRowId, "cli_");
id_type!(
    /// A crisis rotation: new passwords for many people at once (issue 15).
    RotationId, "rot_");
id_type!(
    /// One organisation's record of a personal-data breach (issue 15).
    BreachId, "brc_");

#[cfg(test)]
mod tests {
    use super::EventId;

    #[test]
    fn ids_made_at_a_time_sort_by_it_and_look_like_the_others() {
        let earlier = EventId::generate_at(1_764_000_000);
        let later = EventId::generate_at(1_764_000_001);
        assert!(earlier < later);
        assert_ne!(
            EventId::generate_at(1_764_000_000),
            earlier,
            "random within the second"
        );
        let plain = EventId::generate();
        assert_eq!(earlier.as_str().len(), plain.as_str().len());
        for id in [&earlier, &plain] {
            assert!(id.as_str().starts_with("evt_"));
            assert!(id.as_str()[4..]
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        }
    }
}
