//! Covered instants of one UTC year, with running sums.
//!
//! A business window is a range of *local* wall-clock time; the instants it
//! covers are its preimage under the zone's instant→local map. Between two
//! offset transitions that map is a shift, so the preimage of `[ws, we)` is,
//! for every constant-offset segment `[a, b)` with offset `o`, the range
//! `[ws − o, we − o) ∩ [a, b)`. A DST gap then covers nothing and a repeated
//! hour is covered twice, exactly as DESIGN.md rule 6 says, with no special
//! case in the code.

use std::collections::HashSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::civil::{civil_from_days, days_from_civil, utc_year_start, weekday_index};
use super::spec::{Holiday, Window};

/// Covered intervals of one UTC year, disjoint, sorted, merged where they touch.
#[derive(Debug)]
pub(crate) struct YearTable {
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
    /// `cum[k]` = covered seconds in the first `k` intervals; `cum.len() == starts.len() + 1`.
    pub cum: Vec<i64>,
}

/// An empty year (nothing covered). `cum` must hold its leading 0 even here:
/// `prefix` indexes it unconditionally.
impl Default for YearTable {
    fn default() -> Self {
        Self {
            starts: Vec::new(),
            ends: Vec::new(),
            cum: vec![0],
        }
    }
}

impl YearTable {
    pub fn total(&self) -> i64 {
        self.cum.last().copied().unwrap_or(0)
    }

    /// Covered seconds of this year before `t` (t inside the year's range).
    pub fn prefix(&self, t: i64) -> i64 {
        let idx = self.ends.partition_point(|&end| end <= t);
        match self.starts.get(idx) {
            Some(&start) if start < t => self.cum[idx] + (t - start),
            _ => self.cum[idx],
        }
    }

    /// Earliest instant at which `wanted` covered seconds of this year have
    /// passed, if the year holds that many. `wanted` > 0.
    pub fn instant_of(&self, wanted: i64) -> Option<i64> {
        if wanted > self.total() {
            return None;
        }
        // First interval k whose end reaches `wanted`: cum[k + 1] >= wanted.
        let k = self.cum[1..].partition_point(|&c| c < wanted);
        Some(self.starts[k] + (wanted - self.cum[k]))
    }
}

/// A calendar date `(year, month, day)`.
pub(crate) type Ymd = (i32, i32, i32);
/// A yearly date `(month, day)`.
pub(crate) type MonthDay = (i32, i32);

/// Business hours in a zone, compiled day by day into [`YearTable`]s.
#[derive(Debug)]
pub(crate) struct Hours {
    pub zone: TimeZone,
    pub week: [Vec<Window>; 7],
    pub once: HashSet<Ymd>,
    pub yearly: HashSet<MonthDay>,
}

const DAY: i64 = 86_400;
/// Local midnight is never more than this far from UTC midnight (offsets are
/// within ±26 h); a margin of three days is plenty for dates near a year edge.
const MARGIN_DAYS: i64 = 3;

impl Hours {
    fn is_holiday(&self, (y, m, d): (i32, i32, i32)) -> bool {
        self.once.contains(&(y, m, d)) || self.yearly.contains(&(m, d))
    }

    /// Offset segments `(from, offset_seconds)` covering `[lo, hi)`; the first
    /// starts at `lo`.
    fn segments(&self, lo: i64, hi: i64) -> Vec<(i64, i64)> {
        let Ok(lo_ts) = Timestamp::from_second(lo) else {
            return Vec::new();
        };
        let mut out = vec![(lo, i64::from(self.zone.to_offset(lo_ts).seconds()))];
        for transition in self.zone.following(lo_ts) {
            let at = transition.timestamp().as_second();
            if at >= hi {
                break;
            }
            out.push((at, i64::from(transition.offset().seconds())));
        }
        out
    }

    pub fn build_year(&self, year: i32) -> YearTable {
        let lo = utc_year_start(year);
        let hi = utc_year_start(year + 1);
        let segments = self.segments(lo - MARGIN_DAYS * DAY, hi + MARGIN_DAYS * DAY);
        let mut intervals: Vec<(i64, i64)> = Vec::new();
        let first_day = days_from_civil(year, 1, 1) - MARGIN_DAYS;
        let last_day = days_from_civil(year + 1, 1, 1) + MARGIN_DAYS;
        for day in first_day..last_day {
            let windows = &self.week[weekday_index(day)];
            if windows.is_empty() || self.is_holiday(civil_from_days(day)) {
                continue;
            }
            for w in windows {
                // Local wall-clock range as if it were UTC ("naive" seconds).
                let ws = day * DAY + i64::from(w.start);
                let we = day * DAY + i64::from(w.end);
                for (i, &(seg_from, offset)) in segments.iter().enumerate() {
                    let seg_to = segments.get(i + 1).map_or(i64::MAX, |s| s.0);
                    let from = (ws - offset).max(seg_from).max(lo);
                    let to = (we - offset).min(seg_to).min(hi);
                    if from < to {
                        intervals.push((from, to));
                    }
                }
            }
        }
        intervals.sort_unstable();
        let mut table = YearTable::default();
        for (from, to) in intervals {
            match table.ends.last_mut() {
                Some(end) if from <= *end => {
                    // Touching (or, defensively, overlapping) ranges merge.
                    let grow = (to - *end).max(0);
                    *end = (*end).max(to);
                    if let Some(c) = table.cum.last_mut() {
                        *c += grow;
                    }
                }
                _ => {
                    let before = table.total();
                    table.starts.push(from);
                    table.ends.push(to);
                    table.cum.push(before + (to - from));
                }
            }
        }
        table
    }
}

pub(crate) fn holiday_sets(holidays: &[Holiday]) -> (HashSet<Ymd>, HashSet<MonthDay>) {
    let mut once = HashSet::new();
    let mut yearly = HashSet::new();
    for h in holidays {
        match *h {
            Holiday::On { year, month, day } => {
                once.insert((year, month, day));
            }
            Holiday::EveryYear { month, day } => {
                yearly.insert((month, day));
            }
        }
    }
    (once, yearly)
}
