//! Inputs found by fuzzing, and hostile inputs tried on purpose, replayed
//! through the fuzz targets' own checks.
//!
//! The checks live in `fuzz/src/harness.rs`, compiled here as a module, so a
//! replayed input runs exactly what the fuzzer ran (`hack/fuzz TARGET`, see
//! `fuzz/`). A finding becomes a test here:
//!
//! * `manifests`: the input file goes to `tests/fixtures/fuzz/manifests/`
//!   (every file there is replayed by [`every_manifests_fixture_passes`]),
//!   with a test pinning its outcome;
//! * `calendar`: `cargo +nightly fuzz fmt calendar fuzz/artifacts/calendar/crash-...`
//!   prints the [`CalendarCase`]; it is written out below as a literal.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::{
    CalendarCase, HolidayPick, ManifestOutcome, PausePick, StartPick, WindowPick, check_calendar,
    check_manifests,
};

fn fixtures(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures("manifests").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rejected(outcome: ManifestOutcome) -> String {
    match outcome {
        ManifestOutcome::Rejected(message) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// manifests

/// Every checked-in input passes the checks, including ones added without a
/// test of their own.
#[test]
fn every_manifests_fixture_passes() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures("manifests"))
        .expect("tests/fixtures/fuzz/manifests")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for path in names {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{}: {:?}", path.display(), check_manifests(&bytes));
    }
}

/// The fuzzer's starting points (`fuzz/seeds/manifests`) are valid models:
/// a seed the rules refuse would keep the fuzzer away from them.
#[test]
fn manifests_seeds_are_evaluated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/manifests");
    let mut tickets = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/seeds/manifests") {
        let path = entry.expect("a directory entry").path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match check_manifests(&bytes) {
            ManifestOutcome::Evaluated { tickets: n, .. } => tickets += n,
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    assert!(tickets >= 20, "{tickets} tickets in the seeds");
}

#[test]
fn empty_input_is_an_empty_model() {
    // Only the (empty) routing table is published.
    let empty = ManifestOutcome::Evaluated {
        tickets: 0,
        config_maps: 1,
        findings: 0,
    };
    assert_eq!(check_manifests(b""), empty);
    assert_eq!(check_manifests(b"---\n...\n---\n# nothing\n"), empty);
    assert_eq!(check_manifests("---\n".repeat(5_000).as_bytes()), empty);
}

#[test]
fn non_utf8_is_not_read() {
    let bytes =
        b"apiVersion: supportpolicy.dev/v1alpha1\nkind: Ticket\nmetadata: {name: \xff\xfe}\n";
    assert_eq!(check_manifests(bytes), ManifestOutcome::NotUtf8);
    assert_eq!(check_manifests(b"\xc3\x28"), ManifestOutcome::NotUtf8);
}

/// Nine levels of nine aliases (9^9 strings expanded) stop at the YAML
/// budget, with an error that says so.
#[test]
fn alias_bomb_is_refused_by_the_yaml_budget() {
    let message = rejected(check_manifests(&fixture("alias-bomb.yaml")));
    assert!(
        message.starts_with("fuzz.yaml: not valid YAML: ") && message.contains("alias"),
        "{message}"
    );
}

#[test]
fn deep_nesting_is_refused_by_the_yaml_budget() {
    for (open, close) in [("[", "]"), ("{a: ", "}"), ("- ", "")] {
        let text = format!("{}x{}", open.repeat(10_000), close.repeat(10_000));
        let text = if open == "- " {
            // Block sequences nest by indentation.
            (0..2_000)
                .map(|i| format!("{}- ", "  ".repeat(i)))
                .collect::<Vec<_>>()
                .join("\n")
                + "x"
        } else {
            text
        };
        let message = rejected(check_manifests(text.as_bytes()));
        assert!(
            message.starts_with("fuzz.yaml: not valid YAML: ")
                && (message.contains("recursion limit") || message.contains("depth")),
            "{open}: {message}"
        );
    }
}

#[test]
fn numbers_too_large_for_a_field_are_refused_naming_it() {
    // `evaluate` refuses it as a finding (it reports every finding rather
    // than stopping at the first) or, for what cannot be typed, at load.
    let text = String::from_utf8(fixture("huge-numbers.yaml")).unwrap();
    let mut m = support_operator::manifests::Manifests::default();
    let message = match m.add_str("fuzz.yaml", &text) {
        Err(e) => e.to_string(),
        Ok(()) => m
            .findings
            .iter()
            .filter(|f| f.severity == support_operator::manifests::Severity::Error)
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    assert!(
        message.contains("big: field metadata.generation: ") && message.contains("Ticket "),
        "{message}"
    );
}

/// Tickets opened at the first and last instants the CRDs accept, a reversed
/// pause, a response before the opening, on a calendar whose only hours lie
/// in Warsaw's spring-forward gap once a year: evaluated, never a panic.
#[test]
fn instants_at_the_edges_of_time_are_evaluated() {
    // Its findings are the gate's warnings (a response before the opening,
    // an opening in the future): counted, not refused.
    let outcome = check_manifests(&fixture("edge-instants.yaml"));
    assert!(
        matches!(
            outcome,
            ManifestOutcome::Evaluated {
                tickets: 3,
                config_maps: 2,
                ..
            }
        ),
        "{outcome:?}"
    );
}

// ---------------------------------------------------------------------------
// calendar

/// Found by the first calendar run (a wrong expectation of the harness, not
/// a calendar bug): one minute on three weekdays at Lord Howe, 292 business
/// hours to add. That needs 112 years, beyond `HORIZON_YEARS`, so `add`
/// rightly says never; the harness now accepts `None` when the horizon holds
/// less than the amount.
#[test]
fn calendar_beyond_the_horizon_is_never() {
    let case = CalendarCase {
        zone: 3,
        windows: vec![WindowPick {
            days: 198,
            start: 1434,
            minutes: 1037,
        }],
        holidays: vec![],
        pauses: vec![],
        open_pause: None,
        start: StartPick {
            near_change: true,
            minute: 246,
            change: 23,
            around: 254,
            second: 15,
        },
        amount: 1_052_221,
        amount2: 74,
        span: 0,
    };
    let verdict = check_calendar(&case);
    assert_eq!(verdict.due, None);
    assert_eq!(verdict.start.to_string(), "2028-09-27T19:44:15Z");
    assert!(!verdict.refused);
}

/// Every weekday, a window around each zone's offset changes: the compiled
/// calendar against the reference across the changes of 2025–2028 of the
/// zones with 30-minute (Lord Howe), 2-hour (Troll), back-and-forth
/// (Casablanca) and quarter-hour (Chatham) shifts, with holidays and pauses.
#[test]
fn calendar_across_offset_changes_agrees_with_the_reference() {
    let mut checked = 0;
    for zone in [3u8, 7, 9, 10] {
        for change in 0..8u8 {
            let case = CalendarCase {
                zone,
                windows: vec![
                    // 00:30–03:30 every day: holds every change at night.
                    WindowPick {
                        days: 0x7f,
                        start: 30,
                        minutes: 180,
                    },
                    // 09:00–17:00 on weekdays.
                    WindowPick {
                        days: 0x1f,
                        start: 540,
                        minutes: 480,
                    },
                ],
                holidays: vec![
                    HolidayPick { kind: 0, days: 4 },
                    HolidayPick { kind: 1, days: 6 },
                ],
                pauses: vec![PausePick {
                    offset: 3 * 24 * 60 + 90,
                    minutes: 150,
                }],
                open_pause: None,
                start: StartPick {
                    near_change: true,
                    minute: 0,
                    change,
                    // Two days before the change, at 00:00 plus 17 seconds.
                    around: 24 * 60,
                    second: 17,
                },
                amount: 20 * 3600 + 7,
                amount2: 3 * 3600,
                span: 5 * 86_400,
            };
            let verdict = check_calendar(&case);
            assert!(!verdict.refused);
            assert!(verdict.due.is_some(), "{case:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 32);
}

/// Overlapping and empty windows are refused by `Calendar::new` (the
/// harness then drops them and checks the rest); an open pause before the
/// start means never.
#[test]
fn calendar_refuses_overlaps_and_an_open_pause_stops_the_clock() {
    let case = CalendarCase {
        zone: 1,
        windows: vec![
            WindowPick {
                days: 0b0000_0011,
                start: 9 * 60,
                minutes: 8 * 60,
            },
            WindowPick {
                days: 0b0000_0010,
                start: 12 * 60,
                minutes: 60,
            },
            WindowPick {
                days: 0b0000_0100,
                start: 600,
                minutes: 0,
            },
        ],
        holidays: vec![],
        pauses: vec![],
        open_pause: Some(0),
        start: StartPick::default(),
        amount: 3600,
        amount2: 0,
        span: 86_400,
    };
    let verdict = check_calendar(&case);
    assert!(verdict.refused);
    assert_eq!(verdict.due, None);
    assert_eq!(verdict.measured, 0);
    assert_eq!(verdict.start.to_string(), "2025-01-01T00:00:00Z");
}
