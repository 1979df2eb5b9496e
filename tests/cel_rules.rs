//! The CEL rules of the CRDs, run client-side with kube's validator on good
//! and bad objects: what the API server refuses, and with which message.

use kube::CustomResourceExt;
use kube::core::cel::{validate_cel, validate_cel_update};
use serde::Serialize;
use serde::de::DeserializeOwned;
use support_operator::api::{SlaPolicy, SupportTier, Ticket, Workspace};

fn parse<K: DeserializeOwned>(yaml: &str) -> K {
    serde_saphyr::from_str(yaml)
        .unwrap_or_else(|e| panic!("test object does not parse: {e}\n{yaml}"))
}

/// Ok, or the messages the validator gave.
fn verdict<K: CustomResourceExt + Serialize>(obj: &K) -> Result<(), String> {
    validate_cel(obj).map_err(|e| format!("{e:?}"))
}

fn assert_refused<K: CustomResourceExt + Serialize>(obj: &K, message: &str) {
    match verdict(obj) {
        Ok(()) => panic!("accepted, expected refusal with {message:?}"),
        Err(e) => assert!(e.contains(message), "refused, but without {message:?}: {e}"),
    }
}

const POLICY: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: unified}
spec:
  severities:
  - {name: A, initialResponse: 1h, coverage: 24x7, requiresCustomer24x7: true}
  - {name: B, initialResponse: 2h, coverage: BusinessHours, allow24x7OnRequest: true}
  - {name: C, initialResponse: 1h30m, coverage: BusinessHours}
  atRiskAt: "75%"
  calendars:
  - name: default
    timeZone: UTC
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
  - name: night
    timeZone: Asia/Tokyo
    hours:
    - {days: [Sat], start: "20:00", end: "24:00"}
  holidays:
  - {date: "2026-12-25", name: Christmas}
  - {date: "01-01", name: New Year}
"#;

