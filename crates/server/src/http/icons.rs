//! Service icons: a small built-in set, named in the organisation file
//! (`icon = "mail"`). Drawn as inline SVG strokes in the accent colour, so
//! no image files, no external requests, and the CSP stays strict.

/// (name, SVG elements inside a 24×24 view box)
const ICONS: [(&str, &str); 14] = [
    (
        "app",
        r#"<rect x="3" y="3" width="7" height="7" rx="1"/><rect x="14" y="3" width="7" height="7" rx="1"/><rect x="3" y="14" width="7" height="7" rx="1"/><rect x="14" y="14" width="7" height="7" rx="1"/>"#,
    ),
    (
        "mail",
        r#"<rect x="3" y="5" width="18" height="14" rx="2"/><polyline points="3,7 12,13 21,7"/>"#,
    ),
    (
        "calendar",
        r#"<rect x="3" y="5" width="18" height="16" rx="2"/><line x1="3" y1="10" x2="21" y2="10"/><line x1="8" y1="3" x2="8" y2="7"/><line x1="16" y1="3" x2="16" y2="7"/>"#,
    ),
    (
        "document",
        r#"<path d="M6 3h9l4 4v14H6z"/><polyline points="15,3 15,7 19,7"/><line x1="9" y1="12" x2="16" y2="12"/><line x1="9" y1="16" x2="16" y2="16"/>"#,
    ),
    (
        "money",
        r#"<rect x="2" y="6" width="20" height="12" rx="2"/><circle cx="12" cy="12" r="3"/>"#,
    ),
    (
        "school",
        r#"<polygon points="12,4 22,9 12,14 2,9"/><path d="M6 11v5c3 3 9 3 12 0v-5"/>"#,
    ),
    (
        "people",
        r#"<circle cx="9" cy="8" r="3"/><path d="M3 20c0-4 3-6 6-6s6 2 6 6"/><circle cx="17" cy="9" r="2.5"/><path d="M16 14c3 0 5 2 5 5"/>"#,
    ),
    (
        "phone",
        r#"<rect x="7" y="2" width="10" height="20" rx="2"/><line x1="11" y1="18" x2="13" y2="18"/>"#,
    ),
    ("chat", r#"<path d="M4 5h16v11H9l-5 4z"/>"#),
    ("folder", r#"<path d="M3 6h6l2 2h10v11H3z"/>"#),
    (
        "globe",
        r#"<circle cx="12" cy="12" r="9"/><ellipse cx="12" cy="12" rx="4" ry="9"/><line x1="3" y1="12" x2="21" y2="12"/>"#,
    ),
    (
        "health",
        r#"<circle cx="12" cy="12" r="9"/><line x1="12" y1="7" x2="12" y2="17"/><line x1="7" y1="12" x2="17" y2="12"/>"#,
    ),
    (
        "clock",
        r#"<circle cx="12" cy="12" r="9"/><polyline points="12,7 12,12 16,14"/>"#,
    ),
    (
        "lock",
        r#"<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3"/>"#,
    ),
];

/// The SVG elements for `name`, or the generic icon.
#[must_use]
pub fn svg(name: &str) -> &'static str {
    ICONS
        .iter()
        .find(|(n, _)| *n == name)
        .or_else(|| ICONS.first())
        .map_or("", |(_, s)| s)
}

/// Whether `name` is a built-in icon.
#[must_use]
pub fn known(name: &str) -> bool {
    ICONS.iter().any(|(n, _)| *n == name)
}

/// The names, for error messages and documentation.
#[must_use]
pub fn names() -> Vec<&'static str> {
    ICONS.iter().map(|(n, _)| *n).collect()
}
