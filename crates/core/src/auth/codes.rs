//! One-time codes sent to a registered e-mail address (later: SMS).
//! SECURITY.md: ≥ 6 digits, ≤ 10 minutes valid (5 by default), single use,
//! bound to one sign-in attempt, ≤ 5 tries per code.

use rand::Rng;
use sha2::{Digest, Sha256};

pub const CODE_DIGITS: usize = 6;
pub const MAX_TRIES: u32 = 5;

/// A fresh code, uniformly random.
#[must_use]
pub fn generate() -> String {
    let n: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
    format!("{n:06}")
}

/// What the store keeps: the code bound to its challenge id, hashed, so a
/// copy of the table does not reveal live codes and a code hash from one
/// challenge does not match another.
#[must_use]
pub fn hash(challenge_id: &str, code: &str) -> String {
    let d = Sha256::digest(format!("{challenge_id}:{code}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tidies what the user typed: spaces and dashes go; letters are
/// upper-cased so a format with letters is accepted in any case (seed 004).
#[must_use]
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .take(32)
        .collect()
}

/// Whether a tidied code has the shape of a sign-in code (six digits). One
/// that does not cannot be right, so it is refused without using a try
/// (issue 12: "12345" cost an attempt and got "the code is wrong").
#[must_use]
pub fn is_well_formed(normalised: &str) -> bool {
    normalised.len() == CODE_DIGITS && normalised.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_bound_to_their_challenge() {
        for _ in 0..100 {
            let c = generate();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_ne!(hash("a", "123456"), hash("b", "123456"));
        assert_eq!(normalise(" 123-456 "), "123456");
        assert_eq!(normalise("ab12"), "AB12");
    }

    #[test]
    fn only_six_digits_are_a_code() {
        assert!(is_well_formed(&normalise(" 123-456 ")));
        for bad in ["12345", "1234567", "12345A", "", "１２３４５６"] {
            assert!(!is_well_formed(&normalise(bad)), "{bad}");
        }
    }
}