fn policy_with(edit: impl FnOnce(&mut serde_json::Value)) -> SlaPolicy {
    let mut v: serde_json::Value = parse(POLICY);
    edit(&mut v);
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_good_policy_passes() {
    verdict(&parse::<SlaPolicy>(POLICY)).unwrap();
}

#[test]
fn severities_must_be_unique() {
    let p = policy_with(|v| v["spec"]["severities"][1]["name"] = "A".into());
    assert_refused(&p, "severity names must be unique");
}

#[test]
fn durations_are_go_style() {
    for good in ["90m", "1h30m", "4h", "1.5h", "45s", "2h0m0s"] {
        let p = policy_with(|v| v["spec"]["severities"][0]["initialResponse"] = good.into());
        verdict(&p).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in ["1d", "-1h", "1 h", "h", "", "1H", "P1D"] {
        let p = policy_with(|v| v["spec"]["severities"][0]["initialResponse"] = bad.into());
        assert_refused(&p, "initialResponse must be a duration");
    }
}

#[test]
fn percentages_are_0_to_100() {
    for good in ["0%", "75%", "100%", "12.5%"] {
        let p = policy_with(|v| v["spec"]["atRiskAt"] = good.into());
        verdict(&p).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in ["101%", "75", "-5%", "7.%", "1000%"] {
        let p = policy_with(|v| v["spec"]["atRiskAt"] = bad.into());
        assert_refused(&p, "atRiskAt must be a percentage");
    }
}

#[test]
fn calendars_need_a_default_and_unique_names() {
    let p = policy_with(|v| v["spec"]["calendars"][0]["name"] = "office".into());
    assert_refused(&p, "calendars must include one named default");
    let p = policy_with(|v| v["spec"]["calendars"][1]["name"] = "default".into());
    assert_refused(&p, "calendar names must be unique");
}

#[test]
fn times_are_hh_mm_and_start_before_end() {
    let p = policy_with(|v| v["spec"]["calendars"][0]["hours"][0]["start"] = "25:00".into());
    assert_refused(&p, "start must be a time HH:MM");
    let p = policy_with(|v| v["spec"]["calendars"][0]["hours"][0]["end"] = "24:01".into());
    assert_refused(&p, "end must be a time HH:MM");
    let p = policy_with(|v| v["spec"]["calendars"][0]["hours"][0]["start"] = "9:00".into());
    assert_refused(&p, "start must be a time HH:MM");
    let p = policy_with(|v| v["spec"]["calendars"][0]["hours"][0]["start"] = "17:00".into());
    assert_refused(&p, "start must be before end");
    let p = policy_with(|v| v["spec"]["calendars"][0]["hours"][0]["start"] = "24:00".into());
    assert_refused(&p, "start must be a time HH:MM");
    // 24:00 as an end is fine (the night calendar above uses it).
    let p = policy_with(|v| v["spec"]["calendars"][0]["hours"][0]["end"] = "24:00".into());
    verdict(&p).unwrap();
}

#[test]
fn days_do_not_repeat() {
    let p = policy_with(|v| {
        v["spec"]["calendars"][0]["hours"][0]["days"] = serde_json::json!(["Mon", "Mon"])
    });
    assert_refused(&p, "days must not repeat");
}

#[test]
fn holiday_dates_are_full_or_yearly() {
    for good in ["2026-12-25", "12-25", "02-29"] {
        let p = policy_with(|v| v["spec"]["holidays"][0]["date"] = good.into());
        verdict(&p).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in [
        "2026-13-01",
        "12/25",
        "25-12",
        "2026-12-32",
        "Dec 25",
        "2026-1-1",
    ] {
        let p = policy_with(|v| v["spec"]["holidays"][0]["date"] = bad.into());
        assert_refused(&p, "date must be YYYY-MM-DD, or MM-DD for every year");
    }
}

const TIER: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: critical}
spec:
  displayName: Critical
  supportModel: Formal
  slaPolicy: unified
  escalation:
  - {supportType: HelpDesk, queue: it-helpdesk}
  - {supportType: Dedicated, queue: platform-team, after: 50%}
  - {supportType: Partner, queue: partner, after: 90m}
"#;

#[test]
fn escalation_after_is_a_share_or_a_duration() {
    verdict(&parse::<SupportTier>(TIER)).unwrap();
    let mut v: serde_json::Value = parse(TIER);
    v["spec"]["escalation"][1]["after"] = "half".into();
    let t: SupportTier = serde_json::from_value(v).unwrap();
    assert_refused(
        &t,
        "after must be a percentage of the response target (50%) or a duration (90m)",
    );
}

const WORKSPACE: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: finance}
spec:
  namespace: finance-support
  tier: critical
"#;

#[test]
fn workspace_namespace_is_a_dns_label_and_immutable() {
    let ws: Workspace = parse(WORKSPACE);
    verdict(&ws).unwrap();
    let mut bad = ws.clone();
    bad.spec.namespace = "Finance_Support".into();
    assert_refused(&bad, "namespace must be a DNS label");
    let mut moved = ws.clone();
    moved.spec.namespace = "elsewhere".into();
    let e = validate_cel_update(&moved, &ws).unwrap_err();
    assert!(format!("{e:?}").contains("namespace is immutable"), "{e:?}");
}

const TICKET: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: Ticket
metadata: {name: payments-down, namespace: finance-support}
spec:
  title: Payments app down
  severity: A
  language: en-US
  openedAt: "2026-11-23T08:00:00Z"
  pauses:
  - {from: "2026-11-23T09:00:00Z", to: "2026-11-23T10:00:00Z", reason: AwaitingCustomer}
  - {from: "2026-11-23T11:00:00Z"}
"#;

#[test]
fn a_pause_ends_after_it_starts() {
    let t: Ticket = parse(TICKET);
    verdict(&t).unwrap();
    let mut v: serde_json::Value = parse(TICKET);
    v["spec"]["pauses"][0]["to"] = "2026-11-23T08:59:00Z".into();
    let bad: Ticket = serde_json::from_value(v).unwrap();
    assert_refused(&bad, "a pause's to must be after its from");
}

#[test]
fn language_is_a_bcp47_tag() {
    let mut t: Ticket = parse(TICKET);
    t.spec.language = Some("english please".into());
    assert_refused(&t, "language must be a BCP 47 tag");
}

#[test]
fn opened_at_and_severity_are_immutable() {
    let old: Ticket = parse(TICKET);
    let mut moved = old.clone();
    moved.spec.opened_at = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-11-24T08:00:00Z".parse().unwrap(),
    ));
    let e = validate_cel_update(&moved, &old).unwrap_err();
    assert!(
        format!("{e:?}").contains("openedAt is immutable once set"),
        "{e:?}"
    );

    let mut removed = old.clone();
    removed.spec.opened_at = None;
    let e = validate_cel_update(&removed, &old).unwrap_err();
    assert!(
        format!("{e:?}").contains("openedAt is immutable once set"),
        "{e:?}"
    );

    let mut unset = old.clone();
    unset.spec.opened_at = None;
    // Setting it where it was absent is allowed (imports fill it in later).
    validate_cel_update(&old, &unset).unwrap();

    let mut raised = old.clone();
    raised.spec.severity = "B".into();
    let e = validate_cel_update(&raised, &old).unwrap_err();
    assert!(format!("{e:?}").contains("severity is immutable"), "{e:?}");

    let mut titled = old.clone();
    titled.spec.title = "Payments app slow".into();
    validate_cel_update(&titled, &old).unwrap();
}
