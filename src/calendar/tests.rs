//! Hand-checked calendar cases. Every expected value is worked out in the
//! comment above it; every `add`/`measure` is also run through the
//! minute-stepping [`reference`] implementation, and every `add` result is
//! measured back, so a wrong hand calculation and a wrong implementation both
//! show up.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use super::reference::{self, PauseSpan};
use super::{Calendar, CalendarError, CalendarSpec, Holiday, Pauses, Window};

const M: i64 = 60;
const H: i64 = 3600;

/// How far the reference looks for an `add` result (60 days, in minutes).
const REFERENCE_LIMIT_MINUTES: u64 = 60 * 24 * 60;

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];
const EVERY_DAY: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad instant {text}: {e}"))
}

fn win(start: &str, end: &str) -> Window {
    Window {
        start: Window::parse_clock(start).unwrap(),
        end: Window::parse_clock(end).unwrap(),
    }
}

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn spec(zone_name: &str, days: &[Weekday], windows: &[(&str, &str)]) -> CalendarSpec {
    windows
        .iter()
        .fold(CalendarSpec::new(zone(zone_name)), |spec, (a, b)| {
            spec.with_window(days, win(a, b))
        })
}

fn holiday(text: &str) -> Holiday {
    Holiday::parse(text).unwrap()
}

/// A calendar with its spec and pauses, checking every answer three ways.
struct Fixture {
    spec: CalendarSpec,
    cal: Calendar,
    raw_pauses: Vec<PauseSpan>,
    pauses: Pauses,
}

impl Fixture {
    fn new(spec: CalendarSpec) -> Self {
        let cal = Calendar::new(&spec).expect("valid calendar");
        Self {
            spec,
            cal,
            raw_pauses: Vec::new(),
            pauses: Pauses::none(),
        }
    }

    fn paused(mut self, pairs: &[(&str, Option<&str>)]) -> Self {
        self.raw_pauses = pairs.iter().map(|&(a, b)| (ts(a), b.map(ts))).collect();
        self.pauses = Pauses::new(self.raw_pauses.iter().copied());
        self
    }

    /// `add`, as an RFC 3339 string, after checking it against the reference
    /// and measuring it back.
    fn add(&self, start: &str, seconds: i64) -> Option<String> {
        let start = ts(start);
        let got = self.cal.add(start, seconds, &self.pauses);
        let oracle = reference::add(
            &self.spec,
            start,
            seconds,
            &self.raw_pauses,
            REFERENCE_LIMIT_MINUTES,
        );
        assert_eq!(got, oracle, "add({start}, {seconds}) vs the reference");
        if let Some(due) = got {
            assert!(due >= start);
            assert_eq!(
                self.cal.measure(start, due, &self.pauses),
                seconds.max(0),
                "measure({start}, add({start}, {seconds}) = {due})"
            );
        }
        got.map(|t| t.to_string())
    }

    fn measure(&self, start: &str, end: &str) -> i64 {
        let (start, end) = (ts(start), ts(end));
        let got = self.cal.measure(start, end, &self.pauses);
        let oracle = reference::measure(&self.spec, start, end, &self.raw_pauses);
        assert_eq!(got, oracle, "measure({start}, {end}) vs the reference");
        got
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// Mon–Fri 09:00–17:00 UTC, the `default` calendar of the design.
fn nine_to_five() -> Fixture {
    Fixture::new(spec("UTC", &WEEKDAYS, &[("09:00", "17:00")]))
}

// 2026-01-05 is a Monday; 2026-01-09 a Friday; 2026-01-10 a Saturday.

#[test]
fn nine_to_five_basics() {
    let f = nine_to_five();
    // Mon 10:00 + 2h, all inside Monday's window: Mon 12:00.
    assert_eq!(
        f.add("2026-01-05T10:00:00Z", 2 * H),
        some("2026-01-05T12:00:00Z")
    );
    // Mon 16:00 + 2h: 1h to 17:00, 1h from Tue 09:00: Tue 10:00.
    assert_eq!(
        f.add("2026-01-05T16:00:00Z", 2 * H),
        some("2026-01-06T10:00:00Z")
    );
    // Fri 16:00 + 2h: 1h on Friday, weekend skipped, 1h from Mon 09:00: Mon 10:00.
    assert_eq!(
        f.add("2026-01-09T16:00:00Z", 2 * H),
        some("2026-01-12T10:00:00Z")
    );
    // Sat 12:00 + 1h: nothing until Mon 09:00, then 1h: Mon 10:00.
    assert_eq!(
        f.add("2026-01-10T12:00:00Z", H),
        some("2026-01-12T10:00:00Z")
    );
    // Mon 06:00 + 30m: waits for 09:00: 09:30.
    assert_eq!(
        f.add("2026-01-05T06:00:00Z", 30 * M),
        some("2026-01-05T09:30:00Z")
    );
    // Mon 09:00 + 5 × 8h = 40h: the whole week, ending at Fri 17:00.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 40 * H),
        some("2026-01-09T17:00:00Z")
    );
    // Mon 09:00 + 1s: 09:00:01.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 1),
        some("2026-01-05T09:00:01Z")
    );

    // Mon 08:00 → Tue 10:00: Mon 09–17 (8h) + Tue 09–10 (1h) = 9h.
    assert_eq!(
        f.measure("2026-01-05T08:00:00Z", "2026-01-06T10:00:00Z"),
        9 * H
    );
    // Fri 12:00 → Mon 12:00: Fri 12–17 (5h) + Mon 09–12 (3h) = 8h.
    assert_eq!(
        f.measure("2026-01-09T12:00:00Z", "2026-01-12T12:00:00Z"),
        8 * H
    );
    // A whole week, Mon 00:00 → Mon 00:00: 5 × 8h = 40h.
    assert_eq!(
        f.measure("2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"),
        40 * H
    );
    // The weekend alone: 0.
    assert_eq!(f.measure("2026-01-10T00:00:00Z", "2026-01-12T00:00:00Z"), 0);
    // Reversed or empty ranges: 0.
    assert_eq!(f.measure("2026-01-06T10:00:00Z", "2026-01-05T08:00:00Z"), 0);
    assert_eq!(f.measure("2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z"), 0);
    // [09:00:00, 09:00:01) holds one covered second; [08:59:59, 09:00:00) none.
    assert_eq!(f.measure("2026-01-05T09:00:00Z", "2026-01-05T09:00:01Z"), 1);
    assert_eq!(f.measure("2026-01-05T08:59:59Z", "2026-01-05T09:00:00Z"), 0);
}

