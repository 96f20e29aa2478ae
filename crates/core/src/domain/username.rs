use caseless::default_case_fold_str;
use std::fmt;
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// The longest username we accept, in characters after normalisation.
pub const MAX_USERNAME_CHARS: usize = 256;

/// A username normalised for comparison: NFKC, then Unicode case folding,
/// then NFKC again (case folding can denormalise). Two usernames that look
/// the same to a person compare equal, so a look-alike cannot shadow another
/// account in the same organisation (SECURITY.md A9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("username is empty")]
    Empty,
    #[error("username is longer than {MAX_USERNAME_CHARS} characters")]
    TooLong,
    #[error("username contains control characters or spaces")]
    BadCharacter,
}

impl Username {
    /// Normalises and validates user input.
    ///
    /// # Errors
    /// When the name is empty, too long, or contains whitespace or control characters.
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        let nfkc: String = trimmed.nfkc().collect();
        let folded = default_case_fold_str(&nfkc);
        let normalised: String = folded.nfkc().collect();
        if normalised.chars().count() > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        if normalised
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
        {
            return Err(UsernameError::BadCharacter);
        }
        Ok(Self(normalised))
    }

    /// Wraps a value that was normalised before it was stored.
    #[must_use]
    pub fn from_normalised(s: String) -> Self {
        Self(s)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the last `@`, used to find the organisation a
    /// `fornamn.efternamn@kommun.se` style name belongs to.
    #[must_use]
    pub fn domain(&self) -> Option<&str> {
        self.0
            .rsplit_once('@')
            .map(|(_, d)| d)
            .filter(|d| !d.is_empty())
    }
}

/// Zero-width and formatting characters that NFKC keeps but a reader cannot see.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_width_variants_normalise_to_one_name() {
        let a = Username::parse("Anna.Andersson@Exempelkommun.se").unwrap();
        let b = Username::parse("ａｎｎａ.andersson@exempelkommun.se").unwrap();
        let c = Username::parse("  ANNA.ANDERSSON@EXEMPELKOMMUN.SE ").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.domain(), Some("exempelkommun.se"));
    }

    #[test]
    fn swedish_letters_fold_and_sharp_s_expands() {
        assert_eq!(Username::parse("ÅSA.ÖBERG").unwrap().as_str(), "åsa.öberg");
        assert_eq!(
            Username::parse("STRAẞE").unwrap(),
            Username::parse("strasse").unwrap()
        );
    }

    #[test]
    fn composed_and_decomposed_forms_are_equal() {
        assert_eq!(
            Username::parse("a\u{030A}sa").unwrap(),
            Username::parse("åsa").unwrap()
        );
    }

    #[test]
    fn invisible_and_control_characters_are_refused() {
        assert_eq!(
            Username::parse("an\u{200B}na"),
            Err(UsernameError::BadCharacter)
        );
        assert_eq!(Username::parse("an\nna"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("an na"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
        assert_eq!(
            Username::parse(&"a".repeat(300)),
            Err(UsernameError::TooLong)
        );
    }
}
