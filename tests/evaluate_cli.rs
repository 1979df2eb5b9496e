//! `support-operator evaluate` as a user runs it: the binary, real files,
//! exit codes and messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const NOW: &str = "2026-11-23T12:00:00Z";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_support-operator"))
}

/// The files of examples/, in the order a user applies them.
const EXAMPLE_FILES: [&str; 5] = [
    "policies.yaml",
    "tiers.yaml",
    "workspaces.yaml",
    "publishers.yaml",
    "tickets.yaml",
];

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The binary run with `args`, and `stdin` as its standard input if given
/// (else none): its exit code, standard output and standard error.
fn gate(stdin: Option<&str>, args: &[&str]) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        // Written whole, then closed: the end of the stream.
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("standard output is UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`gate`], which must exit with `code`: its standard output and error.
fn gate_exits(code: i32, stdin: Option<&str>, args: &[&str]) -> (String, String) {
    let (got, stdout, stderr) = gate(stdin, args);
    assert_eq!(got, Some(code), "{args:?}: {stderr}");
    (stdout, stderr)
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
    let (stdout, _) = gate_exits(0, None, &args);
    serde_json::from_str(&stdout).unwrap()
}

/// `evaluate` of examples/ at `now` in `output`, which must succeed.
fn examples_output(now: &str, output: &str) -> String {
    let examples = examples();
    let args = [
        "evaluate",
        "-f",
        examples.to_str().unwrap(),
        "--now",
        now,
        "-o",
        output,
    ];
    gate_exits(0, None, &args).0
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
    let from_yaml: Value = serde_saphyr::from_str(&examples_output(NOW, "yaml")).unwrap();
    let from_json = evaluate_json(&[examples().to_str().unwrap()]);
    assert_eq!(from_yaml["tickets"], from_json["tickets"]);
}

#[test]
fn table_shows_local_and_utc_due_times() {
    let text = examples_output(NOW, "table");
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
    let (text, _) = gate_exits(
        0,
        None,
        &["evaluate", "-f", examples().to_str().unwrap(), "--now", now],
    );
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
        let stdout = examples_output(now, output);
        let doc: Value = if output == "json" {
            serde_json::from_str(&stdout).unwrap()
        } else {
            serde_saphyr::from_str(&stdout).unwrap()
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
    let (stdout, err) = gate_exits(1, None, &args);
    assert!(
        err.contains("Ticket marketing-support/crm-plugin-crash: field spec.product.publisher: no Publisher named \"contoso\""),
        "{err}"
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
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
    let paths: Vec<String> = files.iter().map(|(f, _)| scratch.path(f)).collect();
    let mut args = vec!["evaluate", "--now", NOW];
    for p in &paths {
        args.extend(["-f", p]);
    }
    let (_, err) = gate_exits(code, None, &args);
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
        2,
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
        &["kinds.yaml:1: SupportPlan gold", "unknown kind"],
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
        &[
            "two.yaml:1: SlaPolicy p: is defined twice: first in",
            "one.yaml:1",
        ],
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
    let (stdout, err) = gate_exits(
        1,
        None,
        &[
            "evaluate",
            "--now",
            NOW,
            "-o",
            "json",
            "-f",
            &scratch.path("tier.yaml"),
            "-f",
            &scratch.path("policy.yaml"),
        ],
    );
    assert!(
        err.contains(
            "tier.yaml:4: SupportTier gold: field spec.slaPolicy: no SlaPolicy named \"platinum\""
        ),
        "{err}"
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let finding = &doc["findings"][0];
    assert_eq!(finding["file"], scratch.path("tier.yaml"));
    assert_eq!(finding["line"], 4);
    assert_eq!(finding["kind"], "SupportTier");
    assert_eq!(finding["name"], "gold");
    assert_eq!(finding["field"], "spec.slaPolicy");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["check"], "reference");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert!(doc["tickets"].as_array().unwrap().is_empty());
}

#[test]
fn an_unknown_time_zone_is_reported_not_panicked() {
    let bad = POLICY.replace("timeZone: UTC", "timeZone: Mars/Olympus_Mons");
    assert_fails(
        &[("policy.yaml", &bad)],
        1,
        &[
            "SlaPolicy p",
            "spec.calendars[0].timeZone",
            "Mars/Olympus_Mons",
        ],
    );
}

#[test]
fn missing_paths_and_bad_flags_fail_cleanly() {
    let (stdout, err) = gate_exits(2, None, &["evaluate", "-f", "/nonexistent/nowhere.yaml"]);
    assert!(err.contains("/nonexistent/nowhere.yaml"));
    assert!(stdout.is_empty());
    let (_, err) = gate_exits(
        2,
        None,
        &[
            "evaluate",
            "-f",
            examples().to_str().unwrap(),
            "--now",
            "yesterday",
        ],
    );
    assert!(err.contains("RFC 3339"));
    // clap's own usage errors: 2 as well, never the findings code.
    for args in [
        &["evaluate"][..],
        &["evaluate", "-f", "x", "--bogus"],
        &["evaluate", "-f", "x", "-o", "csv"],
    ] {
        gate_exits(2, None, args);
    }
    gate_exits(0, None, &["evaluate", "--help"]);
}

#[test]
fn crds_command_prints_the_checked_in_crds() {
    let (text, _) = gate_exits(0, None, &["crds"]);
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

/// The examples as one stream, as `kustomize build` or `helm template`
/// would print them, with a Namespace among them.
fn examples_stream() -> String {
    let mut text =
        String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: finance-support}\n");
    for f in EXAMPLE_FILES {
        text.push_str("---\n");
        text.push_str(&std::fs::read_to_string(examples().join(f)).unwrap());
    }
    text
}

#[test]
fn standard_input_reads_a_built_stream_and_skips_other_kinds() {
    let stream = examples_stream();
    let (stdout, err) = gate_exits(
        0,
        Some(&stream),
        &["evaluate", "-f", "-", "--now", NOW, "-o", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["tickets"].as_array().unwrap().len(), 21);
    assert_eq!(doc["skipped"]["v1/Namespace"], 1);
    assert!(err.contains("1 objects of other kinds skipped"), "{err}");
    // --strict-kinds refuses it, naming it and where it is.
    let (_, err) = gate_exits(
        1,
        Some(&stream),
        &[
            "evaluate",
            "-f",
            "-",
            "--now",
            NOW,
            "-o",
            "json",
            "--strict-kinds",
        ],
    );
    assert!(
        err.contains("error: -:1: Namespace finance-support: is of kind Namespace (v1), not one this tool reads (--strict-kinds)"),
        "{err}"
    );
}

#[test]
fn a_kustomize_folder_is_read_with_its_kustomization_skipped() {
    let mut files: Vec<(String, String)> = EXAMPLE_FILES
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read_to_string(examples().join(f)).unwrap(),
            )
        })
        .collect();
    // Without apiVersion or kind, as kustomization files usually are.
    files.push((
        "kustomization.yaml".into(),
        "resources:\n- policies.yaml\n- tiers.yaml\n".into(),
    ));
    files.push((
        "namespace.yaml".into(),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: finance-support}\n".into(),
    ));
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let scratch = Scratch::new("kustomize", &borrowed);
    let dir = scratch.0.display().to_string();
    let (text, _) = gate_exits(0, None, &["evaluate", "-f", &dir, "--now", NOW]);
    assert!(text.contains("21 tickets at"), "{text}");
    assert!(
        text.contains("skipped 2 objects of other kinds: kustomize.config.k8s.io/v1beta1/Kustomization ×1, v1/Namespace ×1"),
        "{text}"
    );
}

