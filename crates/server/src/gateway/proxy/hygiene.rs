//! What may cross the proxy in each direction. Towards the app: no
//! hop-by-hop headers, no identity or forwarding header the client made up
//! (SECURITY.md E1, issue 10 M5), none of Portvakt's cookies in any
//! `Cookie` header whatever its bytes (L3). Towards the browser: no
//! `Set-Cookie` for one of Portvakt's cookie names (B1, B6), and a
//! `frame-ancestors` policy so no other site can frame the app.

use crate::app::state::CookieNames;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

/// Hop-by-hop headers (RFC 9110 7.6.1): never forwarded.
const HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Header names (lower case, `-` for `_`) that apps and the servers in
/// front of them read as who the user is or where the request came from.
/// A client's own copy is dropped before Portvakt adds its values.
const RESERVED_EXACT: [&str; 9] = [
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "client-ip",
    "true-client-ip",
    "x-cluster-client-ip",
    "cf-connecting-ip",
    "x-rewrite-url",
    "x-user",
];
const RESERVED_PREFIXES: [&str; 9] = [
    "remote-",
    "x-remote-",
    "x-forwarded-",
    "x-original-",
    "x-auth-request-",
    "x-authenticated-",
    "x-webauth-",
    "x-authentik-",
    "x-portvakt-",
];

/// `Remote_User`, `REMOTE-USER` and `remote-user` are one name to a CGI or
/// WSGI server (wsgiref joined a client's `Remote_User` with ours into
/// `HTTP_REMOTE_USER='admin,plain'`), so names are compared after folding
/// case and `_`.
fn normalised(name: &[u8]) -> String {
    name.iter()
        .map(|b| match b {
            b'_' => '-',
            b => char::from(b.to_ascii_lowercase()),
        })
        .collect()
}

#[must_use]
pub fn is_reserved_request_header(name: &[u8]) -> bool {
    let n = normalised(name);
    RESERVED_EXACT.contains(&n.as_str())
        || RESERVED_PREFIXES
            .iter()
            .any(|p| n.starts_with(p) || n == p.trim_end_matches('-'))
}

/// Removes hop-by-hop headers, including those `Connection` names.
pub fn drop_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<String> = h
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|t| String::from_utf8_lossy(t.trim_ascii()).to_ascii_lowercase())
        .collect();
    for n in HOP.iter().map(|s| (*s).to_owned()).chain(named) {
        if let Ok(name) = HeaderName::from_bytes(n.as_bytes()) {
            h.remove(name);
        }
    }
}

/// Drops every request header a client may use to pose as someone, or
/// as coming from somewhere, towards the app.
pub fn drop_reserved(h: &mut HeaderMap) {
    let names: Vec<HeaderName> = h
        .keys()
        .filter(|n| is_reserved_request_header(n.as_str().as_bytes()))
        .cloned()
        .collect();
    for n in names {
        h.remove(n);
    }
}

/// Whether `name` is, or could be taken by a browser or Portvakt for, one
/// of Portvakt's cookies: every prefix variant (`__Host-`, `__Secure-`, in
/// any case) of `portvakt` and `portvakt-*`, and the configured names.
#[must_use]
pub fn is_our_cookie(names: &CookieNames, name: &[u8]) -> bool {
    let n = String::from_utf8_lossy(name.trim_ascii()).to_ascii_lowercase();
    let bare = n
        .strip_prefix("__host-")
        .or_else(|| n.strip_prefix("__secure-"))
        .unwrap_or(&n);
    bare == "portvakt"
        || bare.starts_with("portvakt-")
        || [
            names.session,
            names.csrf,
            names.lang,
            names.reset,
            names.return_to,
            names.apps,
            names.apps_state,
            names.step_up,
            names.device,
        ]
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&n))
}

/// One `Cookie` header without Portvakt's cookies, byte for byte otherwise;
/// `None` when nothing is left. Bytes, not `to_str`, so a header that is
/// not ASCII cannot carry the session past the filter (L3).
fn strip_cookie_value(names: &CookieNames, value: &[u8]) -> Option<HeaderValue> {
    let kept: Vec<&[u8]> = value
        .split(|b| *b == b';')
        .map(<[u8]>::trim_ascii)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split(|b| *b == b'=').next().unwrap_or_default();
            !is_our_cookie(names, name)
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_bytes(&kept.join(&b"; "[..])).ok()
}

