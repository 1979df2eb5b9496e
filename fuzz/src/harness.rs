//! What the fuzz targets check, in one place.
//!
//! Compiled twice: into the cargo-fuzz crate (`fuzz/src/lib.rs`, whose
//! targets call [`check_manifests`] and [`check_calendar`]) and into the
//! regression tests (`tests/fuzz_regressions.rs` includes this file with
//! `#[path]`), so a replayed input goes through exactly the code that found
//! it. It may therefore use only what both crates depend on: std,
//! `support_operator`, `jiff`, `serde_json` and `serde_saphyr` (no
//! `arbitrary`: the calendar target's input decoding lives in `fuzz/src/lib.rs`).
//!
//! Every check panics with a message naming the broken property; a panic is
//! what libFuzzer reports as a crash.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use support_operator::api::{Ticket, TicketStatus};
use support_operator::calendar::reference::{self, PauseSpan};
use support_operator::calendar::{
    Calendar, CalendarSpec, HORIZON_YEARS, Holiday, Pauses, Window, year_start,
};
use support_operator::cli::table;
use support_operator::deadline::{Evaluation, TicketInput, evaluate};
use support_operator::evaluate::{Evaluated, evaluate_manifests};
use support_operator::manifests::Manifests;

// ---------------------------------------------------------------------------
// manifests: bytes → Manifests::add_str → evaluate, as `evaluate -f` does.

/// The file name every fuzzed manifest is read as; errors must name it.
pub const MANIFEST_PATH: &str = "fuzz.yaml";

/// The namespace `evaluate` puts `support-routing` in.
pub const OPERATOR_NAMESPACE: &str = "support-operator";

/// `now` when no ticket has a start: the README's example instant.
pub const DEFAULT_NOW: &str = "2026-11-24T14:30:00Z";

/// What became of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestOutcome {
    /// Not UTF-8: `Manifests::load` would refuse the file (read_to_string).
    NotUtf8,
    /// `Manifests::add_str` refused it, with this message.
    Rejected(String),
    /// Read and evaluated.
    Evaluated {
        tickets: usize,
        config_maps: usize,
        findings: usize,
    },
}

/// Reads `data` as one manifest file and, when it is accepted, runs what
/// `evaluate` runs (catalog, findings, every ticket at [`derived_now`],
/// routing compilation and ConfigMaps), renders the table, JSON and YAML
/// outputs, and checks:
///
/// * a refusal names the file;
/// * every finding names the file; one status per ticket;
/// * rule 10: `next_change` lies after `now`, the snapshot differs there and
///   not one second before;
/// * a status reads back from its JSON (as the API server stores it), and
///   evaluating again with that as `previous` writes the same JSON (else
///   the controller would rewrite it on every reconcile);
/// * the JSON and YAML outputs parse back to the same document.
pub fn check_manifests(data: &[u8]) -> ManifestOutcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return ManifestOutcome::NotUtf8;
    };
    let mut manifests = Manifests::default();
    if let Err(e) = manifests.add_str(MANIFEST_PATH, text) {
        let message = e.to_string();
        assert!(
            message.contains(MANIFEST_PATH),
            "an error that does not name the file: {message}"
        );
        return ManifestOutcome::Rejected(message);
    }
    let now = derived_now(text, &manifests);
    let evaluated = evaluate_manifests(&manifests, now, OPERATOR_NAMESPACE);
    assert_eq!(
        evaluated.report.tickets.len(),
        manifests.tickets.len(),
        "one status per ticket"
    );
    for finding in &evaluated.findings {
        assert_eq!(finding.path, MANIFEST_PATH, "finding {finding}");
    }
    check_tickets(&manifests, &evaluated, now);
    check_outputs(&evaluated, now);
    ManifestOutcome::Evaluated {
        tickets: evaluated.report.tickets.len(),
        config_maps: evaluated.report.config_maps.len(),
        findings: evaluated.findings.len(),
    }
}

