//! The texts editors write: checked lengths and characters, and the
//! template gaps that must never reach the public.

use super::StatusError;

/// Longest title and update text (characters).
pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 5000;

/// Which text a [`StatusError::Gap`] was found in, so the editor can say
/// it at the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Title,
    TitleEn,
    Body,
    BodyEn,
}

impl TextField {
    /// The form field's name (`title`, `title_en`, `body`, `body_en`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TextField::Title => "title",
            TextField::TitleEn => "title_en",
            TextField::Body => "body",
            TextField::BodyEn => "body_en",
        }
    }
}

impl std::fmt::Display for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TextField::Title => "title",
            TextField::TitleEn => "English title",
            TextField::Body => "text",
            TextField::BodyEn => "English text",
        })
    }
}

/// The mark the editor's templates leave where something must be filled
/// in ("Avbrott i …", "från … till …").
pub const GAP: &str = "…";

/// Whether `s` still holds a template gap: an ellipsis (`…`, or `...`
/// typed out) standing alone, with no letter or digit against it, as the
/// templates write their gaps ("i … inte", "… är stängt", "till ….",
/// "[…]"). An ellipsis against a word ("vänta…", "…och") is ordinary
/// punctuation and passes, so real text is not refused for its style.
#[must_use]
pub fn has_gap(s: &str) -> bool {
    let s = s.replace("...", GAP);
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        *c == '…'
            && !i
                .checked_sub(1)
                .and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
            && !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
    })
}

/// Refuses texts that still hold a template's gaps, naming the first.
///
/// # Errors
/// `Gap` with the field.
pub fn no_gaps(texts: &[(TextField, &str)]) -> Result<(), StatusError> {
    match texts.iter().find(|(_, t)| has_gap(t)) {
        Some((field, _)) => Err(StatusError::Gap(*field)),
        None => Ok(()),
    }
}

fn text(s: &str, max: usize, allow_empty: bool) -> Option<String> {
    let t = s.trim();
    let ok = (allow_empty || !t.is_empty())
        && t.chars().count() <= max
        // Line breaks are fine in texts; other control characters are not.
        && !t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
    ok.then(|| t.replace("\r\n", "\n"))
}

/// A checked title (Swedish required, English optional).
///
/// # Errors
/// `BadTitle`.
pub fn title(sv: &str, en: &str) -> Result<(String, String), StatusError> {
    Ok((
        text(sv, MAX_TITLE, false).ok_or(StatusError::BadTitle)?,
        text(en, MAX_TITLE, true).ok_or(StatusError::BadTitle)?,
    ))
}

/// A checked update text (Swedish required, English optional).
///
/// # Errors
/// `BadBody`.
pub fn body(sv: &str, en: &str) -> Result<(String, String), StatusError> {
    Ok((
        text(sv, MAX_BODY, false).ok_or(StatusError::BadBody)?,
        text(en, MAX_BODY, true).ok_or(StatusError::BadBody)?,
    ))
}