/// Applies [`strip_cookie_value`] to every `Cookie` header.
pub fn strip_our_cookies(names: &CookieNames, h: &mut HeaderMap) {
    let kept: Vec<HeaderValue> = h
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| strip_cookie_value(names, v.as_bytes()))
        .collect();
    h.remove(header::COOKIE);
    for v in kept {
        h.append(header::COOKIE, v);
    }
}

/// Drops an app's `Set-Cookie` for any of Portvakt's cookie names, so an
/// app cannot sign the browser in as someone else, fix a CSRF token, or
/// sign it out (B1, B6). Applies to every response, 101 included.
pub fn drop_our_set_cookies(names: &CookieNames, h: &mut HeaderMap) {
    let kept: Vec<HeaderValue> = h
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| {
            let b = v.as_bytes();
            let name = b.split(|c| *c == b'=').next().unwrap_or_default();
            // `=portvakt=x` has an empty name and some browsers keep it as
            // a cookie named `portvakt`: nameless cookies go too.
            let nameless = name.trim_ascii().is_empty();
            !nameless && !is_our_cookie(names, name)
        })
        .cloned()
        .collect();
    h.remove(header::SET_COOKIE);
    for v in kept {
        h.append(header::SET_COOKIE, v);
    }
    // `Clear-Site-Data: "cookies"` from an app would clear the portal's
    // cookies for the whole site (signing the person out), and
    // `Service-Worker-Allowed` would let an app's worker take over every
    // path of the shared apps origin, the hand-over included.
    h.remove(HeaderName::from_static("clear-site-data"));
    h.remove(HeaderName::from_static("service-worker-allowed"));
}

/// Added beside any policy of the app's own (browsers enforce each), so it
/// only narrows: the app may frame itself, no other site may frame it
/// (clickjacking). Nothing else is imposed: scripts and styles are the
/// app's business, and the app never shares an origin with the portal.
pub const APP_CSP: &str = "frame-ancestors 'self'";

pub fn add_app_csp(h: &mut HeaderMap) {
    h.append(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(APP_CSP),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(secure: bool) -> CookieNames {
        CookieNames::new(secure, None)
    }

    #[test]
    fn identity_and_forwarding_names_fold_case_and_underscores() {
        for n in [
            "Remote_User",
            "REMOTE-USER",
            "remote-groups",
            "X-Remote-User",
            "X_Forwarded_User",
            "x-forwarded-port",
            "X-Forwarded-Uri",
            "X-Forwarded-Server",
            "X-Real-IP",
            "X-Original-URL",
            "Forwarded",
            "X-Auth-Request-Email",
            "x-forwarded",
        ] {
            assert!(is_reserved_request_header(n.as_bytes()), "{n}");
        }
        for n in ["accept", "x-requested-with", "cookie", "authorization"] {
            assert!(!is_reserved_request_header(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn every_variant_of_our_cookie_names_is_ours() {
        let n = names(true);
        for c in [
            "portvakt",
            "Portvakt",
            "portvakt-csrf",
            "__Host-portvakt-csrf",
            "__host-PORTVAKT",
            "__Secure-portvakt",
            "portvakt-apps",
            " portvakt ",
        ] {
            assert!(is_our_cookie(&n, c.as_bytes()), "{c}");
        }
        assert!(!is_our_cookie(&n, b"appsession"));
        assert!(!is_our_cookie(&n, b"portvaktx"));
    }

    #[test]
    fn our_cookies_leave_every_cookie_header_whatever_its_bytes() {
        let n = names(false);
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_bytes(b"a=\xff\xfe; portvakt=s1").unwrap(),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("portvakt=s2; app=1;portvakt-csrf=c"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("portvakt=s3"));
        strip_our_cookies(&n, &mut h);
        let all: Vec<&[u8]> = h
            .get_all(header::COOKIE)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        assert_eq!(all, vec![&b"a=\xff\xfe"[..], &b"app=1"[..]]);
    }

    #[test]
    fn an_apps_set_cookie_for_our_names_is_dropped() {
        let n = names(true);
        let mut h = HeaderMap::new();
        for v in [
            "portvakt=x; Path=/",
            "__Host-portvakt-csrf=y; Path=/; Secure",
            "PORTVAKT-CSRF=z",
            "app=1; Path=/",
        ] {
            h.append(header::SET_COOKIE, HeaderValue::from_static(v));
        }
        drop_our_set_cookies(&n, &mut h);
        let all: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(all, vec!["app=1; Path=/"]);
    }
}
