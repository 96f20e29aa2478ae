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

    #[test]
    fn bad_ranges_are_named() {
        assert_eq!(
            ZoneCidrs::parse(&["10.0.0.0/33"]),
            Err(ZoneError::BadCidr("10.0.0.0/33".into()))
        );
        assert_eq!(ZoneCidrs::parse::<&str>(&[]), Err(ZoneError::Empty));
    }
}