/// Every finding, not only the first, each with a near-miss suggestion;
/// warnings do not fail the gate unless asked.
#[test]
fn every_finding_is_reported_with_did_you_mean() {
    let stream = examples_stream()
        .replace("tier: critical", "tier: critcal")
        .replace("region: north-america", "region: north-amerika")
        .replace("slaPolicy: unified", "slaPolicy: unifed");
    let (stdout, err) = gate_exits(
        1,
        Some(&stream),
        &["evaluate", "-f", "-", "--now", NOW, "-o", "json"],
    );
    assert!(
        err.contains("no SlaPolicy named \"unifed\" (did you mean \"unified\"?)"),
        "{err}"
    );
    assert!(
        err.contains("no SupportTier named \"critcal\" (did you mean \"critical\"?)"),
        "{err}"
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    assert!(errors >= 2, "{findings:#?}");
    for f in findings {
        assert!(f["line"].as_u64().is_some_and(|l| l > 1), "{f}");
    }
    // A region that names no calendar is a warning, with the suggestion.
    let stream = examples_stream().replace("region: north-america", "region: north-amerika");
    let (_, err) = gate_exits(
        0,
        Some(&stream),
        &["evaluate", "-f", "-", "--now", "2026-12-01T00:00:00Z"],
    );
    assert!(
        err.contains("warning: -:") && err.contains("field spec.region: region \"north-amerika\" names no calendar of SlaPolicy \"unified\": the default calendar (UTC) is used (did you mean \"north-america\"?)"),
        "{err}"
    );
    gate_exits(
        1,
        Some(&stream),
        &[
            "evaluate",
            "-f",
            "-",
            "--now",
            "2026-12-01T00:00:00Z",
            "--warnings-as-errors",
        ],
    );
}

/// A misspelled field: refused as `kubectl apply --validate=strict` refuses
/// it, with the line and the field it probably meant; in SARIF too.
#[test]
fn an_unknown_field_is_refused_with_its_line_in_text_and_sarif() {
    let stream = examples_stream().replacen("customerAvailability:", "customerAvailabilty:", 1);
    let (stdout, err) = gate_exits(
        1,
        Some(&stream),
        &["evaluate", "-f", "-", "--now", NOW, "-o", "sarif"],
    );
    assert!(
        err.contains("field spec.customerAvailabilty: unknown field \"spec.customerAvailabilty\" (did you mean \"customerAvailability\"?)"),
        "{err}"
    );
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let unknown = results
        .iter()
        .find(|r| r["ruleId"] == "schema")
        .unwrap_or_else(|| panic!("{results:#?}"));
    assert_eq!(unknown["level"], "error");
    let line = unknown["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap();
    let text_line = stream.lines().nth(line as usize - 1).unwrap();
    assert!(
        text_line.contains("customerAvailabilty:"),
        "line {line}: {text_line}"
    );
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"schema") && rules.contains(&"cel"),
        "{rules:?}"
    );
}

