//! The shared peer cases (business-time tests of zendesk/biz, Znuny, Zammad,
//! businesstimedelta, workclock and pandas, restated in this project's model;
//! see /work/shared/peer-cases/README.md) run against the calendar, and the
//! minute-aligned ones (all of them) also against the minute-stepping reference.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde_json::Value;
use support_operator::calendar::reference::{self, PauseSpan};
use support_operator::calendar::{Calendar, CalendarSpec, Holiday, Pauses, Window};

const EXPECTED_CASES: usize = 53;

struct Case {
    id: String,
    spec: CalendarSpec,
    raw_pauses: Vec<PauseSpan>,
    op: Op,
    start: Timestamp,
    expected: Answer,
}

enum Op {
    Add(i64),
    Measure(Timestamp),
}

#[derive(Debug, PartialEq)]
enum Answer {
    At(Option<Timestamp>),
    Seconds(i64),
}

fn load() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/peer-cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read peer-cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("parse peer-cases.json");
    cases.iter().map(parse_case).collect()
}

fn parse_case(v: &Value) -> Case {
    let id = v["id"].as_str().expect("id").to_string();
    let ctx = |what: &str| format!("{id}: {what}");
    let instant = |field: &Value, what: &str| -> Timestamp {
        field
            .as_str()
            .unwrap_or_else(|| panic!("{}", ctx(what)))
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", ctx(what)))
    };

    let zone = TimeZone::get(v["zone"].as_str().expect("zone"))
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("zone")));
    let mut spec = CalendarSpec::new(zone);
    for (day, windows) in v["windows"].as_object().expect("windows") {
        let weekday = weekday(day).unwrap_or_else(|| panic!("{}", ctx(day)));
        for pair in windows.as_array().expect("window list") {
            let clock = |i: usize| {
                pair[i]
                    .as_str()
                    .and_then(Window::parse_clock)
                    .unwrap_or_else(|| panic!("{}", ctx("window clock")))
            };
            spec = spec.with_window(
                &[weekday],
                Window {
                    start: clock(0),
                    end: clock(1),
                },
            );
        }
    }
    for h in v["holidays"].as_array().expect("holidays") {
        let text = h.as_str().expect("holiday string");
        spec = spec.with_holiday(Holiday::parse(text).unwrap_or_else(|| panic!("{}", ctx(text))));
    }
    let raw_pauses: Vec<PauseSpan> = v
        .get("pauses")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|p| {
                    let to = (!p[1].is_null()).then(|| instant(&p[1], "pause end"));
                    (instant(&p[0], "pause start"), to)
                })
                .collect()
        })
        .unwrap_or_default();

    let start = instant(&v["start"], "start");
    let (op, expected) = match v["op"].as_str() {
        Some("add") => (
            Op::Add(v["duration"].as_i64().expect("duration")),
            Answer::At((!v["expected"].is_null()).then(|| instant(&v["expected"], "expected"))),
        ),
        Some("measure") => (
            Op::Measure(instant(&v["end"], "end")),
            Answer::Seconds(v["expected"].as_i64().expect("expected seconds")),
        ),
        other => panic!("{}: unknown op {other:?}", id),
    };
    Case {
        id,
        spec,
        raw_pauses,
        op,
        start,
        expected,
    }
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "Mon" => Weekday::Monday,
        "Tue" => Weekday::Tuesday,
        "Wed" => Weekday::Wednesday,
        "Thu" => Weekday::Thursday,
        "Fri" => Weekday::Friday,
        "Sat" => Weekday::Saturday,
        "Sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn whole_minute(t: Timestamp) -> bool {
    t.as_second() % 60 == 0 && t.subsec_nanosecond() == 0
}

impl Case {
    /// The reference's precondition: pause edges on whole minutes (windows
    /// are `HH:MM`, and the zones' offsets in these years are whole minutes;
    /// `start`, `end` and amounts may be anything).
    fn minute_aligned(&self) -> bool {
        self.raw_pauses
            .iter()
            .all(|&(a, b)| whole_minute(a) && b.is_none_or(whole_minute))
    }

    fn run(&self) -> Result<Answer, String> {
        let cal = Calendar::new(&self.spec).map_err(|e| format!("calendar: {e}"))?;
        let pauses = Pauses::new(self.raw_pauses.iter().copied());
        Ok(match self.op {
            Op::Add(seconds) => Answer::At(cal.add(self.start, seconds, &pauses)),
            Op::Measure(end) => Answer::Seconds(cal.measure(self.start, end, &pauses)),
        })
    }

    fn run_reference(&self) -> Answer {
        match self.op {
            Op::Add(seconds) => {
                // Look as far as the expected answer plus a week, or a year
                // when none is expected.
                let limit = match self.expected {
                    Answer::At(Some(due)) => {
                        (due.as_second() - self.start.as_second()).max(0) / 60 + 7 * 24 * 60
                    }
                    _ => 366 * 24 * 60,
                };
                Answer::At(reference::add(
                    &self.spec,
                    self.start,
                    seconds,
                    &self.raw_pauses,
                    limit as u64,
                ))
            }
            Op::Measure(end) => Answer::Seconds(reference::measure(
                &self.spec,
                self.start,
                end,
                &self.raw_pauses,
            )),
        }
    }
}

#[test]
fn peer_cases_all_pass() {
    let cases = load();
    assert_eq!(cases.len(), EXPECTED_CASES, "number of peer cases");
    let mut ids = std::collections::HashSet::new();
    for case in &cases {
        assert!(ids.insert(case.id.clone()), "duplicate id {}", case.id);
    }

    let mut failures = Vec::new();
    let mut checked_by_reference = 0;
    for case in &cases {
        match case.run() {
            Ok(got) if got == case.expected => {}
            Ok(got) => failures.push(format!(
                "{}: got {got:?}, expected {:?}",
                case.id, case.expected
            )),
            Err(e) => failures.push(format!("{}: {e}", case.id)),
        }
        if case.minute_aligned() {
            checked_by_reference += 1;
            let oracle = case.run_reference();
            if oracle != case.expected {
                failures.push(format!(
                    "{}: reference got {oracle:?}, expected {:?}",
                    case.id, case.expected
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} peer cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Every case's pauses are on whole minutes: the reference ran them all.
    assert_eq!(
        checked_by_reference, EXPECTED_CASES,
        "cases checked by the reference"
    );
    eprintln!(
        "{} peer cases passed; {checked_by_reference} also by the reference",
        cases.len()
    );
}
