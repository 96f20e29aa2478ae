//! Passwords built only from guessable pieces (SECURITY.md password rules,
//! issue 10 L8): "sommar2025sommar2025", "123456789012345678",
//! "qwertyuiopasdfghjkl". Cracking tools try exactly these combinations
//! (word lists × years × keyboard walks × repetition, with leetspeak), so a
//! long password made only of them is no stronger than its pieces.
//!
//! The password, with case, separators and diacritics normalised, is covered
//! left to right by pieces; if some covering uses nothing but guessable
//! pieces, the password is refused. One unguessable piece is enough to pass,
//! which keeps passphrases ("en lång mening om blåbär") free of composition
//! rules.

/// Keyboard rows, aligned so that the keys below key `(r, c)` are
/// `(r + 1, c - 1)` and `(r + 1, c)`: walks along rows, columns ("1qaz",
/// "zaq1") and diagonals are all adjacent steps.
const LAYOUTS: &[&[&str]] = &[
    // Swedish/Finnish QWERTY (its letters also cover US/UK QWERTY).
    &["1234567890+", "qwertyuiopå", "asdfghjklöä", "zxcvbnm,.-"],
    // US QWERTY punctuation.
    &["1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./"],
    // French AZERTY.
    &["1234567890", "azertyuiop", "qsdfghjklmù", "wxcvbn,;:!"],
    // German QWERTZ.
    &["1234567890ß", "qwertzuiopü", "asdfghjklöä", "yxcvbnm,.-"],
    // Numeric keypad (rows straight above each other).
    &["789", "456", "123"],
];

/// Shortest walk or sequence counted as a piece.
const MIN_RUN: usize = 3;
/// Digits and symbols people append ("2025", "!!", "#1") are guessable
/// whatever they are, up to this length.
const MAX_FREE_DIGITS: usize = 4;
const MAX_FREE_SYMBOLS: usize = 3;
/// Longest unit whose repetition ("abab", "x7qx7q") counts as a piece.
const MAX_UNIT: usize = 4;

/// Strips what people use as separators (spaces, `-`, `_`, `.` …) but keeps
/// the symbols used as leetspeak (`@`, `$`, `!`, `|`, `+`).
pub(super) fn plain(folded: &str) -> Vec<char> {
    folded
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '@' | '$' | '!' | '|' | '+'))
        .collect()
}

/// Words match with or without diacritics, so "vår" and "var" are one word
/// (keyboard walks keep them: "å" is a key of its own).
fn fold_diacritic(c: char) -> char {
    match c {
        'å' | 'ä' | 'à' | 'á' | 'â' => 'a',
        'ö' | 'ø' | 'ó' | 'ò' | 'ô' => 'o',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'ü' | 'ú' | 'ù' => 'u',
        'ï' | 'í' | 'ì' => 'i',
        other => other,
    }
}

/// The letters a leetspeak character stands for.
fn leet(c: char) -> &'static [char] {
    match c {
        '0' => &['o'],
        '1' | '!' | '|' => &['i', 'l'],
        '2' => &['z'],
        '3' => &['e'],
        '4' | '@' => &['a'],
        '5' | '$' => &['s'],
        '6' | '9' => &['g'],
        '7' | '+' => &['t'],
        '8' => &['b'],
        _ => &[],
    }
}

/// The password with every leetspeak character read as its first letter
/// ("p@ssw0rd" → "password"), for list look-ups.
pub(super) fn unleet(chars: &[char]) -> String {
    chars
        .iter()
        .map(|&c| leet(c).first().copied().unwrap_or(c))
        .collect()
}

fn same_letter(typed: char, word: char) -> bool {
    let word = fold_diacritic(word);
    fold_diacritic(typed) == word || leet(typed).contains(&word)
}

fn word_at(chars: &[char], i: usize, word: &[char]) -> bool {
    chars.len() - i >= word.len()
        && chars[i..i + word.len()]
            .iter()
            .zip(word)
            .all(|(&t, &w)| same_letter(t, w))
}

fn key_position(layout: &[&str], c: char) -> Option<(usize, usize)> {
    layout
        .iter()
        .enumerate()
        .find_map(|(r, row)| row.chars().position(|k| k == c).map(|col| (r, col)))
}

fn adjacent(layout: &[&str], a: char, b: char) -> bool {
    let (Some((ra, ca)), Some((rb, cb))) = (key_position(layout, a), key_position(layout, b))
    else {
        return false;
    };
    (ra == rb && ca.abs_diff(cb) == 1)
        || (rb == ra + 1 && (cb == ca || cb + 1 == ca))
        || (ra == rb + 1 && (ca == cb || ca + 1 == cb))
}

/// End of the longest keyboard walk starting at `i` (on one layout).
fn walk_end(chars: &[char], i: usize) -> usize {
    LAYOUTS
        .iter()
        .map(|layout| {
            let mut j = i + 1;
            while j < chars.len() && adjacent(layout, chars[j - 1], chars[j]) {
                j += 1;
            }
            j
        })
        .max()
        .unwrap_or(i + 1)
}

