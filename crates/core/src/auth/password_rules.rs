//! Rules for new passwords (SECURITY.md, NIST SP 800-63B §3.1.1.2): a
//! minimum length that depends on whether a second factor is required, a
//! generous maximum, no composition rules, and a blocklist of common,
//! breached and local words (the organisation's own name, "Sommar2025").

use caseless::default_case_fold_str;
use std::collections::HashSet;
use std::sync::OnceLock;
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// We accept long passphrases; the cap only stops abuse of the hasher.
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PasswordRuleError {
    #[error("shorter than {0} characters")]
    TooShort(usize),
    #[error("longer than {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("a common or easily guessed password")]
    Common,
    #[error("contains the organisation's name")]
    ContainsOrganisation,
    #[error("contains the username")]
    ContainsUsername,
    #[error("the two passwords differ")]
    Mismatch,
}

/// What a new password is checked against.
pub struct PasswordContext<'a> {
    pub min_length: usize,
    pub organisation_words: &'a [&'a str],
    pub username: &'a str,
}

fn blocklist() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(fold)
            .collect()
    })
}

fn fold(s: &str) -> String {
    let n: String = s.nfkc().collect();
    default_case_fold_str(&n)
}

/// # Errors
/// The first rule the password breaks.
pub fn check_new_password(
    password: &str,
    ctx: &PasswordContext<'_>,
) -> Result<(), PasswordRuleError> {
    let chars = password.chars().count();
    if chars < ctx.min_length {
        return Err(PasswordRuleError::TooShort(ctx.min_length));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordRuleError::TooLong);
    }
    let folded = fold(password);
    let base = folded
        .trim_end_matches(|c: char| !c.is_alphabetic())
        .trim_start_matches(|c: char| !c.is_alphabetic());
    let list = blocklist();
    if list.contains(&folded) || list.contains(base) || is_repetition(&folded) {
        return Err(PasswordRuleError::Common);
    }
    for word in ctx.organisation_words {
        let w = fold(word);
        if w.chars().count() >= 4 && folded.contains(&w) {
            return Err(PasswordRuleError::ContainsOrganisation);
        }
    }
    let user = fold(ctx.username);
    let local = user.split('@').next().unwrap_or_default();
    if local.chars().count() >= 4 && folded.contains(local) {
        return Err(PasswordRuleError::ContainsUsername);
    }
    Ok(())
}

/// One character or a short pattern repeated ("aaaaaaaaaaaaaaa", "abcabcabc…").
fn is_repetition(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (1..=3)
        .any(|p| chars.len() >= 2 * p && chars.iter().enumerate().all(|(i, c)| *c == chars[i % p]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> PasswordContext<'static> {
        PasswordContext {
            min_length: 15,
            organisation_words: &["Exempelkommun", "exempelkommun"],
            username: "anna.andersson@exempelkommun.se",
        }
    }

    #[test]
    fn length_rules() {
        assert_eq!(
            check_new_password("kort", &ctx()),
            Err(PasswordRuleError::TooShort(15))
        );
        assert!(check_new_password("en lång mening om blåbär i skogen", &ctx()).is_ok());
        assert_eq!(
            check_new_password(&"xy1".repeat(400), &ctx()),
            Err(PasswordRuleError::TooLong)
        );
    }

    #[test]
    fn local_words_and_seasons_are_blocked() {
        let short = PasswordContext {
            min_length: 8,
            ..ctx()
        };
        assert_eq!(
            check_new_password("Sommar2025!", &short),
            Err(PasswordRuleError::Common)
        );
        assert_eq!(
            check_new_password("LÖSENORD123", &short),
            Err(PasswordRuleError::Common)
        );
        assert_eq!(
            check_new_password("qwertyuiop", &short),
            Err(PasswordRuleError::Common)
        );
        assert_eq!(
            check_new_password("EXEMPELKOMMUN-2026", &short),
            Err(PasswordRuleError::ContainsOrganisation)
        );
        assert_eq!(
            check_new_password("anna.andersson!!", &short),
            Err(PasswordRuleError::ContainsUsername)
        );
        assert_eq!(
            check_new_password("abababababababab", &short),
            Err(PasswordRuleError::Common)
        );
    }

    #[test]
    fn no_composition_rules() {
        assert!(check_new_password("alla små bokstäver här", &ctx()).is_ok());
    }
}
