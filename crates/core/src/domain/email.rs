//! An e-mail address we can deliver a code to. Parsed once where people
//! type one (registering a factor, `apply`), so nothing past the edge meets
//! an address that fails only at delivery (issue 10: `a@[127.0.0.1]` was
//! accepted, then bounced).
//!
//! Deliberately narrower than RFC 5322: no quoted local parts, comments,
//! address literals or IP addresses, and international domain names only in
//! Latin script as read (no punycode typed in, no look-alike scripts).

use super::domain_name::DomainError;
use thiserror::Error;

/// RFC 5321 §4.5.3.1: 64 octets before `@`, 254 for a whole forward path.
const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("longer than {MAX_ADDRESS} characters")]
    TooLong,
    #[error("needs exactly one @ with something on both sides")]
    Shape,
    #[error("contains spaces, control characters or characters mail servers refuse")]
    BadCharacter,
    #[error("the part before @ is not a plain name (letters a-z, digits, . _ - +)")]
    BadLocalPart,
    #[error("the domain is an IP address, not a name")]
    AddressLiteral,
    #[error("the domain is not a name with a dot, such as kommun.se")]
    BadDomain,
}

impl EmailAddress {
    /// Trims and lower-cases, then checks.
    ///
    /// # Errors
    /// The first rule the address breaks.
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let s = s.trim().to_lowercase();
        if s.len() > MAX_ADDRESS {
            return Err(EmailError::TooLong);
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(EmailError::BadCharacter);
        }
        let (local, domain) = match s.split_once('@') {
            Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@') => (l, d),
            _ => return Err(EmailError::Shape),
        };
        if domain.starts_with('[') || domain.parse::<std::net::IpAddr>().is_ok() {
            return Err(EmailError::AddressLiteral);
        }
        check_local(local)?;
        check_domain(domain)?;
        Ok(Self(s))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A dot-atom of ASCII `atext` (RFC 5322 §3.2.3), no empty parts.
fn check_local(local: &str) -> Result<(), EmailError> {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if local.len() > MAX_LOCAL
        || local.split('.').any(str::is_empty)
        || !local.chars().all(|c| c == '.' || atext(c))
    {
        return Err(EmailError::BadLocalPart);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    match super::DomainName::parse(domain) {
        Ok(_) => Ok(()),
        Err(DomainError::AddressLiteral) => Err(EmailError::AddressLiteral),
        Err(DomainError::NotAName) => Err(EmailError::BadDomain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_pass_trimmed_and_lower_cased() {
        for ok in [
            "anna.andersson@exempelkommun.se",
            " Anna.Andersson+kod@Exempelkommun.SE ",
            "o'brien@mail.example.co.uk",
            "kontakt@räksmörgås.se",
            "x@a-b.se",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            EmailAddress::parse(" Anna@Exempelkommun.SE")
                .unwrap()
                .as_str(),
            "anna@exempelkommun.se"
        );
    }

    /// Issue 10: address literals and other undeliverable forms are refused.
    #[test]
    fn undeliverable_addresses_are_refused_with_the_reason() {
        use EmailError::*;
        for (bad, why) in [
            ("a@[127.0.0.1]", AddressLiteral),
            ("a@[IPv6:::1]", AddressLiteral),
            ("a@127.0.0.1", AddressLiteral),
            ("a@0x7f.0.0.1", AddressLiteral),
            ("a@localhost", BadDomain),
            ("a@exempelkommun", BadDomain),
            ("a@exempel..se", BadDomain),
            ("a@-exempel.se", BadDomain),
            ("a@exempel.s", BadDomain),
            ("a@xn--80ak6aa92e.com", BadDomain),
            ("a@аpple.com", BadDomain),
            ("a@exa\u{200b}mple.se", BadDomain),
            // Found by the fuzz target: the host parser decodes %2e.
            ("a@C%2ecm", BadDomain),
            ("a@exempel_kommun.se", BadDomain),
            ("a@exempel.se\u{0}", BadCharacter),
            ("a\r\nbcc: x@y.se", BadCharacter),
            ("anna andersson@kommun.se", BadCharacter),
            ("a@b@kommun.se", Shape),
            ("@kommun.se", Shape),
            ("anna@", Shape),
            ("\"a b\"@kommun.se", BadCharacter),
            ("\"ab\"@kommun.se", BadLocalPart),
            ("anna..a@kommun.se", BadLocalPart),
            (".anna@kommun.se", BadLocalPart),
            ("åsa@kommun.se", BadLocalPart),
            ("a<b>@kommun.se", BadLocalPart),
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(why), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@kommun.se", "a".repeat(65))).is_err());
        assert_eq!(
            EmailAddress::parse(&format!("a@{}.se", "b.".repeat(130))),
            Err(TooLong)
        );
    }
}