/// Step between two characters of an alphabetic or (cyclic) digit sequence.
fn step(a: char, b: char) -> Option<i8> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        let d = (u32::from(b) + 10 - u32::from(a)) % 10;
        return match d {
            1 => Some(1),
            9 => Some(-1),
            0 => Some(0),
            _ => None,
        };
    }
    if a.is_ascii_lowercase() && b.is_ascii_lowercase() {
        return match i32::from(b as u8) - i32::from(a as u8) {
            1 => Some(1),
            -1 => Some(-1),
            0 => Some(0),
            _ => None,
        };
    }
    None
}

/// End of the longest run "1234567890123…", "9876…", "abcd…", "1111…".
fn sequence_end(chars: &[char], i: usize) -> usize {
    let Some(&next) = chars.get(i + 1) else {
        return i + 1;
    };
    let Some(dir) = step(chars[i], next) else {
        return i + 1;
    };
    let mut j = i + 2;
    while j < chars.len() && step(chars[j - 1], chars[j]) == Some(dir) {
        j += 1;
    }
    j
}

/// End of the longest repetition of a unit of ≤ `MAX_UNIT` characters that
/// starts at `i` (at least two copies), or `i` when there is none.
fn repeat_end(chars: &[char], i: usize) -> usize {
    let mut best = i;
    for unit in 1..=MAX_UNIT {
        let mut j = i + unit;
        while j < chars.len() && chars[j] == chars[j - unit] {
            j += 1;
        }
        if j - i >= 2 * unit {
            best = best.max(j);
        }
    }
    best
}

fn run_end(chars: &[char], i: usize, is: fn(&char) -> bool, max: usize) -> usize {
    chars[i..].iter().take(max).take_while(|c| is(c)).count() + i
}

/// Whether the whole of `chars` can be split into guessable pieces: the
/// given words (with leetspeak), keyboard walks, sequences, repetitions,
/// short digit groups (years, PINs) and short symbol groups.
fn covered(chars: &[char], words: &[Vec<char>]) -> bool {
    let n = chars.len();
    let mut reach = vec![false; n + 1];
    reach[0] = true;
    for i in 0..n {
        if !reach[i] {
            continue;
        }
        let mut mark = |from: usize, to: usize| {
            for r in reach.iter_mut().take(to.min(n) + 1).skip(from) {
                *r = true;
            }
        };
        for w in words {
            if word_at(chars, i, w) {
                mark(i + w.len(), i + w.len());
            }
        }
        mark(
            i + 1,
            run_end(chars, i, char::is_ascii_digit, MAX_FREE_DIGITS),
        );
        mark(
            i + 1,
            run_end(chars, i, |c| !c.is_alphanumeric(), MAX_FREE_SYMBOLS),
        );
        mark(i + MIN_RUN, walk_end(chars, i));
        mark(i + MIN_RUN, sequence_end(chars, i));
        mark(i + 2, repeat_end(chars, i));
        if reach[n] {
            return true;
        }
    }
    reach[n]
}

/// Whether the password (already folded and [`plain`]) is made only of
/// guessable pieces, read forwards or backwards, or is a shorter password
/// repeated to reach `min_length`.
pub(super) fn only_guessable(chars: &[char], words: &[Vec<char>], min_length: usize) -> bool {
    if chars.is_empty() {
        return true;
    }
    let reversed: Vec<char> = chars.iter().rev().copied().collect();
    covered(chars, words) || covered(&reversed, words) || padded_by_repetition(chars, min_length)
}

/// "Xk9#mP2qXk9#mP2q": the password is a shorter one typed k times, which
/// is the first thing a guesser tries; the copy alone must meet the minimum.
fn padded_by_repetition(chars: &[char], min_length: usize) -> bool {
    let n = chars.len();
    (1..=n / 2).any(|unit| {
        n.is_multiple_of(unit)
            && unit < min_length
            && chars.iter().enumerate().all(|(i, c)| *c == chars[i % unit])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Vec<Vec<char>> {
        ["sommar", "vinter", "var", "anna", "andersson"]
            .iter()
            .map(|w| w.chars().collect())
            .collect()
    }

    fn weak(s: &str) -> bool {
        only_guessable(&plain(&s.to_lowercase()), &words(), 15)
    }

    #[test]
    fn password_rules_l8_guessable_pieces_are_recognised() {
        for p in [
            "sommar2025sommar2025",
            "vinter-2026-vinter-2026",
            "s0mm@r 2025 v!nter 2026",
            "123456789012345678",
            "987654321098765",
            "qwertyuiopasdfghjkl",
            "lkjhgfdsapoiuytrewq",
            "1qaz2wsx3edc4rfv",
            "zaq1xsw2cde3vfr4",
            "azertyuiopqsdfghjklm",
            "qwertzuiopasdfghjklöä",
            "åpoiuytrewqasdfg",
            "147258369147258369",
            "abcdefghijklmnop",
            "abcabcabcabcabcabc",
            "aaaaaaaaaaaaaaaaaa",
            "Anna.Andersson1985!",
            "vårvårvår2025!!",
            "Xk9#mP2qXk9#mP2q",
        ] {
            assert!(weak(p), "{p} should be guessable");
        }
    }

    #[test]
    fn one_unguessable_piece_is_enough() {
        for p in [
            "en lång mening om blåbär i skogen",
            "korrekt häst batteri häftklammer",
            "sommar2025 tröttnade kråkan",
            "qwerty plus fyra ostar",
        ] {
            assert!(!weak(p), "{p} should pass");
        }
    }
}
