//! Properties of the business calendar over random calendars, starts,
//! durations and pauses, checked against plain arithmetic and the
//! minute-stepping reference (`calendar::reference`).
//!
//! Random calendars: a zone from [`ZONES`] (UTC, half-hour offsets, 30-minute
//! DST, no DST, southern DST); 0–3 windows per weekday on whole half hours,
//! non-overlapping, sometimes touching each other or midnight; up to three
//! holidays (one-off or yearly) on local dates near the start, sometimes
//! `02-29`; up to four closed pauses on whole minutes near the start and
//! sometimes an open one. Starts are whole minutes in 2025–2028, half of them
//! within three days of one of the zone's offset changes. Durations are whole
//! minutes, 0–200 h.
//!
//! Case counts (each `proptest!` block names its own; `PROPTEST_CASES`
//! overrides them all for a deeper run): 2048 each for the cheap algebraic
//! properties (a), (b), (c), (e) and additivity, and for 24x7 (d); 1024 for
//! the comparison with the reference (f), whose cost is one jiff conversion
//! per simulated minute. The whole file takes about two seconds at the test
//! profile's opt-level 1.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::{Offset, TimeZone};
use proptest::prelude::*;
use support_operator::calendar::reference::{self, PauseSpan};
use support_operator::calendar::{Calendar, CalendarSpec, Holiday, Pauses, Window};

const ZONES: &[&str] = &[
    "UTC",
    "America/Los_Angeles",
    "Europe/Warsaw",
    "Australia/Lord_Howe",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/St_Johns",
];

const MINUTE: i64 = 60;

/// 2025-01-01T00:00:00Z and 2029-01-01T00:00:00Z.
const RANGE_START: i64 = 1_735_689_600;
const RANGE_END: i64 = 1_861_920_000;

/// How many minutes the reference may step through in property (f).
const REFERENCE_CAP_MINUTES: i64 = 21 * 24 * 60;

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

/// One random calendar, start and pause set.
#[derive(Debug, Clone)]
struct Setup {
    zone: &'static str,
    spec: CalendarSpec,
    start: Timestamp,
    raw_pauses: Vec<PauseSpan>,
}

impl Setup {
    fn calendar(&self) -> Calendar {
        Calendar::new(&self.spec).expect("generated windows are valid")
    }

    fn pauses(&self) -> Pauses {
        Pauses::new(self.raw_pauses.iter().copied())
    }

    fn has_open_pause(&self) -> bool {
        self.raw_pauses.iter().any(|p| p.1.is_none())
    }

    fn has_windows(&self) -> bool {
        self.spec.week.iter().any(|day| !day.is_empty())
    }
}

/// 0–3 windows in one day, on half hours, in order, never overlapping; a gap
/// of 0 makes a window touch the previous one (or midnight).
fn day_windows() -> impl Strategy<Value = Vec<Window>> {
    prop::collection::vec((0u32..=16, 1u32..=24), 0..=3).prop_map(|parts| {
        let mut out = Vec::new();
        let mut cursor = 0;
        for (gap, len) in parts {
            let start = cursor + gap;
            if start >= 48 {
                break;
            }
            let end = (start + len).min(48);
            out.push(Window::from_minutes(start * 30, end * 30));
            cursor = end;
        }
        out
    })
}

/// Raw holiday choices: (yearly?, days after the start's local date); or
/// a yearly 02-29.
#[derive(Debug, Clone, Copy)]
enum HolidayPick {
    Near { yearly: bool, days: i64 },
    LeapDay,
}

fn holiday_pick() -> impl Strategy<Value = HolidayPick> {
    prop_oneof![
        6 => (any::<bool>(), 0i64..=20).prop_map(|(yearly, days)| HolidayPick::Near { yearly, days }),
        1 => Just(HolidayPick::LeapDay),
    ]
}

fn holiday_from(pick: HolidayPick, zone: &TimeZone, start: Timestamp) -> Holiday {
    let text = match pick {
        HolidayPick::LeapDay => "02-29".to_string(),
        HolidayPick::Near { yearly, days } => {
            let date = zone
                .to_datetime(start)
                .date()
                .checked_add(jiff::Span::new().days(days))
                .unwrap();
            if yearly {
                format!("{:02}-{:02}", date.month(), date.day())
            } else {
                format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
            }
        }
    };
    Holiday::parse(&text).unwrap()
}

/// The zone's offset changes in 2025–2028.
fn transitions(zone: &TimeZone) -> Vec<i64> {
    zone.following(ts(RANGE_START))
        .map(|t| t.timestamp().as_second())
        .take_while(|&t| t < RANGE_END)
        .collect()
}

/// A start on a whole minute: uniform over 2025–2028, or (`near`) within three
/// days either side of one of the zone's offset changes.
fn start_in(
    zone: &TimeZone,
    near: bool,
    uniform_minute: i64,
    pick: usize,
    around: i64,
) -> Timestamp {
    let changes = transitions(zone);
    if near && !changes.is_empty() {
        let at = changes[pick % changes.len()];
        return ts(at.div_euclid(MINUTE) * MINUTE + around * MINUTE);
    }
    ts(RANGE_START + uniform_minute * MINUTE)
}