/// The instant tickets are judged at: `# now: <RFC 3339>` on the first line
/// when it parses; otherwise the earliest ticket start (or [`DEFAULT_NOW`])
/// plus 0–30 days, picked by a hash of the text, so that the fuzzer sees
/// tickets pending, on track, at risk and breached.
pub fn derived_now(text: &str, manifests: &Manifests) -> Timestamp {
    if let Some(rest) = text.lines().next().and_then(|l| l.strip_prefix("# now:"))
        && let Ok(now) = rest.trim().parse::<Timestamp>()
    {
        return now;
    }
    let anchor = manifests
        .tickets
        .iter()
        .filter_map(|t| {
            t.spec
                .opened_at
                .as_ref()
                .or(t.metadata.creation_timestamp.as_ref())
                .map(|time| time.0)
        })
        .min()
        .unwrap_or_else(|| DEFAULT_NOW.parse().expect("DEFAULT_NOW is RFC 3339"));
    let offset = fnv1a(text.as_bytes()) % (30 * 86_400);
    anchor
        .checked_add(SignedDuration::from_secs(offset as i64))
        .unwrap_or(anchor)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The tickets in the order `evaluate_manifests` evaluates them.
fn in_evaluation_order(manifests: &Manifests) -> Vec<&Ticket> {
    let mut tickets: Vec<&Ticket> = manifests.tickets.iter().collect();
    tickets.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    tickets
}

fn check_tickets(manifests: &Manifests, evaluated: &Evaluated, now: Timestamp) {
    let catalog = manifests.catalog();
    let tickets = in_evaluation_order(manifests);
    for (ticket, eval) in tickets.iter().zip(&evaluated.evaluations) {
        let name = format!(
            "{}/{}",
            ticket.metadata.namespace.as_deref().unwrap_or_default(),
            ticket.metadata.name.as_deref().unwrap_or_default()
        );
        check_next_change(&name, eval, now);

        // What the controller writes, the API server keeps (as JSON, times
        // to the second) and the next reconcile reads back as `previous`.
        let json = serde_json::to_string(&eval.status)
            .unwrap_or_else(|e| panic!("{name}: status does not serialize: {e}"));
        let stored: TicketStatus = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{name}: status does not read back: {e}\n{json}"));
        let again = evaluate(&catalog, TicketInput::of(ticket, now), Some(&stored), now);
        let again_json = serde_json::to_string(&again.status).expect("serialized once already");
        assert_eq!(
            again_json, json,
            "{name}: evaluating again with the stored status as previous changes it"
        );
    }
}

/// Rule 10: the next change is after `now`, is a change, and is the first.
fn check_next_change(name: &str, eval: &Evaluation, now: Timestamp) {
    assert_eq!(eval.plan.at(now), eval.snapshot, "{name}: snapshot at now");
    let Some(next) = eval.next_change else {
        return;
    };
    assert!(next > now, "{name}: next change {next} is not after {now}");
    assert_ne!(
        eval.plan.at(next),
        eval.snapshot,
        "{name}: nothing changes at the next change {next}"
    );
    let before = next
        .checked_sub(SignedDuration::from_secs(1))
        .expect("after now, so not the first instant");
    if before > now {
        assert_eq!(
            eval.plan.at(before),
            eval.snapshot,
            "{name}: the status changed before the next change {next}"
        );
    }
}

fn check_outputs(evaluated: &Evaluated, now: Timestamp) {
    let text = table(evaluated, now);
    assert!(text.starts_with("TICKET"), "table header: {text}");

    let json = serde_json::to_string(&evaluated.report).expect("the report serializes to JSON");
    let from_json: serde_json::Value = serde_json::from_str(&json).expect("the JSON output parses");
    let yaml = serde_saphyr::to_string(&evaluated.report).expect("the report serializes to YAML");
    let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml)
        .unwrap_or_else(|e| panic!("the YAML output does not parse: {e}\n{yaml}"));
    assert_eq!(
        from_yaml, from_json,
        "the YAML and JSON outputs differ\nYAML:\n{yaml}\nJSON:\n{json}"
    );
}

// ---------------------------------------------------------------------------
// calendar: compiled calendar against the minute-stepping reference.

