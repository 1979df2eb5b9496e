//! The CEL rules of the CRDs, run client-side with kube's validator on good
//! and bad objects: what the API server refuses, and with which message.

use kube::CustomResourceExt;
use kube::core::cel::{validate_cel, validate_cel_update};
use serde::Serialize;
use serde::de::DeserializeOwned;
use support_operator::api::{Publisher, SlaPolicy, SupportTier, Ticket, Workspace};

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
        "after must be a percentage of the response target from 0% to 1000% (150% is half a target overdue) or a duration (90m)",
    );
}

/// A chain goes on past the due time: up to ten targets, or any duration.
#[test]
fn escalation_after_may_pass_the_due_time_up_to_1000_percent() {
    let with = |after: &str| {
        let mut v: serde_json::Value = parse(TIER);
        v["spec"]["escalation"][2]["after"] = after.into();
        serde_json::from_value::<SupportTier>(v).unwrap()
    };
    for good in [
        "100%", "150%", "999.9%", "1000%", "1000.0%", "0%", "8h", "72h", "1h30m",
    ] {
        verdict(&with(good)).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in ["1000.5%", "1001%", "10000%", "-50%", "150", "1.5x"] {
        assert_refused(&with(bad), "from 0% to 1000%");
    }
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

const LIFE_TICKET: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: Ticket
metadata: {name: slow-reports, namespace: finance-support}
spec:
  title: Reports are slow
  severity: B
  openedAt: "2026-11-23T08:00:00Z"
  subscription: Paid
  product: {name: contoso-crm, publisher: contoso}
  investigation: Performance
  effort: 3h30m
  resolvedAt: "2026-11-25T16:00:00Z"
"#;

fn life_ticket_with(edit: impl FnOnce(&mut serde_json::Value)) -> Ticket {
    let mut v: serde_json::Value = parse(LIFE_TICKET);
    edit(&mut v);
    serde_json::from_value(v).unwrap()
}

#[test]
fn the_ticket_s_life_fields_pass_when_well_formed() {
    verdict(&parse::<Ticket>(LIFE_TICKET)).unwrap();
    // resolvedAt equal to openedAt is allowed (resolved on the spot).
    verdict(&life_ticket_with(|v| {
        v["spec"]["resolvedAt"] = "2026-11-23T08:00:00Z".into()
    }))
    .unwrap();
    // A product without a publisher is fine.
    verdict(&life_ticket_with(|v| {
        v["spec"]["product"] = serde_json::json!({"name": "crm"})
    }))
    .unwrap();
}

#[test]
fn effort_is_a_duration() {
    for good in ["0s", "45m", "3h30m", "1.5h"] {
        verdict(&life_ticket_with(|v| v["spec"]["effort"] = good.into()))
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in ["3.5 hours", "1d", "-1h", ""] {
        assert_refused(
            &life_ticket_with(|v| v["spec"]["effort"] = bad.into()),
            "effort must be a duration such as 45m or 3h30m",
        );
    }
}

#[test]
fn resolved_at_is_not_before_opened_at() {
    assert_refused(
        &life_ticket_with(|v| v["spec"]["resolvedAt"] = "2026-11-23T07:59:59Z".into()),
        "resolvedAt cannot be before openedAt",
    );
    // Without openedAt the clock starts at creation, which CEL cannot see.
    verdict(&life_ticket_with(|v| {
        v["spec"].as_object_mut().unwrap().remove("openedAt");
        v["spec"]["resolvedAt"] = "2020-01-01T00:00:00Z".into();
    }))
    .unwrap();
}

#[test]
fn a_product_publisher_is_an_object_name() {
    assert_refused(
        &life_ticket_with(|v| v["spec"]["product"]["publisher"] = "Contoso Ltd.".into()),
        "publisher must be the name of a Publisher",
    );
}

#[test]
fn resolution_and_effort_cap_durations() {
    let p = policy_with(|v| v["spec"]["severities"][2]["resolution"] = "40h".into());
    verdict(&p).unwrap();
    let p = policy_with(|v| v["spec"]["severities"][2]["resolution"] = "5 days".into());
    assert_refused(&p, "resolution must be a duration such as 40h or 5h30m");
    let cap = |limit: &str, investigations: serde_json::Value| {
        policy_with(|v| {
            v["spec"]["effortCap"] =
                serde_json::json!({"limit": limit, "investigations": investigations})
        })
    };
    verdict(&cap(
        "4h",
        serde_json::json!(["Performance", "NotReproducible"]),
    ))
    .unwrap();
    assert_refused(
        &cap("four hours", serde_json::json!(["Performance"])),
        "limit must be a duration such as 4h or 90m",
    );
    assert_refused(
        &cap("4h", serde_json::json!(["Performance", "Performance"])),
        "investigations must not repeat",
    );
}

const PUBLISHER: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: Publisher
metadata: {name: contoso}
spec:
  displayName: Contoso Ltd.
  contact: {url: "https://support.contoso.example", email: help@contoso.example, phone: "+1 555 0100"}
"#;

#[test]
fn a_publisher_has_at_least_one_well_formed_contact() {
    verdict(&parse::<Publisher>(PUBLISHER)).unwrap();
    let with = |contact: serde_json::Value| {
        let mut v: serde_json::Value = parse(PUBLISHER);
        v["spec"]["contact"] = contact;
        serde_json::from_value::<Publisher>(v).unwrap()
    };
    for one in [
        serde_json::json!({"url": "https://support.contoso.example/help?x=1"}),
        serde_json::json!({"email": "help@contoso.example"}),
        serde_json::json!({"phone": "+1 (555) 010-0"}),
    ] {
        verdict(&with(one.clone())).unwrap_or_else(|e| panic!("{one}: {e}"));
    }
    assert_refused(
        &with(serde_json::json!({})),
        "a contact needs at least one of url, email or phone",
    );
    assert_refused(
        &with(serde_json::json!({"url": "support.contoso.example"})),
        "url must be a web address starting with https:// or http://",
    );
    assert_refused(
        &with(serde_json::json!({"email": "help at contoso"})),
        "email must be an address such as help@contoso.example",
    );
    assert_refused(
        &with(serde_json::json!({"phone": "call us"})),
        "phone must be digits",
    );
}

#[test]
fn a_partner_contact_is_checked_as_a_publisher_s() {
    let mut v: serde_json::Value = parse(WORKSPACE);
    v["spec"]["delegatedAdmins"] = serde_json::json!([
        {"partner": "fabrikam", "group": "fabrikam-support", "provider": "IndirectProvider",
         "roles": ["ServiceSupportAdministrator"], "contact": {"email": "trials@fabrikam.example"}}
    ]);
    let ws: Workspace = serde_json::from_value(v.clone()).unwrap();
    verdict(&ws).unwrap();
    v["spec"]["delegatedAdmins"][0]["contact"] = serde_json::json!({});
    let ws: Workspace = serde_json::from_value(v).unwrap();
    assert_refused(&ws, "a contact needs at least one of url, email or phone");
}
