//! Issue 15 §3 and §2, offline: the edges of time (instants past what the
//! operator writes, the 100-year horizon, sub-second targets, zone names)
//! and spec timestamps read as strictly as the API server reads them.

use jiff::Timestamp;
use support_operator::catalog::Lookup;
use support_operator::evaluate::evaluate_manifests;
use support_operator::manifests::Manifests;

const MODEL: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: p}
spec:
  severities:
  - {name: A, initialResponse: 1h, coverage: 24x7}
  - {name: B, initialResponse: 100h, coverage: BusinessHours}
  calendars:
  - name: default
    timeZone: UTC
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
  - name: sparse
    timeZone: europe/WARSAW
    hours:
    - {days: [Mon], start: "09:00", end: "09:01"}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: t}
spec:
  supportModel: Formal
  slaPolicy: p
  escalation:
  - {supportType: HelpDesk, queue: desk}
  - {supportType: Vendor, queue: vendor, after: 2h}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: w}
spec: {namespace: ns, tier: t}
"#;

fn ticket(name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: supportpolicy.dev/v1alpha1\nkind: Ticket\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  title: x\n{spec}\n"
    )
}

fn judged(tickets: &str, now: &str) -> Vec<(String, serde_json::Value)> {
    let mut m = Manifests::default();
    m.add_str("edges.yaml", &format!("{MODEL}{tickets}"))
        .expect("the manifests are read");
    let now: Timestamp = now.parse().unwrap();
    evaluate_manifests(&m, now, "support-operator")
        .report
        .tickets
        .into_iter()
        .map(|t| (t.name, serde_json::to_value(t.status).unwrap()))
        .collect()
}