/// Zones with every kind of offset change: none, 1 h, 30 min (Lord Howe),
/// 2 h (Troll), yearly back-and-forth (Casablanca), quarter-hour offsets.
pub const ZONES: &[&str] = &[
    "UTC",
    "America/Los_Angeles",
    "Europe/Warsaw",
    "Australia/Lord_Howe",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Antarctica/Troll",
    "Africa/Casablanca",
];

const MINUTE: i64 = 60;
const DAY_MINUTES: i64 = 24 * 60;

/// 2025-01-01T00:00:00Z and 2029-01-01T00:00:00Z: where starts lie.
pub const RANGE_START: i64 = 1_735_689_600;
pub const RANGE_END: i64 = 1_861_920_000;

/// Largest amount and measured span: two weeks, in seconds.
pub const MAX_AMOUNT: u32 = 14 * 86_400;

/// How many minutes the reference steps looking for an `add` result.
pub const REFERENCE_CAP_MINUTES: i64 = 21 * DAY_MINUTES;

/// A calendar, a start, pauses and amounts, as raw numbers: [`check_calendar`]
/// maps every value onto a legitimate calendar (out-of-range values wrap), so
/// any input is a case and the regression tests can write one out literally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarCase {
    /// Index into [`ZONES`].
    pub zone: u8,
    /// Up to three windows (more are ignored).
    pub windows: Vec<WindowPick>,
    /// Up to four holidays.
    pub holidays: Vec<HolidayPick>,
    /// Up to three closed pauses.
    pub pauses: Vec<PausePick>,
    /// An open pause, in minutes from three days before the start.
    pub open_pause: Option<u32>,
    pub start: StartPick,
    /// Business seconds to add (up to [`MAX_AMOUNT`]).
    pub amount: u32,
    /// A second amount, for monotonicity and additivity.
    pub amount2: u32,
    /// Seconds to measure over from the start (up to [`MAX_AMOUNT`]).
    pub span: u32,
}

/// A window on the weekdays of a bit mask (bit 0 Monday).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowPick {
    pub days: u8,
    /// Start, minutes since local midnight.
    pub start: u16,
    /// Length in minutes; 0 makes an empty window (refused, then dropped).
    pub minutes: u16,
}

/// A holiday on a local date near the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HolidayPick {
    /// 0: that date; 1: its month and day every year; 2: `02-29` every year.
    pub kind: u8,
    /// Days from three days before the start's local date (0–21).
    pub days: u8,
}

/// A closed pause near the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PausePick {
    /// Minutes from three days before the start (up to 17 days).
    pub offset: u32,
    /// Length in minutes, 1 to three days.
    pub minutes: u16,
}

/// A start: anywhere in 2025–2028, or within three days of an offset change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartPick {
    pub near_change: bool,
    /// Minutes since [`RANGE_START`].
    pub minute: u32,
    /// Which of the zone's offset changes in 2025–2028.
    pub change: u8,
    /// Minutes from three days before that change.
    pub around: u16,
    /// Seconds into the minute (0–59): starts need not be whole minutes.
    pub second: u8,
}

/// What [`check_calendar`] checked, for the regression tests to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarVerdict {
    /// The spec as drawn was refused (and repaired before the checks).
    pub refused: bool,
    pub start: Timestamp,
    /// `add(start, amount)`.
    pub due: Option<Timestamp>,
    /// `measure(start, start + span)`.
    pub measured: i64,
}

/// The spec, start and raw pauses a case stands for.
pub struct CalendarSetup {
    pub spec: CalendarSpec,
    /// The spec before overlapping and empty windows were dropped.
    pub drawn: CalendarSpec,
    pub start: Timestamp,
    pub raw_pauses: Vec<PauseSpan>,
}

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).expect("instants stay within 2024–2030")
}

/// The zone's offset changes within 2025–2028.
fn offset_changes(zone: &TimeZone) -> Vec<i64> {
    zone.following(ts(RANGE_START))
        .map(|t| t.timestamp().as_second())
        .take_while(|&t| t < RANGE_END)
        .collect()
}