#[test]
fn adding_zero_gives_the_start() {
    let f = nine_to_five();
    // Rule 7: X = 0 gives the start, even outside business hours (Saturday)…
    assert_eq!(
        f.add("2026-01-10T12:34:56Z", 0),
        some("2026-01-10T12:34:56Z")
    );
    // …and inside them.
    assert_eq!(
        f.add("2026-01-05T10:00:00Z", 0),
        some("2026-01-05T10:00:00Z")
    );
    // Negative amounts are treated as 0.
    assert_eq!(
        f.cal.add(ts("2026-01-10T12:00:00Z"), -5, &Pauses::none()),
        Some(ts("2026-01-10T12:00:00Z"))
    );
    // Even a calendar that covers nothing, or an open pause, gives the start.
    let never = Calendar::new(&CalendarSpec::new(TimeZone::UTC)).unwrap();
    let open = Pauses::new([(ts("2026-01-01T00:00:00Z"), None)]);
    assert_eq!(
        never.add(ts("2026-01-05T10:00:00Z"), 0, &open),
        Some(ts("2026-01-05T10:00:00Z"))
    );
}

#[test]
fn target_met_at_a_window_end_gives_that_end() {
    let f = nine_to_five();
    // Mon 16:00 + 1h = 17:00 exactly: the window's end, not Tue 09:00.
    assert_eq!(
        f.add("2026-01-05T16:00:00Z", H),
        some("2026-01-05T17:00:00Z")
    );
    // Mon 09:00 + 8h: the whole day: Mon 17:00.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 8 * H),
        some("2026-01-05T17:00:00Z")
    );
    // Starting before the opening changes nothing: Mon 03:00 + 8h = Mon 17:00.
    assert_eq!(
        f.add("2026-01-05T03:00:00Z", 8 * H),
        some("2026-01-05T17:00:00Z")
    );
    // One second more spills into Tuesday: Tue 09:00:01.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 8 * H + 1),
        some("2026-01-06T09:00:01Z")
    );
    // Fri 16:00 + 1h = Fri 17:00, not Monday.
    assert_eq!(
        f.add("2026-01-09T16:00:00Z", H),
        some("2026-01-09T17:00:00Z")
    );
}

#[test]
fn several_windows_a_day() {
    // Mon–Fri 08:00–12:00 and 13:00–17:00 UTC: a lunch break.
    let f = Fixture::new(spec(
        "UTC",
        &WEEKDAYS,
        &[("13:00", "17:00"), ("08:00", "12:00")], // given out of order on purpose
    ));
    // Mon 11:00 + 1h = 12:00, the morning window's end (not 13:00).
    assert_eq!(
        f.add("2026-01-05T11:00:00Z", H),
        some("2026-01-05T12:00:00Z")
    );
    // Mon 11:00 + 1h 1s: 1h to 12:00, the break, 1s from 13:00: 13:00:01.
    assert_eq!(
        f.add("2026-01-05T11:00:00Z", H + 1),
        some("2026-01-05T13:00:01Z")
    );
    // Mon 11:30 + 2h: 30m to 12:00, 1h30m from 13:00: 14:30.
    assert_eq!(
        f.add("2026-01-05T11:30:00Z", 2 * H),
        some("2026-01-05T14:30:00Z")
    );
    // Mon 12:15 (in the break) + 15m: 13:15.
    assert_eq!(
        f.add("2026-01-05T12:15:00Z", 15 * M),
        some("2026-01-05T13:15:00Z")
    );
    // Mon 16:00 + 5h: 1h to 17:00, Tue 08–12 (4h): Tue 12:00.
    assert_eq!(
        f.add("2026-01-05T16:00:00Z", 5 * H),
        some("2026-01-06T12:00:00Z")
    );
    // A whole Monday: 4h + 4h = 8h.
    assert_eq!(
        f.measure("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"),
        8 * H
    );
    // Mon 11:00 → 14:00: 11–12 (1h) + 13–14 (1h) = 2h.
    assert_eq!(
        f.measure("2026-01-05T11:00:00Z", "2026-01-05T14:00:00Z"),
        2 * H
    );
    // The break alone: 0.
    assert_eq!(f.measure("2026-01-05T12:00:00Z", "2026-01-05T13:00:00Z"), 0);
}

#[test]
fn windows_ending_at_midnight_join_the_next_day() {
    // Mon–Fri 00:00–24:00 UTC.
    let f = Fixture::new(spec("UTC", &WEEKDAYS, &[("00:00", "24:00")]));
    // Mon 23:00 + 2h runs through midnight: Tue 01:00.
    assert_eq!(
        f.add("2026-01-05T23:00:00Z", 2 * H),
        some("2026-01-06T01:00:00Z")
    );
    // Fri 23:00 + 1h = Fri 24:00 = Sat 00:00: met at the window's end.
    assert_eq!(
        f.add("2026-01-09T23:00:00Z", H),
        some("2026-01-10T00:00:00Z")
    );
    // Fri 23:00 + 1h 1m: the weekend is skipped: Mon 00:01.
    assert_eq!(
        f.add("2026-01-09T23:00:00Z", H + M),
        some("2026-01-12T00:01:00Z")
    );
    // Mon 00:00 + 5 × 24h = Sat 00:00.
    assert_eq!(
        f.add("2026-01-05T00:00:00Z", 120 * H),
        some("2026-01-10T00:00:00Z")
    );
    // Fri 12:00 → Mon 12:00: 12h + 12h = 24h.
    assert_eq!(
        f.measure("2026-01-09T12:00:00Z", "2026-01-12T12:00:00Z"),
        24 * H
    );

    // Mon 18:00–24:00 and Tue 00:00–06:00: one 12-hour night shift.
    let night = CalendarSpec::new(TimeZone::UTC)
        .with_window(&[Weekday::Monday], win("18:00", "24:00"))
        .with_window(&[Weekday::Tuesday], win("00:00", "06:00"));
    let f = Fixture::new(night);
    // Mon 23:30 + 1h: 30m to midnight, 30m after: Tue 00:30.
    assert_eq!(
        f.add("2026-01-05T23:30:00Z", H),
        some("2026-01-06T00:30:00Z")
    );
    // Mon 18:00 + 12h: the whole shift: Tue 06:00.
    assert_eq!(
        f.add("2026-01-05T18:00:00Z", 12 * H),
        some("2026-01-06T06:00:00Z")
    );
    // Mon 18:00 + 12h 1s: next Monday 18:00:01.
    assert_eq!(
        f.add("2026-01-05T18:00:00Z", 12 * H + 1),
        some("2026-01-12T18:00:01Z")
    );
    // Mon 12:00 → Wed 12:00: 6h + 6h = 12h.
    assert_eq!(
        f.measure("2026-01-05T12:00:00Z", "2026-01-07T12:00:00Z"),
        12 * H
    );
}

