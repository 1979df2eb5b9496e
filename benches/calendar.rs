//! Engine benchmarks (issue 5, item 1): due time (`add`) and business-time
//! `measure` on four calendars and four targets, start instants spread over
//! two years, plus the minute-by-minute reference on a subset of the same
//! inputs as a baseline and a cross-check.
//!
//! Run: `cargo bench --bench calendar` (about 2–3 minutes). Throughput is
//! reported in elements per second, one element being one due time (or one
//! measure). Before the timed groups the bench checks the engine against
//! `calendar::reference` on every input the reference runs and panics on
//! any disagreement, then prints the reference/engine speed ratio.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) criterion runs
//! each benchmark once and the cross-check uses a smaller subset.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use support_operator::calendar::{self, Calendar, CalendarSpec, Holiday, Pauses, Window};

/// Start instants for the engine benches.
const STARTS: usize = 4096;
/// Start instants (a prefix of the above) that the reference runs in bench mode.
const REFERENCE_STARTS: usize = 64;
/// ... and in test mode (`cargo test --all-targets`), where everything is unoptimised.
const REFERENCE_STARTS_TEST: usize = 4;
/// Targets in hours: 1h, 8h, 40h, two weeks.
const TARGETS_H: [i64; 4] = [1, 8, 40, 336];
/// The reference only runs targets up to 40h (it steps minute by minute).
const REFERENCE_TARGETS_H: [i64; 3] = [1, 8, 40];
/// Reference step limit: 120 days of minutes, far beyond any 40h target here.
const REFERENCE_LIMIT_MINUTES: u64 = 120 * 24 * 60;

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

fn on(year: i32, month: i32, day: i32) -> Holiday {
    Holiday::On { year, month, day }
}

fn hm(h: u32, m: u32) -> u32 {
    h * 60 + m
}

/// (a) 09:00–17:00 Mon–Fri UTC, 20 holidays in each of 2026 and 2027.
fn utc_office() -> CalendarSpec {
    let mut spec = CalendarSpec::new(TimeZone::UTC)
        .with_window(&WEEKDAYS, Window::from_minutes(hm(9, 0), hm(17, 0)));
    let days: [(i32, i32); 20] = [
        (1, 1),
        (1, 2),
        (1, 19),
        (2, 16),
        (3, 17),
        (4, 3),
        (4, 6),
        (5, 1),
        (5, 25),
        (6, 19),
        (7, 3),
        (8, 31),
        (9, 7),
        (10, 12),
        (11, 11),
        (11, 26),
        (11, 27),
        (12, 24),
        (12, 25),
        (12, 31),
    ];
    for year in [2026, 2027] {
        for (m, d) in days {
            spec = spec.with_holiday(on(year, m, d));
        }
    }
    spec
}

/// (b) America/Los_Angeles 06:00–18:00 Mon–Fri, US federal holidays 2026–2027
/// (DST changes in March and November).
fn los_angeles() -> CalendarSpec {
    let zone = TimeZone::get("America/Los_Angeles").expect("tzdb has America/Los_Angeles");
    let mut spec =
        CalendarSpec::new(zone).with_window(&WEEKDAYS, Window::from_minutes(hm(6, 0), hm(18, 0)));
    for h in [
        Holiday::EveryYear { month: 1, day: 1 },
        Holiday::EveryYear { month: 6, day: 19 },
        Holiday::EveryYear { month: 7, day: 4 },
        Holiday::EveryYear { month: 11, day: 11 },
        Holiday::EveryYear { month: 12, day: 25 },
        on(2026, 1, 19),
        on(2026, 2, 16),
        on(2026, 5, 25),
        on(2026, 9, 7),
        on(2026, 10, 12),
        on(2026, 11, 26),
        on(2027, 1, 18),
        on(2027, 2, 15),
        on(2027, 5, 31),
        on(2027, 9, 6),
        on(2027, 10, 11),
        on(2027, 11, 25),
    ] {
        spec = spec.with_holiday(h);
    }
    spec
}

