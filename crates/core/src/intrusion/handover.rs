//! A password for oral hand-over (seed 000: if the person's e-mail may be
//! read by someone else, the new password is told, not sent): words that
//! are easy to say and spell over the phone, with two digits. It works
//! for a day and must be changed at first sign-in; the second factor is
//! still asked for outside the organisation's zones.

use rand::Rng;

/// How long the password works.
pub const VALID_SECS: i64 = 24 * 3600;

/// Short Swedish words without å, ä, ö (the same on every keyboard) and
/// without look-alikes: about 250 words, so four carry nearly 32 bits, and
/// the two digits about 6.6 more. Guessing is bounded by the account's lockout and
/// the password's one day.
const WORDS: &[&str] = &[
    "aborre", "agat", "alm", "ananas", "ankare", "apel", "arena", "armband", "asp", "atlas",
    "bagare", "balkong", "banan", "bastu", "berg", "betong", "biljett", "bjork", "blomma", "bod",
    "bok", "bonde", "borste", "bro", "brunn", "buske", "byxa", "cykel", "dal", "dans", "deg",
    "dike", "docka", "dragon", "dunge", "ek", "eld", "emalj", "fackla", "falk", "fasan", "fjader",
    "fjall", "flagga", "flod", "fluga", "fors", "fyr", "gaffel", "galax", "gata", "gran", "grotta",
    "gurka", "hage", "hamn", "hare", "hatt", "hav", "hjort", "holme", "honung", "hund", "hydda",
    "igelkott", "is", "jord", "juni", "kaka", "kamel", "kanal", "kanin", "karta", "katt", "kerub",
    "kista", "klippa", "klocka", "knapp", "kompass", "korg", "kork", "krona", "kula", "kust",
    "kvarn", "lampa", "land", "lav", "lejon", "lera", "lind", "linje", "lodjur", "loke", "lunta",
    "lykta", "malm", "mandel", "mantel", "marmor", "mast", "meter", "mink", "mossa", "mullvad",
    "myra", "nejlika", "nyckel", "nypon", "oliv", "orm", "oxe", "padda", "palm", "panna", "papper",
    "park", "pelare", "penna", "peppar", "pil", "pinne", "planet", "plog", "pollen", "potatis",
    "pump", "radio", "ram", "ratt", "regn", "ren", "ring", "rot", "rubin", "ruta", "sadel", "salt",
    "sand", "saxofon", "segel", "silver", "sjal", "skata", "sked", "skog", "skola", "skorpa",
    "slott", "sluss", "smycke", "snigel", "sol", "spade", "spegel", "stad", "stege", "sten",
    "stjarna", "stol", "storm", "strand", "stuga", "svamp", "svan", "tak", "tall", "tavla", "te",
    "tegel", "tiger", "timme", "tistel", "torg", "torn", "trad", "trumma", "tulpan", "tunnel",
    "uggla", "ulv", "vagn", "val", "vante", "varg", "vas", "vatten", "ved", "vete", "vik", "vinge",
    "vulkan", "yxa", "zebra", "akare", "alv", "ankel", "apa", "arm", "bil", "bjalke", "blad",
    "boll", "bord", "brev", "dimma", "dock", "duva", "elev", "fat", "film", "fisk", "fot", "gris",
    "gula", "hjul", "horn", "kaffe", "kam", "kappa", "kol", "krok", "lax", "lock", "mus", "mynt",
    "nacke", "nat", "ost", "pall", "post", "rep", "ris", "rock", "sill", "sko", "spik", "tand",
    "tass", "tolk", "torv", "tum", "vals", "vind", "visp", "zink", "sax", "fax",
];

/// A fresh password, like `lampa-skog-tavla-hund-47`.
#[must_use]
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    let mut parts: Vec<String> = (0..4)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())].to_owned())
        .collect();
    parts.push(format!("{:02}", rng.gen_range(0..100)));
    parts.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_words_and_two_digits() {
        let p = generate();
        let parts: Vec<&str> = p.split('-').collect();
        assert_eq!(parts.len(), 5, "{p}");
        assert!(parts[..4].iter().all(|w| WORDS.contains(w)));
        assert_eq!(parts[4].len(), 2);
        assert_ne!(generate(), generate());
        let mut w = WORDS.to_vec();
        w.sort_unstable();
        w.dedup();
        assert_eq!(w.len(), WORDS.len(), "no word twice");
        assert!(WORDS.len() >= 240);
        assert!(WORDS
            .iter()
            .all(|w| w.bytes().all(|b| b.is_ascii_lowercase())));
    }
}