#[test]
fn one_off_holiday() {
    // 2026-12-25 is a Friday; 2025-12-25 a Thursday.
    let f = Fixture::new(
        spec("UTC", &WEEKDAYS, &[("09:00", "17:00")]).with_holiday(holiday("2026-12-25")),
    );
    // Thu 12-24 16:00 + 2h: 1h on Thursday; Friday off; weekend; Mon 12-28 09:00 + 1h.
    assert_eq!(
        f.add("2026-12-24T16:00:00Z", 2 * H),
        some("2026-12-28T10:00:00Z")
    );
    // The holiday itself: 0.
    assert_eq!(f.measure("2026-12-25T00:00:00Z", "2026-12-26T00:00:00Z"), 0);
    // The week of Mon 12-21: 4 working days × 8h = 32h.
    assert_eq!(
        f.measure("2026-12-21T00:00:00Z", "2026-12-28T00:00:00Z"),
        32 * H
    );
    // One date only: 2025-12-25 (Thursday) is a working day: 8h.
    assert_eq!(
        f.measure("2025-12-25T00:00:00Z", "2025-12-26T00:00:00Z"),
        8 * H
    );
}

#[test]
fn yearly_holiday() {
    let f =
        Fixture::new(spec("UTC", &WEEKDAYS, &[("09:00", "17:00")]).with_holiday(holiday("12-25")));
    // 12-25 is off in every year: 2024 (Wed), 2025 (Thu), 2026 (Fri).
    for year in [2024, 2025, 2026] {
        let day = format!("{year}-12-25T00:00:00Z");
        let next = format!("{year}-12-26T00:00:00Z");
        assert_eq!(f.measure(&day, &next), 0, "{year}");
    }
    // …but 12-24 (Tue 2024) is not: 8h.
    assert_eq!(
        f.measure("2024-12-24T00:00:00Z", "2024-12-25T00:00:00Z"),
        8 * H
    );
    // Wed 2025-12-24 16:00 + 2h: 1h on Wednesday, Thursday off, Fri 12-26 09:00 + 1h.
    assert_eq!(
        f.add("2025-12-24T16:00:00Z", 2 * H),
        some("2025-12-26T10:00:00Z")
    );
}

#[test]
fn february_29_is_yearly_only_in_leap_years() {
    let f =
        Fixture::new(spec("UTC", &WEEKDAYS, &[("09:00", "17:00")]).with_holiday(holiday("02-29")));
    // 2028 is a leap year: Mon 02-28 (8h) + Tue 02-29 (holiday, 0) = 8h.
    assert_eq!(
        f.measure("2028-02-28T00:00:00Z", "2028-03-01T00:00:00Z"),
        8 * H
    );
    // Mon 2028-02-28 16:00 + 2h: 1h Monday, Tuesday off, Wed 03-01 09:00 + 1h.
    assert_eq!(
        f.add("2028-02-28T16:00:00Z", 2 * H),
        some("2028-03-01T10:00:00Z")
    );
    // 2027 is not: Fri 02-26 (8h) + weekend + Mon 03-01 (8h) = 16h; nothing
    // moves to Feb 28 or Mar 1.
    assert_eq!(
        f.measure("2027-02-26T00:00:00Z", "2027-03-02T00:00:00Z"),
        16 * H
    );
    // 2100 is not a leap year either (divisible by 100): Fri 2100-02-26 8h +
    // Mon 03-01 8h = 16h.
    assert_eq!(
        f.measure("2100-02-26T00:00:00Z", "2100-03-02T00:00:00Z"),
        16 * H
    );
}

#[test]
fn closed_pause_stops_the_clock() {
    // Pause Mon 10:00–11:00.
    let f = nine_to_five().paused(&[("2026-01-05T10:00:00Z", Some("2026-01-05T11:00:00Z"))]);
    // Mon 09:00 + 2h: 09–10 (1h), paused 10–11, 11–12 (1h): 12:00.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 2 * H),
        some("2026-01-05T12:00:00Z")
    );
    // Mon 09:00 + 1h: met at 10:00, just as the pause begins.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", H),
        some("2026-01-05T10:00:00Z")
    );
    // Starting inside the pause: Mon 10:30 + 30m: waits until 11:00: 11:30.
    assert_eq!(
        f.add("2026-01-05T10:30:00Z", 30 * M),
        some("2026-01-05T11:30:00Z")
    );
    // Mon 09:00 → 17:00: 8h − 1h paused = 7h.
    assert_eq!(
        f.measure("2026-01-05T09:00:00Z", "2026-01-05T17:00:00Z"),
        7 * H
    );
    // Mon 10:30 → 10:45, all paused: 0.
    assert_eq!(f.measure("2026-01-05T10:30:00Z", "2026-01-05T10:45:00Z"), 0);
    // Mon 09:30 → 10:30: 09:30–10:00 = 30m.
    assert_eq!(
        f.measure("2026-01-05T09:30:00Z", "2026-01-05T10:30:00Z"),
        30 * M
    );
}

