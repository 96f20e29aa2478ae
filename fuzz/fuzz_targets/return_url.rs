//! SECURITY.md E3: whatever the input, an accepted return address is an
//! absolute https URL on an allowed domain, with no credentials.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portvakt_core::return_url::ReturnPolicy;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let policy = ReturnPolicy {
        domains: vec!["exempelkommun.se".into()],
        allow_http: false,
    };
    if let Some(u) = policy.check(raw) {
        assert_eq!(u.scheme(), "https", "{raw:?}");
        assert!(u.username().is_empty() && u.password().is_none(), "{raw:?}");
        let host = u.host_str().unwrap_or_default();
        assert!(
            host == "exempelkommun.se" || host.ends_with(".exempelkommun.se"),
            "{raw:?} -> {host}"
        );
        assert!(!raw.chars().any(char::is_control), "{raw:?}");
    }
});
