//! The text catalogue: Swedish by default, English available. Every string a
//! person reads comes from here, never from code.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The page language is the domain's: one type from the stored choice to
/// the catalogue, so no language code travels as text past its parsing.
pub use portvakt_core::domain::Language as Lang;

type Catalogue = HashMap<String, String>;

fn load(src: &str) -> Catalogue {
    src.parse::<toml::Table>()
        .map(|t| {
            t.into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn catalogues() -> &'static (Catalogue, Catalogue) {
    static C: OnceLock<(Catalogue, Catalogue)> = OnceLock::new();
    C.get_or_init(|| {
        (
            load(include_str!("../../i18n/sv.toml")),
            load(include_str!("../../i18n/en.toml")),
        )
    })
}

/// A language bound to its catalogue, handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
    /// The installation's minimum password length, filled into `{min}` so
    /// every message about it (the hint, "too short") states the number.
    min_password: Option<usize>,
}

/// Texts with `{min}` filled in, made once per (text, number): the number
/// comes from config, so there are only a handful and they live as long as
/// the catalogue does.
fn with_min(text: &'static str, min: usize) -> &'static str {
    static FILLED: OnceLock<Mutex<HashMap<(usize, usize), &'static str>>> = OnceLock::new();
    let mut filled = FILLED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    filled
        .entry((text.as_ptr() as usize, min))
        .or_insert_with(|| Box::leak(text.replace("{min}", &min.to_string()).into_boxed_str()))
}

impl Tr {
    #[must_use]
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            min_password: None,
        }
    }

    /// The same language, with `{min}` in texts read as `min`.
    #[must_use]
    pub fn with_min_password(self, min: usize) -> Self {
        Self {
            min_password: Some(min),
            ..self
        }
    }

    /// The text for `key`; the key itself if missing, so a gap is visible
    /// rather than blank (and caught by the catalogue test).
    #[must_use]
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        let (sv, en) = catalogues();
        let cat = if self.lang == Lang::Sv { sv } else { en };
        match (cat.get(key), self.min_password) {
            (Some(s), Some(min)) if s.contains("{min}") => with_min(s.as_str(), min),
            // The catalogue is 'static; the shorter lifetime is only for the fallback.
            (Some(s), _) => s.as_str(),
            (None, _) => key,
        }
    }

    /// The text for `key`, if the catalogue has one.
    #[must_use]
    pub fn find(&self, key: &str) -> Option<&'static str> {
        let (sv, en) = catalogues();
        let cat = if self.lang == Lang::Sv { sv } else { en };
        cat.get(key).map(String::as_str)
    }

    #[must_use]
    pub fn code(&self) -> &'static str {
        self.lang.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys_and_no_empty_text() {
        let (sv, en) = catalogues();
        let mut a: Vec<_> = sv.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert!(sv.len() > 50);
        assert!(sv.values().chain(en.values()).all(|v| !v.trim().is_empty()));
    }

    /// Issue 10 L8: "too short" says the minimum, in both languages.
    #[test]
    fn password_rules_l8_too_short_states_the_minimum() {
        let sv = Tr::new(Lang::Sv).with_min_password(17);
        let en = Tr::new(Lang::En).with_min_password(17);
        assert!(sv.get("password.error.short").contains("minst 17 tecken"));
        assert!(en
            .get("password.error.short")
            .contains("at least 17 characters"));
        assert!(sv.get("password.rules").starts_with("Minst 17 tecken"));
        assert!(Tr::new(Lang::Sv)
            .get("password.error.short")
            .contains("{min}"));
    }
}
