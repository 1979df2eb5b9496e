//! The plain description of a business calendar, before it is compiled.

use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use super::civil::days_in_month;

/// A business window `[start, end)` in local wall-clock seconds since midnight.
/// `end` may be `86_400` (`24:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub start: u32,
    pub end: u32,
}

impl Window {
    /// A window from `HH:MM` pairs given as minutes since midnight.
    pub fn from_minutes(start: u32, end: u32) -> Self {
        Self {
            start: start * 60,
            end: end * 60,
        }
    }

    /// Parses `HH:MM` (00:00–24:00) into seconds since midnight.
    pub fn parse_clock(text: &str) -> Option<u32> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        match (h, m) {
            (24, 0) => Some(86_400),
            (0..=23, 0..=59) => Some(h * 3600 + m * 60),
            _ => None,
        }
    }
}

/// A whole local day off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holiday {
    /// One date.
    On { year: i32, month: i32, day: i32 },
    /// The same month and day every year (`02-29` only in leap years).
    EveryYear { month: i32, day: i32 },
}

impl Holiday {
    /// Parses `YYYY-MM-DD` or `MM-DD`, rejecting dates no calendar has.
    pub fn parse(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split('-').collect();
        let num = |s: &str, len: usize| -> Option<i32> {
            (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        match parts.as_slice() {
            [y, m, d] => {
                let (year, month, day) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
                ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
                    .then_some(Holiday::On { year, month, day })
            }
            [m, d] => {
                let (month, day) = (num(m, 2)?, num(d, 2)?);
                // 02-29 is allowed: it is a holiday in the years that have it.
                ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(2000, month))
                    .then_some(Holiday::EveryYear { month, day })
            }
            _ => None,
        }
    }
}

/// What a calendar is made of: a zone, the windows of each weekday, holidays.
#[derive(Debug, Clone)]
pub struct CalendarSpec {
    pub zone: TimeZone,
    /// Windows per weekday, Monday first.
    pub week: [Vec<Window>; 7],
    pub holidays: Vec<Holiday>,
}

impl CalendarSpec {
    pub fn new(zone: TimeZone) -> Self {
        Self {
            zone,
            week: Default::default(),
            holidays: Vec::new(),
        }
    }

    /// Adds a window on the given days.
    pub fn with_window(mut self, days: &[Weekday], window: Window) -> Self {
        for day in days {
            self.week[day.to_monday_zero_offset() as usize].push(window);
        }
        self
    }

    pub fn with_holiday(mut self, holiday: Holiday) -> Self {
        self.holidays.push(holiday);
        self
    }
}

/// Why a [`CalendarSpec`] cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("window {start}–{end} on {day} is empty or reversed: start must be before end")]
    EmptyWindow {
        day: &'static str,
        start: String,
        end: String,
    },
    #[error("window ends after 24:00 on {day}")]
    PastMidnight { day: &'static str },
    #[error("windows {first} and {second} on {day} overlap")]
    Overlap {
        day: &'static str,
        first: String,
        second: String,
    },
}

pub(crate) const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub(crate) fn clock(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60)
}

impl CalendarSpec {
    /// Sorted windows per weekday, or the first thing wrong with them.
    pub(crate) fn checked_week(&self) -> Result<[Vec<Window>; 7], CalendarError> {
        let mut week = self.week.clone();
        for (index, windows) in week.iter_mut().enumerate() {
            let day = DAY_NAMES[index];
            windows.sort();
            for w in windows.iter() {
                if w.end > 86_400 {
                    return Err(CalendarError::PastMidnight { day });
                }
                if w.start >= w.end {
                    return Err(CalendarError::EmptyWindow {
                        day,
                        start: clock(w.start),
                        end: clock(w.end),
                    });
                }
            }
            for pair in windows.windows(2) {
                if pair[1].start < pair[0].end {
                    return Err(CalendarError::Overlap {
                        day,
                        first: format!("{}–{}", clock(pair[0].start), clock(pair[0].end)),
                        second: format!("{}–{}", clock(pair[1].start), clock(pair[1].end)),
                    });
                }
            }
        }
        Ok(week)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clock_times() {
        assert_eq!(Window::parse_clock("09:00"), Some(32_400));
        assert_eq!(Window::parse_clock("24:00"), Some(86_400));
        assert_eq!(Window::parse_clock("23:59"), Some(86_340));
        for bad in [
            "24:01", "25:00", "9:00", "09:60", "0900", "", "ab:cd", "-1:00",
        ] {
            assert_eq!(Window::parse_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_holidays() {
        assert_eq!(
            Holiday::parse("2026-12-25"),
            Some(Holiday::On {
                year: 2026,
                month: 12,
                day: 25
            })
        );
        assert_eq!(
            Holiday::parse("02-29"),
            Some(Holiday::EveryYear { month: 2, day: 29 })
        );
        for bad in [
            "2026-02-29",
            "02-30",
            "13-01",
            "2026-1-01",
            "x",
            "2026-12-25-1",
        ] {
            assert_eq!(Holiday::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rejects_overlapping_windows() {
        let spec = CalendarSpec::new(TimeZone::UTC)
            .with_window(&[Weekday::Monday], Window::from_minutes(9 * 60, 12 * 60))
            .with_window(&[Weekday::Monday], Window::from_minutes(11 * 60, 13 * 60));
        assert!(matches!(
            spec.checked_week(),
            Err(CalendarError::Overlap { day: "Mon", .. })
        ));
    }
}