/// Closed pauses `(offset from start, length)` in minutes, and an optional
/// open pause's offset.
type PausePicks = (Vec<(i64, i64)>, Option<i64>);

fn pause_picks() -> impl Strategy<Value = PausePicks> {
    (
        prop::collection::vec((-3 * 24 * 60i64..=10 * 24 * 60, 1i64..=3 * 24 * 60), 0..=4),
        prop::option::weighted(0.15, 0i64..=14 * 24 * 60),
    )
}

fn pauses_from((closed, open): &PausePicks, start: Timestamp) -> Vec<PauseSpan> {
    let s = start.as_second();
    let mut out: Vec<PauseSpan> = closed
        .iter()
        .map(|&(offset, len)| {
            let from = s + offset * MINUTE;
            (ts(from), Some(ts(from + len * MINUTE)))
        })
        .collect();
    if let Some(offset) = open {
        out.push((ts(s + offset * MINUTE), None));
    }
    out
}

fn start_picks() -> impl Strategy<Value = (bool, i64, usize, i64)> {
    (
        any::<bool>(),
        0..(RANGE_END - RANGE_START) / MINUTE,
        any::<usize>(),
        -3 * 24 * 60i64..=3 * 24 * 60,
    )
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::sample::select(ZONES),
        prop::array::uniform7(day_windows()),
        prop::collection::vec(holiday_pick(), 0..=3),
        start_picks(),
        pause_picks(),
    )
        .prop_map(
            |(zone_name, week, holidays, (near, minute, pick, around), pauses)| {
                let zone = TimeZone::get(zone_name).unwrap();
                let start = start_in(&zone, near, minute, pick, around);
                let mut spec = CalendarSpec::new(zone.clone());
                spec.week = week;
                spec.holidays = holidays
                    .iter()
                    .map(|&h| holiday_from(h, &zone, start))
                    .collect();
                Setup {
                    zone: zone_name,
                    spec,
                    start,
                    raw_pauses: pauses_from(&pauses, start),
                }
            },
        )
}

/// Durations 0–200 h in whole minutes.
fn duration() -> impl Strategy<Value = i64> {
    (0i64..=200 * 60).prop_map(|m| m * MINUTE)
}