/// `--baseline`: the unified policy's B target from 2h to 4h moves the due
/// time of its B tickets by 2 business hours, and nothing else changes.
#[test]
fn impact_of_a_policy_change_per_ticket_and_in_sum() {
    let files: Vec<(String, String)> = EXAMPLE_FILES
        .iter()
        .map(|f| {
            let mut text = std::fs::read_to_string(examples().join(f)).unwrap();
            if *f == "policies.yaml" {
                let at = text.find("name: unified").unwrap();
                let b = at + text[at..].find("- name: B").unwrap();
                let target = b + text[b..].find("initialResponse: 2h").unwrap();
                text.replace_range(
                    target..target + "initialResponse: 2h".len(),
                    "initialResponse: 4h",
                );
            }
            (f.to_string(), text)
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let scratch = Scratch::new("impact", &borrowed);
    let new = scratch.0.display().to_string();
    let old = examples().display().to_string();
    let now = "2026-11-23T12:00:00Z";
    let (stdout, _) = gate_exits(
        0,
        None,
        &[
            "evaluate",
            "--baseline",
            &old,
            "-f",
            &new,
            "--now",
            now,
            "-o",
            "json",
        ],
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let tickets = doc["tickets"].as_array().unwrap();
    let down = tickets
        .iter()
        .find(|t| t["name"] == "payments-down-no-commitment")
        .unwrap_or_else(|| panic!("{doc:#}"));
    // Downgraded to B: 2h → 4h of 09:00–17:00 from Mon 08:00 UTC.
    assert_eq!(down["responseDue"]["before"], "2026-11-23T11:00:00Z");
    assert_eq!(down["responseDue"]["after"], "2026-11-23T13:00:00Z");
    assert_eq!(down["responseDue"]["movedSeconds"], 7200);
    assert_eq!(down["phase"]["before"], "Breached");
    assert_ne!(down["phase"]["after"], "Breached");
    for t in tickets {
        assert!(
            t.get("severity").is_none() && t.get("coverage").is_none(),
            "{t}"
        );
    }
    let summary = &doc["summary"];
    assert_eq!(summary["tickets"], 21);
    assert_eq!(
        summary["dueTimeChanged"].as_u64(),
        Some(
            tickets
                .iter()
                .filter(|t| t.get("responseDue").is_some())
                .count() as u64
        )
    );
    // The same in the table, with its summary line; no change, no line.
    let (_, text, _) = gate(
        None,
        &["evaluate", "--baseline", &old, "-f", &new, "--now", now],
    );
    assert!(
        text.contains("2026-11-23T11:00:00Z → 2026-11-23T13:00:00Z (+2h)"),
        "{text}"
    );
    assert!(text.contains("tickets change due time"), "{text}");
    let (_, text, _) = gate(
        None,
        &["evaluate", "--baseline", &old, "-f", &old, "--now", now],
    );
    assert!(
        text.contains(
            ": 0 tickets change due time (0 earlier, 0 later), 0 become Breached, 0 become Rejected"
        ),
        "{text}"
    );
}
