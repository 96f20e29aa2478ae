//! What an uploaded piece of evidence may be: a screenshot (PNG, JPEG,
//! GIF, WebP), a PDF, or plain UTF-8 text (an exported log, a mail's
//! source, CSV or JSON). The type comes from the file's own first bytes,
//! never from its name or the browser's claim; anything else is refused.
//! Files are only ever downloaded as attachments.

/// The largest file taken, in bytes.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most files one case holds.
pub const MAX_FILES: u32 = 50;
/// The longest file name kept for display, in characters.
pub const MAX_NAME: usize = 120;

/// A recognised kind of file: its media type and the extension it is
/// downloaded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub media_type: &'static str,
    pub extension: &'static str,
}

const PNG: Kind = Kind {
    media_type: "image/png",
    extension: "png",
};
const JPEG: Kind = Kind {
    media_type: "image/jpeg",
    extension: "jpg",
};
const GIF: Kind = Kind {
    media_type: "image/gif",
    extension: "gif",
};
const WEBP: Kind = Kind {
    media_type: "image/webp",
    extension: "webp",
};
const PDF: Kind = Kind {
    media_type: "application/pdf",
    extension: "pdf",
};
const TEXT: Kind = Kind {
    media_type: "text/plain",
    extension: "txt",
};

/// The kind of `bytes`, or `None` when it is none of those taken. Text
/// must be valid UTF-8 without control characters (bar line breaks and
/// tabs) and must not look like HTML or SVG
/// (which a browser could be talked into running).
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(PNG);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(JPEG);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(GIF);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(WEBP);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(PDF);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    // Text has no control characters but line breaks, tabs and form feeds
    // (a binary that happens to be valid UTF-8 has some).
    let binary = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}');
    if text.is_empty() || text.chars().any(binary) {
        return None;
    }
    let head = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(256)
        .collect::<String>()
        .to_ascii_lowercase();
    // A document that is markup (HTML, SVG, XML, a fragment) is refused;
    // text that merely contains markup (a phishing mail's source) is
    // evidence, and is only ever downloaded as an attachment.
    if head.starts_with('<') {
        return None;
    }
    Some(TEXT)
}

/// The uploader's file name, for display only: the last path component,
/// without control or bidirectional-formatting characters, bounded.
/// Never used as a path, a header or a download name.
#[must_use]
pub fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(MAX_NAME)
        .collect();
    let name = name.trim().to_owned();
    if name.is_empty() || name == "." || name == ".." {
        "fil".to_owned()
    } else {
        name
    }
}

/// Characters that reorder or hide text: bidirectional marks and
/// overrides, zero-width characters.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").unwrap().extension, "png");
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap().extension, "jpg");
        assert_eq!(sniff(b"%PDF-1.7\n").unwrap().extension, "pdf");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap().extension, "webp");
        assert_eq!(
            sniff("inloggning kl 03:12 från 203.0.113.9\n".as_bytes())
                .unwrap()
                .extension,
            "txt"
        );
    }

    #[test]
    fn markup_binaries_and_empties_are_refused() {
        for bad in [
            &b"<html><script>alert(1)</script>"[..],
            b"  <!DOCTYPE html>",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"<?xml version='1.0'?><svg/>",
            b"<!-- x --><html><script>alert(1)</script>",
            b"<img src=x onerror=alert(1)>",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff",
            b"PK\x03\x04",
            b"",
            b"text\0with nul",
            b"\xff\xfe\x00",
        ] {
            assert_eq!(sniff(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_for_display_only() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(
            display_name("C:\\Users\\anna\\skärmdump 1.png"),
            "skärmdump 1.png"
        );
        assert_eq!(display_name("a\u{202e}gnp.exe"), "agnp.exe");
        assert_eq!(display_name("bad\r\nname.txt"), "badname.txt");
        assert_eq!(display_name("a\u{200b}b\u{061c}c\u{feff}.png"), "abc.png");
        assert_eq!(display_name(".."), "fil");
        assert_eq!(display_name(""), "fil");
        assert_eq!(display_name(&"x".repeat(500)).chars().count(), MAX_NAME);
    }
}