/// (c) Europe/Warsaw, two windows a day (08:00–12:00, 13:00–17:00) Mon–Fri,
/// Polish public holidays.
fn warsaw() -> CalendarSpec {
    let zone = TimeZone::get("Europe/Warsaw").expect("tzdb has Europe/Warsaw");
    let mut spec = CalendarSpec::new(zone)
        .with_window(&WEEKDAYS, Window::from_minutes(hm(8, 0), hm(12, 0)))
        .with_window(&WEEKDAYS, Window::from_minutes(hm(13, 0), hm(17, 0)));
    for (m, d) in [
        (1, 1),
        (1, 6),
        (5, 1),
        (5, 3),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 24),
        (12, 25),
        (12, 26),
    ] {
        spec = spec.with_holiday(Holiday::EveryYear { month: m, day: d });
    }
    for h in [
        on(2026, 4, 6),
        on(2026, 6, 4),
        on(2027, 3, 29),
        on(2027, 5, 27),
    ] {
        spec = spec.with_holiday(h);
    }
    spec
}

/// (d) 24x7, as a spec (for the reference) and as `Calendar::always()`.
fn round_the_clock() -> CalendarSpec {
    let every_day = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    CalendarSpec::new(TimeZone::UTC).with_window(&every_day, Window::from_minutes(0, 24 * 60))
}

struct Case {
    name: &'static str,
    spec: CalendarSpec,
    calendar: Calendar,
}

fn cases() -> Vec<Case> {
    let compiled = |spec: &CalendarSpec| Calendar::new(spec).expect("valid calendar");
    let (a, b, c) = (utc_office(), los_angeles(), warsaw());
    vec![
        Case {
            name: "a_utc_9-17_20hol",
            calendar: compiled(&a),
            spec: a,
        },
        Case {
            name: "b_los_angeles_6-18",
            calendar: compiled(&b),
            spec: b,
        },
        Case {
            name: "c_warsaw_two_windows",
            calendar: compiled(&c),
            spec: c,
        },
        Case {
            name: "d_24x7",
            calendar: Calendar::always(),
            spec: round_the_clock(),
        },
    ]
}

/// `n` start instants over 2026-01-01..2028-01-01, from a fixed-seed LCG
/// (Knuth's MMIX constants), to the second.
fn starts(n: usize) -> Vec<Timestamp> {
    let from = calendar::year_start(2026).as_second();
    let span = calendar::year_start(2028).as_second() - from;
    let mut state: u64 = 0x5eed_cafe_f00d_0005;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let offset = (state >> 33) as i64 % span;
            Timestamp::from_second(from + offset).expect("in range")
        })
        .collect()
}

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Checks engine against reference on the first `n` starts and every
/// reference target (add, then measure over `[start, due)` and over
/// `[start, start + target)`), panicking on any disagreement; prints the
/// speed ratio per calendar.
fn cross_check(cases: &[Case], starts: &[Timestamp], n: usize) {
    let none = Pauses::none();
    // Every 4th input also gets two pauses (a closed one and, for some, a later open one).
    let pauses_for = |i: usize, s: Timestamp| -> Vec<calendar::reference::PauseSpan> {
        if i % 4 != 3 {
            return Vec::new();
        }
        let s = s.as_second() / 60 * 60;
        let mut v = vec![(
            Timestamp::from_second(s + 1800).unwrap(),
            Some(Timestamp::from_second(s + 1800 + 6 * 3600).unwrap()),
        )];
        if i % 8 == 7 {
            v.push((Timestamp::from_second(s + 30 * 86_400).unwrap(), None));
        }
        v
    };
    eprintln!(
        "cross-check: engine vs minute-by-minute reference, {n} starts x {:?} h per calendar",
        REFERENCE_TARGETS_H
    );
    for case in cases {
        let (mut t_engine, mut t_reference) = (Duration::ZERO, Duration::ZERO);
        let mut checked = 0usize;
        for (i, &start) in starts[..n].iter().enumerate() {
            let raw = pauses_for(i, start);
            let pauses = if raw.is_empty() {
                none.clone()
            } else {
                Pauses::new(raw.iter().copied())
            };
            for h in REFERENCE_TARGETS_H {
                let secs = h * 3600;
                let t0 = Instant::now();
                let due = case.calendar.add(start, secs, &pauses);
                let t1 = Instant::now();
                let due_ref = calendar::reference::add(
                    &case.spec,
                    start,
                    secs,
                    &raw,
                    REFERENCE_LIMIT_MINUTES,
                );
                let t2 = Instant::now();
                t_engine += t1 - t0;
                t_reference += t2 - t1;
                // An open pause may make the due time never come; the
                // reference then reports None after its step limit.
                assert_eq!(
                    due, due_ref,
                    "{}: add({start}, {h}h, pauses {raw:?}) disagrees",
                    case.name
                );
                let end = match due {
                    Some(d) => d,
                    None => start + jiff::SignedDuration::from_hours(24 * 60),
                };
                for end in [end, start + jiff::SignedDuration::from_hours(h)] {
                    let t0 = Instant::now();
                    let m = case.calendar.measure(start, end, &pauses);
                    let t1 = Instant::now();
                    let m_ref = calendar::reference::measure(&case.spec, start, end, &raw);
                    let t2 = Instant::now();
                    t_engine += t1 - t0;
                    t_reference += t2 - t1;
                    assert_eq!(
                        m, m_ref,
                        "{}: measure({start}, {end}, pauses {raw:?}) disagrees",
                        case.name
                    );
                }
                checked += 3;
            }
        }
        eprintln!(
            "  {:<22} {checked:>5} answers agree; reference {:>10.1?} vs engine {:>8.1?}: reference is {:.0}x slower",
            case.name,
            t_reference,
            t_engine,
            t_reference.as_secs_f64() / t_engine.as_secs_f64().max(1e-9)
        );
    }
}

