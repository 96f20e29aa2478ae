//! Issue 10 (SECURITY.md E5): whatever the input, an accepted e-mail
//! address is one a mail server can be given: bounded, one `@`, no
//! controls or spaces, no address literal, a domain name with a dot.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portvakt_core::domain::EmailAddress;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = EmailAddress::parse(raw) {
        let s = a.as_str();
        assert!(s.len() <= 254, "{raw:?}");
        assert!(!s.chars().any(|c| c.is_control() || c.is_whitespace()), "{raw:?}");
        let (local, domain) = s.split_once('@').expect("one @");
        assert!(!local.is_empty() && !domain.contains('@'), "{raw:?}");
        assert!(domain.contains('.') && !domain.contains('['), "{raw:?}");
        assert!(domain.parse::<std::net::IpAddr>().is_err(), "{raw:?}");
        assert_eq!(EmailAddress::parse(s).as_ref(), Ok(&a), "idempotent: {raw:?}");
    }
});
