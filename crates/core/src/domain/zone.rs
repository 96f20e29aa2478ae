use ipnet::IpNet;
use std::net::IpAddr;
use thiserror::Error;

/// The CIDR ranges of one named network zone ("Administrativa nätet").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneCidrs(Vec<IpNet>);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ZoneError {
    #[error("'{0}' is not a CIDR range such as 10.0.0.0/8 or 2001:db8::/32")]
    BadCidr(String),
    #[error("a zone needs at least one range")]
    Empty,
}

impl ZoneCidrs {
    /// Parses CIDR strings; host bits are cleared (`10.1.2.3/8` → `10.0.0.0/8`).
    ///
    /// # Errors
    /// On the first string that is not a CIDR, or an empty list.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, ZoneError> {
        if items.is_empty() {
            return Err(ZoneError::Empty);
        }
        let mut nets = items
            .iter()
            .map(|s| {
                let s = s.as_ref().trim();
                s.parse::<IpNet>()
                    .map(|n| n.trunc())
                    .map_err(|_| ZoneError::BadCidr(s.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        nets.sort();
        nets.dedup();
        Ok(Self(nets))
    }

    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// Canonical text form, one range per comma, as stored.
    #[must_use]
    pub fn to_storage(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    #[must_use]
    pub fn ranges(&self) -> &[IpNet] {
        &self.0
    }

    /// The ranges so wide that most of the internet is "inside" (IPv4
    /// shorter than /8, IPv6 shorter than /16, e.g. `0.0.0.0/0`, `::/0`):
    /// everyone there skips the second factor, which a typo or a
    /// placeholder does silently (issue 10). Allowed, but warned about.
    #[must_use]
    pub fn too_wide(&self) -> Vec<IpNet> {
        self.0
            .iter()
            .filter(|n| match n {
                IpNet::V4(v4) => v4.prefix_len() < MIN_NARROW_V4_PREFIX,
                IpNet::V6(v6) => v6.prefix_len() < MIN_NARROW_V6_PREFIX,
            })
            .copied()
            .collect()
    }
}

/// The shortest prefixes not warned about: a /8 is the largest block ever
/// assigned to one organisation; IPv6 allocations to ISPs are /19–/32.
pub const MIN_NARROW_V4_PREFIX: u8 = 8;
pub const MIN_NARROW_V6_PREFIX: u8 = 16;

/// The loud warning for a zone with [`ZoneCidrs::too_wide`] ranges, shared
/// by `apply` and the start-up log so operators read the same words.
#[must_use]
pub fn wide_zone_warning(organisation: &str, zone: &str, wide: &[IpNet]) -> String {
    let list = wide
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WARNING: zone {organisation}/{zone} contains {list}: almost every address on the internet \
         counts as inside this zone, so no second factor is asked there and zone rules no longer \
         protect anything. Use the organisation's own ranges."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_ipv6_and_mapped_addresses_match() {
        let z = ZoneCidrs::parse(&["10.1.2.3/16", "2001:db8::/32"]).unwrap();
        assert!(z.contains("10.1.200.1".parse().unwrap()));
        assert!(z.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(z.contains("2001:db8::1".parse().unwrap()));
        assert!(!z.contains("10.2.0.1".parse().unwrap()));
        assert_eq!(z.to_storage(), "10.1.0.0/16,2001:db8::/32");
    }

    /// Issue 10: "0.0.0.0/0" makes everyone inside.
    #[test]
    fn very_wide_ranges_are_recognised() {
        let z = ZoneCidrs::parse(&[
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/8",
            "128.0.0.0/1",
            "2000::/3",
            "2001:db8::/32",
        ])
        .unwrap();
        let wide: Vec<String> = z.too_wide().iter().map(ToString::to_string).collect();
        assert_eq!(wide, ["0.0.0.0/0", "128.0.0.0/1", "::/0", "2000::/3"]);
        assert!(ZoneCidrs::parse(&["10.0.0.0/8", "192.168.0.0/16"])
            .unwrap()
            .too_wide()
            .is_empty());
    }

    #[test]
    fn bad_ranges_are_named() {
        assert_eq!(
            ZoneCidrs::parse(&["10.0.0.0/33"]),
            Err(ZoneError::BadCidr("10.0.0.0/33".into()))
        );
        assert_eq!(ZoneCidrs::parse::<&str>(&[]), Err(ZoneError::Empty));
    }
}