fn engine(c: &mut Criterion) {
    let cases = cases();
    let starts = starts(STARTS);
    let n_ref = if bench_mode() {
        REFERENCE_STARTS
    } else {
        REFERENCE_STARTS_TEST
    };
    cross_check(&cases, &starts, n_ref);

    let none = Pauses::none();
    for case in &cases {
        let mut group = c.benchmark_group(format!("add/{}", case.name));
        group.throughput(Throughput::Elements(STARTS as u64));
        for h in TARGETS_H {
            let secs = h * 3600;
            group.bench_with_input(
                BenchmarkId::from_parameter(format!("{h}h")),
                &secs,
                |b, &secs| {
                    b.iter(|| {
                        let mut acc = 0i64;
                        for &s in &starts {
                            let due = case.calendar.add(black_box(s), secs, &none);
                            acc = acc.wrapping_add(due.map_or(0, |d| d.as_second()));
                        }
                        acc
                    })
                },
            );
        }
        group.finish();

        let mut group = c.benchmark_group(format!("measure/{}", case.name));
        group.throughput(Throughput::Elements(STARTS as u64));
        for h in TARGETS_H {
            // Measure over [start, due(start, h)): the same span the due time covers.
            let spans: Vec<(Timestamp, Timestamp)> = starts
                .iter()
                .map(|&s| {
                    (
                        s,
                        case.calendar
                            .add(s, h * 3600, &none)
                            .expect("due time comes"),
                    )
                })
                .collect();
            group.bench_with_input(
                BenchmarkId::from_parameter(format!("{h}h")),
                &spans,
                |b, spans| {
                    b.iter(|| {
                        let mut acc = 0i64;
                        for &(s, e) in spans {
                            acc = acc.wrapping_add(case.calendar.measure(black_box(s), e, &none));
                        }
                        acc
                    })
                },
            );
        }
        group.finish();
    }

    // The reference on a prefix of the same starts: flat sampling, one
    // iteration per sample, so a slow input costs 10 runs and no more.
    let ref_starts = &starts[..n_ref];
    for case in &cases {
        let mut group = c.benchmark_group(format!("reference_add/{}", case.name));
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_millis(1));
        group.throughput(Throughput::Elements(n_ref as u64));
        for h in REFERENCE_TARGETS_H {
            let secs = h * 3600;
            group.bench_with_input(
                BenchmarkId::from_parameter(format!("{h}h")),
                &secs,
                |b, &secs| {
                    b.iter(|| {
                        let mut acc = 0i64;
                        for &s in ref_starts {
                            let due = calendar::reference::add(
                                &case.spec,
                                black_box(s),
                                secs,
                                &[],
                                REFERENCE_LIMIT_MINUTES,
                            );
                            acc = acc.wrapping_add(due.map_or(0, |d| d.as_second()));
                        }
                        acc
                    })
                },
            );
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = engine
}

criterion_main!(benches);
