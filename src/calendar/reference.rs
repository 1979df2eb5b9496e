//! A deliberately plain, minute-by-minute business calendar: the test oracle
//! for [`Calendar`](super::Calendar).
//!
//! Nothing here is clever. [`covered_at`] reads DESIGN.md rule 6 off one
//! instant: convert it to local wall-clock time with jiff, look up that local
//! date's weekday windows, reject holidays and pauses. [`measure`] and [`add`]
//! then walk forward one whole (UTC) minute at a time, asking [`covered_at`]
//! about the first second of each step. It shares no code with the year
//! tables (no offset segments, no day arithmetic of its own, no pause
//! merging) so that the two can be checked against each other; it is slow on
//! purpose and is meant for tests, benches and fuzzers, never for the
//! operator.
//!
//! # Precondition: whole minutes
//!
//! The steps are the whole minutes of Unix time (`…:00` to `…:00` UTC); a
//! `start` or `end` that falls inside a minute makes a shorter first or last
//! step. Coverage is sampled once per step, so the answers are exact only when
//! coverage cannot change inside a minute, that is when
//!
//! * window edges are whole minutes (`HH:MM` always is);
//! * pause edges are whole minutes;
//! * the zone's UTC offsets, and so its transition instants, are whole
//!   minutes (true of every IANA zone since the early 20th century; only
//!   historical local mean times have seconds).
//!
//! `start`, `end` and amounts may be anything: a partial step is counted to
//! the second, and a target met partway through a covered step is located to
//! the second.
//!
//! Pauses are given raw, as the `(from, to)` pairs a ticket lists (`to =
//! None`: open), not as a merged [`Pauses`](super::Pauses): an instant is
//! paused when any pair holds it, which is what merging means.
//!
//! The spec is not validated: overlapping or reversed windows are taken as
//! written (an instant is covered when any window holds it).

use jiff::Timestamp;

use super::spec::{CalendarSpec, Holiday};

/// A pause `[from, to)`; `to = None` never ends.
pub type PauseSpan = (Timestamp, Option<Timestamp>);

/// Whether the instant `t` counts as business time: its local wall-clock time
/// lies in a window of its local date's weekday, that date is not a holiday,
/// and no pause holds `t`.
pub fn covered_at(spec: &CalendarSpec, t: Timestamp, pauses: &[PauseSpan]) -> bool {
    if is_paused(t, pauses) {
        return false;
    }
    let local = spec.zone.to_datetime(t);
    let (year, month, day) = (
        i32::from(local.year()),
        i32::from(local.month()),
        i32::from(local.day()),
    );
    let holiday = spec.holidays.iter().any(|h| match *h {
        Holiday::On {
            year: y,
            month: m,
            day: d,
        } => (y, m, d) == (year, month, day),
        Holiday::EveryYear { month: m, day: d } => (m, d) == (month, day),
    });
    if holiday {
        return false;
    }
    let second_of_day =
        i64::from(local.hour()) * 3600 + i64::from(local.minute()) * 60 + i64::from(local.second());
    let weekday = local.weekday().to_monday_zero_offset() as usize;
    spec.week[weekday]
        .iter()
        .any(|w| i64::from(w.start) <= second_of_day && second_of_day < i64::from(w.end))
}

/// Whether any pause holds `t`.
pub fn is_paused(t: Timestamp, pauses: &[PauseSpan]) -> bool {
    pauses
        .iter()
        .any(|&(from, to)| from <= t && to.is_none_or(|to| t < to))
}

/// Business seconds in `[start, end)`, stepping one minute at a time; 0 when
/// `end <= start`. Exact under the module's whole-minute precondition.
pub fn measure(spec: &CalendarSpec, start: Timestamp, end: Timestamp, pauses: &[PauseSpan]) -> i64 {
    let (mut t, end) = (start.as_second(), end.as_second());
    let mut total = 0;
    while t < end {
        let next = next_minute(t).min(end);
        if covered_at(spec, at(t), pauses) {
            total += next - t;
        }
        t = next;
    }
    total
}

/// The earliest instant `u >= start` at which `seconds` of business time have
/// passed, stepping one minute at a time; `start` itself when `seconds <= 0`;
/// `None` when it has not come within `limit_minutes` steps. Exact under the
/// module's whole-minute precondition.
pub fn add(
    spec: &CalendarSpec,
    start: Timestamp,
    seconds: i64,
    pauses: &[PauseSpan],
    limit_minutes: u64,
) -> Option<Timestamp> {
    if seconds <= 0 {
        return Some(start);
    }
    let mut t = start.as_second();
    let mut consumed = 0;
    for _ in 0..limit_minutes {
        let next = next_minute(t);
        if covered_at(spec, at(t), pauses) {
            if consumed + (next - t) >= seconds {
                // Met inside (or at the very end of) this covered step.
                return Some(at(t + (seconds - consumed)));
            }
            consumed += next - t;
        }
        t = next;
    }
    None
}

/// The first whole Unix minute after `second`.
fn next_minute(second: i64) -> i64 {
    (second.div_euclid(60) + 1) * 60
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).expect("reference calendar stepped outside jiff's range")
}
