//! Business time: how much covered time lies between two instants, and when a
//! given amount of it has passed (DESIGN.md rules 5–7).
//!
//! Plain data only: nothing here knows about Kubernetes. A [`Calendar`] is
//! compiled lazily, one UTC year at a time, into sorted covered intervals with
//! running sums, so `add` and `measure` are binary searches: their cost grows
//! with the years and pauses crossed, never with the minutes.
//!
//! Instants are whole Unix seconds; fractions of a second are dropped on the
//! way in (Kubernetes' own timestamps have none).

mod civil;
mod pauses;
/// A plain minute-by-minute business calendar over a [`CalendarSpec`]: the
/// oracle that tests, benches and fuzzers check [`Calendar`] against.
pub mod reference;
mod spec;
mod table;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;

pub use pauses::Pauses;
pub use spec::{CalendarError, CalendarSpec, Holiday, Window};

use civil::{utc_year, utc_year_start};
use table::{Hours, YearTable, holiday_sets};

/// How far past its start a due time may lie before it counts as never
/// coming. Only calendars that cover (almost) nothing ever get near it.
pub const HORIZON_YEARS: i32 = 100;

/// A compiled business calendar. Cheap to share (`Arc`), safe across threads.
#[derive(Debug)]
pub struct Calendar {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// 24x7: every instant counts, holidays do not apply.
    Always,
    /// Windows that cover nothing at all: no amount of time ever passes.
    Never,
    Hours {
        hours: Box<Hours>,
        years: RwLock<HashMap<i32, Arc<YearTable>>>,
    },
}

impl Calendar {
    /// Round-the-clock coverage.
    pub fn always() -> Self {
        Self { kind: Kind::Always }
    }

    /// Compiles a calendar; fails on reversed, too long or overlapping windows.
    pub fn new(spec: &CalendarSpec) -> Result<Self, CalendarError> {
        let week = spec.checked_week()?;
        if week.iter().all(Vec::is_empty) {
            return Ok(Self { kind: Kind::Never });
        }
        let (once, yearly) = holiday_sets(&spec.holidays);
        Ok(Self {
            kind: Kind::Hours {
                hours: Box::new(Hours {
                    zone: spec.zone.clone(),
                    week,
                    once,
                    yearly,
                }),
                years: RwLock::new(HashMap::new()),
            },
        })
    }

    /// Business seconds in `[start, end)` that are not paused; 0 if `end <= start`.
    pub fn measure(&self, start: Timestamp, end: Timestamp, pauses: &Pauses) -> i64 {
        self.measure_secs(start.as_second(), end.as_second(), pauses)
    }

    /// The earliest instant `u >= start` with `measure(start, u) >= seconds`,
    /// or `None` when it never comes (an open pause, a calendar without hours,
    /// or beyond [`HORIZON_YEARS`]). `seconds <= 0` gives `start`.
    pub fn add(&self, start: Timestamp, seconds: i64, pauses: &Pauses) -> Option<Timestamp> {
        let at = self.add_secs(start.as_second(), seconds, pauses)?;
        Timestamp::from_second(at).ok()
    }

    pub(crate) fn measure_secs(&self, start: i64, end: i64, pauses: &Pauses) -> i64 {
        if end <= start {
            return 0;
        }
        let paused: i64 = pauses
            .overlapping(start, end)
            .map(|(from, to)| self.covered(from, to))
            .sum();
        self.covered(start, end) - paused
    }

    pub(crate) fn add_secs(&self, start: i64, seconds: i64, pauses: &Pauses) -> Option<i64> {
        if seconds <= 0 {
            return Some(start);
        }
        let mut cursor = start;
        let mut remaining = seconds;
        for (from, to) in pauses.overlapping(start, i64::MAX) {
            if from > cursor {
                let capacity = self.covered(cursor, from);
                if capacity >= remaining {
                    return self.advance(cursor, remaining);
                }
                remaining -= capacity;
            }
            cursor = cursor.max(to);
            if cursor == i64::MAX {
                return None;
            }
        }
        self.advance(cursor, remaining)
    }

    /// Covered seconds in `[a, b)`, ignoring pauses.
    fn covered(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        match &self.kind {
            Kind::Always => b - a,
            Kind::Never => 0,
            Kind::Hours { .. } => {
                let (ya, yb) = (utc_year(a), utc_year(b.saturating_sub(1)));
                if ya == yb {
                    let t = self.year(ya);
                    return t.prefix(b) - t.prefix(a);
                }
                let first = self.year(ya);
                let mut sum = first.total() - first.prefix(a);
                for y in ya + 1..yb {
                    sum += self.year(y).total();
                }
                sum + self.year(yb).prefix(b)
            }
        }
    }

    /// Earliest `u >= start` with `covered(start, u) >= amount` (amount > 0).
    fn advance(&self, start: i64, amount: i64) -> Option<i64> {
        match &self.kind {
            Kind::Always => start.checked_add(amount),
            Kind::Never => None,
            Kind::Hours { .. } => {
                let first_year = utc_year(start);
                let t = self.year(first_year);
                let mut wanted = t.prefix(start) + amount;
                let mut year = first_year;
                loop {
                    let t = self.year(year);
                    if let Some(at) = t.instant_of(wanted) {
                        return Some(at);
                    }
                    wanted -= t.total();
                    year += 1;
                    if year > first_year + HORIZON_YEARS || year >= MAX_YEAR {
                        return None;
                    }
                }
            }
        }
    }

    fn year(&self, year: i32) -> Arc<YearTable> {
        let Kind::Hours { hours, years } = &self.kind else {
            return Arc::default();
        };
        if let Some(t) = years.read().ok().and_then(|m| m.get(&year).cloned()) {
            return t;
        }
        let table = if year < MAX_YEAR && year > -MAX_YEAR {
            Arc::new(hours.build_year(year))
        } else {
            Arc::default()
        };
        if let Ok(mut m) = years.write() {
            m.entry(year).or_insert_with(|| table.clone());
        }
        table
    }
}

/// jiff represents years −9999..=9999; tables are not built at the edges.
const MAX_YEAR: i32 = 9998;

/// First instant of a UTC year, for tests and tools.
pub fn year_start(year: i32) -> Timestamp {
    Timestamp::from_second(utc_year_start(year)).unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests;