impl CalendarCase {
    /// Maps the raw numbers onto a calendar, a start and pauses.
    pub fn setup(&self) -> CalendarSetup {
        let zone_name = ZONES[usize::from(self.zone) % ZONES.len()];
        let zone = TimeZone::get(zone_name).expect("a zone of the bundled database");

        let changes = offset_changes(&zone);
        let start_minute = match (self.start.near_change, changes.is_empty()) {
            (true, false) => {
                let at = changes[usize::from(self.start.change) % changes.len()];
                at.div_euclid(MINUTE) + i64::from(self.start.around) % (6 * DAY_MINUTES)
                    - 3 * DAY_MINUTES
            }
            _ => {
                RANGE_START / MINUTE
                    + i64::from(self.start.minute) % ((RANGE_END - RANGE_START) / MINUTE)
            }
        };
        let start_s = start_minute * MINUTE + i64::from(self.start.second % 60);
        let start = ts(start_s);

        let mut drawn = CalendarSpec::new(zone.clone());
        for w in self.windows.iter().take(3) {
            let begin = u32::from(w.start) % 1440;
            let len = u32::from(w.minutes) % (1440 - begin + 1);
            for (day, windows) in drawn.week.iter_mut().enumerate() {
                if w.days & (1 << day) != 0 {
                    windows.push(Window::from_minutes(begin, begin + len));
                }
            }
        }
        let local_date = zone.to_datetime(start).date();
        for h in self.holidays.iter().take(4) {
            let date = local_date
                .checked_add(jiff::Span::new().days(i64::from(h.days % 22) - 3))
                .expect("a date in 2024–2029");
            let (year, month, day) = (
                i32::from(date.year()),
                i32::from(date.month()),
                i32::from(date.day()),
            );
            drawn.holidays.push(match h.kind % 3 {
                0 => Holiday::On { year, month, day },
                1 => Holiday::EveryYear { month, day },
                _ => Holiday::EveryYear { month: 2, day: 29 },
            });
        }

        let mut spec = drawn.clone();
        for windows in &mut spec.week {
            windows.sort();
            let mut kept: Vec<Window> = Vec::with_capacity(windows.len());
            for &w in windows.iter() {
                let clear = kept.last().is_none_or(|last| last.end <= w.start);
                if w.start < w.end && clear {
                    kept.push(w);
                }
            }
            *windows = kept;
        }

        let near = |offset: u32, range_days: i64| {
            start_minute * MINUTE + (i64::from(offset) % (range_days * DAY_MINUTES)) * MINUTE
                - 3 * DAY_MINUTES * MINUTE
        };
        let mut raw_pauses: Vec<PauseSpan> = self
            .pauses
            .iter()
            .take(3)
            .map(|p| {
                let from = near(p.offset, 17);
                let len = 1 + i64::from(p.minutes) % (3 * DAY_MINUTES);
                (ts(from), Some(ts(from + len * MINUTE)))
            })
            .collect();
        if let Some(offset) = self.open_pause {
            raw_pauses.push((ts(near(offset, 17)), None));
        }
        CalendarSetup {
            spec,
            drawn,
            start,
            raw_pauses,
        }
    }
}

/// Whether a spec's windows are valid: each non-empty, within the day, and
/// none overlapping another on the same weekday.
fn windows_valid(spec: &CalendarSpec) -> bool {
    spec.week.iter().all(|day| {
        let mut sorted = day.clone();
        sorted.sort();
        sorted.iter().all(|w| w.start < w.end && w.end <= 86_400)
            && sorted.windows(2).all(|p| p[0].end <= p[1].start)
    })
}

/// `None` (never) sorts after every instant.
fn never_last(t: Option<Timestamp>) -> (bool, Option<Timestamp>) {
    (t.is_none(), t)
}