fn accepted_message(status: &serde_json::Value) -> String {
    status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Accepted")
        .map(|c| c["message"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Rule 7: an instant that would fall in 9999 (past the last one the
/// operator writes) is omitted like one that never comes; before, it was
/// written as jiff's maximum, 9999-12-30T22:00:00Z.
#[test]
fn instants_past_the_last_writable_year_are_omitted() {
    let out = judged(
        &ticket(
            "late",
            "  severity: A\n  openedAt: \"9998-12-31T23:30:00Z\"",
        ),
        "2026-11-23T08:00:00Z",
    );
    let status = &out[0].1;
    assert_eq!(status["phase"], "Pending", "{status:#}");
    assert!(status.get("responseDueAt").is_none(), "{status:#}");
    assert!(status.get("atRiskAt").is_none(), "{status:#}");
    let text = status.to_string();
    assert!(
        !text.contains("9999-"),
        "no instant in 9999 is written: {text}"
    );
    let message = accepted_message(status);
    assert!(message.contains("after the year 9998"), "{message}");
    assert!(!message.contains("paused"), "{message}");
    // Still written when it falls before the end of 9998.
    let out = judged(
        &ticket(
            "edge",
            "  severity: A\n  openedAt: \"9998-12-31T22:00:00Z\"",
        ),
        "2026-11-23T08:00:00Z",
    );
    assert_eq!(out[0].1["responseDueAt"], "9998-12-31T23:00:00Z");
}

/// The horizon has its own message: nothing is paused.
#[test]
fn a_target_beyond_the_horizon_says_so_not_paused() {
    // One minute a week: 100 h take about 115 years.
    let out = judged(
        &ticket(
            "sparse",
            "  severity: B\n  region: sparse\n  openedAt: \"2026-11-23T08:00:00Z\"",
        ),
        "2026-11-23T09:00:00Z",
    );
    let status = &out[0].1;
    assert!(status.get("responseDueAt").is_none(), "{status:#}");
    assert_ne!(status["phase"], "Paused");
    let message = accepted_message(status);
    assert!(message.contains("within 100 years"), "{message}");
    assert!(!message.contains("paused"), "{message}");
    // An open pause still says paused.
    let out = judged(
        &ticket(
            "held",
            "  severity: A\n  openedAt: \"2026-11-23T08:00:00Z\"\n  pauses:\n  - {from: \"2026-11-23T08:10:00Z\"}",
        ),
        "2026-11-23T09:00:00Z",
    );
    let message = accepted_message(&out[0].1);
    assert!(message.contains("while the clock is paused"), "{message}");
}

/// Deadlines are kept to the second: a sub-second target is refused, not
/// silently rounded to zero.
#[test]
fn sub_second_targets_are_refused() {
    for (target, refused) in [
        ("500ms", true),
        ("1500ms", true),
        ("0.5s", true),
        ("1000ms", false),
        ("1.5h", false),
    ] {
        let mut m = Manifests::default();
        m.add_str(
            "p.yaml",
            &MODEL.replace(
                "initialResponse: 1h,",
                &format!("initialResponse: {target},"),
            ),
        )
        .unwrap();
        let catalog = m.catalog();
        match catalog.policy("p") {
            Lookup::Invalid(problem) if refused => {
                assert_eq!(problem.field, "spec.severities[0].initialResponse");
                assert!(
                    problem.message.contains("whole number of seconds"),
                    "{problem}"
                );
            }
            Lookup::Found(p) if !refused => assert!(p.levels[0].target >= 1, "{target}"),
            other => panic!("{target}: {other:?}"),
        }
    }
}

/// Zone names as the database spells them.
#[test]
fn zone_names_are_canonical() {
    let mut m = Manifests::default();
    m.add_str("p.yaml", MODEL).unwrap();
    let catalog = m.catalog();
    let Lookup::Found(policy) = catalog.policy("p") else {
        panic!("policy p compiles")
    };
    let sparse = policy.calendar(Some("sparse")).unwrap();
    assert_eq!(sparse.zone_name, "Europe/Warsaw");
    let default = policy.calendar(None).unwrap();
    let (zone, _) = default.in_zone("america/new_york").unwrap();
    assert_eq!(zone, "America/New_York");
}

/// What `evaluate` refuses in `text`: the load error, or its error findings
/// (`evaluate` reports every finding instead of stopping at the first).
fn refusal(path: &str, text: &str) -> String {
    let mut m = Manifests::default();
    match m.add_str(path, text) {
        Err(e) => e.to_string(),
        Ok(()) => {
            let errors: Vec<String> = m
                .findings
                .iter()
                .filter(|f| f.severity == support_operator::manifests::Severity::Error)
                .map(|f| format!("field {}: {}", f.field, f.message))
                .collect();
            assert!(!errors.is_empty(), "{path}: accepted:\n{text}");
            errors.join("\n")
        }
    }
}

/// Offline, spec timestamps are read as the API server reads them, and the
/// error names the field.
#[test]
fn manifests_refuse_timestamps_the_api_server_refuses() {
    for (spec, field) in [
        ("  openedAt: \"2026-11-23t08:00:00z\"", "spec.openedAt"),
        ("  openedAt: \"2026-11-23T08:00:00+25:00\"", "spec.openedAt"),
        (
            "  firstResponseAt: \"2026-11-23 08:00:00Z\"",
            "spec.firstResponseAt",
        ),
        (
            "  pauses:\n  - {from: \"2026-11-23T08:00:00z\"}",
            "spec.pauses[0].from",
        ),
        (
            "  reopenOf: {name: o, closedAt: \"2026-11-23T08:00:00+24:00\", sameEnvironment: true, sameVersion: true}",
            "spec.reopenOf.closedAt",
        ),
    ] {
        let text = refusal("t.yaml", &ticket("t", &format!("  severity: A\n{spec}")));
        assert!(text.contains(&format!("field {field}")), "{spec}: {text}");
        // Our own help, or the API server's wording, which quotes the pattern.
        assert!(
            text.contains("upper-case T and Z")
                || text.contains(support_operator::api::pattern::INSTANT),
            "{text}"
        );
    }
    let text = refusal(
        "w.yaml",
        "apiVersion: supportpolicy.dev/v1alpha1\nkind: Workspace\nmetadata: {name: w}\nspec:\n  namespace: ns\n  tier: t\n  delegatedAdmins:\n  - {partner: f, group: g, provider: DirectProvider, expiresAt: \"2027-06-30T00:00:00+25:00\"}\n",
    );
    assert!(
        text.contains("field spec.delegatedAdmins[0].expiresAt"),
        "{text}"
    );
    let mut m = Manifests::default();
    m.add_str(
        "ok.yaml",
        &ticket(
            "t",
            "  severity: A\n  openedAt: \"2026-11-23T08:00:00.5-23:59\"",
        ),
    )
    .expect("an offset of -23:59 and a fraction are fine");
}

/// The alias budget leaves room for what people write: an anchored block
/// shared by the items of a List (anchors live within one document).
#[test]
fn anchors_for_a_shared_block_are_still_read() {
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..50 {
        let pauses = if i == 0 {
            "&waiting [{from: \"2026-11-23T09:00:00Z\", to: \"2026-11-23T10:00:00Z\", reason: AwaitingCustomer}]"
        } else {
            "*waiting"
        };
        text += &format!(
            "- apiVersion: supportpolicy.dev/v1alpha1\n  kind: Ticket\n  metadata: {{name: t{i}, namespace: ns}}\n  spec: {{title: x, severity: A, pauses: {pauses}}}\n"
        );
    }
    let mut m = Manifests::default();
    m.add_str("anchors.yaml", &text)
        .expect("anchors and aliases");
    assert_eq!(m.tickets.len(), 50);
    assert!(m.tickets.iter().all(|t| t.spec.pauses.len() == 1));
}
