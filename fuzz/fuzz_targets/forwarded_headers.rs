//! Forward-auth header parsing: the four header values come from the input
//! (separated by newlines); an accepted original URL is always an http(s)
//! URL with a domain host and no credentials, and never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portvakt_core::forward::{original_url, ForwardedHeaders};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\n');
    let mut next = || parts.next().filter(|s| !s.is_empty());
    let (a, b, c, d) = (next(), next(), next(), next());
    for h in [
        ForwardedHeaders {
            original_url: a,
            proto: None,
            host: None,
            uri: None,
        },
        ForwardedHeaders {
            original_url: None,
            proto: b,
            host: c,
            uri: d,
        },
    ] {
        if let Some(u) = original_url(&h) {
            assert!(matches!(u.scheme(), "http" | "https"));
            assert!(u.username().is_empty() && u.password().is_none());
            assert!(matches!(u.host(), Some(url::Host::Domain(_))), "{u}");
        }
    }
});
