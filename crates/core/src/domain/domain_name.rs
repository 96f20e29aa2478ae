//! A host name people type: an organisation's domain in its file, the part
//! of an e-mail address after `@`. One rule for both, so an address is
//! deliverable exactly when its domain would be accepted as an
//! organisation's.

use thiserror::Error;
use url::Host;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("an IP address, not a name")]
    AddressLiteral,
    #[error("not a domain name such as kommun.se")]
    NotAName,
}

impl DomainName {
    /// Trims and lower-cases, then checks: labels of letters, digits and
    /// hyphens (Latin letters such as å, ä, ö as typed), at least two, an
    /// alphabetic top-level domain, at most 253 characters as ASCII.
    ///
    /// # Errors
    /// The rule the name breaks.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let domain = s.trim().to_lowercase();
        let domain = domain.as_str();
        // Letters of Latin script (å, ä, ö, é, ü …) as typed; anything else that
        // is not ASCII is where look-alike domains hide.
        // Only what a host name is made of: the WHATWG parser below would
        // otherwise decode `%2e` into a dot the stored address does not have.
        let latin = |c: char| {
            c.is_ascii_alphanumeric()
                || c == '-'
                || c == '.'
                || (c.is_alphabetic() && ('\u{00C0}'..='\u{024F}').contains(&c))
        };
        if !domain.chars().all(latin) || domain.split('.').any(|l| l.starts_with("xn--")) {
            return Err(DomainError::NotAName);
        }
        // The WHATWG host parser applies UTS #46 as browsers and mail clients
        // do, and reads "127.1" or "0x7f.0.0.1" as the IP addresses they are.
        let ascii = match Host::parse(domain) {
            Ok(Host::Domain(d)) => d,
            Ok(Host::Ipv4(_) | Host::Ipv6(_)) => return Err(DomainError::AddressLiteral),
            Err(_) => return Err(DomainError::NotAName),
        };
        let labels: Vec<&str> = ascii.split('.').collect();
        let ldh = |l: &str| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let tld_ok = labels.last().is_some_and(|t| {
            t.len() >= 2 && (t.chars().all(|c| c.is_ascii_alphabetic()) || t.starts_with("xn--"))
        });
        if ascii.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| ldh(l)) || !tld_ok {
            return Err(DomainError::NotAName);
        }
        Ok(Self(domain.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pass_and_addresses_and_look_alikes_do_not() {
        for ok in [
            "kommun.se",
            "Malmö.SE",
            "skola.exempel-kommun.se",
            " a.b.se ",
        ] {
            assert!(DomainName::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(DomainName::parse("Malmö.SE").unwrap().as_str(), "malmö.se");
        for (bad, why) in [
            ("127.0.0.1", DomainError::AddressLiteral),
            ("0x7f.1", DomainError::AddressLiteral),
            ("kommun", DomainError::NotAName),
            ("-a.se", DomainError::NotAName),
            ("a..se", DomainError::NotAName),
            ("xn--mlm-tna.se", DomainError::NotAName),
            ("kommun.s3", DomainError::NotAName),
            ("kommun.se/x", DomainError::NotAName),
            ("k%2eommun.se", DomainError::NotAName),
            ("кommun.se", DomainError::NotAName),
        ] {
            assert_eq!(DomainName::parse(bad), Err(why), "{bad}");
        }
    }
}