/// `None` (never) sorts after every instant.
fn never_last(t: Option<Timestamp>) -> (bool, Option<Timestamp>) {
    (t.is_none(), t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// (a) What `add` reaches, `measure` measures back; `None` only when an
    /// open pause or an empty week makes the target unreachable.
    #[test]
    fn a_measure_inverts_add(s in setup(), d in duration()) {
        let (cal, pauses) = (s.calendar(), s.pauses());
        match cal.add(s.start, d, &pauses) {
            Some(due) => {
                prop_assert!(due >= s.start);
                prop_assert_eq!(cal.measure(s.start, due, &pauses), d);
            }
            None => prop_assert!(s.has_open_pause() || !s.has_windows()),
        }
    }

    /// (b) A larger amount is never due earlier.
    #[test]
    fn b_add_is_monotone(s in setup(), d1 in duration(), d2 in duration()) {
        let (cal, pauses) = (s.calendar(), s.pauses());
        let (lo, hi) = (d1.min(d2), d1.max(d2));
        let (a, b) = (cal.add(s.start, lo, &pauses), cal.add(s.start, hi, &pauses));
        prop_assert!(never_last(a) <= never_last(b), "add({lo}) = {a:?} > add({hi}) = {b:?}");
    }

    /// (c) The due time is the start (amount 0) or the end of a covered,
    /// unpaused second: with (a) this makes it the *earliest* such instant.
    #[test]
    fn c_result_ends_a_covered_second(s in setup(), d in duration()) {
        let (cal, pauses) = (s.calendar(), s.pauses());
        if let Some(due) = cal.add(s.start, d, &pauses) {
            if d == 0 {
                prop_assert_eq!(due, s.start);
            } else {
                let last = ts(due.as_second() - 1);
                prop_assert!(
                    reference::covered_at(&s.spec, last, &s.raw_pauses),
                    "{} ({}) is not covered",
                    last,
                    s.spec.zone.to_datetime(last)
                );
            }
        }
    }

    /// (e) Pauses only delay: never an earlier due time, never more measured.
    #[test]
    fn e_pauses_only_delay(s in setup(), d in duration(), span in 0i64..=30 * 24 * 60) {
        let cal = s.calendar();
        let (paused, free) = (s.pauses(), Pauses::none());
        let with = cal.add(s.start, d, &paused);
        let without = cal.add(s.start, d, &free);
        prop_assert!(never_last(with) >= never_last(without), "{with:?} < {without:?}");
        let end = ts(s.start.as_second() + span * MINUTE);
        prop_assert!(cal.measure(s.start, end, &paused) <= cal.measure(s.start, end, &free));
    }

    /// Measuring is additive: [a, b) + [b, c) = [a, c).
    #[test]
    fn measure_is_additive(s in setup(), x in 0i64..=20 * 24 * 60, y in 0i64..=20 * 24 * 60) {
        let (cal, pauses) = (s.calendar(), s.pauses());
        let a = s.start;
        let b = ts(a.as_second() + x.min(y) * MINUTE);
        let c = ts(a.as_second() + x.max(y) * MINUTE);
        prop_assert_eq!(
            cal.measure(a, b, &pauses) + cal.measure(b, c, &pauses),
            cal.measure(a, c, &pauses)
        );
        prop_assert_eq!(cal.measure(c, a, &pauses), 0);
    }
}

/// A zone for the round-the-clock comparisons: every listed zone, or a fixed
/// offset from −12:00 to +14:00 in quarter hours.
fn any_zone() -> impl Strategy<Value = TimeZone> {
    prop_oneof![
        prop::sample::select(ZONES).prop_map(|name| TimeZone::get(name).unwrap()),
        (-48i32..=56).prop_map(|q| TimeZone::fixed(Offset::from_seconds(q * 900).unwrap())),
    ]
}

/// Paused seconds in `[start, end)` by the reference's reading of the raw
/// pauses, minute by minute (all edges are whole minutes).
fn paused_seconds(start: i64, end: i64, pauses: &[PauseSpan]) -> i64 {
    (start..end)
        .step_by(MINUTE as usize)
        .filter(|&t| reference::is_paused(ts(t), pauses))
        .count() as i64
        * MINUTE
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// (d) 24x7 is plain arithmetic; with pauses, measure is the span less
    /// the paused part, and what `add` reaches measures back. A calendar of
    /// 00:00–24:00 every day without holidays is the same thing, in any zone:
    /// every instant has exactly one local time, so DST changes nothing.
    #[test]
    fn d_round_the_clock(
        zone in any_zone(),
        (near, minute, pick, around) in start_picks(),
        picks in pause_picks(),
        d in duration(),
        span in 0i64..=10 * 24 * 60,
    ) {
        let start = start_in(&zone, near, minute, pick, around);
        let raw = pauses_from(&picks, start);
        let pauses = Pauses::new(raw.iter().copied());
        let always = Calendar::always();
        let none = Pauses::none();
        let t = start.as_second();

        prop_assert_eq!(always.add(start, d, &none), Some(ts(t + d)));
        prop_assert_eq!(always.measure(start, ts(t + d), &none), d);
        let end = t + span * MINUTE;
        prop_assert_eq!(
            always.measure(start, ts(end), &pauses),
            (end - t) - paused_seconds(t, end, &raw)
        );
        let due = always.add(start, d, &pauses);
        match due {
            Some(due) => {
                prop_assert_eq!(always.measure(start, due, &pauses), d);
                if d > 0 {
                    prop_assert!(!reference::is_paused(ts(due.as_second() - 1), &raw));
                }
            }
            None => prop_assert!(raw.iter().any(|p| p.1.is_none())),
        }

        let full_days = CalendarSpec::new(zone.clone()).with_window(
            &[
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
            ],
            Window::from_minutes(0, 24 * 60),
        );
        let full = Calendar::new(&full_days).unwrap();
        prop_assert_eq!(full.add(start, d, &pauses), due);
        prop_assert_eq!(full.add(start, d, &none), Some(ts(t + d)));
        prop_assert_eq!(
            full.measure(start, ts(end), &pauses),
            always.measure(start, ts(end), &pauses)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// (f) Agreement with the minute-stepping reference, for amounts up to
    /// 48 h. The reference steps at most three weeks: a due time further out
    /// must be one it has not reached in that time.
    #[test]
    fn f_agrees_with_reference(
        s in setup(),
        d in (0i64..=48 * 60).prop_map(|m| m * MINUTE),
        span in 0i64..=7 * 24 * 60,
    ) {
        let (cal, pauses) = (s.calendar(), s.pauses());
        let got = cal.add(s.start, d, &pauses);
        let oracle = reference::add(&s.spec, s.start, d, &s.raw_pauses, REFERENCE_CAP_MINUTES as u64);
        let horizon = s.start.as_second() + REFERENCE_CAP_MINUTES * MINUTE;
        match got {
            Some(due) if due.as_second() <= horizon => prop_assert_eq!(oracle, got, "add, zone {}", s.zone),
            _ => prop_assert_eq!(oracle, None, "add beyond the horizon: got {:?}", got),
        }

        let end = ts(s.start.as_second() + span * MINUTE);
        prop_assert_eq!(
            cal.measure(s.start, end, &pauses),
            reference::measure(&s.spec, s.start, end, &s.raw_pauses),
            "measure to {}, zone {}", end, s.zone
        );
    }
}