/// Compiles the case's calendar and checks it against the reference and
/// itself, the way `tests/calendar_props.rs` does:
///
/// * `Calendar::new` refuses the drawn spec exactly when its windows are
///   empty or overlap (then the checks go on with those windows dropped);
/// * `add` agrees with `reference::add` (when the result lies within the
///   reference's three weeks; beyond them the reference must find nothing),
///   `measure` with `reference::measure`;
/// * `measure(start, add(start, d)) == d`, and the second before the due time
///   is covered; `None` only with an open pause, no windows, or fewer than
///   `d` seconds within [`HORIZON_YEARS`];
/// * `add` is monotone in the amount; `measure` is additive;
/// * `add(start, measure(start, end))` lies at or before `end`.
pub fn check_calendar(case: &CalendarCase) -> CalendarVerdict {
    let setup = case.setup();
    let refused = Calendar::new(&setup.drawn).is_err();
    assert_eq!(
        refused,
        !windows_valid(&setup.drawn),
        "Calendar::new on {:?}",
        setup.drawn.week
    );
    let cal = Calendar::new(&setup.spec).expect("repaired windows are valid");
    let (spec, raw, start) = (&setup.spec, &setup.raw_pauses, setup.start);
    let pauses = Pauses::new(raw.iter().copied());
    let start_s = start.as_second();
    let context = || {
        format!(
            "zone {}, start {start} ({}), pauses {raw:?}",
            spec.zone.iana_name().unwrap_or("?"),
            spec.zone.to_datetime(start)
        )
    };

    let amount = i64::from(case.amount % (MAX_AMOUNT + 1));
    let due = cal.add(start, amount, &pauses);
    let oracle = reference::add(spec, start, amount, raw, REFERENCE_CAP_MINUTES as u64);
    let horizon = (start_s.div_euclid(MINUTE) + REFERENCE_CAP_MINUTES) * MINUTE;
    match due {
        Some(d) if d.as_second() <= horizon => {
            assert_eq!(due, oracle, "add({amount}) vs the reference, {}", context());
        }
        _ => assert_eq!(
            oracle,
            None,
            "add({amount}) = {due:?}, beyond the reference's horizon, {}",
            context()
        ),
    }
    match due {
        Some(d) => {
            assert!(d >= start, "add({amount}) = {d} before the start");
            assert_eq!(
                cal.measure(start, d, &pauses),
                amount,
                "measure(start, add({amount}) = {d}), {}",
                context()
            );
            if amount > 0 {
                let last = ts(d.as_second() - 1);
                assert!(
                    reference::covered_at(spec, last, raw),
                    "add({amount}) = {d}: the second before is not covered, {}",
                    context()
                );
            }
        }
        None => {
            // Never: an open pause, no hours, or not within the horizon.
            let open = raw.iter().any(|p| p.1.is_none());
            let hours = spec.week.iter().any(|day| !day.is_empty());
            let last_year = i32::from(TimeZone::UTC.to_datetime(start).year()) + HORIZON_YEARS;
            let within = cal.measure(start, year_start(last_year + 1), &pauses);
            assert!(
                open || !hours || within < amount,
                "add({amount}) never comes, yet {within} s lie within {HORIZON_YEARS} years \
                 and no pause is open, {}",
                context()
            );
        }
    }

    let amount2 = i64::from(case.amount2 % (MAX_AMOUNT + 1));
    let due2 = cal.add(start, amount2, &pauses);
    let (lo, hi) = if amount <= amount2 {
        (due, due2)
    } else {
        (due2, due)
    };
    assert!(
        never_last(lo) <= never_last(hi),
        "add is not monotone: add({amount}) = {due:?}, add({amount2}) = {due2:?}, {}",
        context()
    );

    let span = i64::from(case.span % (MAX_AMOUNT + 1));
    let end = ts(start_s + span);
    let measured = cal.measure(start, end, &pauses);
    assert_eq!(
        measured,
        reference::measure(spec, start, end, raw),
        "measure to {end} vs the reference, {}",
        context()
    );
    assert!(
        (0..=span).contains(&measured),
        "measure({span} s) = {measured}"
    );
    let mid = ts(start_s + amount2 % (span + 1));
    assert_eq!(
        cal.measure(start, mid, &pauses) + cal.measure(mid, end, &pauses),
        measured,
        "measure is not additive at {mid}, {}",
        context()
    );
    assert_eq!(cal.measure(end, start, &pauses), 0, "reversed measure");
    if measured > 0 {
        let back = cal.add(start, measured, &pauses);
        assert!(
            back.is_some_and(|b| b <= end && cal.measure(start, b, &pauses) == measured),
            "add(measure(start, {end}) = {measured}) = {back:?}, {}",
            context()
        );
    }

    CalendarVerdict {
        refused,
        start,
        due,
        measured,
    }
}
