//! Times for people: Europe/Stockholm, `2026-11-23 14:05`.

use jiff::Timestamp;

#[must_use]
pub fn stockholm(unix: i64) -> String {
    let Ok(ts) = Timestamp::from_second(unix) else {
        return String::new();
    };
    ts.to_zoned(portvakt_core::clock::stockholm().clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Only the clock time, `14:05`.
#[must_use]
pub fn stockholm_time(unix: i64) -> String {
    stockholm(unix)
        .rsplit_once(' ')
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn summer_and_winter_offsets() {
        assert_eq!(super::stockholm(1_782_820_800), "2026-06-30 14:00");
        assert_eq!(super::stockholm(1_795_435_200), "2026-11-23 13:00");
    }
}
