use serde::Deserialize;

/// The languages Portvakt speaks. Swedish is the default: the portal's
/// own language, and what a person who chose nothing gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Sv,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Sv, Language::En];

    /// The language code, as stored, configured, put in a cookie and in
    /// `<html lang>`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Sv => "sv",
            Language::En => "en",
        }
    }

    /// A code as [`Language::as_str`] writes it, and nothing else.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// A language tag as browsers and people write it (`sv`, `sv-SE`,
    /// ` EN-gb`): any region of one of ours is ours.
    #[must_use]
    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| {
            tag.strip_prefix(l.as_str())
                .is_some_and(|region| region.is_empty() || region.starts_with('-'))
        })
    }

    /// Picks the best of our languages from an `Accept-Language` header,
    /// honouring q-values.
    #[must_use]
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Language)> = None;
        for part in header.split(',').take(20) {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or_default();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Language::from_tag(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Language::Sv => Language::En,
            Language::En => Language::Sv,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_nothing_else_parses() {
        for l in Language::ALL {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
        for bad in ["", "SV", "sv-SE", " en", "de"] {
            assert_eq!(Language::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tags_of_any_region_are_ours() {
        assert_eq!(Language::from_tag("sv"), Some(Language::Sv));
        assert_eq!(Language::from_tag(" SV-fi "), Some(Language::Sv));
        assert_eq!(Language::from_tag("sv-x-kommun"), Some(Language::Sv));
        assert_eq!(Language::from_tag("en-US"), Some(Language::En));
        for other in ["", "svx", "english", "de-SV", "*"] {
            assert_eq!(Language::from_tag(other), None, "{other:?}");
        }
    }

    #[test]
    fn accept_language_respects_quality() {
        assert_eq!(
            Language::from_accept_language("en-US,en;q=0.9,sv;q=0.8"),
            Some(Language::En)
        );
        assert_eq!(
            Language::from_accept_language("de, sv-SE;q=0.5, en;q=0.3"),
            Some(Language::Sv)
        );
        assert_eq!(Language::from_accept_language("de, fr"), None);
    }
}
