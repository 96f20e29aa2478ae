use std::net::IpAddr;

use super::ZoneCidrs;

/// When an organisation requires a second factor (seed 003: "MFA outside
/// the municipality's networks").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MfaPolicy {
    Always,
    #[default]
    OutsideInternal,
    Never,
}

impl MfaPolicy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MfaPolicy::Always => "always",
            MfaPolicy::OutsideInternal => "outside_internal",
            MfaPolicy::Never => "never",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            MfaPolicy::Always,
            MfaPolicy::OutsideInternal,
            MfaPolicy::Never,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether a sign-in from `ip` needs a second factor, given the
    /// organisation's internal zones. Fails closed: no zones means outside.
    #[must_use]
    pub fn requires_second_factor(self, ip: IpAddr, internal: &[ZoneCidrs]) -> bool {
        match self {
            MfaPolicy::Always => true,
            MfaPolicy::Never => false,
            MfaPolicy::OutsideInternal => !internal.iter().any(|z| z.contains(ip)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_and_outside() {
        let zones = [ZoneCidrs::parse(&["10.10.0.0/16", "2001:db8:10::/48"]).unwrap()];
        let p = MfaPolicy::OutsideInternal;
        assert!(!p.requires_second_factor("10.10.3.4".parse().unwrap(), &zones));
        assert!(!p.requires_second_factor("2001:db8:10::5".parse().unwrap(), &zones));
        assert!(p.requires_second_factor("203.0.113.9".parse().unwrap(), &zones));
        assert!(p.requires_second_factor("10.10.3.4".parse().unwrap(), &[]));
        assert!(MfaPolicy::Always.requires_second_factor("10.10.3.4".parse().unwrap(), &zones));
        assert!(!MfaPolicy::Never.requires_second_factor("203.0.113.9".parse().unwrap(), &zones));
    }
}
