//! `support-operator evaluate` as a user runs it: the binary, real files,
//! exit codes and messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const NOW: &str = "2026-11-23T12:00:00Z";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_support-operator"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch folder with the given files, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        // Tests run in parallel: every scratch folder is its own.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "support-operator-test-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        Scratch(dir)
    }
    fn path(&self, file: &str) -> String {
        self.0.join(file).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn evaluate_json(paths: &[&str]) -> Value {
    let mut args = vec!["evaluate", "--now", NOW, "-o", "json"];
    for p in paths {
        args.extend(["-f", p]);
    }
    let out = run(&args);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ticket<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no ticket {name}"))
}

#[test]
fn examples_evaluate_cleanly_with_the_documented_shape() {
    let doc = evaluate_json(&[examples().to_str().unwrap()]);
    let tickets = doc["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 21);
    for t in tickets {
        assert!(t["namespace"].is_string() && t["name"].is_string() && t["status"].is_object());
    }
    // Severity A without a 24x7 commitment: downgraded to B, business hours,
    // opened Mon 08:00 UTC, 2h of 09:00–17:00 → due 11:00, overdue at noon.
    let down = &ticket(&doc, "payments-down-no-commitment")["status"];
    assert_eq!(down["severity"], "B");
    assert_eq!(down["downgrade"]["from"], "A");
    assert_eq!(down["downgrade"]["reason"], "CustomerNot24x7");
    assert_eq!(down["coverage"], "BusinessHours");
    assert_eq!(down["responseDueAt"], "2026-11-23T11:00:00Z");
    assert_eq!(down["phase"], "Breached");
    // Friday 19:30 in Tokyo, C = 4h, Monday 23rd a Japanese holiday:
    // Tue 09:00–13:00 JST = 2026-11-24T04:00Z.
    let tokyo = &ticket(&doc, "tokyo-batch-friday-evening")["status"];
    assert_eq!(tokyo["calendar"], "japan");
    assert_eq!(tokyo["responseDueAt"], "2026-11-24T04:00:00Z");
    let rejected = &ticket(&doc, "northwind-license-issue")["status"];
    assert_eq!(rejected["phase"], "Rejected");
    let accepted = rejected["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Accepted")
        .unwrap();
    assert_eq!(accepted["status"], "False");
    assert_eq!(accepted["reason"], "PartnerNotAuthorized");
    assert!(rejected.get("responseDueAt").is_none());
    let names: Vec<(&str, &str)> = doc["configMaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["metadata"]["namespace"].as_str().unwrap(),
                c["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(names.contains(&("support-operator", "support-routing")));
    assert!(names.contains(&("finance-support", "support-policy")));
    let routes: Value = serde_json::from_str(
        doc["configMaps"][0]["data"]["routes.json"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(routes["schemaVersion"], 2);
}

#[test]
fn yaml_output_carries_the_same_document() {
    let out = run(&[
        "evaluate",
        "-f",
        examples().to_str().unwrap(),
        "--now",
        NOW,
        "-o",
        "yaml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let from_yaml: Value = serde_saphyr::from_slice(&out.stdout).unwrap();
    let from_json = evaluate_json(&[examples().to_str().unwrap()]);
    assert_eq!(from_yaml["tickets"], from_json["tickets"]);
}

#[test]
fn table_shows_local_and_utc_due_times() {
    let out = run(&[
        "evaluate",
        "-f",
        examples().to_str().unwrap(),
        "--now",
        NOW,
        "-o",
        "table",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("tokyo-batch-friday-evening"))
        .unwrap();
    assert!(line.contains("Tue 2026-11-24 13:00 JST"), "{line}");
    assert!(line.contains("2026-11-24T04:00:00Z"), "{line}");
    let line = text
        .lines()
        .find(|l| l.contains("payments-down-no-commitment"))
        .unwrap();
    assert!(line.contains("B (from A)"), "{line}");
}

/// The ticket's later life in every output: where a redirected ticket goes,
/// the resolution due time, the next step after the effort cap.
#[test]
fn redirect_resolution_and_next_step_in_table_json_and_yaml() {
    let now = "2026-11-25T16:00:00Z";
    let out = run(&["evaluate", "-f", examples().to_str().unwrap(), "--now", now]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.contains("RESOLUTION DUE (UTC)") && header.contains("NEXT"),
        "{header}"
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} in\n{text}"))
            .to_string()
    };
    let l = line("crm-plugin-crash");
    assert!(l.contains("Redirected: RoutedToPublisher"), "{l}");
    assert!(
        l.contains("Publisher contoso https://support.contoso.example"),
        "{l}"
    );
    let l = line("trial-signup-error");
    assert!(l.contains("Redirected: RoutedToPartner"), "{l}");
    assert!(
        l.contains("Partner fabrikam https://fabrikam.example/support"),
        "{l}"
    );
    let l = line("invoice-export-resolved");
    assert!(
        l.contains("Resolved") && l.contains("2026-11-25T17:00:00Z"),
        "{l}"
    );
    let l = line("month-end-close-slow");
    assert!(
        l.contains("Responded") && l.contains("ContinueAsAdvisory"),
        "{l}"
    );
    assert!(l.contains("2026-11-30T10:00:00Z"), "{l}");

    for output in ["json", "yaml"] {
        let out = run(&[
            "evaluate",
            "-f",
            examples().to_str().unwrap(),
            "--now",
            now,
            "-o",
            output,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let doc: Value = if output == "json" {
            serde_json::from_slice(&out.stdout).unwrap()
        } else {
            serde_saphyr::from_slice(&out.stdout).unwrap()
        };
        let s = &ticket(&doc, "crm-plugin-crash")["status"];
        assert_eq!(s["phase"], "Redirected", "{output}");
        assert_eq!(s["redirect"]["to"], "Publisher", "{output}");
        assert_eq!(
            s["redirect"]["contact"]["email"], "help@contoso.example",
            "{output}"
        );
        let s = &ticket(&doc, "invoice-export-resolved")["status"];
        assert_eq!(s["phase"], "Resolved", "{output}");
        assert_eq!(s["resolutionDueAt"], "2026-11-25T17:00:00Z", "{output}");
        let s = &ticket(&doc, "month-end-close-slow")["status"];
        assert_eq!(s["nextStep"], "ContinueAsAdvisory", "{output}");
    }
}

/// A ticket naming a Publisher nobody declared is a dangling reference.
#[test]
fn a_missing_publisher_is_a_finding() {
    let dir = examples();
    let files: Vec<String> = [
        "policies.yaml",
        "tiers.yaml",
        "workspaces.yaml",
        "tickets.yaml",
    ]
    .iter()
    .map(|f| dir.join(f).display().to_string())
    .collect();
    let mut args = vec!["evaluate", "--now", NOW, "-o", "json"];
    for f in &files {
        args.extend(["-f", f.as_str()]);
    }
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Ticket marketing-support/crm-plugin-crash: field spec.product.publisher: no Publisher named \"contoso\""),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &ticket(&doc, "crm-plugin-crash")["status"];
    assert_eq!(s["phase"], "Rejected");
}

#[test]
fn output_is_deterministic_whatever_the_file_order() {
    let dir = examples();
    let files = [
        "tickets.yaml",
        "workspaces.yaml",
        "tiers.yaml",
        "publishers.yaml",
        "policies.yaml",
    ];
    let forward: Vec<String> = files
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .collect();
    let backward: Vec<String> = forward.iter().rev().cloned().collect();
    let a = evaluate_json(&forward.iter().map(String::as_str).collect::<Vec<_>>());
    let b = evaluate_json(&backward.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

fn assert_fails(files: &[(&str, &str)], code: i32, needles: &[&str]) {
    let scratch = Scratch::new(needles[0].split_whitespace().next().unwrap_or("x"), files);
    let mut args = vec!["evaluate".to_string(), "--now".into(), NOW.into()];
    for (f, _) in files {
        args.push("-f".into());
        args.push(scratch.path(f));
    }
    let out = bin().args(&args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
}

const POLICY: &str = "apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: p}
spec:
  severities: [{name: A, initialResponse: 1h, coverage: BusinessHours}]
  calendars: [{name: default, timeZone: UTC, hours: [{days: [Mon], start: '09:00', end: '17:00'}]}]
";

#[test]
fn unparsable_yaml_names_the_file_and_line() {
    assert_fails(
        &[("broken.yaml", "kind: SlaPolicy\nspec: [unclosed\n")],
        1,
        &["broken.yaml", "not valid YAML", "line 2"],
    );
}

#[test]
fn unknown_kind_names_the_object() {
    assert_fails(
        &[(
            "kinds.yaml",
            "apiVersion: supportpolicy.dev/v1alpha1\nkind: SupportPlan\nmetadata: {name: gold}\n",
        )],
        1,
        &["kinds.yaml", "SupportPlan gold", "unknown kind"],
    );
}

#[test]
fn wrong_field_type_names_the_field() {
    let bad = POLICY.replace("coverage: BusinessHours", "coverage: Always");
    assert_fails(
        &[("policy.yaml", &bad)],
        1,
        &[
            "policy.yaml",
            "SlaPolicy p",
            "spec.severities[0].coverage",
            "Always",
        ],
    );
    let bad = POLICY.replace("severities: [", "severities: 3 #[");
    assert_fails(
        &[("policy.yaml", &bad)],
        1,
        &["spec.severities", "SlaPolicy p"],
    );
}

#[test]
fn duplicate_names_name_both_files() {
    assert_fails(
        &[("one.yaml", POLICY), ("two.yaml", POLICY)],
        1,
        &["SlaPolicy p is defined twice", "one.yaml", "two.yaml"],
    );
}

#[test]
fn missing_references_are_reported_with_output_still_printed() {
    let tier = "apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: gold}
spec: {supportModel: Formal, slaPolicy: platinum}
";
    let scratch = Scratch::new("refs", &[("tier.yaml", tier), ("policy.yaml", POLICY)]);
    let out = run(&[
        "evaluate",
        "--now",
        NOW,
        "-o",
        "json",
        "-f",
        &scratch.path("tier.yaml"),
        "-f",
        &scratch.path("policy.yaml"),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "tier.yaml: SupportTier gold: field spec.slaPolicy: no SlaPolicy named \"platinum\""
        ),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["tickets"].as_array().unwrap().is_empty());
}

#[test]
fn an_unknown_time_zone_is_reported_not_panicked() {
    let bad = POLICY.replace("timeZone: UTC", "timeZone: Mars/Olympus_Mons");
    assert_fails(
        &[("policy.yaml", &bad)],
        2,
        &[
            "SlaPolicy p",
            "spec.calendars[0].timeZone",
            "Mars/Olympus_Mons",
        ],
    );
}

#[test]
fn missing_paths_and_bad_flags_fail_cleanly() {
    let out = run(&["evaluate", "-f", "/nonexistent/nowhere.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/nonexistent/nowhere.yaml"));
    let out = run(&[
        "evaluate",
        "-f",
        examples().to_str().unwrap(),
        "--now",
        "yesterday",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("RFC 3339"));
}

#[test]
fn crds_command_prints_the_checked_in_crds() {
    let out = run(&["crds"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    for name in [
        "slapolicies",
        "supporttiers",
        "workspaces",
        "tickets",
        "publishers",
    ] {
        let file =
            std::fs::read_to_string(dir.join(format!("{name}.supportpolicy.dev.yaml"))).unwrap();
        assert!(text.contains(&file), "{name} differs from crds/");
    }
}
