//! The path an app receives must stay under its base path (issue 10 L5;
//! used by the server's built-in proxy):
//! `/apps/lon/../../admin` would otherwise reach `http://10.0.0.5/admin`
//! when the upstream is `http://10.0.0.5/lon`, or another app on the same
//! server. Upstreams differ in what they treat as a separator or a dot
//! segment (`%2e%2e`, `..%2f`, `\`, Tomcat's `..;`, a second round of
//! percent-decoding), so the check assumes the most generous reading and
//! refuses anything that climbs above the root under any of them.

/// Percent-decodes once; invalid escapes stay as they are.
fn decode_once(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'%'));
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Whether resolving dot segments in `path` ever climbs above its root.
fn climbs_out(path: &[u8]) -> bool {
    let mut depth: i64 = 0;
    for seg in path.split(|b| *b == b'/' || *b == b'\\') {
        // Path parameters (`..;jsessionid=x`) do not make a segment less of a dot segment.
        let seg = seg.split(|b| *b == b';').next().unwrap_or_default();
        // Some servers trim spaces around a name (`.. ` is `..` on Windows).
        let seg = seg.trim_ascii();
        // `%2e` is a dot to URL parsers (WHATWG) even where nothing else is decoded.
        let seg = String::from_utf8_lossy(seg)
            .to_ascii_lowercase()
            .replace("%2e", ".");
        match seg.as_bytes() {
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            b"." | b"" => {}
            _ => depth += 1,
        }
    }
    false
}

/// Whether the path (without the query) stays inside the app's base
/// under plain, once- and twice-decoded readings. Backslashes and control
/// characters, in any form, are refused outright: some servers take a
/// backslash for `/`, and URL parsers drop tabs, newlines and trailing
/// controls (`/..%00%0a` is `/..` to them; found by the fuzzer).
#[must_use]
pub fn stays_inside(path: &str) -> bool {
    let mut p = path.as_bytes().to_vec();
    for _ in 0..3 {
        // A decoded `?` or `#` ends the path for a server that parses again.
        let cut = p
            .iter()
            .position(|b| *b == b'?' || *b == b'#')
            .map_or(&p[..], |i| &p[..i]);
        if p.iter().any(|b| *b == b'\\' || b.is_ascii_control())
            || climbs_out(&p)
            || climbs_out(cut)
        {
            return false;
        }
        p = decode_once(&p);
    }
    true
}

/// For tests and fuzzing: whether `http://h/base` + `path`, read plain
/// and after one and two rounds of percent-decoding, stays under `/base`
/// according to the WHATWG URL parser.
#[must_use]
pub fn oracle_stays_inside(path: &str) -> bool {
    let mut p = path.as_bytes().to_vec();
    for _ in 0..3 {
        let text = String::from_utf8_lossy(&p);
        if let Ok(u) = url::Url::parse(&format!("http://h/base{text}")) {
            if !(u.path() == "/base" || u.path().starts_with("/base/")) {
                return false;
            }
        }
        p = decode_once(&p);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_that_leave_the_base_are_refused() {
        for p in [
            "/..",
            "/../admin",
            "/a/../../admin",
            "/%2e%2e/admin",
            "/%2E%2e/admin",
            "/..%2fadmin",
            "/..%2Fadmin",
            "/%252e%252e/admin",
            "/.%2e/admin",
            "/..;/admin",
            "/..\\admin",
            "/a%5c..%5c..%5cadmin",
            "/a/%2e%2e%2f%2e%2e%2fadmin",
            "/..\0\0\0\n\0\0\0\0",
            "/..%00%0a",
            "/.%09./admin",
            "/.. /admin",
            "/%2e%2e%20/admin",
            "/..%3fx",
            "/..%23x",
            "/..%253fx",
            "/%252e%25252e",
        ] {
            assert!(!stays_inside(p), "{p}");
        }
    }

    /// The WHATWG URL parser, which browsers and many servers follow, as
    /// an independent judge: whatever passes stays under the base for it
    /// too, read plain or after one or two rounds of decoding.
    #[test]
    fn what_passes_stays_under_the_base_for_a_url_parser_too() {
        let seg = [
            "..",
            ".",
            "%2e%2e",
            "%2E.",
            ".%2e",
            "%252e%252e",
            "a",
            "..;",
            "%2f",
            "%5c",
            "b%2f..",
            "",
        ];
        let mut n = 0;
        for a in seg {
            for b in seg {
                for c in seg {
                    let p = format!("/{a}/{b}/{c}");
                    if stays_inside(&p) {
                        n += 1;
                        assert!(oracle_stays_inside(&p), "{p}");
                    }
                }
            }
        }
        assert!(n > 100, "the corpus exercises accepted paths too: {n}");
    }

    #[test]
    fn ordinary_paths_pass() {
        for p in [
            "/",
            "/inkorg",
            "/a/b/../c",
            "/a/./b",
            "/file..txt",
            "/...",
            "/%41bc",
            "/a%2fb",
            "/100%",
        ] {
            assert!(stays_inside(p), "{p}");
        }
    }
}
