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

/// With seconds, `2026-11-23 14:05:09`, where the order of events matters
/// (the audit log, a sign-in history).
#[must_use]
pub fn stockholm_seconds(unix: i64) -> String {
    let Ok(ts) = Timestamp::from_second(unix) else {
        return String::new();
    };
    ts.to_zoned(portvakt_core::clock::stockholm().clone())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A day in Stockholm (`YYYY-MM-DD`, as a date field sends it) as the Unix
/// time it starts; `None` for anything else.
#[must_use]
pub fn stockholm_day_start(day: &str) -> Option<i64> {
    let d: jiff::civil::Date = day.trim().parse().ok()?;
    d.to_zoned(portvakt_core::clock::stockholm().clone())
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// A moment in Stockholm as a `datetime-local` field sends it
/// (`YYYY-MM-DDTHH:MM`, seconds optional) as Unix time; `None` for anything
/// else. A time that occurs twice (autumn) is the first.
#[must_use]
pub fn stockholm_local(moment: &str) -> Option<i64> {
    let m = moment.trim();
    // Exactly what the field sends: no offset or zone that would be
    // dropped silently.
    let shape = m.len() == 16 || (m.len() == 19 && m.as_bytes()[16] == b':');
    if !shape || !m.bytes().all(|b| b.is_ascii_digit() || b"-T:".contains(&b)) {
        return None;
    }
    let dt: jiff::civil::DateTime = m.parse().ok()?;
    dt.to_zoned(portvakt_core::clock::stockholm().clone())
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// Only the clock time, `14:05`.
#[must_use]
pub fn stockholm_time(unix: i64) -> String {
    stockholm(unix)
        .rsplit_once(' ')
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

/// A moment for a sentence, as people say it: "kl. 18:04" today, "den 29
/// november kl. 00:10" on another day (English: "at 18:04", "on 29
/// November at 00:10"), so every page writes a time the same way.
#[must_use]
pub fn moment(t: crate::http::i18n::Tr, unix: i64, now: i64) -> String {
    let tz = portvakt_core::clock::stockholm();
    let (Ok(at), Ok(today)) = (Timestamp::from_second(unix), Timestamp::from_second(now)) else {
        return String::new();
    };
    let (at, today) = (at.to_zoned(tz.clone()), today.to_zoned(tz.clone()));
    let time = at.strftime("%H:%M").to_string();
    if at.date() == today.date() {
        return t.get("time.at").replace("{time}", &time);
    }
    let month = t
        .get("time.months")
        .split(',')
        .nth(usize::try_from(at.month() - 1).unwrap_or(0))
        .unwrap_or_default()
        .trim();
    t.get("time.on_at")
        .replace("{day}", &at.day().to_string())
        .replace("{month}", month)
        .replace("{time}", &time)
}

/// How long something lasted: "2 tim 10 min", "1 dygn 3 tim", "under en
/// minut" (and the English equivalents), to the minute.
#[must_use]
pub fn duration_words(t: crate::http::i18n::Tr, secs: i64) -> String {
    let minutes = secs.max(0) / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let parts: Vec<String> = [("time.days", d), ("time.hours", h), ("time.minutes", m)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| t.get(key).replace("{n}", &n.to_string()))
        .collect();
    if parts.is_empty() {
        t.get("time.under_a_minute").to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use crate::http::i18n::{Lang, Tr};

    #[test]
    fn a_moment_today_is_a_clock_time_and_another_day_has_its_date() {
        // 2026-11-28 18:04 and 2026-11-29 00:10 in Stockholm (UTC+1).
        let (evening, after_midnight) = (1_795_885_440, 1_795_907_400);
        let sv = Tr::new(Lang::Sv);
        let en = Tr::new(Lang::En);
        assert_eq!(super::moment(sv, evening, evening - 60), "kl. 18:04");
        assert_eq!(super::moment(en, evening, evening - 60), "at 18:04");
        assert_eq!(
            super::moment(sv, after_midnight, evening),
            "den 29 november kl. 00:10"
        );
        assert_eq!(
            super::moment(en, after_midnight, evening),
            "on 29 November at 00:10"
        );
    }

    #[test]
    fn durations_in_words() {
        let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
        assert_eq!(
            super::duration_words(sv, 2 * 3600 + 10 * 60 + 59),
            "2 tim 10 min"
        );
        assert_eq!(super::duration_words(en, 26 * 3600), "1 d 2 h");
        assert_eq!(super::duration_words(sv, 30), "under en minut");
    }

    #[test]
    fn summer_and_winter_offsets() {
        assert_eq!(super::stockholm(1_782_820_800), "2026-06-30 14:00");
        assert_eq!(super::stockholm(1_795_435_200), "2026-11-23 13:00");
    }
}