#[test]
fn open_pause_never_ends() {
    // Paused from Mon 10:00 for ever.
    let f = nine_to_five().paused(&[("2026-01-05T10:00:00Z", None)]);
    // Mon 09:00 + 2h: 1h before the pause, then nothing: never.
    assert_eq!(f.add("2026-01-05T09:00:00Z", 2 * H), None);
    // Mon 09:00 + 1h: met at 10:00, as the pause begins.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", H),
        some("2026-01-05T10:00:00Z")
    );
    // Starting after the pause began: never, however small.
    assert_eq!(f.add("2026-01-07T09:00:00Z", 1), None);
    // Mon 09:00 → Fri 17:00: only 09–10 on Monday counts: 1h.
    assert_eq!(f.measure("2026-01-05T09:00:00Z", "2026-01-09T17:00:00Z"), H);
}

#[test]
fn overlapping_pauses_merge() {
    // Pauses 10:00–11:00 and 10:30–12:00 overlap: together 10:00–12:00 (2h),
    // not 1h + 1h30m = 2h30m.
    let f = nine_to_five().paused(&[
        ("2026-01-05T10:30:00Z", Some("2026-01-05T12:00:00Z")),
        ("2026-01-05T10:00:00Z", Some("2026-01-05T11:00:00Z")),
    ]);
    // Mon 09:00 → 17:00: 8h − 2h = 6h.
    assert_eq!(
        f.measure("2026-01-05T09:00:00Z", "2026-01-05T17:00:00Z"),
        6 * H
    );
    // Mon 09:00 + 2h: 09–10 (1h), paused until 12:00, 12–13 (1h): 13:00.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 2 * H),
        some("2026-01-05T13:00:00Z")
    );

    // A pause inside another, and one touching it: 10–12 ⊇ 10:30–11:00, and
    // 12:00–12:30 touches it: together 10:00–12:30.
    let f = nine_to_five().paused(&[
        ("2026-01-05T10:00:00Z", Some("2026-01-05T12:00:00Z")),
        ("2026-01-05T10:30:00Z", Some("2026-01-05T11:00:00Z")),
        ("2026-01-05T12:00:00Z", Some("2026-01-05T12:30:00Z")),
    ]);
    // 8h − 2h30m = 5h30m.
    assert_eq!(
        f.measure("2026-01-05T09:00:00Z", "2026-01-05T17:00:00Z"),
        5 * H + 30 * M
    );
    // Mon 09:00 + 2h: 1h, then from 12:30 1h: 13:30.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 2 * H),
        some("2026-01-05T13:30:00Z")
    );

    // A closed pause overlapping an open one: open from 10:00.
    let f = nine_to_five().paused(&[
        ("2026-01-05T09:30:00Z", Some("2026-01-05T10:30:00Z")),
        ("2026-01-05T10:00:00Z", None),
    ]);
    // Only 09:00–09:30 ever counts.
    assert_eq!(
        f.measure("2026-01-05T09:00:00Z", "2026-01-09T17:00:00Z"),
        30 * M
    );
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 30 * M),
        some("2026-01-05T09:30:00Z")
    );
    assert_eq!(f.add("2026-01-05T09:00:00Z", 31 * M), None);
}

#[test]
fn pauses_before_the_start_or_off_hours() {
    // Entirely before the start (Fri 01-02), and one over the night (off hours).
    let f = nine_to_five().paused(&[
        ("2026-01-02T10:00:00Z", Some("2026-01-02T12:00:00Z")),
        ("2026-01-05T17:00:00Z", Some("2026-01-06T09:00:00Z")),
    ]);
    // Mon 16:00 + 2h: 1h Monday, the paused night covers nothing anyway,
    // Tue 09:00 + 1h: Tue 10:00, as without pauses.
    assert_eq!(
        f.add("2026-01-05T16:00:00Z", 2 * H),
        some("2026-01-06T10:00:00Z")
    );
    assert_eq!(
        f.measure("2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z"),
        16 * H
    );

    // A pause that began before the start and runs past it: Sun → Mon 09:30.
    let f = nine_to_five().paused(&[("2026-01-04T12:00:00Z", Some("2026-01-05T09:30:00Z"))]);
    // Mon 09:00 + 1h: the clock starts at 09:30: 10:30.
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", H),
        some("2026-01-05T10:30:00Z")
    );
    // Mon 09:00 → 10:00: 30m.
    assert_eq!(
        f.measure("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"),
        30 * M
    );

    // Empty and reversed pauses stop nothing.
    let f = nine_to_five().paused(&[
        ("2026-01-05T10:00:00Z", Some("2026-01-05T10:00:00Z")),
        ("2026-01-05T12:00:00Z", Some("2026-01-05T11:00:00Z")),
    ]);
    assert_eq!(
        f.measure("2026-01-05T09:00:00Z", "2026-01-05T17:00:00Z"),
        8 * H
    );
}

