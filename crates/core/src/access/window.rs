//! Opening hours: local time in Europe/Stockholm and the weekly windows a
//! service is open in (`mon-fri 07:00-18:00`).

use std::fmt;

/// Local time in Europe/Stockholm, reduced to what rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight, 0..1440.
    pub minute: u16,
}

impl LocalTime {
    /// The Stockholm wall-clock time of a Unix time.
    #[must_use]
    pub fn stockholm(unix: i64) -> Self {
        let zoned = jiff::Timestamp::from_second(unix)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(crate::clock::stockholm().clone());
        Self {
            weekday: u8::try_from(zoned.weekday().to_monday_zero_offset()).unwrap_or(0),
            minute: u16::try_from(i32::from(zoned.hour()) * 60 + i32::from(zoned.minute()))
                .unwrap_or(0),
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Opening hours on some weekdays: `mon-fri 07:00-18:00`, `sat,sun 10:00-14:00`.
/// The end is exclusive; `24:00` means midnight at the end of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Bit 0 = Monday.
    days: u8,
    start: u16,
    end: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("opening hours must look like \"mon-fri 07:00-18:00\": {0}")]
pub struct WindowError(String);

fn parse_day(s: &str) -> Option<u8> {
    DAYS.iter()
        .position(|d| *d == s)
        .and_then(|i| u8::try_from(i).ok())
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
}

impl Window {
    /// # Errors
    /// Unknown day names, times out of range, or an empty interval.
    pub fn parse(text: &str) -> Result<Self, WindowError> {
        let err = |why: &str| WindowError(format!("{text:?}: {why}"));
        let lower = text.trim().to_ascii_lowercase();
        let (days, hours) = lower
            .split_once(' ')
            .ok_or_else(|| err("days and hours are separated by a space"))?;
        let mut mask = 0u8;
        for part in days.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b) = (
                parse_day(a).ok_or_else(|| err("days are mon, tue, wed, thu, fri, sat, sun"))?,
                parse_day(b).ok_or_else(|| err("days are mon, tue, wed, thu, fri, sat, sun"))?,
            );
            if a > b {
                return Err(err("a day range runs forwards, e.g. mon-fri"));
            }
            for d in a..=b {
                mask |= 1 << d;
            }
        }
        let (s, e) = hours
            .trim()
            .split_once('-')
            .ok_or_else(|| err("hours look like 07:00-18:00"))?;
        let (start, end) = (
            parse_clock(s).ok_or_else(|| err("hours look like 07:00-18:00"))?,
            parse_clock(e).ok_or_else(|| err("hours look like 07:00-18:00"))?,
        );
        if start >= end {
            return Err(err("the end must be after the start on the same day"));
        }
        Ok(Self {
            days: mask,
            start,
            end,
        })
    }

    #[must_use]
    pub fn contains(&self, t: LocalTime) -> bool {
        self.days & (1 << t.weekday) != 0 && (self.start..self.end).contains(&t.minute)
    }

    /// Day numbers (0 = Monday) the window covers.
    #[must_use]
    pub fn days(&self) -> Vec<u8> {
        (0..7).filter(|d| self.days & (1 << d) != 0).collect()
    }

    /// Consecutive days as `(first, last)` runs: mon-fri, sat-sun → [(0,4), (5,6)].
    #[must_use]
    pub fn day_runs(&self) -> Vec<(u8, u8)> {
        let days = self.days();
        let mut runs: Vec<(u8, u8)> = Vec::new();
        for d in days {
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == d => *last = d,
                _ => runs.push((d, d)),
            }
        }
        runs
    }

    /// `(start, end)` in minutes since midnight.
    #[must_use]
    pub fn hours(&self) -> (u16, u16) {
        (self.start, self.end)
    }
}

impl fmt::Display for Window {
    /// The canonical form, as stored and as written in files.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Runs of three or more days as ranges (mon-fri), shorter ones
        // listed (sat,sun).
        let parts: Vec<String> = self
            .day_runs()
            .into_iter()
            .map(|(i, j)| {
                let (a, b) = (DAYS[usize::from(i)], DAYS[usize::from(j)]);
                match j - i {
                    0 => a.to_owned(),
                    1 => format!("{a},{b}"),
                    _ => format!("{a}-{b}"),
                }
            })
            .collect();
        write!(
            f,
            "{} {:02}:{:02}-{:02}:{:02}",
            parts.join(","),
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}
