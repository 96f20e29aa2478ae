//! The original request behind a forward-auth check, as a reverse proxy
//! reports it: nginx sends `X-Original-URL`, Traefik and Caddy send
//! `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Uri`. The caller
//! passes these only when the direct peer is a trusted proxy (SECURITY.md E1).
//! Anything malformed gives `None`: the check then fails closed.

use url::{Host, Url};

/// Headers longer than this are not parsed at all.
const MAX: usize = 4096;

/// What a proxy said about the request it is asking about.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForwardedHeaders<'a> {
    pub original_url: Option<&'a str>,
    pub proto: Option<&'a str>,
    pub host: Option<&'a str>,
    pub uri: Option<&'a str>,
}

fn clean(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX && !s.chars().any(|c| c.is_control() || c == ' ' || c == '\\')
}

/// The original URL, or `None` when it cannot be known for sure.
#[must_use]
pub fn original_url(h: &ForwardedHeaders<'_>) -> Option<Url> {
    let url = if let Some(raw) = h.original_url {
        if !clean(raw) {
            return None;
        }
        Url::parse(raw).ok()?
    } else {
        let (proto, host, uri) = (h.proto?, h.host?, h.uri.unwrap_or("/"));
        if !matches!(proto, "http" | "https") || !clean(host) || !clean(uri) {
            return None;
        }
        // The host header is a host and an optional port, nothing more; the
        // URI is a path: a host like `a.se/@evil` or a URI like `//evil`
        // could otherwise move the request elsewhere.
        if host.contains(['/', '@', '?', '#']) || !uri.starts_with('/') || uri.starts_with("//") {
            return None;
        }
        let url = Url::parse(&format!("{proto}://{host}{uri}")).ok()?;
        let expected = host.to_ascii_lowercase();
        let got = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str()?),
            None => url.host_str()?.to_owned(),
        };
        // A default port given explicitly (`:443`) is dropped by the parser.
        if got != expected && !expected.starts_with(&format!("{got}:")) {
            return None;
        }
        url
    };
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || !matches!(url.host(), Some(Host::Domain(_)))
    {
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nginx(u: &str) -> Option<Url> {
        original_url(&ForwardedHeaders {
            original_url: Some(u),
            ..Default::default()
        })
    }

    fn traefik(proto: &str, host: &str, uri: &str) -> Option<Url> {
        original_url(&ForwardedHeaders {
            original_url: None,
            proto: Some(proto),
            host: Some(host),
            uri: Some(uri),
        })
    }

    #[test]
    fn both_styles_give_the_same_url() {
        let a = nginx("https://lon.exempelkommun.se/lonebesked?ar=2026").unwrap();
        let b = traefik("https", "lon.exempelkommun.se", "/lonebesked?ar=2026").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.host_str(), Some("lon.exempelkommun.se"));
        let c = traefik("http", "App.Localhost:8081", "/x").unwrap();
        assert_eq!(c.as_str(), "http://app.localhost:8081/x");
        assert!(traefik("https", "lon.exempelkommun.se:443", "/").is_some());
    }

    #[test]
    fn malformed_or_smuggled_values_give_nothing() {
        for bad in [
            "",
            "/relative",
            "javascript:alert(1)",
            "https://user@lon.exempelkommun.se/",
            "https://lon.exempelkommun.se/\r\nX: y",
            "https://10.0.0.1/",
            "ftp://lon.exempelkommun.se/",
            "https://lon.exempelkommun.se\\@evil/",
        ] {
            assert!(nginx(bad).is_none(), "{bad:?}");
        }
        for (p, h, u) in [
            ("gopher", "a.se", "/"),
            ("https", "a.se/@evil.example", "/"),
            ("https", "evil.example@a.se", "/"),
            ("https", "a.se", "//evil.example/"),
            ("https", "a.se", "evil"),
            ("https", "a.se", "/\r\nx"),
            ("https", "a.se#", "/"),
            ("https", "", "/"),
            ("https", "a.se:99999", "/"),
            ("https", "[::1]", "/"),
        ] {
            assert!(traefik(p, h, u).is_none(), "{p} {h} {u}");
        }
        assert!(original_url(&ForwardedHeaders::default()).is_none());
        assert!(nginx(&format!("https://a.se/{}", "x".repeat(5000))).is_none());
    }
}