#[test]
fn calendar_without_windows_never_reaches_a_target() {
    let f = Fixture::new(CalendarSpec::new(TimeZone::UTC).with_holiday(holiday("01-01")));
    assert_eq!(f.add("2026-01-05T09:00:00Z", 1), None);
    assert_eq!(
        f.add("2026-01-05T09:00:00Z", 0),
        some("2026-01-05T09:00:00Z")
    );
    assert_eq!(f.measure("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), 0);
}

#[test]
fn invalid_windows_are_rejected() {
    let bad = |w: Window| {
        Calendar::new(&CalendarSpec::new(TimeZone::UTC).with_window(&[Weekday::Friday], w))
    };
    assert!(matches!(
        bad(win("17:00", "09:00")),
        Err(CalendarError::EmptyWindow { day: "Fri", .. })
    ));
    assert!(matches!(
        bad(win("09:00", "09:00")),
        Err(CalendarError::EmptyWindow { day: "Fri", .. })
    ));
    assert!(matches!(
        bad(Window {
            start: 0,
            end: 86_401
        }),
        Err(CalendarError::PastMidnight { day: "Fri" })
    ));
    // Touching windows are fine (not overlapping).
    let touching = CalendarSpec::new(TimeZone::UTC)
        .with_window(&[Weekday::Friday], win("09:00", "12:00"))
        .with_window(&[Weekday::Friday], win("12:00", "17:00"));
    let f = Fixture::new(touching);
    // Fri 11:00 + 2h runs across the seam: 13:00.
    assert_eq!(
        f.add("2026-01-09T11:00:00Z", 2 * H),
        some("2026-01-09T13:00:00Z")
    );
}

#[test]
fn round_the_clock() {
    let cal = Calendar::always();
    let none = Pauses::none();
    // 24x7: plain addition, holidays and weekends do not matter.
    assert_eq!(
        cal.add(ts("2026-12-25T10:00:00Z"), 36 * H, &none),
        Some(ts("2026-12-26T22:00:00Z"))
    );
    assert_eq!(
        cal.measure(
            ts("2026-12-25T10:00:00Z"),
            ts("2026-12-26T22:00:00Z"),
            &none
        ),
        36 * H
    );
    let p = Pauses::new([(ts("2026-12-25T11:00:00Z"), Some(ts("2026-12-25T13:00:00Z")))]);
    // 10:00 + 3h: 10–11 (1h), paused 11–13, 13–15 (2h): 15:00.
    assert_eq!(
        cal.add(ts("2026-12-25T10:00:00Z"), 3 * H, &p),
        Some(ts("2026-12-25T15:00:00Z"))
    );
    // 10:00 → 15:00: 5h − 2h = 3h.
    assert_eq!(
        cal.measure(ts("2026-12-25T10:00:00Z"), ts("2026-12-25T15:00:00Z"), &p),
        3 * H
    );
    // An open pause: never.
    let open = Pauses::new([(ts("2026-12-25T11:00:00Z"), None)]);
    assert_eq!(cal.add(ts("2026-12-25T10:00:00Z"), 3 * H, &open), None);
    assert_eq!(
        cal.add(ts("2026-12-25T10:00:00Z"), H, &open),
        Some(ts("2026-12-25T11:00:00Z"))
    );
}

#[test]
fn los_angeles_spring_forward_shortens_a_window() {
    // 2026-03-08 (Sunday) 02:00 PST jumps to 03:00 PDT, at 10:00Z.
    let tz = zone("America/Los_Angeles");
    assert_eq!(
        tz.to_datetime(ts("2026-03-08T09:59:59Z")).to_string(),
        "2026-03-08T01:59:59"
    );
    assert_eq!(
        tz.to_datetime(ts("2026-03-08T10:00:00Z")).to_string(),
        "2026-03-08T03:00:00"
    );
    // Sunday 01:00–04:00: 01:00 PST = 09:00Z … 02:00 PST = 10:00Z = 03:00 PDT
    // … 04:00 PDT = 11:00Z: 2h, the nonexistent 02:00–03:00 covers nothing.
    let f = Fixture::new(spec(
        "America/Los_Angeles",
        &[Weekday::Sunday],
        &[("01:00", "04:00")],
    ));
    assert_eq!(
        f.measure("2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z"),
        2 * H
    );
    // 09:00Z + 90m = 10:30Z (03:30 PDT): no time lost at the jump.
    assert_eq!(
        f.add("2026-03-08T09:00:00Z", 90 * M),
        some("2026-03-08T10:30:00Z")
    );
    // 09:00Z + 2h = 11:00Z (04:00 PDT), the window's end.
    assert_eq!(
        f.add("2026-03-08T09:00:00Z", 2 * H),
        some("2026-03-08T11:00:00Z")
    );
    // 09:00Z + 2h 1m: next Sunday 03-15 01:00 PDT = 08:00Z, + 1m = 08:01Z.
    assert_eq!(
        f.add("2026-03-08T09:00:00Z", 2 * H + M),
        some("2026-03-15T08:01:00Z")
    );
    // The Sunday before (03-01, PST) has the full 3h: 09:00Z–12:00Z.
    assert_eq!(
        f.measure("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
        3 * H
    );
}

#[test]
fn los_angeles_fall_back_lengthens_a_window() {
    // 2026-11-01 (Sunday) 02:00 PDT falls back to 01:00 PST, at 09:00Z.
    let tz = zone("America/Los_Angeles");
    assert_eq!(
        tz.to_datetime(ts("2026-11-01T08:59:59Z")).to_string(),
        "2026-11-01T01:59:59"
    );
    assert_eq!(
        tz.to_datetime(ts("2026-11-01T09:00:00Z")).to_string(),
        "2026-11-01T01:00:00"
    );
    // Sunday 00:00–03:00: 00:00 PDT = 07:00Z … 01:00 PDT = 08:00Z … 01:00 PST =
    // 09:00Z … 03:00 PST = 11:00Z: 4h, the repeated hour counts twice.
    let f = Fixture::new(spec(
        "America/Los_Angeles",
        &[Weekday::Sunday],
        &[("00:00", "03:00")],
    ));
    assert_eq!(
        f.measure("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
        4 * H
    );
    // 07:00Z + 2h = 09:00Z: 01:00 local for the second time.
    assert_eq!(
        f.add("2026-11-01T07:00:00Z", 2 * H),
        some("2026-11-01T09:00:00Z")
    );
    // 07:00Z + 4h = 11:00Z (03:00 PST), the window's end.
    assert_eq!(
        f.add("2026-11-01T07:00:00Z", 4 * H),
        some("2026-11-01T11:00:00Z")
    );
    // Sunday 10-25 (PDT) has 3h (07:00Z–10:00Z), 11-01 has 4h: 7h in all.
    assert_eq!(
        f.measure("2026-10-25T00:00:00Z", "2026-11-02T00:00:00Z"),
        7 * H
    );
}

#[test]
fn north_america_business_hours_across_both_changes() {
    // Mon–Fri 06:00–18:00 America/Los_Angeles (the design's north-america).
    let f = Fixture::new(spec(
        "America/Los_Angeles",
        &WEEKDAYS,
        &[("06:00", "18:00")],
    ));
    // Fri 03-06 17:00 PST = 03-07 01:00Z, + 2h: 1h to 18:00 PST (02:00Z); the
    // weekend holds the change; Mon 03-09 06:00 PDT = 13:00Z, + 1h = 14:00Z.
    // (Keeping Friday's PST offset would wrongly give 15:00Z.)
    assert_eq!(
        f.add("2026-03-07T01:00:00Z", 2 * H),
        some("2026-03-09T14:00:00Z")
    );
    // Mon 03-02 00:00 PST (08:00Z) → Mon 03-09 00:00 PDT (07:00Z): 5 × 12h.
    assert_eq!(
        f.measure("2026-03-02T08:00:00Z", "2026-03-09T07:00:00Z"),
        60 * H
    );
    // Mon 03-09 12:00Z (05:00 PDT) → 14:00Z (07:00 PDT): only 06:00–07:00: 1h.
    assert_eq!(f.measure("2026-03-09T12:00:00Z", "2026-03-09T14:00:00Z"), H);
    // Fri 10-30 17:00 PDT = 10-31 00:00Z, + 2h: 1h to 01:00Z; Mon 11-02 06:00
    // PST = 14:00Z, + 1h = 15:00Z.
    assert_eq!(
        f.add("2026-10-31T00:00:00Z", 2 * H),
        some("2026-11-02T15:00:00Z")
    );
    // Mon 11-02 13:00Z (05:00 PST) → 15:00Z (07:00 PST): 1h.
    assert_eq!(f.measure("2026-11-02T13:00:00Z", "2026-11-02T15:00:00Z"), H);
    // Mon 10-26 00:00 PDT (07:00Z) → Mon 11-02 00:00 PST (08:00Z): 5 × 12h.
    assert_eq!(
        f.measure("2026-10-26T07:00:00Z", "2026-11-02T08:00:00Z"),
        60 * H
    );
}

#[test]
fn warsaw_two_windows_across_dst() {
    // Every day 08:00–12:00 and 13:00–17:00 Europe/Warsaw. CET = +1, CEST = +2;
    // 2026-03-29 01:00Z: 02:00 CET → 03:00 CEST; 2026-10-25 01:00Z: 03:00 CEST →
    // 02:00 CET.
    let tz = zone("Europe/Warsaw");
    assert_eq!(
        tz.to_datetime(ts("2026-03-29T01:00:00Z")).to_string(),
        "2026-03-29T03:00:00"
    );
    assert_eq!(
        tz.to_datetime(ts("2026-10-25T01:00:00Z")).to_string(),
        "2026-10-25T02:00:00"
    );
    let f = Fixture::new(spec(
        "Europe/Warsaw",
        &EVERY_DAY,
        &[("08:00", "12:00"), ("13:00", "17:00")],
    ));
    // Sat 03-28 (CET): 07–11Z, 12–16Z. Sun 03-29 (CEST): 06–10Z, 11–15Z.
    // Sat 16:30 CET = 15:30Z, + 2h: 30m to 16:00Z, Sunday 06:00Z + 1h30m = 07:30Z.
    assert_eq!(
        f.add("2026-03-28T15:30:00Z", 2 * H),
        some("2026-03-29T07:30:00Z")
    );
    // Sun 03-29 09:00Z (11:00 CEST) + 2h: 1h to 10:00Z, break, 11:00Z + 1h = 12:00Z.
    assert_eq!(
        f.add("2026-03-29T09:00:00Z", 2 * H),
        some("2026-03-29T12:00:00Z")
    );
    // Sat 00:00 CET (03-27 23:00Z) → Mon 00:00 CEST (03-29 22:00Z): 2 × 8h.
    assert_eq!(
        f.measure("2026-03-27T23:00:00Z", "2026-03-29T22:00:00Z"),
        16 * H
    );
    // Sun 03-29 05:00Z → 07:00Z: opens 06:00Z (08:00 CEST): 1h.
    assert_eq!(f.measure("2026-03-29T05:00:00Z", "2026-03-29T07:00:00Z"), H);

    // Sat 10-24 (CEST): 06–10Z, 11–15Z. Sun 10-25 (CET): 07–11Z, 12–16Z.
    // Sat 16:30 CEST = 14:30Z, + 2h: 30m to 15:00Z, Sunday 07:00Z + 1h30m = 08:30Z.
    assert_eq!(
        f.add("2026-10-24T14:30:00Z", 2 * H),
        some("2026-10-25T08:30:00Z")
    );
    // Sun 10-25 10:00Z (11:00 CET) + 2h: 1h to 11:00Z, break, 12:00Z + 1h = 13:00Z.
    assert_eq!(
        f.add("2026-10-25T10:00:00Z", 2 * H),
        some("2026-10-25T13:00:00Z")
    );
    // Sat 00:00 CEST (10-23 22:00Z) → Mon 00:00 CET (10-25 23:00Z): 2 × 8h.
    assert_eq!(
        f.measure("2026-10-23T22:00:00Z", "2026-10-25T23:00:00Z"),
        16 * H
    );
    // Sun 10-25 06:00Z → 08:00Z: opens 07:00Z (08:00 CET): 1h.
    assert_eq!(f.measure("2026-10-25T06:00:00Z", "2026-10-25T08:00:00Z"), H);
}

#[test]
fn warsaw_window_across_the_gap() {
    // Sunday 01:00–04:00 Europe/Warsaw.
    let f = Fixture::new(spec(
        "Europe/Warsaw",
        &[Weekday::Sunday],
        &[("01:00", "04:00")],
    ));
    // 03-29: 01:00–02:00 CET = 00:00Z–01:00Z, then 03:00–04:00 CEST =
    // 01:00Z–02:00Z: one unbroken 2h range.
    assert_eq!(
        f.measure("2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"),
        2 * H
    );
    // 00:30Z + 1h = 01:30Z (03:30 CEST): straight across the gap.
    assert_eq!(
        f.add("2026-03-29T00:30:00Z", H),
        some("2026-03-29T01:30:00Z")
    );
    // 00:30Z + 1h30m = 02:00Z (04:00 CEST), the window's end.
    assert_eq!(
        f.add("2026-03-29T00:30:00Z", 90 * M),
        some("2026-03-29T02:00:00Z")
    );
    // 10-25: 01:00 CEST = 10-24 23:00Z … 03:00 CEST = 01:00Z = 02:00 CET …
    // 04:00 CET = 03:00Z: 4h.
    assert_eq!(
        f.measure("2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"),
        4 * H
    );
    // 10-24 23:00Z + 2h = 01:00Z, which is the second 02:00 (CET).
    assert_eq!(
        f.add("2026-10-24T23:00:00Z", 2 * H),
        some("2026-10-25T01:00:00Z")
    );

    // Sunday 02:00–03:00 lies wholly in the March gap: nothing on 03-29.
    let f = Fixture::new(spec(
        "Europe/Warsaw",
        &[Weekday::Sunday],
        &[("02:00", "03:00")],
    ));
    assert_eq!(f.measure("2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"), 0);
    // 03-29 00:00Z + 1m: next Sunday 04-05 02:00 CEST = 00:00Z, + 1m.
    assert_eq!(
        f.add("2026-03-29T00:00:00Z", M),
        some("2026-04-05T00:01:00Z")
    );
    // In October it happens twice: 00:00Z–01:00Z (CEST) and 01:00Z–02:00Z (CET).
    assert_eq!(
        f.measure("2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"),
        2 * H
    );
}

#[test]
fn lord_howe_half_hour_dst() {
    // Australia/Lord_Howe: +10:30 standard, +11:00 summer. Read the 2026
    // transitions from jiff rather than assuming them.
    let tz = zone("Australia/Lord_Howe");
    let mut changes = tz.following(ts("2026-01-01T00:00:00Z"));
    let back = changes.next().unwrap();
    let forward = changes.next().unwrap();
    // 2026-04-05 02:00 +11:00 → 01:30 +10:30, at 2026-04-04T15:00Z.
    assert_eq!(back.timestamp(), ts("2026-04-04T15:00:00Z"));
    assert_eq!(back.offset().seconds(), 10 * 3600 + 1800);
    assert_eq!(
        tz.to_datetime(ts("2026-04-04T14:59:59Z")).to_string(),
        "2026-04-05T01:59:59"
    );
    assert_eq!(
        tz.to_datetime(back.timestamp()).to_string(),
        "2026-04-05T01:30:00"
    );
    // 2026-10-04 02:00 +10:30 → 02:30 +11:00, at 2026-10-03T15:30Z.
    assert_eq!(forward.timestamp(), ts("2026-10-03T15:30:00Z"));
    assert_eq!(forward.offset().seconds(), 11 * 3600);
    assert_eq!(
        tz.to_datetime(ts("2026-10-03T15:29:59Z")).to_string(),
        "2026-10-04T01:59:59"
    );
    assert_eq!(
        tz.to_datetime(forward.timestamp()).to_string(),
        "2026-10-04T02:30:00"
    );

    // Sunday 01:00–03:00 (04-05 and 10-04 are Sundays).
    let f = Fixture::new(spec(
        "Australia/Lord_Howe",
        &[Weekday::Sunday],
        &[("01:00", "03:00")],
    ));
    // 04-05: 01:00 +11 = 14:00Z … 02:00 +11 = 15:00Z = 01:30 +10:30 … 03:00
    // +10:30 = 16:30Z: 2h30m (01:30–02:00 counts twice).
    assert_eq!(
        f.measure("2026-04-04T12:00:00Z", "2026-04-05T12:00:00Z"),
        2 * H + 30 * M
    );
    // 14:00Z + 1h30m = 15:30Z (02:00 +10:30, the second pass through 01:30–02:00 done).
    assert_eq!(
        f.add("2026-04-04T14:00:00Z", 90 * M),
        some("2026-04-04T15:30:00Z")
    );
    // 14:00Z + 2h30m = 16:30Z, the window's end.
    assert_eq!(
        f.add("2026-04-04T14:00:00Z", 150 * M),
        some("2026-04-04T16:30:00Z")
    );
    // 10-04: 01:00 +10:30 = 14:30Z … 02:00 +10:30 = 15:30Z = 02:30 +11 … 03:00
    // +11 = 16:00Z: 1h30m (02:00–02:30 does not exist).
    assert_eq!(
        f.measure("2026-10-03T12:00:00Z", "2026-10-04T12:00:00Z"),
        90 * M
    );
    // 14:30Z + 1h = 15:30Z (02:30 +11): nothing lost at the jump.
    assert_eq!(
        f.add("2026-10-03T14:30:00Z", H),
        some("2026-10-03T15:30:00Z")
    );
    // 14:30Z + 1h30m = 16:00Z, the window's end.
    assert_eq!(
        f.add("2026-10-03T14:30:00Z", 90 * M),
        some("2026-10-03T16:00:00Z")
    );
    // A Sunday 02:00–02:30 window lies wholly in the October gap: 0 on 10-04.
    // In April it follows the repeated 01:30–02:00, so it happens once:
    // 02:00 +10:30 = 15:30Z … 02:30 +10:30 = 16:00Z, 30m.
    let f = Fixture::new(spec(
        "Australia/Lord_Howe",
        &[Weekday::Sunday],
        &[("02:00", "02:30")],
    ));
    assert_eq!(f.measure("2026-10-03T12:00:00Z", "2026-10-04T12:00:00Z"), 0);
    assert_eq!(
        f.measure("2026-04-04T12:00:00Z", "2026-04-05T12:00:00Z"),
        30 * M
    );
    assert_eq!(
        f.add("2026-04-04T12:00:00Z", 30 * M),
        some("2026-04-04T16:00:00Z")
    );
}

#[test]
fn due_time_across_a_utc_year_boundary() {
    // 9–17 Mon–Fri UTC, New Year every year. 2025-12-31 is a Wednesday,
    // 2026-01-01 (Thursday) is the holiday, 2026-01-02 a Friday.
    let f =
        Fixture::new(spec("UTC", &WEEKDAYS, &[("09:00", "17:00")]).with_holiday(holiday("01-01")));
    // Wed 16:00 + 2h: 1h on Dec 31, Jan 1 off, Jan 2 09:00 + 1h = 10:00.
    assert_eq!(
        f.add("2025-12-31T16:00:00Z", 2 * H),
        some("2026-01-02T10:00:00Z")
    );
    // Dec 31 → Jan 3: 8h + 0 + 8h = 16h.
    assert_eq!(
        f.measure("2025-12-31T00:00:00Z", "2026-01-03T00:00:00Z"),
        16 * H
    );
    // Jan 1 alone: 0.
    assert_eq!(f.measure("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"), 0);
    // A long one across two boundaries: 262 working days of 8h from Wed
    // 2025-12-31 09:00. Working days: 2025-12-31 (1), 2026's 261 weekdays
    // less Jan 1 (260, so 261 by 2026-12-31), Fri 2027-01-01 off, so the
    // 262nd is Mon 2027-01-04, met at its 17:00 end.
    let due = f
        .cal
        .add(ts("2025-12-31T09:00:00Z"), 262 * 8 * H, &Pauses::none())
        .unwrap();
    assert_eq!(
        f.cal
            .measure(ts("2025-12-31T09:00:00Z"), due, &Pauses::none()),
        262 * 8 * H
    );
    assert_eq!(due, ts("2027-01-04T17:00:00Z"));

    // In Los Angeles the UTC year turns while it is still Dec 31 locally.
    let f = Fixture::new(
        spec("America/Los_Angeles", &WEEKDAYS, &[("09:00", "17:00")])
            .with_holiday(holiday("01-01")),
    );
    // Wed 12-31 16:00 PST = 2026-01-01T00:00Z, + 2h: 1h to 17:00 PST (01:00Z);
    // Jan 1 (local) off; Fri Jan 2 09:00 PST = 17:00Z, + 1h = 18:00Z.
    assert_eq!(
        f.add("2026-01-01T00:00:00Z", 2 * H),
        some("2026-01-02T18:00:00Z")
    );
    // The local holiday runs 2026-01-01T08:00Z … 2026-01-02T08:00Z: 0.
    assert_eq!(f.measure("2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z"), 0);
    // 2025-12-31T17:00Z (09:00 PST) → 2026-01-01T01:00Z (17:00 PST): 8h, across
    // the UTC year boundary.
    assert_eq!(
        f.measure("2025-12-31T17:00:00Z", "2026-01-01T01:00:00Z"),
        8 * H
    );
}

#[test]
fn tokyo_local_date_differs_from_utc() {
    // Mon–Fri 09:00–17:30 Asia/Tokyo (+09:00, no DST): local 09:00 = 00:00Z,
    // 17:30 = 08:30Z, the same UTC date; local 00:00–09:00 is the previous UTC
    // date, 15:00Z–24:00Z.
    let plain = Fixture::new(spec("Asia/Tokyo", &WEEKDAYS, &[("09:00", "17:30")]));
    // UTC Sunday 2026-11-22 23:30Z is Monday 08:30 JST: + 1h waits for 09:00 JST
    // (Mon 00:00Z) then 1h: Mon 01:00Z. (Reading the UTC date and time, Sunday
    // 23:30, would give Monday 10:00Z.)
    assert_eq!(
        plain.add("2026-11-22T23:30:00Z", H),
        some("2026-11-23T01:00:00Z")
    );
    // Fri 11-27 08:00Z (17:00 JST) → 12:00Z: only 17:00–17:30 JST: 30m.
    assert_eq!(
        plain.measure("2026-11-27T08:00:00Z", "2026-11-27T12:00:00Z"),
        30 * M
    );
    // Fri 17:00 JST (08:00Z) + 1h: 30m Friday, Mon 11-30 09:00 JST = 00:00Z + 30m.
    assert_eq!(
        plain.add("2026-11-27T08:00:00Z", H),
        some("2026-11-30T00:30:00Z")
    );
    // The local Monday 11-23 is 11-22T15:00Z … 11-23T15:00Z: 8h30m.
    assert_eq!(
        plain.measure("2026-11-22T15:00:00Z", "2026-11-23T15:00:00Z"),
        8 * H + 30 * M
    );

    // With Labour Thanksgiving Day 2026-11-23 (Monday) a local holiday:
    let f = Fixture::new(
        spec("Asia/Tokyo", &WEEKDAYS, &[("09:00", "17:30")]).with_holiday(holiday("2026-11-23")),
    );
    // The whole local date is off: 0.
    assert_eq!(f.measure("2026-11-22T15:00:00Z", "2026-11-23T15:00:00Z"), 0);
    // Sun 23:30Z (Mon 08:30 JST) + 1h: Monday off, Tue 11-24 09:00 JST = 11-24
    // 00:00Z, + 1h = 01:00Z.
    assert_eq!(
        f.add("2026-11-22T23:30:00Z", H),
        some("2026-11-24T01:00:00Z")
    );
    // The UTC date 11-23 is not what is off: 11-23T15:00Z … 11-24T15:00Z is
    // local Tuesday: 8h30m.
    assert_eq!(
        f.measure("2026-11-23T15:00:00Z", "2026-11-24T15:00:00Z"),
        8 * H + 30 * M
    );
}

#[test]
fn far_future_instants_do_not_panic() {
    // jiff represents instants up to 9999-12-31; the calendar builds tables
    // up to year 9997 and must answer (not panic) beyond.
    let f = nine_to_five();
    let none = Pauses::none();
    let late = ts("9998-06-01T00:00:00Z");
    let end = ts("9999-06-01T00:00:00Z");
    let _ = f.cal.measure(late, end, &none);
    let _ = f.cal.add(late, H, &none);
    let p = Pauses::new([(ts("9998-07-01T00:00:00Z"), Some(ts("9998-07-02T00:00:00Z")))]);
    let _ = f.cal.add(ts("9997-12-31T00:00:00Z"), 10_000 * H, &p);
    let _ = f.cal.measure(ts("9997-12-31T00:00:00Z"), end, &p);
    // A due time that would lie past the table horizon is "never".
    assert_eq!(
        f.cal.add(ts("9997-12-31T00:00:00Z"), 10_000 * H, &none),
        None
    );
}
