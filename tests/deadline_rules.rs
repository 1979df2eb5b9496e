//! DESIGN.md "Deadline rules (the order matters)", rules 1–10, tested from
//! the outside against `deadline::evaluate`.
//!
//! Every expected value here is derived by hand from DESIGN.md; the
//! arithmetic is in the comment next to it. Calendar facts used throughout
//! (checked against a wall calendar, not against this crate):
//!
//! * 2026-11-20 Fri, 2026-11-23 Mon … 2026-11-26 Thu (US Thanksgiving),
//!   2026-11-27 Fri, 2026-11-28 Sat, 2026-11-30 Mon;
//! * 2026-12-24 Thu, 2026-12-25 Fri, 2026-12-28 Mon, 2026-12-30 Wed,
//!   2027-01-01 Fri, 2027-01-04 Mon; 2027-12-23 Thu, 2027-12-24 Fri,
//!   2027-12-27 Mon, 2027-12-30 Thu, 2027-12-31 Fri; 2029-12-31 Mon, 2030-01-01 Tue;
//! * late November: Los Angeles is UTC−8 (PST; DST ended Sun 2026-11-01 at
//!   02:00 PDT, so 01:00–02:00 local happens twice, 08:00Z–10:00Z),
//!   Warsaw and Berlin UTC+1, Tokyo UTC+9; DST starts in Los Angeles on
//!   Sun 2027-03-14 (02:00 PST → 03:00 PDT: 02:00–03:00 local does not exist).
//!
//! The model below (policies `unified`, `regional`, `precise`; nine tiers;
//! ten workspaces) is built for these tests; one test also runs the shipped
//! `examples/`.
//!
//! Property tests (each `proptest!` block runs 256 cases, no regression
//! file is written):
//! * rules 2–4 against a restatement of the rules: effective severity never
//!   more severe than requested, at most one level less, coverage as rule 4;
//! * rules 6–8 against an independent second-exact model of the `default`
//!   calendar (UTC, 09:00–17:00 Mon–Fri, its holidays) and of 24x7;
//! * responseDueAt never before the start; atRiskAt between start and due;
//! * adding a pause never makes responseDueAt (or atRiskAt) earlier;
//! * rule 10: between `now` and `next_change` nothing changes, at
//!   `next_change` something does.

use std::path::PathBuf;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use proptest::prelude::*;
use serde_json::{Value, json};
use support_operator::api::{Coverage, Phase, SupportType, TicketSpec, TicketStatus};
use support_operator::catalog::Catalog;
use support_operator::deadline::{Evaluation, Snapshot, TicketInput, evaluate};
use support_operator::manifests::Manifests;

// ---------------------------------------------------------------------------
// The support model.

const MODEL: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: unified}
spec:
  severities:
  - {name: A, initialResponse: 1h, coverage: 24x7, requiresCustomer24x7: true}
  - {name: B, initialResponse: 2h, coverage: BusinessHours, allow24x7OnRequest: true}
  - {name: C, initialResponse: 4h, coverage: BusinessHours}
  roundTheClockLanguages: [en]
  atRiskAt: "75%"
  preview: {languages: [en], categories: [Technical]}
  calendars:
  - name: default
    timeZone: UTC
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
  - name: north-america
    timeZone: America/Los_Angeles
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "06:00", end: "18:00"}
  - name: japan
    timeZone: Asia/Tokyo
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:30"}
  holidays:
  - {date: "2026-12-25", name: Christmas}
  - {date: "01-01", name: New Year}
  - {date: "2026-12-31", name: NYE, calendars: []}
  - {date: "2026-11-26", name: Thanksgiving, calendars: [north-america]}
  - {date: "2026-11-23", name: Labour Thanksgiving Day, calendars: [japan]}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: regional}
spec:
  severities:
  - {name: urgent, initialResponse: 30m, coverage: 24x7, requiresCustomer24x7: true}
  - {name: high, initialResponse: 1h, coverage: 24x7}
  - {name: normal, initialResponse: 8h, coverage: BusinessHours, allow24x7OnRequest: true}
  - {name: last, initialResponse: 2h, coverage: 24x7, requiresCustomer24x7: true}
  roundTheClockLanguages: [en-GB, DE]
  preview: {languages: [en, DE], categories: [Technical, Billing]}
  calendars:
  - name: default
    timeZone: Europe/Berlin
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "08:00", end: "12:00"}
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "13:00", end: "17:00"}
  - name: la-night
    timeZone: America/Los_Angeles
    hours:
    - {days: [Sun], start: "01:00", end: "02:00"}
  - name: la-gap
    timeZone: America/Los_Angeles
    hours:
    - {days: [Sun], start: "02:00", end: "03:00"}
  holidays:
  - {date: "12-24", name: Christmas Eve, calendars: []}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: precise}
spec:
  severities:
  - {name: P, initialResponse: 1h, coverage: 24x7}
  atRiskAt: "66.66%"
  calendars:
  - name: default
    timeZone: UTC
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: critical}
spec:
  supportModel: Formal
  slaPolicy: unified
  entitlements: [Technical, Billing, Subscription, Advisory, EscalationManagement, AccountManagement]
  escalation:
  - {supportType: HelpDesk, queue: it-helpdesk}
  - {supportType: Dedicated, queue: platform-team, after: "50%"}
  - {supportType: Partner, queue: fabrikam-support, after: 90m}
  - {supportType: Vendor, queue: vendor-support, after: "100%"}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: important}
spec:
  supportModel: TeamAssisted
  slaPolicy: unified
  escalation:
  - {supportType: Team, queue: team-support}
  - {supportType: HelpDesk, queue: it-helpdesk, after: "50%"}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: narrow}
spec:
  supportModel: Formal
  slaPolicy: unified
  entitlements: []
  escalation:
  - {supportType: HelpDesk, queue: it-helpdesk}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: broken}
spec:
  supportModel: Formal
  slaPolicy: missing-policy
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: productivity}
spec:
  supportModel: Self
  entitlements: [Technical]
  escalation:
  - {supportType: Maker, queue: app-makers}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: besteffort-plus}
spec:
  supportModel: TeamAssisted
  escalation:
  - {supportType: Maker, queue: app-makers}
  - {supportType: Team, queue: team-support, after: 1m}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: quiet}
spec:
  supportModel: Self
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: regional}
spec:
  supportModel: Formal
  slaPolicy: regional
  escalation:
  - {supportType: HelpDesk, queue: emea-helpdesk}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: precise}
spec:
  supportModel: Formal
  slaPolicy: precise
  escalation:
  - {supportType: HelpDesk, queue: q-helpdesk}
  - {supportType: Dedicated, queue: q-dedicated, after: "33.3%"}
  - {supportType: Vendor, queue: q-vendor, after: 45m}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: finance}
spec:
  namespace: finance-support
  tier: critical
  allowedTiers: [important, critical, narrow, broken]
  agreement: Unified
  delegatedAdmins:
  - {partner: fabrikam, group: fabrikam-support, provider: IndirectProvider, roles: [ServiceSupportAdministrator], expiresAt: "2027-06-30T00:00:00Z"}
  - {partner: northwind, group: northwind-support, provider: IndirectReseller, roles: [ServiceSupportAdministrator]}
  - {partner: litware, group: litware-support, provider: DirectProvider, roles: [HelpdeskAdministrator]}
  - {partner: adatum, group: adatum-support, provider: DirectProvider, roles: [GlobalReader, ServiceSupportAdministrator], expiresAt: "2026-11-23T12:00:00Z"}
  - {partner: tailspin, group: tailspin-resale, provider: IndirectReseller, roles: [ServiceSupportAdministrator]}
  - {partner: tailspin, group: tailspin-support, provider: DirectProvider, roles: [ServiceSupportAdministrator]}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: marketing}
spec: {namespace: marketing-support, tier: important}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: open}
spec: {namespace: open-support, tier: productivity, allowedTiers: []}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: default}
spec: {namespace: support-default, tier: productivity}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: emea}
spec: {namespace: emea-support, tier: regional}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: lab}
spec: {namespace: lab-support, tier: precise}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: ghosted}
spec: {namespace: ghost-support, tier: ghost-tier}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: strict}
spec: {namespace: strict-support, tier: productivity, allowedTiers: [critical]}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: zeta}
spec: {namespace: shared-support, tier: productivity}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: alpha}
spec: {namespace: shared-support, tier: critical}
"#;

/// The model for the ticket's later life (rules 1's "belongs elsewhere",
/// 6–8's resolution, 7's chains past the due time, 11's effort cap).
/// `lifecycle`: A 1h 24x7 (resolution 4h), B 2h business hours (resolution
/// 16h), C 4h (no resolution target); Performance and NotReproducible work
/// capped at 4h. Partners of `shop`: alpine (direct provider, expires
/// 12-01, cannot file tickets), zeta-partner (indirect provider, may file,
/// never expires), a reseller; `kiosk`'s only partner may file until
/// 11-25 12:00; `solo` has none.
const LIFE: &str = r#"
apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {name: lifecycle}
spec:
  severities:
  - {name: A, initialResponse: 1h, resolution: 4h, coverage: 24x7}
  - {name: B, initialResponse: 2h, resolution: 16h, coverage: BusinessHours}
  - {name: C, initialResponse: 4h, coverage: BusinessHours}
  atRiskAt: "75%"
  effortCap: {limit: 4h, investigations: [Performance, NotReproducible]}
  calendars:
  - name: default
    timeZone: UTC
    hours:
    - {days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: care}
spec:
  supportModel: Formal
  slaPolicy: lifecycle
  entitlements: [Technical, Advisory]
  escalation:
  - {supportType: HelpDesk, queue: care-desk}
  - {supportType: Vendor, queue: vendor-escalations, after: "150%"}
  - {supportType: Dedicated, queue: duty-manager, after: 3h}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {name: care-basic}
spec:
  supportModel: TeamAssisted
  slaPolicy: lifecycle
  escalation:
  - {supportType: Team, queue: basic-team}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: shop}
spec:
  namespace: shop-support
  tier: care
  delegatedAdmins:
  - {partner: zeta-partner, group: zeta, provider: IndirectProvider, roles: [ServiceSupportAdministrator], contact: {url: "https://zeta.example/help"}}
  - {partner: resale-co, group: resale, provider: IndirectReseller, roles: [ServiceSupportAdministrator], contact: {phone: "+1 555 0199"}}
  - {partner: alpine, group: alpine, provider: DirectProvider, roles: [HelpdeskAdministrator], expiresAt: "2026-12-01T00:00:00Z", contact: {email: help@alpine.example}}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: kiosk}
spec:
  namespace: kiosk-support
  tier: care-basic
  delegatedAdmins:
  - {partner: alpine, group: alpine, provider: DirectProvider, roles: [ServiceSupportAdministrator], expiresAt: "2026-11-25T12:00:00Z"}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {name: solo}
spec: {namespace: solo-support, tier: care-basic}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Publisher
metadata: {name: contoso}
spec:
  displayName: Contoso Ltd.
  contact: {url: "https://support.contoso.example", email: help@contoso.example}
"#;

fn manifests() -> Manifests {
    let mut m = Manifests::default();
    m.add_str("model.yaml", MODEL)
        .expect("the test model parses");
    m.add_str("life.yaml", LIFE)
        .expect("the lifecycle model parses");
    m
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| manifests().catalog());

// ---------------------------------------------------------------------------
// Helpers.

fn t(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Creation timestamp used when a test does not care (every such ticket sets openedAt).
const CREATED: &str = "2026-01-01T00:00:00Z";

fn spec(fields: Value) -> TicketSpec {
    let mut fields = fields;
    let obj = fields.as_object_mut().expect("ticket fields are an object");
    obj.entry("title").or_insert_with(|| json!("test ticket"));
    serde_json::from_value(fields).expect("ticket spec deserializes")
}

fn eval_full(catalog: &Catalog, ns: &str, fields: Value, created: &str, now: &str) -> Evaluation {
    let spec = spec(fields);
    let input = TicketInput {
        namespace: ns,
        spec: &spec,
        created: t(created),
        generation: Some(7),
    };
    evaluate(catalog, input, None, t(now))
}

fn ev(ns: &str, fields: Value, now: &str) -> Evaluation {
    eval_full(&CATALOG, ns, fields, CREATED, now)
}

fn due(e: &Evaluation) -> Option<Timestamp> {
    e.status.response_due_at.as_ref().map(|x| x.0)
}

fn at_risk(e: &Evaluation) -> Option<Timestamp> {
    e.status.at_risk_at.as_ref().map(|x| x.0)
}

fn phase(e: &Evaluation) -> Phase {
    e.status.phase.expect("phase is always written")
}

fn cond<'a>(s: &'a TicketStatus, type_: &str) -> &'a Condition {
    let found: Vec<&Condition> = s.conditions.iter().filter(|c| c.type_ == type_).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one {type_} condition in {:#?}",
        s.conditions
    );
    found[0]
}

fn cond_status(e: &Evaluation, type_: &str) -> bool {
    match cond(&e.status, type_).status.as_str() {
        "True" => true,
        "False" => false,
        other => panic!("{type_} has status {other:?}"),
    }
}

fn esc(e: &Evaluation) -> Option<(u32, SupportType, String)> {
    e.status
        .escalation
        .as_ref()
        .map(|x| (x.level, x.support_type, x.queue.clone()))
}

fn level(n: u32, st: SupportType, queue: &str) -> Option<(u32, SupportType, String)> {
    Some((n, st, queue.to_string()))
}

fn next(e: &Evaluation) -> Option<Timestamp> {
    e.next_change
}

/// Rule 1: `Accepted=False` with that reason, phase `Rejected`, no deadlines;
/// rule 10: nothing will change.
#[track_caller]
fn assert_rejected(e: &Evaluation, reason: &str) {
    assert_eq!(phase(e), Phase::Rejected, "{:#?}", e.status);
    let accepted = cond(&e.status, "Accepted");
    assert_eq!(accepted.status, "False");
    assert_eq!(accepted.reason, reason, "{:#?}", e.status);
    let s = &e.status;
    assert_eq!(s.severity, None);
    assert_eq!(s.downgrade, None);
    assert_eq!(s.coverage, None);
    assert_eq!(s.calendar, None);
    assert_eq!(s.response_due_at, None);
    assert_eq!(s.at_risk_at, None);
    assert_eq!(s.escalation, None);
    assert_eq!(s.redirect, None);
    assert_eq!(e.next_change, None);
    let v = serde_json::to_value(s).unwrap();
    for key in [
        "resolutionDueAt",
        "redirect",
        "nextStep",
        "severity",
        "coverage",
        "calendar",
        "responseDueAt",
        "atRiskAt",
        "escalation",
        "downgrade",
    ] {
        assert!(
            v.get(key).is_none(),
            "{key} written for a rejected ticket: {v}"
        );
    }
}

#[track_caller]
fn assert_accepted(e: &Evaluation) {
    assert_ne!(phase(e), Phase::Rejected, "{:#?}", e.status);
    assert!(cond_status(e, "Accepted"), "{:#?}", e.status);
}

const BH: Option<Coverage> = Some(Coverage::BusinessHours);
const RTC: Option<Coverage> = Some(Coverage::RoundTheClock);

#[track_caller]
fn assert_sla(
    e: &Evaluation,
    severity: &str,
    downgraded_from: Option<&str>,
    coverage: Option<Coverage>,
    calendar: &str,
    due_at: Option<&str>,
    at_risk_at: Option<&str>,
) {
    assert_accepted(e);
    let s = &e.status;
    assert_eq!(s.severity.as_deref(), Some(severity), "severity in {s:#?}");
    match downgraded_from {
        Some(from) => {
            let d = s.downgrade.as_ref().expect("a downgrade");
            assert_eq!(d.from, from);
            assert_eq!(d.reason, "CustomerNot24x7");
        }
        None => assert_eq!(s.downgrade, None, "no downgrade expected"),
    }
    assert_eq!(s.coverage, coverage, "coverage");
    assert_eq!(s.calendar.as_deref(), Some(calendar), "calendar");
    assert_eq!(due(e), due_at.map(t), "responseDueAt");
    assert_eq!(at_risk(e), at_risk_at.map(t), "atRiskAt");
}

fn resolution_due(e: &Evaluation) -> Option<Timestamp> {
    e.status.resolution_due_at.as_ref().map(|x| x.0)
}

/// Rule 1, belongs elsewhere: `Accepted=False` with that reason, phase
/// `Redirected`, the redirect, and (as for a rejection) no deadlines and
/// nothing that will change.
#[track_caller]
fn assert_redirected(e: &Evaluation, reason: &str, redirect: Value) {
    assert_eq!(phase(e), Phase::Redirected, "{:#?}", e.status);
    let accepted = cond(&e.status, "Accepted");
    assert_eq!(accepted.status, "False");
    assert_eq!(accepted.reason, reason, "{:#?}", e.status);
    assert_eq!(
        serde_json::to_value(&e.status.redirect).unwrap(),
        redirect,
        "redirect"
    );
    assert_not_written(
        &e.status,
        &[
            "severity",
            "coverage",
            "calendar",
            "responseDueAt",
            "atRiskAt",
            "resolutionDueAt",
            "escalation",
            "downgrade",
            "nextStep",
        ],
        "a redirected ticket",
    );
    assert_eq!(e.next_change, None);
    assert_eq!(
        e.status.conditions.len(),
        1,
        "only Accepted: {:#?}",
        e.status
    );
}

/// "YYYY-MM-DDTHH:MM:SSZ" exactly.
/// None of `keys` is written in `status` (`what` names the ticket, for the message).
fn assert_not_written(status: &TicketStatus, keys: &[&str], what: &str) {
    let v = serde_json::to_value(status).unwrap();
    for key in keys {
        assert!(v.get(key).is_none(), "{key} written for {what}: {v}");
    }
}

fn whole_second_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn timestamps_in(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if [
                    "responseDueAt",
                    "atRiskAt",
                    "resolutionDueAt",
                    "lastTransitionTime",
                ]
                .contains(&k.as_str())
                {
                    out.push((
                        k.clone(),
                        x.as_str().expect("timestamp is a string").to_string(),
                    ));
                }
                timestamps_in(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| timestamps_in(x, out)),
        _ => {}
    }
}

const CONDITION_TYPES: [&str; 8] = [
    "Accepted",
    "AtRisk",
    "Breached",
    "Responded",
    "Paused",
    "Resolved",
    "ResolutionBreached",
    "EffortCapReached",
];

// ---------------------------------------------------------------------------
// Rule 1: resolve and check, first failure wins.

#[test]
fn rule1_no_workspace() {
    let e = ev(
        "nowhere",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T09:00:00Z",
    );
    assert_rejected(&e, "NoWorkspace");
}

#[test]
fn rule1_unknown_tier_from_ticket_and_from_workspace() {
    let now = "2026-11-23T09:00:00Z";
    let e = ev(
        "finance-support",
        json!({"severity": "A", "tier": "ghost", "openedAt": "2026-11-23T08:00:00Z"}),
        now,
    );
    assert_rejected(&e, "UnknownTier");
    // The workspace's own tier does not exist.
    let e = ev(
        "ghost-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"}),
        now,
    );
    assert_rejected(&e, "UnknownTier");
}

#[test]
fn rule1_tier_not_allowed() {
    let now = "2026-11-23T09:00:00Z";
    // finance allows [important, critical, narrow, broken]; productivity exists but is not listed.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "tier": "productivity", "openedAt": "2026-11-23T08:00:00Z"}),
        now,
    );
    assert_rejected(&e, "TierNotAllowed");
    // The workspace's own tier is checked too: strict has tier productivity, allowedTiers [critical].
    let e = ev(
        "strict-support",
        json!({"severity": "C", "openedAt": "2026-11-23T08:00:00Z"}),
        now,
    );
    assert_rejected(&e, "TierNotAllowed");
    // An empty allowedTiers restricts nothing (open: allowedTiers []), nor does an absent one (marketing).
    let e = ev(
        "open-support",
        json!({"severity": "C", "tier": "critical", "openedAt": "2026-11-23T08:00:00Z"}),
        now,
    );
    assert_accepted(&e);
    assert_eq!(e.status.tier.as_deref(), Some("critical"));
    let e = ev(
        "marketing-support",
        json!({"severity": "C", "tier": "critical", "openedAt": "2026-11-23T08:00:00Z"}),
        now,
    );
    assert_accepted(&e);
    assert_eq!(e.status.workspace.as_deref(), Some("marketing"));
    assert_eq!(e.status.tier.as_deref(), Some("critical"));
}

#[test]
fn rule1_no_sla_policy() {
    // broken names SlaPolicy missing-policy, which does not exist.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "tier": "broken", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T09:00:00Z",
    );
    assert_rejected(&e, "NoSlaPolicy");
}

#[test]
fn rule1_unknown_severity() {
    let e = ev(
        "finance-support",
        json!({"severity": "D", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T09:00:00Z",
    );
    assert_rejected(&e, "UnknownSeverity");
    // Severity names are the regional policy's, not unified's.
    let e = ev(
        "emea-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T09:00:00Z",
    );
    assert_rejected(&e, "UnknownSeverity");
}

#[test]
fn rule1_entitlements() {
    let now = "2026-11-23T09:00:00Z";
    let opened = "2026-11-23T08:00:00Z";
    // important has no entitlements field: [Technical, Billing, Subscription].
    for cat in ["Technical", "Billing", "Subscription"] {
        let e = ev(
            "marketing-support",
            json!({"severity": "C", "category": cat, "openedAt": opened}),
            now,
        );
        assert_accepted(&e);
    }
    for cat in ["Advisory", "EscalationManagement", "AccountManagement"] {
        let e = ev(
            "marketing-support",
            json!({"severity": "C", "category": cat, "openedAt": opened}),
            now,
        );
        assert_rejected(&e, "NotEntitled");
    }
    // critical lists all six.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "category": "Advisory", "openedAt": opened}),
        now,
    );
    assert_accepted(&e);
    // narrow has entitlements: [] — nothing, not even the default category Technical.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "tier": "narrow", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "NotEntitled");
    let e = ev(
        "finance-support",
        json!({"severity": "C", "tier": "narrow", "category": "Billing", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "NotEntitled");
}

#[test]
fn rule1_preview_languages_and_categories() {
    let now = "2026-11-23T09:00:00Z";
    let opened = "2026-11-23T08:00:00Z";
    // unified: preview {languages: [en], categories: [Technical]}.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "productStage": "PublicPreview", "language": "de", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "PreviewNotSupported");
    let e = ev(
        "finance-support",
        json!({"severity": "B", "productStage": "PrivatePreview", "category": "Billing", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "PreviewNotSupported");
    for lang in [None, Some("en"), Some("en-US"), Some("EN"), Some("En-gb")] {
        let mut f = json!({"severity": "B", "productStage": "PublicPreview", "category": "Technical", "openedAt": opened});
        if let Some(l) = lang {
            f["language"] = json!(l);
        }
        let e = ev("finance-support", f, now);
        assert_accepted(&e);
    }
    // GA needs no preview support at all.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "language": "ja", "category": "Billing", "openedAt": opened}),
        now,
    );
    assert_accepted(&e);
    // regional: preview {languages: [en, DE], categories: [Technical, Billing]}.
    let e = ev(
        "emea-support",
        json!({"severity": "normal", "productStage": "PrivatePreview", "language": "de-AT", "category": "Billing", "openedAt": opened}),
        now,
    );
    assert_accepted(&e);
    let e = ev(
        "emea-support",
        json!({"severity": "normal", "productStage": "PublicPreview", "language": "fr", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "PreviewNotSupported");
    let e = ev(
        "emea-support",
        json!({"severity": "normal", "productStage": "PublicPreview", "language": "de", "category": "Subscription", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "PreviewNotSupported");
    // precise has no preview section: the defaults [en] and [Technical] apply.
    let e = ev(
        "lab-support",
        json!({"severity": "P", "productStage": "PublicPreview", "language": "de", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "PreviewNotSupported");
    let e = ev(
        "lab-support",
        json!({"severity": "P", "productStage": "PublicPreview", "category": "Billing", "openedAt": opened}),
        now,
    );
    assert_rejected(&e, "PreviewNotSupported");
    let e = ev(
        "lab-support",
        json!({"severity": "P", "productStage": "PublicPreview", "openedAt": opened}),
        now,
    );
    assert_accepted(&e);
}

#[test]
fn rule1_partners() {
    let now = "2026-11-30T12:00:00Z";
    let with = |partner: &str, opened: &str| {
        ev(
            "finance-support",
            json!({"severity": "B", "openedAt": opened, "onBehalfOf": {"partner": partner}}),
            now,
        )
    };
    // fabrikam: IndirectProvider, role present, expires 2027-06-30.
    assert_accepted(&with("fabrikam", "2026-11-23T08:00:00Z"));
    // northwind: IndirectReseller.
    assert_rejected(
        &with("northwind", "2026-11-23T08:00:00Z"),
        "PartnerNotAuthorized",
    );
    // litware: DirectProvider without ServiceSupportAdministrator.
    assert_rejected(
        &with("litware", "2026-11-23T08:00:00Z"),
        "PartnerNotAuthorized",
    );
    // No relationship at all.
    assert_rejected(
        &with("contoso-partner", "2026-11-23T08:00:00Z"),
        "PartnerNotAuthorized",
    );
    // tailspin: one reseller entry and one suitable DirectProvider entry — "some entry" suffices.
    assert_accepted(&with("tailspin", "2026-11-23T08:00:00Z"));
    // adatum expires 2026-11-23T12:00:00Z: must be *after* the clock start.
    assert_accepted(&with("adatum", "2026-11-23T11:59:59Z")); // evaluated on 11-30, after expiry: still accepted
    assert_rejected(
        &with("adatum", "2026-11-23T12:00:00Z"),
        "PartnerNotAuthorized",
    ); // equal is not after
    assert_rejected(
        &with("adatum", "2026-11-23T13:00:00Z"),
        "PartnerNotAuthorized",
    );
    // Without openedAt the clock starts at creationTimestamp.
    let f = || json!({"severity": "B", "onBehalfOf": {"partner": "adatum"}});
    let e = eval_full(
        &CATALOG,
        "finance-support",
        f(),
        "2026-11-23T11:00:00Z",
        now,
    );
    assert_accepted(&e);
    let e = eval_full(
        &CATALOG,
        "finance-support",
        f(),
        "2026-11-23T12:30:00Z",
        now,
    );
    assert_rejected(&e, "PartnerNotAuthorized");
}

#[test]
fn rule1_reopen() {
    let now = "2028-06-01T00:00:00Z";
    let reopen = |closed: &str, env: Option<bool>, ver: Option<bool>, opened: &str| {
        let mut r = json!({"name": "old-ticket", "closedAt": closed});
        if let Some(x) = env {
            r["sameEnvironment"] = json!(x);
        }
        if let Some(x) = ver {
            r["sameVersion"] = json!(x);
        }
        ev(
            "finance-support",
            json!({"severity": "B", "openedAt": opened, "reopenOf": r}),
            now,
        )
    };
    let yes = Some(true);
    // Closed 2026-09-15 → limit 2026-12-15T00:00:00Z.
    assert_accepted(&reopen(
        "2026-09-15T00:00:00Z",
        yes,
        yes,
        "2026-11-27T10:00:00Z",
    ));
    assert_accepted(&reopen(
        "2026-09-15T00:00:00Z",
        yes,
        yes,
        "2026-12-14T23:59:59Z",
    ));
    assert_rejected(
        &reopen("2026-09-15T00:00:00Z", yes, yes, "2026-12-15T00:00:00Z"),
        "ReopenNotAllowed",
    );
    // Same error elsewhere or on another version: a new ticket.
    assert_rejected(
        &reopen(
            "2026-11-01T00:00:00Z",
            Some(false),
            yes,
            "2026-11-27T10:00:00Z",
        ),
        "ReopenNotAllowed",
    );
    assert_rejected(
        &reopen(
            "2026-11-01T00:00:00Z",
            yes,
            Some(false),
            "2026-11-27T10:00:00Z",
        ),
        "ReopenNotAllowed",
    );
    // Absent flags are not true.
    assert_rejected(
        &reopen("2026-11-01T00:00:00Z", None, None, "2026-11-27T10:00:00Z"),
        "ReopenNotAllowed",
    );
    // 30 Nov + 3 months = 28 Feb (2027 has no 29 Feb, 30 or 31): limit 2027-02-28T10:00:00Z.
    assert_accepted(&reopen(
        "2026-11-30T10:00:00Z",
        yes,
        yes,
        "2027-02-28T09:59:59Z",
    ));
    assert_rejected(
        &reopen("2026-11-30T10:00:00Z", yes, yes, "2027-02-28T10:00:00Z"),
        "ReopenNotAllowed",
    );
    // Leap year: 2027-11-30 + 3 months = 2028-02-29.
    assert_accepted(&reopen(
        "2027-11-30T10:00:00Z",
        yes,
        yes,
        "2028-02-29T09:59:59Z",
    ));
    assert_rejected(
        &reopen("2027-11-30T10:00:00Z", yes, yes, "2028-02-29T10:00:00Z"),
        "ReopenNotAllowed",
    );
    // 31 Aug + 3 months = 30 Nov.
    assert_accepted(&reopen(
        "2026-08-31T00:00:00Z",
        yes,
        yes,
        "2026-11-29T23:59:59Z",
    ));
    assert_rejected(
        &reopen("2026-08-31T00:00:00Z", yes, yes, "2026-11-30T00:00:00Z"),
        "ReopenNotAllowed",
    );
    // In UTC: 2026-11-29T23:00:00-02:00 is 2026-11-30T01:00:00Z → limit 2027-02-28T01:00:00Z
    // (local arithmetic would give 2027-02-28T23:00-02:00 = 2027-03-01T01:00:00Z).
    assert_accepted(&reopen(
        "2026-11-29T23:00:00-02:00",
        yes,
        yes,
        "2027-02-28T00:59:59Z",
    ));
    assert_rejected(
        &reopen(
            "2026-11-29T23:00:00-02:00",
            yes,
            yes,
            "2027-02-28T01:00:00Z",
        ),
        "ReopenNotAllowed",
    );
}

#[test]
fn rule1_first_failure_wins() {
    let now = "2026-11-30T12:00:00Z";
    // Every later check would fail too: unknown severity, an Advisory
    // category, a German preview, a reseller, a stale reopen.
    let bad = |ns: &str,
               tier: Option<&str>,
               severity: &str,
               category: &str,
               stage: &str,
               partner: &str,
               same: bool| {
        let mut f = json!({
            "severity": severity,
            "category": category,
            "productStage": stage,
            "language": "de",
            "openedAt": "2026-11-23T08:00:00Z",
            "onBehalfOf": {"partner": partner},
            "reopenOf": {"name": "x", "closedAt": "2026-01-01T00:00:00Z", "sameEnvironment": same, "sameVersion": same},
        });
        if let Some(tier) = tier {
            f["tier"] = json!(tier);
        }
        ev(ns, f, now)
    };
    assert_rejected(
        &bad(
            "nowhere",
            Some("ghost"),
            "Z",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "NoWorkspace",
    );
    // Unknown tier that is also not in allowedTiers: UnknownTier comes first.
    assert_rejected(
        &bad(
            "finance-support",
            Some("ghost"),
            "Z",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "UnknownTier",
    );
    // broken lacks its policy, productivity is not allowed: TierNotAllowed before NoSlaPolicy.
    assert_rejected(
        &bad(
            "finance-support",
            Some("productivity"),
            "Z",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "TierNotAllowed",
    );
    assert_rejected(
        &bad(
            "finance-support",
            Some("broken"),
            "Z",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "NoSlaPolicy",
    );
    // narrow entitles nothing, but the severity is checked first.
    assert_rejected(
        &bad(
            "finance-support",
            Some("narrow"),
            "Z",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "UnknownSeverity",
    );
    assert_rejected(
        &bad(
            "finance-support",
            Some("narrow"),
            "A",
            "Technical",
            "PublicPreview",
            "northwind",
            false,
        ),
        "NotEntitled",
    );
    // important: Advisory not entitled, checked before the preview.
    assert_rejected(
        &bad(
            "finance-support",
            Some("important"),
            "A",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "NotEntitled",
    );
    assert_rejected(
        &bad(
            "finance-support",
            Some("critical"),
            "A",
            "Advisory",
            "PublicPreview",
            "northwind",
            false,
        ),
        "PreviewNotSupported",
    );
    assert_rejected(
        &bad(
            "finance-support",
            Some("critical"),
            "A",
            "Advisory",
            "GA",
            "northwind",
            false,
        ),
        "PartnerNotAuthorized",
    );
    assert_rejected(
        &bad(
            "finance-support",
            Some("critical"),
            "A",
            "Advisory",
            "GA",
            "fabrikam",
            false,
        ),
        "ReopenNotAllowed",
    );
    // Same flags but the reopen window (closed 2026-01-01 → 2026-04-01) is long gone.
    assert_rejected(
        &bad(
            "finance-support",
            Some("critical"),
            "A",
            "Advisory",
            "GA",
            "fabrikam",
            true,
        ),
        "ReopenNotAllowed",
    );
}

#[test]
fn rule1_languages_compare_by_primary_subtag() {
    // A with the customer's 24x7 commitment gets 24x7 only if R holds (rule 2):
    // unified's roundTheClockLanguages is [en].
    let opened = "2026-11-24T22:00:00Z";
    for lang in ["en", "en-US", "EN", "eN-Gb"] {
        let e = ev(
            "finance-support",
            json!({"severity": "A", "language": lang, "customerAvailability": "24x7", "openedAt": opened}),
            "2026-11-24T22:10:00Z",
        );
        // 22:00 + 1h = 23:00; 75% of 3600 s = 2700 s → 22:45.
        assert_sla(
            &e,
            "A",
            None,
            RTC,
            "default",
            Some("2026-11-24T23:00:00Z"),
            Some("2026-11-24T22:45:00Z"),
        );
    }
    // regional lists [en-GB, DE]: en and de-CH are in; fr is not.
    // high (1h, 24x7, no commitment needed), opened Sat 2026-11-28T10:00Z.
    for lang in ["en", "EN-us", "de-CH", "DE"] {
        let e = ev(
            "emea-support",
            json!({"severity": "high", "language": lang, "openedAt": "2026-11-28T10:00:00Z"}),
            "2026-11-28T10:00:00Z",
        );
        assert_sla(
            &e,
            "high",
            None,
            RTC,
            "default",
            Some("2026-11-28T11:00:00Z"),
            None,
        );
    }
}

#[test]
fn rule1_namespace_claimed_twice_first_by_name_wins() {
    // zeta (productivity) and alpha (critical) both claim shared-support; alpha < zeta.
    let f = || json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00Z"});
    let e = ev("shared-support", f(), "2026-11-24T22:10:00Z");
    assert_eq!(e.status.workspace.as_deref(), Some("alpha"));
    assert_eq!(e.status.tier.as_deref(), Some("critical"));
    assert_sla(
        &e,
        "A",
        None,
        RTC,
        "default",
        Some("2026-11-24T23:00:00Z"),
        Some("2026-11-24T22:45:00Z"),
    );
    // Whatever order the workspaces come in.
    let m = manifests();
    let mut reversed = m.workspaces.clone();
    reversed.reverse();
    let catalog = Catalog::new(&m.policies, &m.tiers, &reversed);
    let e = eval_full(
        &catalog,
        "shared-support",
        f(),
        CREATED,
        "2026-11-24T22:10:00Z",
    );
    assert_eq!(e.status.workspace.as_deref(), Some("alpha"));
    // The other one is the one whose namespace is taken.
    let zeta = CATALOG.workspaces.get("zeta").unwrap();
    let alpha = CATALOG.workspaces.get("alpha").unwrap();
    assert_eq!(CATALOG.namespace_taken_by(zeta), Some("alpha"));
    assert_eq!(CATALOG.namespace_taken_by(alpha), None);
}

// ---------------------------------------------------------------------------
// Rules 2–4: round the clock, effective severity, coverage.

#[test]
fn rule3_a_without_commitment_downgrades_to_b() {
    // Mon 08:00Z; B: 2h business hours on default (UTC 09–17):
    // due 09:00 + 2h = 11:00; at risk 75% × 7200 = 5400 s → 10:30.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T09:30:00Z",
    );
    assert_sla(
        &e,
        "B",
        Some("A"),
        BH,
        "default",
        Some("2026-11-23T11:00:00Z"),
        Some("2026-11-23T10:30:00Z"),
    );
    // Explicit BusinessHours availability is the same.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "customerAvailability": "BusinessHours", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T09:30:00Z",
    );
    assert_sla(
        &e,
        "B",
        Some("A"),
        BH,
        "default",
        Some("2026-11-23T11:00:00Z"),
        Some("2026-11-23T10:30:00Z"),
    );
}

#[test]
fn rule3_a_with_commitment_stays_a_on_24x7() {
    // 22:00Z + 1h = 23:00; at risk 2700 s → 22:45.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00Z"}),
        "2026-11-24T22:10:00Z",
    );
    assert_sla(
        &e,
        "A",
        None,
        RTC,
        "default",
        Some("2026-11-24T23:00:00Z"),
        Some("2026-11-24T22:45:00Z"),
    );
}

#[test]
fn rule2_non_english_keeps_severity_on_business_hours() {
    // R fails (de ∉ [en]): no downgrade, BusinessHours, A's 1h.
    // Tue 16:30Z: 30 min to 17:00, then Wed 09:00 + 30 min = 09:30.
    // At risk 2700 s: 30 min Tue, Wed 09:00 + 15 min = 09:15.
    for avail in ["24x7", "BusinessHours"] {
        let e = ev(
            "finance-support",
            json!({"severity": "A", "language": "de", "customerAvailability": avail, "openedAt": "2026-11-24T16:30:00Z"}),
            "2026-11-24T16:40:00Z",
        );
        assert_sla(
            &e,
            "A",
            None,
            BH,
            "default",
            Some("2026-11-25T09:30:00Z"),
            Some("2026-11-25T09:15:00Z"),
        );
    }
}

#[test]
fn rule2_preview_keeps_severity_on_business_hours() {
    // Mon 10:00Z + 1h = 11:00; at risk 45 min → 10:45.
    for stage in ["PublicPreview", "PrivatePreview"] {
        for avail in ["24x7", "BusinessHours"] {
            let e = ev(
                "finance-support",
                json!({"severity": "A", "productStage": stage, "customerAvailability": avail, "openedAt": "2026-11-23T10:00:00Z"}),
                "2026-11-23T10:10:00Z",
            );
            assert_sla(
                &e,
                "A",
                None,
                BH,
                "default",
                Some("2026-11-23T11:00:00Z"),
                Some("2026-11-23T10:45:00Z"),
            );
        }
    }
    // B with 24x7 requested, preview: never 24x7, and no downgrade for it.
    // Tue 13:00Z + 2h = 15:00; at risk 90 min → 14:30.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "productStage": "PublicPreview", "coverageRequested": "24x7", "openedAt": "2026-11-24T13:00:00Z"}),
        "2026-11-24T13:10:00Z",
    );
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-24T15:00:00Z"),
        Some("2026-11-24T14:30:00Z"),
    );
}

#[test]
fn rule3_at_most_one_downgrade() {
    // A → B (CustomerNot24x7); B would also need the commitment for the
    // requested 24x7, but there is no second downgrade: B on BusinessHours.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "coverageRequested": "24x7", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T08:30:00Z",
    );
    assert_sla(
        &e,
        "B",
        Some("A"),
        BH,
        "default",
        Some("2026-11-23T11:00:00Z"),
        Some("2026-11-23T10:30:00Z"),
    );
}

#[test]
fn rule3_b_requested_24x7() {
    // With the commitment: 24x7, Wed 18:30Z + 2h = 20:30; at risk 90 min → 20:00.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "coverageRequested": "24x7", "customerAvailability": "24x7", "openedAt": "2026-11-25T18:30:00Z"}),
        "2026-11-25T18:40:00Z",
    );
    assert_sla(
        &e,
        "B",
        None,
        RTC,
        "default",
        Some("2026-11-25T20:30:00Z"),
        Some("2026-11-25T20:00:00Z"),
    );
    // Without: downgraded to C (4h, BusinessHours). Mon 08:00Z → 09:00 + 4h = 13:00;
    // at risk 75% × 14400 = 10800 s → 12:00.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "coverageRequested": "24x7", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T08:30:00Z",
    );
    assert_sla(
        &e,
        "C",
        Some("B"),
        BH,
        "default",
        Some("2026-11-23T13:00:00Z"),
        Some("2026-11-23T12:00:00Z"),
    );
    // Without, in German: R fails, no downgrade, B on BusinessHours → 11:00.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "coverageRequested": "24x7", "language": "de", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-11-23T08:30:00Z",
    );
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-23T11:00:00Z"),
        Some("2026-11-23T10:30:00Z"),
    );
    // A commitment without a request gives B nothing more: Sat 10:00Z → Mon 09:00 + 2h = 11:00.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "customerAvailability": "24x7", "openedAt": "2026-11-28T10:00:00Z"}),
        "2026-11-28T10:30:00Z",
    );
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-30T11:00:00Z"),
        Some("2026-11-30T10:30:00Z"),
    );
    // C does not allow 24x7 on request: Sat 10:00Z → Mon 09:00 + 4h = 13:00; at risk 12:00.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "coverageRequested": "24x7", "customerAvailability": "24x7", "openedAt": "2026-11-28T10:00:00Z"}),
        "2026-11-28T10:30:00Z",
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-30T13:00:00Z"),
        Some("2026-11-30T12:00:00Z"),
    );
}

#[test]
fn rule3_regional_levels() {
    // regional: urgent 30m 24x7 needs customer; high 1h 24x7; normal 8h BH on request;
    // last 2h 24x7 needs customer. default = Europe/Berlin 08–12, 13–17; no atRiskAt.
    let now = "2026-11-23T07:00:00Z";
    // urgent without commitment → the *next entry* high, which is 24x7 without needing anyone.
    // Sat 10:00Z + 1h = 11:00.
    let e = ev(
        "emea-support",
        json!({"severity": "urgent", "openedAt": "2026-11-28T10:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "high",
        Some("urgent"),
        RTC,
        "default",
        Some("2026-11-28T11:00:00Z"),
        None,
    );
    // urgent in French: R fails → urgent on BusinessHours: Sat → Mon 08:00 CET + 30 min = 08:30 CET = 07:30Z.
    let e = ev(
        "emea-support",
        json!({"severity": "urgent", "language": "fr", "openedAt": "2026-11-28T10:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "urgent",
        None,
        BH,
        "default",
        Some("2026-11-30T07:30:00Z"),
        None,
    );
    // high in French: BusinessHours, Mon 08:00 CET + 1h = 09:00 CET = 08:00Z.
    let e = ev(
        "emea-support",
        json!({"severity": "high", "language": "fr", "openedAt": "2026-11-28T10:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "high",
        None,
        BH,
        "default",
        Some("2026-11-30T08:00:00Z"),
        None,
    );
    // last without commitment: the last level never downgrades; it needs the
    // customer, so BusinessHours. Mon 10:30Z = 11:30 CET: 30 min to the 12:00
    // break, then 13:00 + 90 min = 14:30 CET = 13:30Z.
    let e = ev(
        "emea-support",
        json!({"severity": "last", "openedAt": "2026-11-23T10:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "last",
        None,
        BH,
        "default",
        Some("2026-11-23T13:30:00Z"),
        None,
    );
    // last with commitment: 24x7, 10:30Z + 2h = 12:30Z.
    let e = ev(
        "emea-support",
        json!({"severity": "last", "customerAvailability": "24x7", "openedAt": "2026-11-23T10:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "last",
        None,
        RTC,
        "default",
        Some("2026-11-23T12:30:00Z"),
        None,
    );
    // normal with 24x7 requested, no commitment → last (2h), which needs the customer → BusinessHours → 13:30Z.
    let e = ev(
        "emea-support",
        json!({"severity": "normal", "coverageRequested": "24x7", "openedAt": "2026-11-23T10:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "last",
        Some("normal"),
        BH,
        "default",
        Some("2026-11-23T13:30:00Z"),
        None,
    );
    // normal with 24x7 requested and committed → 24x7, 10:30Z + 8h = 18:30Z.
    let e = ev(
        "emea-support",
        json!({"severity": "normal", "coverageRequested": "24x7", "customerAvailability": "24x7", "openedAt": "2026-11-23T10:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "normal",
        None,
        RTC,
        "default",
        Some("2026-11-23T18:30:00Z"),
        None,
    );
    // normal on business hours from Mon 08:00 CET (07:00Z): 4h + 4h around the
    // break ends exactly at the 17:00 CET window end = 16:00Z.
    let e = ev(
        "emea-support",
        json!({"severity": "normal", "openedAt": "2026-11-23T07:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "normal",
        None,
        BH,
        "default",
        Some("2026-11-23T16:00:00Z"),
        None,
    );
}

#[test]
fn rule4_24x7_ignores_holidays_and_keeps_the_calendar() {
    // Christmas (a Friday) and a weekend mean nothing under 24x7: +1h.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-12-25T10:00:00Z"}),
        "2026-12-25T10:00:00Z",
    );
    assert_sla(
        &e,
        "A",
        None,
        RTC,
        "default",
        Some("2026-12-25T11:00:00Z"),
        Some("2026-12-25T10:45:00Z"),
    );
    // Japan's 2026-11-23 holiday does not stop a 24x7 clock; status.calendar is still japan.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "customerAvailability": "24x7", "region": "japan", "openedAt": "2026-11-23T01:00:00Z"}),
        "2026-11-23T01:00:00Z",
    );
    assert_sla(
        &e,
        "A",
        None,
        RTC,
        "japan",
        Some("2026-11-23T02:00:00Z"),
        Some("2026-11-23T01:45:00Z"),
    );
}

// ---------------------------------------------------------------------------
// Rules 5–7: calendar, clock, instants.

#[test]
fn rule5_region_picks_the_calendar() {
    let now = "2026-11-26T01:00:00Z";
    // north-america, Wed 2026-11-25 17:00 PST: 1h to 18:00; Thu is Thanksgiving
    // there; Fri 06:00 + 3h = 09:00 PST = 17:00Z. At risk 3h: 1h Wed, Fri 06:00 + 2h
    // = 08:00 PST = 16:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "north-america", "openedAt": "2026-11-26T01:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "north-america",
        Some("2026-11-27T17:00:00Z"),
        Some("2026-11-27T16:00:00Z"),
    );
    // An unknown region, or none: default (UTC), where Thanksgiving is a working
    // day: Thu 09:00 + 4h = 13:00; at risk 12:00.
    for region in [Some("mars"), None] {
        let mut f = json!({"severity": "C", "openedAt": "2026-11-26T01:00:00Z"});
        if let Some(r) = region {
            f["region"] = json!(r);
        }
        let e = ev("finance-support", f, now);
        assert_sla(
            &e,
            "C",
            None,
            BH,
            "default",
            Some("2026-11-26T13:00:00Z"),
            Some("2026-11-26T12:00:00Z"),
        );
    }
    // japan, Fri 2026-11-20 19:30 JST: Mon 23 is a holiday there; Tue 09:00 + 4h =
    // 13:00 JST = 04:00Z; at risk 12:00 JST = 03:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "japan", "openedAt": "2026-11-20T10:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "japan",
        Some("2026-11-24T04:00:00Z"),
        Some("2026-11-24T03:00:00Z"),
    );
    // japan's day ends at 17:30: Mon 2026-11-30 14:30 JST → 3h to 17:30, Tue 09:00 +
    // 1h = 10:00 JST = 01:00Z; the 3h at-risk share is met exactly at Monday's
    // 17:30 window end = 08:30Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "japan", "openedAt": "2026-11-30T05:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "japan",
        Some("2026-12-01T01:00:00Z"),
        Some("2026-11-30T08:30:00Z"),
    );
}

#[test]
fn rule5_time_zone_overrides_default_only() {
    let now = "2026-11-26T01:00:00Z";
    // default in Europe/Warsaw: Fri 16:30 CET → 30 min; Mon 09:00 + 3h30 = 12:30 CET
    // = 11:30Z; at risk 3h: Mon 09:00 + 2h30 = 11:30 CET = 10:30Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "timeZone": "Europe/Warsaw", "openedAt": "2026-11-27T15:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-30T11:30:00Z"),
        Some("2026-11-30T10:30:00Z"),
    );
    // A named region keeps its own zone: same as without timeZone (2026-11-27T17:00Z).
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "north-america", "timeZone": "Europe/Warsaw", "openedAt": "2026-11-26T01:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "north-america",
        Some("2026-11-27T17:00:00Z"),
        Some("2026-11-27T16:00:00Z"),
    );
    // Unknown region + Asia/Tokyo: default's 09–17 in Tokyo, without japan's
    // holiday: Fri 19:30 JST → Mon 23 09:00 + 4h = 13:00 JST = 04:00Z; at risk 03:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "mars", "timeZone": "Asia/Tokyo", "openedAt": "2026-11-20T10:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-23T04:00:00Z"),
        Some("2026-11-23T03:00:00Z"),
    );
}

#[test]
fn rule5_holidays_are_local_and_limited_to_their_calendars() {
    let now = "2026-11-26T01:00:00Z";
    // Thanksgiving is north-america's only: default Thu 09:00 + 4h = 13:00.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "openedAt": "2026-11-26T09:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-26T13:00:00Z"),
        Some("2026-11-26T12:00:00Z"),
    );
    // Christmas (no calendars: all). default: Thu 24 15:00 → 2h; Fri 25 off; Mon 28
    // 09:00 + 2h = 11:00. At risk 3h: Mon 10:00.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "openedAt": "2026-12-24T15:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-12-28T11:00:00Z"),
        Some("2026-12-28T10:00:00Z"),
    );
    // north-america: Thu 24 15:00 PST (23:00Z) → 3h to 18:00; Fri 25 off; Mon 28 06:00
    // + 1h = 07:00 PST = 15:00Z. At risk 3h: met exactly at Thu's 18:00 PST end = 2026-12-25T02:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "north-america", "openedAt": "2026-12-24T23:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "north-america",
        Some("2026-12-28T15:00:00Z"),
        Some("2026-12-25T02:00:00Z"),
    );
    // Holidays are local dates: default moved to Los Angeles; Thu 24 15:00 PST → 2h
    // to 17:00 PST (= 01:00Z on the 25th, still the 24th locally); Fri 25 off locally;
    // Mon 28 09:00 PST + 2h = 11:00 PST = 19:00Z. At risk 3h: Mon 10:00 PST = 18:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "timeZone": "America/Los_Angeles", "openedAt": "2026-12-24T23:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-12-28T19:00:00Z"),
        Some("2026-12-28T18:00:00Z"),
    );
    // calendars: [] is all calendars; MM-DD repeats. default: Wed 30 15:00 → 2h;
    // Thu 31 (NYE) and Fri 1 Jan off; Mon 2027-01-04 09:00 + 2h = 11:00; at risk 10:00.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "openedAt": "2026-12-30T15:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2027-01-04T11:00:00Z"),
        Some("2027-01-04T10:00:00Z"),
    );
    // japan too: Wed 30 15:30 JST → 2h to 17:30; Thu 31, Fri 1 off; Mon 4 09:00 + 2h =
    // 11:00 JST = 02:00Z; at risk Mon 10:00 JST = 01:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "region": "japan", "openedAt": "2026-12-30T06:30:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "japan",
        Some("2027-01-04T02:00:00Z"),
        Some("2027-01-04T01:00:00Z"),
    );
    // 2026-12-31 is a one-off: 2027-12-31 (Fri) is a working day. Thu 30 15:00 → 2h;
    // Fri 31 09:00 + 2h = 11:00; at risk 10:00.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "openedAt": "2027-12-30T15:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2027-12-31T11:00:00Z"),
        Some("2027-12-31T10:00:00Z"),
    );
    // 01-01 every year: Mon 2029-12-31 15:00 → 2h; Tue 2030-01-01 off; Wed 09:00 + 2h.
    let e = ev(
        "finance-support",
        json!({"severity": "C", "openedAt": "2029-12-31T15:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2030-01-02T11:00:00Z"),
        Some("2030-01-02T10:00:00Z"),
    );
    // regional's yearly 12-24 with calendars: [] (Berlin). last (2h BH): Wed 2026-12-23
    // 16:00 CET → 1h; Thu 24 off; Fri 25 (no Christmas in this policy) 08:00 + 1h =
    // 09:00 CET = 08:00Z.
    let e = ev(
        "emea-support",
        json!({"severity": "last", "openedAt": "2026-12-23T15:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "last",
        None,
        BH,
        "default",
        Some("2026-12-25T08:00:00Z"),
        None,
    );
    // …and in 2027: Thu 23 16:00 CET → 1h; Fri 24 off; Mon 27 08:00 + 1h = 08:00Z.
    let e = ev(
        "emea-support",
        json!({"severity": "last", "openedAt": "2027-12-23T15:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "last",
        None,
        BH,
        "default",
        Some("2027-12-27T08:00:00Z"),
        None,
    );
}

#[test]
fn rule6_dst_repeated_hour_counts_twice_and_gap_covers_nothing() {
    let now = "2026-10-01T00:00:00Z";
    // la-night: Sundays 01:00–02:00 Los Angeles. Sun 2026-11-01 has that hour twice:
    // 01:00 PDT = 08:00Z … 01:00 PST = 09:00Z … 02:00 PST = 10:00Z. last (2h, BH for
    // lack of commitment) opened 08:00Z: both hours count → due 10:00Z the same day.
    let e = ev(
        "emea-support",
        json!({"severity": "last", "region": "la-night", "openedAt": "2026-11-01T08:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "last",
        None,
        BH,
        "la-night",
        Some("2026-11-01T10:00:00Z"),
        None,
    );
    // la-gap: Sundays 02:00–03:00. On Sun 2027-03-14 that local hour does not exist.
    // high in French (1h, BH) opened 09:00Z (01:00 PST): nothing that Sunday; next
    // Sunday 2027-03-21 02:00 PDT = 09:00Z + 1h = 10:00Z.
    let e = ev(
        "emea-support",
        json!({"severity": "high", "language": "fr", "region": "la-gap", "openedAt": "2027-03-14T09:00:00Z"}),
        now,
    );
    assert_sla(
        &e,
        "high",
        None,
        BH,
        "la-gap",
        Some("2027-03-21T10:00:00Z"),
        None,
    );
}

#[test]
fn rule7_due_exactly_at_a_window_end_is_that_end() {
    // C, Mon 13:00Z: 13:00–17:00 is exactly 4h → 17:00Z, not Tue 09:00. At risk 16:00.
    let f = || json!({"severity": "C", "openedAt": "2026-11-23T13:00:00Z"});
    let e = ev("finance-support", f(), "2026-11-23T16:59:59Z");
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-23T17:00:00Z"),
        Some("2026-11-23T16:00:00Z"),
    );
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(next(&e), Some(t("2026-11-23T17:00:00Z")));
    // Rule 8: Breached exactly at the due time.
    let e = ev("finance-support", f(), "2026-11-23T17:00:00Z");
    assert_eq!(phase(&e), Phase::Breached);
    assert!(cond_status(&e, "Breached"));
}

#[test]
fn rule7_at_risk_exactly_at_a_window_end() {
    // B, Mon 15:30Z: at risk 5400 s = 15:30–17:00 → Mon 17:00Z (window end);
    // due: 90 min Mon + Tue 09:00 + 30 min = Tue 09:30Z.
    // Escalation (critical): L1 at start; L2 50% = 3600 s → 16:30; L3 90m → 17:00; L4 100% → Tue 09:30.
    let f = || json!({"severity": "B", "openedAt": "2026-11-23T15:30:00Z"});
    let e = ev("finance-support", f(), "2026-11-23T16:00:00Z");
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-24T09:30:00Z"),
        Some("2026-11-23T17:00:00Z"),
    );
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "it-helpdesk"));
    assert_eq!(next(&e), Some(t("2026-11-23T16:30:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T16:30:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(2, SupportType::Dedicated, "platform-team"));
    assert_eq!(next(&e), Some(t("2026-11-23T17:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T16:59:59Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    let e = ev("finance-support", f(), "2026-11-23T17:00:00Z");
    assert_eq!(phase(&e), Phase::AtRisk);
    assert!(cond_status(&e, "AtRisk"));
    assert_eq!(esc(&e), level(3, SupportType::Partner, "fabrikam-support"));
    // Nothing changes overnight: next is the due time.
    assert_eq!(next(&e), Some(t("2026-11-24T09:30:00Z")));
    let e = ev("finance-support", f(), "2026-11-24T09:30:00Z");
    assert_eq!(phase(&e), Phase::Breached);
    assert_eq!(esc(&e), level(4, SupportType::Vendor, "vendor-support"));
    assert_eq!(next(&e), None);
}

#[test]
fn rule7_percentages_round_down_to_whole_seconds() {
    // precise: P 1h 24x7 (no commitment needed), atRiskAt 66.66%:
    // 3600 × 0.6666 = 2399.76 → 2399 s = 39m59s → 22:39:59.
    // Escalation: L2 33.3% × 3600 = 1198.8 → 1198 s = 19m58s → 22:19:58; L3 45m → 22:45.
    let f = || json!({"severity": "P", "openedAt": "2026-11-24T22:00:00Z"});
    let e = ev("lab-support", f(), "2026-11-24T22:19:57Z");
    assert_sla(
        &e,
        "P",
        None,
        RTC,
        "default",
        Some("2026-11-24T23:00:00Z"),
        Some("2026-11-24T22:39:59Z"),
    );
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "q-helpdesk"));
    assert_eq!(next(&e), Some(t("2026-11-24T22:19:58Z")));
    let e = ev("lab-support", f(), "2026-11-24T22:19:58Z");
    assert_eq!(esc(&e), level(2, SupportType::Dedicated, "q-dedicated"));
    assert_eq!(next(&e), Some(t("2026-11-24T22:39:59Z")));
    let e = ev("lab-support", f(), "2026-11-24T22:39:58Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    let e = ev("lab-support", f(), "2026-11-24T22:39:59Z");
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(next(&e), Some(t("2026-11-24T22:45:00Z")));
    let e = ev("lab-support", f(), "2026-11-24T22:45:00Z");
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(esc(&e), level(3, SupportType::Vendor, "q-vendor"));
    assert_eq!(next(&e), Some(t("2026-11-24T23:00:00Z")));
    let e = ev("lab-support", f(), "2026-11-24T23:00:00Z");
    assert_eq!(phase(&e), Phase::Breached);
    assert_eq!(next(&e), None);
    // In German: BusinessHours from Wed 09:00 → at risk 09:39:59, due 10:00.
    let e = ev(
        "lab-support",
        json!({"severity": "P", "language": "de", "openedAt": "2026-11-24T22:00:00Z"}),
        "2026-11-24T22:00:00Z",
    );
    assert_sla(
        &e,
        "P",
        None,
        BH,
        "default",
        Some("2026-11-25T10:00:00Z"),
        Some("2026-11-25T09:39:59Z"),
    );
}

#[test]
fn rule7_escalation_by_percent_and_duration_out_of_order() {
    // A on 24x7, 22:00Z: L2 50% = 22:30; L3 90m = 23:30; L4 100% = 23:00.
    let f = || json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00Z"});
    let e = ev("finance-support", f(), "2026-11-24T21:59:59Z");
    assert_eq!(phase(&e), Phase::Pending);
    assert_eq!(esc(&e), None);
    assert_eq!(next(&e), Some(t("2026-11-24T22:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-24T22:00:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "it-helpdesk"));
    assert_eq!(next(&e), Some(t("2026-11-24T22:30:00Z")));
    let e = ev("finance-support", f(), "2026-11-24T22:40:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(2, SupportType::Dedicated, "platform-team"));
    assert_eq!(next(&e), Some(t("2026-11-24T22:45:00Z")));
    let e = ev("finance-support", f(), "2026-11-24T22:45:00Z");
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(next(&e), Some(t("2026-11-24T23:00:00Z")));
    // Level 4 begins before level 3: the highest level begun is 4.
    let e = ev("finance-support", f(), "2026-11-24T23:00:00Z");
    assert_eq!(phase(&e), Phase::Breached);
    assert_eq!(esc(&e), level(4, SupportType::Vendor, "vendor-support"));
    // Level 3 beginning at 23:30 changes nothing: no next change.
    assert_eq!(next(&e), None);
    let e = ev("finance-support", f(), "2026-11-24T23:45:00Z");
    assert_eq!(esc(&e), level(4, SupportType::Vendor, "vendor-support"));
}

#[test]
fn rule7_open_pause_omits_the_due_time() {
    // B, Mon 09:00Z, paused from 09:30 for ever: only 30 min ever count.
    // Target 2h and at-risk 90 min are never reached: both omitted.
    let f = || json!({"severity": "B", "openedAt": "2026-11-23T09:00:00Z", "pauses": [{"from": "2026-11-23T09:30:00Z", "reason": "AwaitingCustomer"}]});
    let e = ev("finance-support", f(), "2026-11-23T10:00:00Z");
    assert_sla(&e, "B", None, BH, "default", None, None);
    let v = serde_json::to_value(&e.status).unwrap();
    assert!(v.get("responseDueAt").is_none(), "{v}");
    assert!(v.get("atRiskAt").is_none(), "{v}");
    assert_eq!(phase(&e), Phase::Paused);
    assert!(cond_status(&e, "Paused"));
    assert!(!cond_status(&e, "Breached"));
    // L2 (3600 s) never begins.
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "it-helpdesk"));
    assert_eq!(next(&e), None);
    // Before the pause the next change is the pause.
    let e = ev("finance-support", f(), "2026-11-23T09:10:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(next(&e), Some(t("2026-11-23T09:30:00Z")));

    // Open pause from 10:45: at risk (90 min → 10:30) is reached, the due time is not.
    // L2 60 min → 10:00, L3 90 min → 10:30, L4 never.
    let g = || json!({"severity": "B", "openedAt": "2026-11-23T09:00:00Z", "pauses": [{"from": "2026-11-23T10:45:00Z"}]});
    let e = ev("finance-support", g(), "2026-11-23T10:40:00Z");
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        None,
        Some("2026-11-23T10:30:00Z"),
    );
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(esc(&e), level(3, SupportType::Partner, "fabrikam-support"));
    assert_eq!(next(&e), Some(t("2026-11-23T10:45:00Z")));
    // Paused beats AtRisk.
    let e = ev("finance-support", g(), "2026-11-23T10:50:00Z");
    assert_eq!(phase(&e), Phase::Paused);
    assert_eq!(next(&e), None);
}

// ---------------------------------------------------------------------------
// Rule 8: phase at now; rule 10: next change.

#[test]
fn rule8_walk_through_a_paused_ticket() {
    // B, Thu 2026-11-26 09:00Z, paused 09:30–10:30 (Thanksgiving is not default's).
    // consumed: 30 min by 09:30, then from 10:30. Due 2h → 12:00; at risk 90 min → 11:30;
    // L2 60 min → 11:00; L3 90 min → 11:30; L4 120 min → 12:00.
    let f = || {
        json!({"severity": "B", "openedAt": "2026-11-26T09:00:00Z",
        "pauses": [{"from": "2026-11-26T09:30:00Z", "to": "2026-11-26T10:30:00Z", "reason": "AwaitingCustomer"}]})
    };
    let at = |now: &str| ev("finance-support", f(), now);
    let e = at("2026-11-26T08:59:59Z");
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-26T12:00:00Z"),
        Some("2026-11-26T11:30:00Z"),
    );
    type Step<'a> = (
        &'a str,
        Phase,
        Option<(u32, SupportType, &'a str)>,
        Option<&'a str>,
    );
    let walk: &[Step] = &[
        (
            "2026-11-26T08:59:59Z",
            Phase::Pending,
            None,
            Some("2026-11-26T09:00:00Z"),
        ),
        (
            "2026-11-26T09:00:00Z",
            Phase::OnTrack,
            Some((1, SupportType::HelpDesk, "it-helpdesk")),
            Some("2026-11-26T09:30:00Z"),
        ),
        (
            "2026-11-26T09:29:59Z",
            Phase::OnTrack,
            Some((1, SupportType::HelpDesk, "it-helpdesk")),
            Some("2026-11-26T09:30:00Z"),
        ),
        (
            "2026-11-26T09:30:00Z",
            Phase::Paused,
            Some((1, SupportType::HelpDesk, "it-helpdesk")),
            Some("2026-11-26T10:30:00Z"),
        ),
        (
            "2026-11-26T10:29:59Z",
            Phase::Paused,
            Some((1, SupportType::HelpDesk, "it-helpdesk")),
            Some("2026-11-26T10:30:00Z"),
        ),
        (
            "2026-11-26T10:30:00Z",
            Phase::OnTrack,
            Some((1, SupportType::HelpDesk, "it-helpdesk")),
            Some("2026-11-26T11:00:00Z"),
        ),
        (
            "2026-11-26T11:00:00Z",
            Phase::OnTrack,
            Some((2, SupportType::Dedicated, "platform-team")),
            Some("2026-11-26T11:30:00Z"),
        ),
        (
            "2026-11-26T11:30:00Z",
            Phase::AtRisk,
            Some((3, SupportType::Partner, "fabrikam-support")),
            Some("2026-11-26T12:00:00Z"),
        ),
        (
            "2026-11-26T11:59:59Z",
            Phase::AtRisk,
            Some((3, SupportType::Partner, "fabrikam-support")),
            Some("2026-11-26T12:00:00Z"),
        ),
        (
            "2026-11-26T12:00:00Z",
            Phase::Breached,
            Some((4, SupportType::Vendor, "vendor-support")),
            None,
        ),
        (
            "2026-12-26T12:00:00Z",
            Phase::Breached,
            Some((4, SupportType::Vendor, "vendor-support")),
            None,
        ),
    ];
    for (now, ph, lvl, nx) in walk {
        let e = at(now);
        assert_eq!(phase(&e), *ph, "phase at {now}");
        assert_eq!(
            esc(&e),
            lvl.map(|(n, s, q)| (n, s, q.to_string())),
            "escalation at {now}"
        );
        assert_eq!(next(&e), nx.map(t), "next change at {now}");
        // Conditions, keyed by type.
        assert!(cond_status(&e, "Accepted"));
        assert_eq!(
            cond_status(&e, "Paused"),
            *ph == Phase::Paused,
            "Paused at {now}"
        );
        assert_eq!(
            cond_status(&e, "Breached"),
            *ph == Phase::Breached,
            "Breached at {now}"
        );
        assert!(!cond_status(&e, "Responded"));
        if matches!(ph, Phase::OnTrack | Phase::AtRisk | Phase::Pending) {
            assert_eq!(
                cond_status(&e, "AtRisk"),
                *ph == Phase::AtRisk,
                "AtRisk at {now}"
            );
        }
    }
}

#[test]
fn rule8_conditions_are_keyed_by_type() {
    for (ns, fields) in [
        (
            "finance-support",
            json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"}),
        ),
        (
            "support-default",
            json!({"severity": "C", "openedAt": "2026-11-23T08:00:00Z"}),
        ),
        (
            "finance-support",
            json!({"severity": "B", "openedAt": "2026-11-23T08:00:00Z", "firstResponseAt": "2026-11-23T09:00:00Z"}),
        ),
    ] {
        let e = ev(ns, fields, "2026-11-23T10:00:00Z");
        let mut types: Vec<&str> = e
            .status
            .conditions
            .iter()
            .map(|c| c.type_.as_str())
            .collect();
        types.sort_unstable();
        let mut want = CONDITION_TYPES.to_vec();
        want.sort_unstable();
        assert_eq!(types, want, "one condition of each type");
        for c in &e.status.conditions {
            assert!(c.status == "True" || c.status == "False", "{c:?}");
            assert!(!c.reason.is_empty(), "{c:?}");
            assert_eq!(c.observed_generation, Some(7));
        }
        assert_eq!(e.status.observed_generation, Some(7));
    }
}

#[test]
fn rule8_breached_before_paused_and_paused_before_at_risk() {
    // B Mon 09:00 → due 11:00; an open pause from 12:00 comes after the due time.
    let e = ev(
        "finance-support",
        json!({"severity": "B", "openedAt": "2026-11-23T09:00:00Z", "pauses": [{"from": "2026-11-23T12:00:00Z"}]}),
        "2026-11-23T12:30:00Z",
    );
    assert_eq!(due(&e), Some(t("2026-11-23T11:00:00Z")));
    assert_eq!(phase(&e), Phase::Breached);
    assert!(cond_status(&e, "Breached"));
    assert_eq!(next(&e), None);
    // Pause 10:40–11:00 after the 10:30 at-risk instant: Paused at 10:45,
    // AtRisk again at 11:00. Due 11:00 + 20 min = 11:20.
    let f = || json!({"severity": "B", "openedAt": "2026-11-23T09:00:00Z", "pauses": [{"from": "2026-11-23T10:40:00Z", "to": "2026-11-23T11:00:00Z"}]});
    let e = ev("finance-support", f(), "2026-11-23T10:45:00Z");
    assert_eq!(due(&e), Some(t("2026-11-23T11:20:00Z")));
    assert_eq!(phase(&e), Phase::Paused);
    assert_eq!(next(&e), Some(t("2026-11-23T11:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T11:00:00Z");
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(next(&e), Some(t("2026-11-23T11:20:00Z")));
}

#[test]
fn rule6_overlapping_pauses_merge() {
    // Pauses 09:30–10:30 and 10:00–11:00 merge into 09:30–11:00.
    // B Thu 09:00: 30 min, then 11:00 + 90 min = 12:30; at risk 11:00 + 60 min = 12:00.
    let f = || {
        json!({"severity": "B", "openedAt": "2026-11-26T09:00:00Z", "pauses": [
        {"from": "2026-11-26T09:30:00Z", "to": "2026-11-26T10:30:00Z"},
        {"from": "2026-11-26T10:00:00Z", "to": "2026-11-26T11:00:00Z"}]})
    };
    let e = ev("finance-support", f(), "2026-11-26T10:15:00Z");
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-26T12:30:00Z"),
        Some("2026-11-26T12:00:00Z"),
    );
    assert_eq!(phase(&e), Phase::Paused);
    assert_eq!(next(&e), Some(t("2026-11-26T11:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-26T10:30:00Z");
    assert_eq!(phase(&e), Phase::Paused);
    assert_eq!(next(&e), Some(t("2026-11-26T11:00:00Z")));
}

#[test]
fn rule6_a_pause_counts_wherever_it_lies() {
    // C Thu 2026-11-26 15:00Z; pause Thu 17:30 → Fri 08:00 lies outside business hours:
    // due unchanged: 2h Thu + Fri 09:00 + 2h = 11:00; at risk 3h → Fri 10:00.
    // Escalation (target 4h): L2 7200 s → Thu 17:00 (window end); L3 5400 s → Thu 16:30; L4 Fri 11:00.
    let f = || {
        json!({"severity": "C", "openedAt": "2026-11-26T15:00:00Z",
        "pauses": [{"from": "2026-11-26T17:30:00Z", "to": "2026-11-27T08:00:00Z", "reason": "AwaitingCustomer"}]})
    };
    let e = ev("finance-support", f(), "2026-11-26T16:59:59Z");
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-27T11:00:00Z"),
        Some("2026-11-27T10:00:00Z"),
    );
    // L3 (16:30) has begun, L2 (17:00) not yet: the highest begun is 3.
    assert_eq!(esc(&e), level(3, SupportType::Partner, "fabrikam-support"));
    assert_eq!(phase(&e), Phase::OnTrack);
    // L2 beginning at 17:00 does not change the highest level: next is the pause.
    assert_eq!(next(&e), Some(t("2026-11-26T17:30:00Z")));
    let e = ev("finance-support", f(), "2026-11-26T17:15:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(next(&e), Some(t("2026-11-26T17:30:00Z")));
    let e = ev("finance-support", f(), "2026-11-26T18:00:00Z");
    assert_eq!(phase(&e), Phase::Paused);
    assert_eq!(next(&e), Some(t("2026-11-27T08:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-27T08:00:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(3, SupportType::Partner, "fabrikam-support"));
    assert_eq!(next(&e), Some(t("2026-11-27T10:00:00Z")));
}

#[test]
fn rule8_pending_before_paused() {
    // B Mon 08:00, pause 07:00–08:30 (outside hours: due still 11:00).
    let f = || json!({"severity": "B", "openedAt": "2026-11-23T08:00:00Z", "pauses": [{"from": "2026-11-23T07:00:00Z", "to": "2026-11-23T08:30:00Z"}]});
    let e = ev("finance-support", f(), "2026-11-23T07:30:00Z");
    assert_eq!(due(&e), Some(t("2026-11-23T11:00:00Z")));
    assert_eq!(phase(&e), Phase::Pending);
    assert_eq!(esc(&e), None);
    assert_eq!(next(&e), Some(t("2026-11-23T08:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T08:00:00Z");
    assert_eq!(phase(&e), Phase::Paused);
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "it-helpdesk"));
    assert_eq!(next(&e), Some(t("2026-11-23T08:30:00Z")));
}

#[test]
fn rule8_responded_on_time() {
    // important tier, C Billing, Tue 10:00: due 14:00, at risk 13:00;
    // escalation: Team at start, HelpDesk 50% = 2h → 12:00. First response 11:15.
    let f = || json!({"severity": "C", "category": "Billing", "openedAt": "2026-11-24T10:00:00Z", "firstResponseAt": "2026-11-24T11:15:00Z"});
    let e = ev("marketing-support", f(), "2026-11-24T11:00:00Z");
    assert_sla(
        &e,
        "C",
        None,
        BH,
        "default",
        Some("2026-11-24T14:00:00Z"),
        Some("2026-11-24T13:00:00Z"),
    );
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(esc(&e), level(1, SupportType::Team, "team-support"));
    // A future firstResponseAt is the next change.
    assert_eq!(next(&e), Some(t("2026-11-24T11:15:00Z")));
    let e = ev("marketing-support", f(), "2026-11-24T11:15:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    let e = ev("marketing-support", f(), "2026-11-24T16:00:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    assert!(cond_status(&e, "Responded"));
    assert!(!cond_status(&e, "Breached"));
    // Escalation is frozen at the response (11:15 < 12:00): still Team.
    assert_eq!(esc(&e), level(1, SupportType::Team, "team-support"));
    assert_eq!(next(&e), None);
}

#[test]
fn rule8_responded_late_is_breached() {
    // B Wed 13:00 → due 15:00; L2 14:00, L3 14:30, L4 15:00. Response 16:20.
    let f = |fr: &str| json!({"severity": "B", "openedAt": "2026-11-25T13:00:00Z", "firstResponseAt": fr});
    let e = ev(
        "finance-support",
        f("2026-11-25T16:20:00Z"),
        "2026-11-25T15:30:00Z",
    );
    assert_eq!(phase(&e), Phase::Breached);
    assert_eq!(next(&e), Some(t("2026-11-25T16:20:00Z")));
    let e = ev(
        "finance-support",
        f("2026-11-25T16:20:00Z"),
        "2026-11-25T17:00:00Z",
    );
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-25T15:00:00Z"),
        Some("2026-11-25T14:30:00Z"),
    );
    assert_eq!(phase(&e), Phase::Responded);
    assert!(cond_status(&e, "Responded"));
    assert!(cond_status(&e, "Breached"));
    assert_eq!(esc(&e), level(4, SupportType::Vendor, "vendor-support"));
    assert_eq!(next(&e), None);
    // Exactly at the due time is late ("at or after").
    let e = ev(
        "finance-support",
        f("2026-11-25T15:00:00Z"),
        "2026-11-25T17:00:00Z",
    );
    assert_eq!(phase(&e), Phase::Responded);
    assert!(cond_status(&e, "Breached"));
    assert_eq!(esc(&e), level(4, SupportType::Vendor, "vendor-support"));
    // One second earlier is on time; escalation at 14:59:59 is L3.
    let e = ev(
        "finance-support",
        f("2026-11-25T14:59:59Z"),
        "2026-11-25T17:00:00Z",
    );
    assert_eq!(phase(&e), Phase::Responded);
    assert!(!cond_status(&e, "Breached"));
    assert_eq!(esc(&e), level(3, SupportType::Partner, "fabrikam-support"));
    // Response at 14:10: escalation frozen at L2 (14:00 ≤ 14:10 < 14:30).
    let e = ev(
        "finance-support",
        f("2026-11-25T14:10:00Z"),
        "2026-11-25T17:00:00Z",
    );
    assert_eq!(esc(&e), level(2, SupportType::Dedicated, "platform-team"));
}

#[test]
fn rule8_response_before_the_start() {
    // C Mon 12:00, response 11:00 (an import): Responded from 11:00, no escalation
    // (min(now, firstResponseAt) is before the start), not breached.
    let f = || json!({"severity": "C", "openedAt": "2026-11-23T12:00:00Z", "firstResponseAt": "2026-11-23T11:00:00Z"});
    let e = ev("finance-support", f(), "2026-11-23T10:00:00Z");
    assert_eq!(phase(&e), Phase::Pending);
    assert_eq!(next(&e), Some(t("2026-11-23T11:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T11:30:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    assert_eq!(esc(&e), None);
    assert!(!cond_status(&e, "Breached"));
    assert_eq!(next(&e), None);
    let e = ev("finance-support", f(), "2026-11-30T11:30:00Z");
    assert_eq!(esc(&e), None);
}

#[test]
fn rule10_pending_with_later_response() {
    // C Mon 12:00, response 12:30: Pending → (12:00) OnTrack → (12:30) Responded.
    let f = || json!({"severity": "C", "openedAt": "2026-11-23T12:00:00Z", "firstResponseAt": "2026-11-23T12:30:00Z"});
    let e = ev("finance-support", f(), "2026-11-23T11:00:00Z");
    assert_eq!(phase(&e), Phase::Pending);
    assert_eq!(next(&e), Some(t("2026-11-23T12:00:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T12:00:00Z");
    assert_eq!(phase(&e), Phase::OnTrack);
    assert_eq!(next(&e), Some(t("2026-11-23T12:30:00Z")));
    let e = ev("finance-support", f(), "2026-11-23T12:30:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "it-helpdesk"));
    assert_eq!(next(&e), None);
}

#[test]
fn rule10_whole_status_is_stable_until_next_change() {
    // Two back-to-back pauses with different reasons (they merge into one
    // stopped period, 09:30–10:30). Whatever the status says about the pause,
    // it must not change before next_change — the operator writes status only
    // when it changes and sleeps until next_change.
    let f = || {
        json!({"severity": "B", "openedAt": "2026-11-26T09:00:00Z", "pauses": [
        {"from": "2026-11-26T09:30:00Z", "to": "2026-11-26T10:00:00Z", "reason": "AwaitingCustomer"},
        {"from": "2026-11-26T10:00:00Z", "to": "2026-11-26T10:30:00Z", "reason": "VendorInvestigating"}]})
    };
    let now = t("2026-11-26T09:45:00Z");
    let e = ev("finance-support", f(), "2026-11-26T09:45:00Z");
    assert_eq!(phase(&e), Phase::Paused);
    let n = e.next_change.expect("the pause ends");
    let spec = spec(f());
    let mut u = now.as_second() + 60;
    while u < n.as_second() {
        let input = TicketInput {
            namespace: "finance-support",
            spec: &spec,
            created: t(CREATED),
            generation: Some(7),
        };
        let later = evaluate(
            &CATALOG,
            input,
            Some(&e.status),
            Timestamp::from_second(u).unwrap(),
        );
        assert_eq!(
            later.status,
            e.status,
            "status at {} differs from status at {now}, but next_change is {n}",
            Timestamp::from_second(u).unwrap()
        );
        u += 60;
    }
}

// ---------------------------------------------------------------------------
// Rule 9: no SLA.

#[test]
fn rule9_best_effort() {
    // default workspace, productivity tier (no slaPolicy, chain [Maker app-makers]).
    let f = || json!({"severity": "C", "openedAt": "2026-11-24T09:15:00Z"});
    let e = ev("support-default", f(), "2026-11-24T09:00:00Z");
    assert_accepted(&e);
    assert_eq!(phase(&e), Phase::Pending);
    assert_eq!(esc(&e), None);
    assert_eq!(next(&e), Some(t("2026-11-24T09:15:00Z")));
    let e = ev("support-default", f(), "2026-11-24T10:00:00Z");
    assert_accepted(&e);
    let s = &e.status;
    assert_eq!(s.workspace.as_deref(), Some("default"));
    assert_eq!(s.tier.as_deref(), Some("productivity"));
    assert_eq!(
        (
            s.severity.as_ref(),
            s.downgrade.as_ref(),
            s.coverage,
            s.calendar.as_ref()
        ),
        (None, None, None, None)
    );
    assert_eq!((due(&e), at_risk(&e)), (None, None));
    assert_eq!(phase(&e), Phase::BestEffort);
    assert_eq!(esc(&e), level(1, SupportType::Maker, "app-makers"));
    assert!(!cond_status(&e, "Breached"));
    assert_eq!(next(&e), None);
    assert_not_written(
        s,
        &[
            "severity",
            "coverage",
            "calendar",
            "responseDueAt",
            "atRiskAt",
            "downgrade",
        ],
        "a best-effort ticket",
    );
    // A year later: still BestEffort, never Breached.
    let e = ev("support-default", f(), "2027-11-24T10:00:00Z");
    assert_eq!(phase(&e), Phase::BestEffort);
}

#[test]
fn rule9_paused_and_responded() {
    let f = || {
        json!({"severity": "C", "openedAt": "2026-11-24T09:15:00Z",
        "pauses": [{"from": "2026-11-24T10:00:00Z", "to": "2026-11-24T11:00:00Z"}],
        "firstResponseAt": "2026-11-24T12:00:00Z"})
    };
    let e = ev("support-default", f(), "2026-11-24T09:30:00Z");
    assert_eq!(phase(&e), Phase::BestEffort);
    assert_eq!(next(&e), Some(t("2026-11-24T10:00:00Z")));
    let e = ev("support-default", f(), "2026-11-24T10:30:00Z");
    assert_eq!(phase(&e), Phase::Paused);
    assert!(cond_status(&e, "Paused"));
    assert_eq!(next(&e), Some(t("2026-11-24T11:00:00Z")));
    let e = ev("support-default", f(), "2026-11-24T11:00:00Z");
    assert_eq!(phase(&e), Phase::BestEffort);
    assert_eq!(next(&e), Some(t("2026-11-24T12:00:00Z")));
    let e = ev("support-default", f(), "2026-11-24T12:30:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    assert!(cond_status(&e, "Responded"));
    assert!(!cond_status(&e, "Breached"));
    assert_eq!(esc(&e), level(1, SupportType::Maker, "app-makers"));
    assert_eq!(next(&e), None);
}

#[test]
fn rule9_only_the_first_level_and_only_no_policy_checks() {
    // besteffort-plus has [Maker, Team after 1m]; without an SLA only the first level.
    let e = ev(
        "open-support",
        json!({"severity": "C", "tier": "besteffort-plus", "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_eq!(phase(&e), Phase::BestEffort);
    assert_eq!(esc(&e), level(1, SupportType::Maker, "app-makers"));
    assert_eq!(next(&e), None);
    // A tier without an escalation chain: no escalation at all.
    let e = ev(
        "open-support",
        json!({"severity": "C", "tier": "quiet", "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_eq!(phase(&e), Phase::BestEffort);
    assert_eq!(esc(&e), None);
    // Severity and preview need a policy: not checked.
    let e = ev(
        "support-default",
        json!({"severity": "whatever", "productStage": "PublicPreview", "language": "ja", "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_accepted(&e);
    assert_eq!(phase(&e), Phase::BestEffort);
    // Entitlements still apply: productivity covers [Technical] only; besteffort-plus the default three.
    let e = ev(
        "support-default",
        json!({"severity": "C", "category": "Billing", "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_rejected(&e, "NotEntitled");
    let e = ev(
        "open-support",
        json!({"severity": "C", "tier": "besteffort-plus", "category": "Billing", "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_accepted(&e);
    let e = ev(
        "open-support",
        json!({"severity": "C", "tier": "besteffort-plus", "category": "Advisory", "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_rejected(&e, "NotEntitled");
    // Partner and reopen checks still apply.
    let e = ev(
        "support-default",
        json!({"severity": "C", "onBehalfOf": {"partner": "fabrikam"}, "openedAt": "2026-11-24T09:15:00Z"}),
        "2026-11-25T09:15:00Z",
    );
    assert_rejected(&e, "PartnerNotAuthorized");
    let e = ev(
        "support-default",
        json!({"severity": "C", "openedAt": "2026-11-24T09:15:00Z",
        "reopenOf": {"name": "x", "closedAt": "2026-11-01T00:00:00Z", "sameEnvironment": true, "sameVersion": false}}),
        "2026-11-25T09:15:00Z",
    );
    assert_rejected(&e, "ReopenNotAllowed");
    let e = ev(
        "support-default",
        json!({"severity": "C", "openedAt": "2026-11-24T09:15:00Z",
        "reopenOf": {"name": "x", "closedAt": "2026-08-24T09:15:00Z", "sameEnvironment": true, "sameVersion": true}}),
        "2026-11-25T09:15:00Z",
    );
    // 2026-08-24T09:15 + 3 months = 2026-11-24T09:15 = the start: not earlier → rejected.
    assert_rejected(&e, "ReopenNotAllowed");
}

// ---------------------------------------------------------------------------
// Status serialization.

#[test]
fn status_is_written_in_whole_seconds_utc() {
    // openedAt with an offset (09:00+01:00 = 08:00Z), now with a fraction of a second.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "openedAt": "2026-11-23T09:00:00+01:00"}),
        "2026-11-23T10:00:00.750Z",
    );
    let v = serde_json::to_value(&e.status).unwrap();
    // A → B, due 11:00Z, at risk 10:30Z (as in rule3_a_without_commitment_downgrades_to_b).
    assert_eq!(v["responseDueAt"], json!("2026-11-23T11:00:00Z"));
    assert_eq!(v["atRiskAt"], json!("2026-11-23T10:30:00Z"));
    assert_eq!(v["severity"], json!("B"));
    assert_eq!(
        v["downgrade"],
        json!({"from": "A", "reason": "CustomerNot24x7"})
    );
    assert_eq!(v["coverage"], json!("BusinessHours"));
    assert_eq!(v["calendar"], json!("default"));
    assert_eq!(v["phase"], json!("OnTrack"));
    assert_eq!(v["workspace"], json!("finance"));
    assert_eq!(v["tier"], json!("critical"));
    assert_eq!(v["observedGeneration"], json!(7));
    // L2 began at 10:00:00 (09:00 + 3600 s), L3 at 10:30.
    assert_eq!(
        v["escalation"],
        json!({"level": 2, "supportType": "Dedicated", "queue": "platform-team"})
    );
    let mut stamps = Vec::new();
    timestamps_in(&v, &mut stamps);
    assert!(stamps.len() >= 2 + CONDITION_TYPES.len(), "{stamps:?}");
    for (k, s) in &stamps {
        assert!(
            whole_second_utc(s),
            "{k} = {s:?} is not whole seconds UTC with Z"
        );
    }
    // 24x7 with an offset start: 23:00+01:00 = 22:00Z → due 23:00:00Z.
    let e = ev(
        "finance-support",
        json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T23:00:00+01:00"}),
        "2026-11-24T22:10:00.123456Z",
    );
    let v = serde_json::to_value(&e.status).unwrap();
    assert_eq!(v["responseDueAt"], json!("2026-11-24T23:00:00Z"));
    assert_eq!(v["atRiskAt"], json!("2026-11-24T22:45:00Z"));
    assert_eq!(v["coverage"], json!("24x7"));
    let mut stamps = Vec::new();
    timestamps_in(&v, &mut stamps);
    for (k, s) in &stamps {
        assert!(
            whole_second_utc(s),
            "{k} = {s:?} is not whole seconds UTC with Z"
        );
    }
    // A rejected ticket's conditions too.
    let e = ev(
        "nowhere",
        json!({"severity": "A"}),
        "2026-11-24T22:10:00.5Z",
    );
    let v = serde_json::to_value(&e.status).unwrap();
    assert_eq!(v["phase"], json!("Rejected"));
    let mut stamps = Vec::new();
    timestamps_in(&v, &mut stamps);
    assert!(!stamps.is_empty());
    for (k, s) in &stamps {
        assert!(
            whole_second_utc(s),
            "{k} = {s:?} is not whole seconds UTC with Z"
        );
    }
}

#[test]
fn clock_starts_at_creation_without_opened_at() {
    // No openedAt: creationTimestamp Mon 08:00Z is the start (same as rule 3's first case).
    let e = eval_full(
        &CATALOG,
        "finance-support",
        json!({"severity": "A"}),
        "2026-11-23T08:00:00Z",
        "2026-11-23T07:00:00Z",
    );
    assert_sla(
        &e,
        "B",
        Some("A"),
        BH,
        "default",
        Some("2026-11-23T11:00:00Z"),
        Some("2026-11-23T10:30:00Z"),
    );
    assert_eq!(phase(&e), Phase::Pending);
    assert_eq!(next(&e), Some(t("2026-11-23T08:00:00Z")));
    // openedAt wins over creationTimestamp.
    let e = eval_full(
        &CATALOG,
        "finance-support",
        json!({"severity": "A", "openedAt": "2026-11-23T13:00:00Z"}),
        "2026-11-23T08:00:00Z",
        "2026-11-23T07:00:00Z",
    );
    assert_eq!(due(&e), Some(t("2026-11-23T15:00:00Z")));
}

// Instants have one-second resolution, as metav1.Time has: DESIGN.md is
// silent on fractions, and the operator documents that they are dropped on
// the way in (README, "How the calendar works"). A fractional input must
// therefore behave exactly as its whole second, never half-way.

#[test]
fn sub_second_start_counts_from_its_whole_second() {
    // A on 24x7 opened 22:00:00.600Z is opened at 22:00:00Z: due 23:00:00Z,
    // so at 23:00:00.300Z (= 23:00:00Z) the target is consumed: Breached.
    let fractional = json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00.600Z"});
    let whole = json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00Z"});
    let e = ev("finance-support", fractional, "2026-11-24T23:00:00.300Z");
    let w = ev("finance-support", whole, "2026-11-24T23:00:00Z");
    assert_eq!(phase(&e), Phase::Breached);
    assert_eq!(e.status, w.status);
    assert_eq!(e.next_change, w.next_change);
}

#[test]
fn sub_second_response_counts_at_its_whole_second() {
    // Due 23:00:00Z (opened 22:00:00.600Z, taken as 22:00:00Z, + 1h on 24x7).
    // A response at 23:00:00.300Z is a response at 23:00:00Z: at the due
    // time, so late (rule 8: firstResponseAt ≥ responseDueAt).
    let f = json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00.600Z",
        "firstResponseAt": "2026-11-24T23:00:00.300Z"});
    let e = ev("finance-support", f, "2026-11-24T23:30:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    assert!(
        cond_status(&e, "Breached"),
        "a response in the due second is late"
    );
    // One second earlier is on time.
    let f = json!({"severity": "A", "customerAvailability": "24x7", "openedAt": "2026-11-24T22:00:00.600Z",
        "firstResponseAt": "2026-11-24T22:59:59.900Z"});
    let e = ev("finance-support", f, "2026-11-24T23:30:00Z");
    assert!(!cond_status(&e, "Breached"));
}

// ---------------------------------------------------------------------------
// The ticket's later life (model `LIFE`): rule 1's "belongs elsewhere",
// rules 6–8's resolution, 7's chains past the due time, 11's effort cap.

const PUBLISHER: &str = "contoso";

fn contoso_redirect() -> Value {
    json!({"to": "Publisher", "name": "contoso",
           "contact": {"url": "https://support.contoso.example", "email": "help@contoso.example"}})
}

#[test]
fn rule1_a_marketplace_product_goes_to_its_publisher() {
    let now = "2026-11-23T09:00:00Z";
    let product = json!({"name": "contoso-crm", "publisher": PUBLISHER});
    let e = ev(
        "shop-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z", "product": product}),
        now,
    );
    assert_redirected(&e, "RoutedToPublisher", contoso_redirect());
    assert_eq!(e.status.workspace.as_deref(), Some("shop"));
    assert!(
        cond(&e.status, "Accepted").message.contains("Contoso Ltd."),
        "{:#?}",
        e.status
    );
    // Belongs elsewhere comes before the tier, the severity and the trial check.
    for extra in [
        json!({"tier": "ghost-tier"}),
        json!({"severity": "Z"}),
        json!({"subscription": "Trial"}),
        json!({"category": "AccountManagement"}),
        json!({"resolvedAt": "2026-11-23T08:30:00Z"}),
    ] {
        let mut fields =
            json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z", "product": product});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        assert_redirected(
            &ev("shop-support", fields, now),
            "RoutedToPublisher",
            contoso_redirect(),
        );
    }
    // ... but after the workspace.
    assert_rejected(
        &ev("nowhere", json!({"severity": "A", "product": product}), now),
        "NoWorkspace",
    );
    // Rule 9: a tier without SLA is redirected too.
    assert_redirected(
        &ev(
            "support-default",
            json!({"severity": "C", "product": product}),
            now,
        ),
        "RoutedToPublisher",
        contoso_redirect(),
    );
    // A product without a publisher is this desk's.
    assert_accepted(&ev(
        "shop-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z", "product": {"name": "in-house-crm"}}),
        now,
    ));
}

#[test]
fn rule1_unknown_publisher_is_rejected() {
    let now = "2026-11-23T09:00:00Z";
    let e = ev(
        "shop-support",
        json!({"severity": "A", "product": {"name": "gizmo", "publisher": "fabrikam-apps"}}),
        now,
    );
    assert_rejected(&e, "UnknownPublisher");
    assert!(
        cond(&e.status, "Accepted")
            .message
            .contains("fabrikam-apps")
    );
    // A trial naming a missing publisher does not fall through to its partner.
    let e = ev(
        "shop-support",
        json!({"severity": "A", "subscription": "Trial",
               "product": {"name": "gizmo", "publisher": "fabrikam-apps"}}),
        now,
    );
    assert_rejected(&e, "UnknownPublisher");
}

#[test]
fn rule1_a_publisher_deleted_after_the_ticket_was_redirected() {
    let fields = json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z",
                        "product": {"name": "contoso-crm", "publisher": PUBLISHER}});
    let first = ev("shop-support", fields.clone(), "2026-11-23T09:00:00Z");
    assert_redirected(&first, "RoutedToPublisher", contoso_redirect());
    // The same objects without the Publisher.
    let m = manifests();
    let without = Catalog::new(&m.policies, &m.tiers, &m.workspaces);
    let ticket = spec(fields);
    let input = TicketInput {
        namespace: "shop-support",
        spec: &ticket,
        created: t(CREATED),
        generation: Some(7),
    };
    let later = evaluate(
        &without,
        input,
        Some(&first.status),
        t("2026-11-24T09:00:00Z"),
    );
    assert_rejected(&later, "UnknownPublisher");
    // Accepted stayed False: its transition time is the redirect's.
    assert_eq!(
        cond(&later.status, "Accepted").last_transition_time.0,
        t("2026-11-23T09:00:00Z")
    );
    // The Publisher comes back: redirected again.
    let again = evaluate(
        &CATALOG,
        input,
        Some(&later.status),
        t("2026-11-25T09:00:00Z"),
    );
    assert_redirected(&again, "RoutedToPublisher", contoso_redirect());
}

#[test]
fn rule1_a_trial_goes_to_the_workspace_s_supporting_partner() {
    let now = "2027-01-10T00:00:00Z";
    let trial = |ns: &str, opened: &str| {
        ev(
            ns,
            json!({"severity": "B", "subscription": "Trial", "openedAt": opened}),
            now,
        )
    };
    let alpine =
        json!({"to": "Partner", "name": "alpine", "contact": {"email": "help@alpine.example"}});
    let zeta = json!({"to": "Partner", "name": "zeta-partner", "contact": {"url": "https://zeta.example/help"}});
    // shop: alpine (direct provider, first by name; its role does not
    // matter here) until 12-01; the reseller never; then zeta-partner.
    assert_redirected(
        &trial("shop-support", "2026-11-23T08:00:00Z"),
        "RoutedToPartner",
        alpine.clone(),
    );
    assert_redirected(
        &trial("shop-support", "2026-11-30T23:59:59Z"),
        "RoutedToPartner",
        alpine,
    );
    // expiresAt must be after the clock start: equal is not.
    assert_redirected(
        &trial("shop-support", "2026-12-01T00:00:00Z"),
        "RoutedToPartner",
        zeta.clone(),
    );
    // Without openedAt the clock starts at creation.
    let e = eval_full(
        &CATALOG,
        "shop-support",
        json!({"severity": "B", "subscription": "Trial"}),
        "2026-12-02T00:00:00Z",
        now,
    );
    assert_redirected(&e, "RoutedToPartner", zeta);
    // kiosk: its one partner expires 11-25 12:00 and has no contact.
    assert_redirected(
        &trial("kiosk-support", "2026-11-25T11:59:59Z"),
        "RoutedToPartner",
        json!({"to": "Partner", "name": "alpine"}),
    );
    // A trial with an expired partner: nobody to send it to.
    let e = trial("kiosk-support", "2026-11-25T12:00:00Z");
    assert_rejected(&e, "NoPartner");
    // No partner at all.
    assert_rejected(&trial("solo-support", "2026-11-23T08:00:00Z"), "NoPartner");
    // marketing has no partners at all.
    assert_rejected(
        &trial("marketing-support", "2026-11-23T08:00:00Z"),
        "NoPartner",
    );
    // Paid, said or not, is this desk's.
    assert_accepted(&ev(
        "kiosk-support",
        json!({"severity": "B", "subscription": "Paid", "openedAt": "2026-11-25T12:00:00Z"}),
        now,
    ));
}

#[test]
fn rule6_a_ticket_resolved_without_a_response_was_answered_when_resolved() {
    // lifecycle A, 24x7, Mon 08:00: due 09:00, at risk 08:45, resolution due 12:00.
    let e = ev(
        "shop-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z", "resolvedAt": "2026-11-23T08:30:00Z"}),
        "2026-11-23T10:00:00Z",
    );
    assert_sla(
        &e,
        "A",
        None,
        RTC,
        "default",
        Some("2026-11-23T09:00:00Z"),
        Some("2026-11-23T08:45:00Z"),
    );
    assert_eq!(phase(&e), Phase::Resolved);
    assert_eq!(resolution_due(&e), Some(t("2026-11-23T12:00:00Z")));
    let responded = cond(&e.status, "Responded");
    assert_eq!(
        (responded.status.as_str(), responded.reason.as_str()),
        ("True", "AnsweredByResolution")
    );
    assert_eq!(responded.last_transition_time.0, t("2026-11-23T08:30:00Z"));
    let resolved = cond(&e.status, "Resolved");
    assert_eq!(
        (resolved.status.as_str(), resolved.reason.as_str()),
        ("True", "Resolved")
    );
    assert_eq!(resolved.last_transition_time.0, t("2026-11-23T08:30:00Z"));
    assert!(!cond_status(&e, "Breached"));
    assert!(!cond_status(&e, "ResolutionBreached"));
    assert!(!cond_status(&e, "AtRisk"));
    assert!(!cond_status(&e, "Paused"));
    // The chain stopped at the response instant (08:30): level 1.
    assert_eq!(esc(&e), level(1, SupportType::HelpDesk, "care-desk"));
    assert_eq!(next(&e), None);
    // The earlier of the two: resolved 08:40, response recorded 08:50.
    let e = ev(
        "shop-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z",
               "firstResponseAt": "2026-11-23T08:50:00Z", "resolvedAt": "2026-11-23T08:40:00Z"}),
        "2026-11-23T08:45:00Z",
    );
    assert_eq!(phase(&e), Phase::Resolved);
    assert_eq!(
        cond(&e.status, "Responded").last_transition_time.0,
        t("2026-11-23T08:40:00Z")
    );
    // Responded first (08:20), resolved later (10:00): Responded, then Resolved.
    let fields = json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z",
                        "firstResponseAt": "2026-11-23T08:20:00Z", "resolvedAt": "2026-11-23T10:00:00Z"});
    let e = ev("shop-support", fields.clone(), "2026-11-23T09:00:00Z");
    assert_eq!(phase(&e), Phase::Responded);
    let resolved = cond(&e.status, "Resolved");
    assert_eq!(
        (resolved.status.as_str(), resolved.reason.as_str()),
        ("False", "ResolutionScheduled")
    );
    assert_eq!(next(&e), Some(t("2026-11-23T10:00:00Z")));
    let e = ev("shop-support", fields, "2026-11-23T10:00:00Z");
    assert_eq!(phase(&e), Phase::Resolved);
    assert_eq!(cond(&e.status, "Responded").reason, "Responded");
    assert_eq!(next(&e), None);
}

#[test]
fn rule8_resolved_exactly_at_the_due_time_is_a_late_response() {
    let fields = |resolved: &str| json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z", "resolvedAt": resolved});
    // Just before: AtRisk, and the next change is the resolution at 09:00.
    let e = ev(
        "shop-support",
        fields("2026-11-23T09:00:00Z"),
        "2026-11-23T08:59:59Z",
    );
    assert_eq!(phase(&e), Phase::AtRisk);
    assert_eq!(next(&e), Some(t("2026-11-23T09:00:00Z")));
    // At the due time: Resolved, and Breached (the response came at the due time).
    let e = ev(
        "shop-support",
        fields("2026-11-23T09:00:00Z"),
        "2026-11-23T09:00:00Z",
    );
    assert_eq!(phase(&e), Phase::Resolved);
    let breached = cond(&e.status, "Breached");
    assert_eq!(
        (breached.status.as_str(), breached.reason.as_str()),
        ("True", "RespondedLate")
    );
    assert_eq!(breached.last_transition_time.0, t("2026-11-23T09:00:00Z"));
    assert!(
        !cond_status(&e, "ResolutionBreached"),
        "resolution due 12:00"
    );
    assert_eq!(next(&e), None);
    // One second earlier: in time, for ever.
    let e = ev(
        "shop-support",
        fields("2026-11-23T08:59:59Z"),
        "2026-11-25T00:00:00Z",
    );
    assert_eq!(phase(&e), Phase::Resolved);
    assert!(!cond_status(&e, "Breached"));
    // Resolved exactly at the resolution due time (12:00) after a response in time.
    let late = |resolved: &str| {
        ev(
            "shop-support",
            json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z",
                   "firstResponseAt": "2026-11-23T08:30:00Z", "resolvedAt": resolved}),
            "2026-11-23T13:00:00Z",
        )
    };
    let e = late("2026-11-23T12:00:00Z");
    assert!(!cond_status(&e, "Breached"));
    let rb = cond(&e.status, "ResolutionBreached");
    assert_eq!(
        (rb.status.as_str(), rb.reason.as_str()),
        ("True", "ResolvedLate")
    );
    assert_eq!(rb.last_transition_time.0, t("2026-11-23T12:00:00Z"));
    let e = late("2026-11-23T11:59:59Z");
    let rb = cond(&e.status, "ResolutionBreached");
    assert_eq!(
        (rb.status.as_str(), rb.reason.as_str()),
        ("False", "WithinResolutionTarget")
    );
}

#[test]
fn rule7_resolution_due_on_the_business_clock() {
    // lifecycle B, business hours, Mon 08:00: response due 11:00; resolution
    // 16h = Mon 09–17 + Tue 09–17, met at Tue's window end: Tue 17:00.
    let b = |extra: Value, now: &str| {
        let mut fields = json!({"severity": "B", "openedAt": "2026-11-23T08:00:00Z"});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        ev("shop-support", fields, now)
    };
    let e = b(json!({}), "2026-11-23T10:00:00Z");
    assert_sla(
        &e,
        "B",
        None,
        BH,
        "default",
        Some("2026-11-23T11:00:00Z"),
        Some("2026-11-23T10:30:00Z"),
    );
    assert_eq!(resolution_due(&e), Some(t("2026-11-24T17:00:00Z")));
    // Breached since 11:00; the chain (150% = 3h → Mon 12:00; 3h → Mon 12:00)
    // is complete by 12:00; the next change is the resolution due time.
    let e = b(json!({}), "2026-11-24T16:59:59Z");
    assert_eq!(phase(&e), Phase::Breached);
    assert_eq!(esc(&e), level(3, SupportType::Dedicated, "duty-manager"));
    assert!(!cond_status(&e, "ResolutionBreached"));
    assert_eq!(next(&e), Some(t("2026-11-24T17:00:00Z")));
    let e = b(json!({}), "2026-11-24T17:00:00Z");
    let rb = cond(&e.status, "ResolutionBreached");
    assert_eq!(
        (rb.status.as_str(), rb.reason.as_str()),
        ("True", "ResolutionOverdue")
    );
    assert_eq!(rb.last_transition_time.0, t("2026-11-24T17:00:00Z"));
    assert_eq!(phase(&e), Phase::Breached, "the phase follows the response");
    assert_eq!(next(&e), None);
    // A closed pause moves both: response 12:00, resolution Wed 10:00.
    let e = b(
        json!({"pauses": [{"from": "2026-11-23T10:00:00Z", "to": "2026-11-23T11:00:00Z"}]}),
        "2026-11-23T09:00:00Z",
    );
    assert_eq!(due(&e), Some(t("2026-11-23T12:00:00Z")));
    assert_eq!(resolution_due(&e), Some(t("2026-11-25T10:00:00Z")));
    // An open pause: neither comes.
    let e = b(
        json!({"pauses": [{"from": "2026-11-23T10:00:00Z"}]}),
        "2026-11-30T09:00:00Z",
    );
    assert_eq!(due(&e), None);
    assert_eq!(resolution_due(&e), None);
    assert!(!cond_status(&e, "ResolutionBreached"));
    // C has no resolution target.
    let e = ev(
        "shop-support",
        json!({"severity": "C", "openedAt": "2026-11-23T08:00:00Z"}),
        "2026-12-30T00:00:00Z",
    );
    assert_eq!(resolution_due(&e), None);
    assert_eq!(
        cond(&e.status, "ResolutionBreached").reason,
        "NoResolutionTarget"
    );
    assert!(
        serde_json::to_value(&e.status)
            .unwrap()
            .get("resolutionDueAt")
            .is_none()
    );
}

#[test]
fn rule7_a_chain_goes_on_past_the_due_time() {
    // care: HelpDesk at once, Vendor at 150% (half a target overdue), the
    // duty manager after 3h (three targets). A 24x7, Mon 08:00, due 09:00.
    let at = |now: &str| {
        ev(
            "shop-support",
            json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"}),
            now,
        )
    };
    let e = at("2026-11-23T08:59:59Z");
    assert_eq!(
        (phase(&e), esc(&e)),
        (Phase::AtRisk, level(1, SupportType::HelpDesk, "care-desk"))
    );
    assert_eq!(next(&e), Some(t("2026-11-23T09:00:00Z")));
    let e = at("2026-11-23T09:00:00Z");
    assert_eq!(
        (phase(&e), esc(&e)),
        (
            Phase::Breached,
            level(1, SupportType::HelpDesk, "care-desk")
        )
    );
    assert_eq!(next(&e), Some(t("2026-11-23T09:30:00Z")));
    let e = at("2026-11-23T09:30:00Z");
    assert_eq!(esc(&e), level(2, SupportType::Vendor, "vendor-escalations"));
    assert_eq!(next(&e), Some(t("2026-11-23T11:00:00Z")));
    let e = at("2026-11-23T11:00:00Z");
    assert_eq!(esc(&e), level(3, SupportType::Dedicated, "duty-manager"));
    assert_eq!(
        next(&e),
        Some(t("2026-11-23T12:00:00Z")),
        "then the resolution due time"
    );
    // A late response at 10:00 freezes the chain at level 2.
    let e = ev(
        "shop-support",
        json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z", "firstResponseAt": "2026-11-23T10:00:00Z"}),
        "2026-11-23T13:00:00Z",
    );
    assert_eq!(
        (phase(&e), esc(&e)),
        (
            Phase::Responded,
            level(2, SupportType::Vendor, "vendor-escalations")
        )
    );
    assert!(cond_status(&e, "Breached"));
}

#[test]
fn rule11_the_effort_cap_at_its_limit() {
    let capped = |investigation: Option<&str>, effort: Option<&str>| {
        let mut fields = json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z"});
        if let Some(i) = investigation {
            fields["investigation"] = json!(i);
        }
        if let Some(e) = effort {
            fields["effort"] = json!(e);
        }
        ev("shop-support", fields, "2026-11-23T08:30:00Z")
    };
    // Exactly at the 4h limit: reached. care entitles Advisory.
    for (investigation, effort) in [
        ("Performance", "4h"),
        ("Performance", "240m"),
        ("NotReproducible", "5h30m"),
    ] {
        let e = capped(Some(investigation), Some(effort));
        let c = cond(&e.status, "EffortCapReached");
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "EffortCapReached"),
            "{effort}"
        );
        assert!(c.message.contains("ContinueAsAdvisory"), "{}", c.message);
        assert_eq!(
            serde_json::to_value(&e.status).unwrap()["nextStep"],
            json!("ContinueAsAdvisory")
        );
        // The phase is not changed: closing is the help desk's call.
        assert_eq!(phase(&e), Phase::OnTrack);
    }
    // One second short.
    let e = capped(Some("Performance"), Some("3h59m59s"));
    let c = cond(&e.status, "EffortCapReached");
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", "WithinEffortCap")
    );
    assert_eq!(e.status.next_step, None);
    // No effort logged is none.
    assert_eq!(
        cond(
            &capped(Some("Performance"), None).status,
            "EffortCapReached"
        )
        .reason,
        "WithinEffortCap"
    );
    // Break-fix work (said or by default) is not capped here.
    for investigation in [Some("BreakFix"), None] {
        let e = capped(investigation, Some("40h"));
        let c = cond(&e.status, "EffortCapReached");
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("False", "NoEffortCap")
        );
        assert_eq!(e.status.next_step, None);
    }
    // A policy without effortCap, and a tier without SLA (rule 9): never capped.
    for ns in ["finance-support", "support-default"] {
        let e = ev(
            ns,
            json!({"severity": "C", "investigation": "Performance", "effort": "100h", "openedAt": "2026-11-23T08:00:00Z"}),
            "2026-11-23T08:30:00Z",
        );
        assert_eq!(
            cond(&e.status, "EffortCapReached").reason,
            "NoEffortCap",
            "{ns}"
        );
    }
}

#[test]
fn rule11_what_follows_the_capped_work() {
    let at = |ns: &str, now: &str| {
        ev(
            ns,
            json!({"severity": "B", "tier": "care-basic", "openedAt": "2026-11-25T08:00:00Z",
                   "investigation": "Performance", "effort": "6h"}),
            now,
        )
    };
    let step = |e: &Evaluation| serde_json::to_value(&e.status).unwrap()["nextStep"].clone();
    // care-basic has no Advisory; shop's zeta-partner may file tickets
    // (alpine lacks the role, resale-co is a reseller).
    assert_eq!(
        step(&at("shop-support", "2026-11-25T09:00:00Z")),
        json!("ReferToPartner")
    );
    // kiosk's partner may file until 11-25 12:00: the next change is then.
    let e = at("kiosk-support", "2026-11-25T11:59:59Z");
    assert_eq!(step(&e), json!("ReferToPartner"));
    assert_eq!(phase(&e), Phase::Breached, "due 11:00");
    assert_eq!(next(&e), Some(t("2026-11-25T12:00:00Z")));
    let e = at("kiosk-support", "2026-11-25T12:00:00Z");
    assert_eq!(step(&e), json!("Community"));
    // Then only the resolution due time: Wed 09–17 + Thu 09–17.
    assert_eq!(next(&e), Some(t("2026-11-26T17:00:00Z")));
    assert_eq!(
        step(&at("solo-support", "2026-11-25T09:00:00Z")),
        json!("Community")
    );
}

#[test]
fn rule11_resolution_ends_the_cap_and_a_future_one_does_not() {
    let fields = json!({"severity": "A", "openedAt": "2026-11-23T08:00:00Z",
                        "investigation": "Performance", "effort": "5h", "resolvedAt": "2026-11-23T10:00:00Z"});
    let e = ev("shop-support", fields.clone(), "2026-11-23T09:30:00Z");
    assert!(
        cond_status(&e, "EffortCapReached"),
        "a resolvedAt after now does not stop the cap"
    );
    assert_eq!(phase(&e), Phase::Breached);
    // Vendor began at 09:30 (now); the chain stops at the response (10:00),
    // so the duty manager (11:00) never comes; resolution due 12:00 is not
    // reached before 10:00. Next: the resolution.
    assert_eq!(next(&e), Some(t("2026-11-23T10:00:00Z")));
    let e = ev("shop-support", fields, "2026-11-23T10:00:00Z");
    assert_eq!(phase(&e), Phase::Resolved);
    let c = cond(&e.status, "EffortCapReached");
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", "Resolved")
    );
    assert_eq!(e.status.next_step, None);
    assert_eq!(next(&e), None);
}

#[test]
fn rule9_and_rule10_resolved_tickets_are_never_woken() {
    // Best effort: BestEffort until resolvedAt, then Resolved, and nothing after.
    let fields = json!({"severity": "C", "openedAt": "2026-11-23T08:00:00Z", "resolvedAt": "2026-11-23T10:00:00Z"});
    let e = ev("support-default", fields.clone(), "2026-11-23T09:00:00Z");
    assert_eq!(phase(&e), Phase::BestEffort);
    assert_eq!(next(&e), Some(t("2026-11-23T10:00:00Z")));
    let e = ev("support-default", fields, "2026-11-23T10:00:00Z");
    assert_eq!(phase(&e), Phase::Resolved);
    assert_accepted(&e);
    assert_eq!(e.status.severity, None);
    assert_eq!(resolution_due(&e), None);
    assert_eq!(esc(&e), level(1, SupportType::Maker, "app-makers"));
    assert_eq!(
        cond(&e.status, "ResolutionBreached").reason,
        "NoResolutionTarget"
    );
    assert_eq!(next(&e), None);
    // Whatever else lies ahead (an open pause, escalation levels, a due
    // time, a partner's expiry), a resolved ticket has no next change.
    for (ns, extra) in [
        (
            "shop-support",
            json!({"severity": "A", "pauses": [{"from": "2026-11-23T08:20:00Z"}]}),
        ),
        ("shop-support", json!({"severity": "B"})),
        (
            "kiosk-support",
            json!({"severity": "B", "investigation": "Performance", "effort": "9h"}),
        ),
        (
            "finance-support",
            json!({"severity": "A", "firstResponseAt": "2026-11-24T00:00:00Z"}),
        ),
        (
            "support-default",
            json!({"severity": "C", "pauses": [{"from": "2026-11-23T09:00:00Z", "to": "2026-11-23T12:00:00Z"}]}),
        ),
    ] {
        let mut fields =
            json!({"openedAt": "2026-11-23T08:00:00Z", "resolvedAt": "2026-11-23T08:30:00Z"});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        for now in [
            "2026-11-23T08:30:00Z",
            "2026-11-23T09:45:00Z",
            "2027-03-01T00:00:00Z",
        ] {
            let e = ev(ns, fields.clone(), now);
            assert_eq!(phase(&e), Phase::Resolved, "{ns} {fields} {now}");
            assert_eq!(next(&e), None, "{ns} {fields} {now}");
        }
    }
}

// ---------------------------------------------------------------------------
// The shipped examples.

#[test]
fn examples_evaluate_as_designed() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"));
    let m = Manifests::load(&[dir]).expect("examples load");
    let catalog = m.catalog();
    let now = t("2026-12-01T00:00:00Z");
    // (name, phase at now, effective severity, due) — derived by hand:
    let want: &[(&str, Phase, Option<&str>, Option<&str>)] = &[
        // unified A, no commitment → B 2h BH: Mon 09:00 + 2h.
        (
            "payments-down-no-commitment",
            Phase::Breached,
            Some("B"),
            Some("2026-11-23T11:00:00Z"),
        ),
        // A 24x7: 22:00 + 1h.
        (
            "ledger-outage-24x7",
            Phase::Breached,
            Some("A"),
            Some("2026-11-24T23:00:00Z"),
        ),
        // professional-direct B 2h on 24x7: 18:30 + 2h.
        (
            "campaign-sync-24x7-request",
            Phase::Breached,
            Some("B"),
            Some("2026-11-25T20:30:00Z"),
        ),
        // de A 1h BH: Tue 16:30 → 30 min + Wed 09:00 + 30 min.
        (
            "lohnabrechnung-fehler",
            Phase::Breached,
            Some("A"),
            Some("2026-11-25T09:30:00Z"),
        ),
        // preview B 2h BH: Tue 13:00 + 2h.
        (
            "preview-connector-timeout",
            Phase::Breached,
            Some("B"),
            Some("2026-11-24T15:00:00Z"),
        ),
        // B 2h, Thu 09:00, paused 09:30–10:30: 12:00.
        (
            "report-refresh-paused",
            Phase::Breached,
            Some("B"),
            Some("2026-11-26T12:00:00Z"),
        ),
        // professional-direct C 4h: Tue 10:00 + 4h; answered 11:15.
        (
            "expense-form-question",
            Phase::Responded,
            Some("C"),
            Some("2026-11-24T14:00:00Z"),
        ),
        // B 2h, Wed 13:00 + 2h; answered 16:20 (late).
        (
            "vendor-portal-late-response",
            Phase::Responded,
            Some("B"),
            Some("2026-11-25T15:00:00Z"),
        ),
        ("budget-planning-advisory", Phase::Rejected, None, None),
        ("timesheet-app-productivity", Phase::Rejected, None, None),
        // B 2h, Tue 14:00 + 2h.
        (
            "fabrikam-gateway-error",
            Phase::Breached,
            Some("B"),
            Some("2026-11-24T16:00:00Z"),
        ),
        ("northwind-license-issue", Phase::Rejected, None, None),
        // Closed 09-15 (limit 12-15): B 2h, Fri 10:00 + 2h.
        (
            "ledger-sync-reopened",
            Phase::Breached,
            Some("B"),
            Some("2026-11-27T12:00:00Z"),
        ),
        ("flow-builder-question", Phase::BestEffort, None, None),
        // C 4h north-america, Wed 17:00 PST: 1h, Thanksgiving, Fri 06:00 + 3h = 17:00Z.
        (
            "payroll-export-north-america",
            Phase::Breached,
            Some("C"),
            Some("2026-11-27T17:00:00Z"),
        ),
        // professional-direct C 4h, Warsaw: Fri 16:30 CET → Mon 12:30 CET.
        (
            "campaign-page-warsaw",
            Phase::Breached,
            Some("C"),
            Some("2026-11-30T11:30:00Z"),
        ),
        // C 4h japan, Fri 19:30 JST; Mon 23 holiday; Tue 13:00 JST.
        (
            "tokyo-batch-friday-evening",
            Phase::Breached,
            Some("C"),
            Some("2026-11-24T04:00:00Z"),
        ),
        ("trial-signup-error", Phase::Redirected, None, None),
        ("crm-plugin-crash", Phase::Redirected, None, None),
        // unified B 2h, Tue 09:00 + 2h; resolved Wed 15:00.
        (
            "invoice-export-resolved",
            Phase::Resolved,
            Some("B"),
            Some("2026-11-24T11:00:00Z"),
        ),
        // unified C 4h, Mon 10:00 + 4h; answered 11:00.
        (
            "month-end-close-slow",
            Phase::Responded,
            Some("C"),
            Some("2026-11-23T14:00:00Z"),
        ),
    ];
    let reasons = [
        ("budget-planning-advisory", "NotEntitled"),
        ("timesheet-app-productivity", "TierNotAllowed"),
        ("northwind-license-issue", "PartnerNotAuthorized"),
    ];
    for (name, ph, sev, due_at) in want {
        let ticket = m
            .tickets
            .iter()
            .find(|x| x.metadata.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("example ticket {name}"));
        let e = evaluate(&catalog, TicketInput::of(ticket, now), None, now);
        assert_eq!(phase(&e), *ph, "{name}");
        assert_eq!(e.status.severity.as_deref(), *sev, "{name}");
        assert_eq!(due(&e), due_at.map(t), "{name}");
        if let Some((_, reason)) = reasons.iter().find(|(n, _)| n == name) {
            assert_rejected(&e, reason);
        }
        match *name {
            "payments-down-no-commitment" => {
                assert_eq!(
                    e.status.downgrade.as_ref().map(|d| d.from.as_str()),
                    Some("A")
                )
            }
            "ledger-outage-24x7" | "campaign-sync-24x7-request" => {
                assert_eq!(e.status.coverage, RTC)
            }
            "lohnabrechnung-fehler" | "preview-connector-timeout" => {
                assert_eq!(e.status.coverage, BH);
                assert_eq!(e.status.downgrade, None);
            }
            "expense-form-question" => assert!(!cond_status(&e, "Breached")),
            "vendor-portal-late-response" => {
                assert!(cond_status(&e, "Breached"));
                assert_eq!(esc(&e), level(4, SupportType::Vendor, "vendor-support"));
            }
            "flow-builder-question" => {
                assert_eq!(esc(&e), level(1, SupportType::Maker, "app-makers"))
            }
            "trial-signup-error" => assert_redirected(
                &e,
                "RoutedToPartner",
                json!({"to": "Partner", "name": "fabrikam", "contact":
                       {"url": "https://fabrikam.example/support", "email": "support@fabrikam.example"}}),
            ),
            "crm-plugin-crash" => assert_redirected(
                &e,
                "RoutedToPublisher",
                json!({"to": "Publisher", "name": "contoso", "contact":
                       {"url": "https://support.contoso.example", "email": "help@contoso.example", "phone": "+1 555 0100"}}),
            ),
            // 16 business hours from Tue 09:00: Tue 09–17, Wed 09–17.
            "invoice-export-resolved" => {
                assert_eq!(resolution_due(&e), Some(t("2026-11-25T17:00:00Z")));
                assert!(cond_status(&e, "Resolved"));
                assert!(!cond_status(&e, "ResolutionBreached"));
                assert!(!cond_status(&e, "Breached"));
                assert_eq!(next(&e), None);
            }
            // 40 business hours from Mon 10:00: 7 + 8 + 8 + 8 (Thanksgiving
            // is not a holiday on `default`) + 8 = 39 by Fri 17:00, then Mon
            // 11-30 09:00 + 1h. Overdue at now; the cap holds.
            "month-end-close-slow" => {
                assert_eq!(resolution_due(&e), Some(t("2026-11-30T10:00:00Z")));
                assert!(cond_status(&e, "ResolutionBreached"));
                assert!(cond_status(&e, "EffortCapReached"));
                assert_eq!(
                    serde_json::to_value(&e.status).unwrap()["nextStep"],
                    json!("ContinueAsAdvisory")
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        m.tickets.len(),
        want.len(),
        "every example ticket is checked"
    );
}

// ---------------------------------------------------------------------------
// Independent models for the property tests.

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// Rules 2–4 restated: (levels as (coverage is 24x7, requiresCustomer24x7,
/// allow24x7OnRequest)), requested index, R, customer 24x7, 24x7 requested →
/// (effective index, downgraded, coverage is 24x7).
fn rules_2_to_4(
    levels: &[(bool, bool, bool)],
    requested: usize,
    r: bool,
    customer: bool,
    asked: bool,
) -> (usize, bool, bool) {
    let wants = |l: (bool, bool, bool)| l.0 || (asked && l.2);
    // "needs the customer if it requiresCustomer24x7, or it wants 24x7 only because it was requested"
    let needs = |l: (bool, bool, bool)| l.1 || (!l.0 && asked && l.2);
    let lv = levels[requested];
    let down = r && wants(lv) && needs(lv) && !customer && requested + 1 < levels.len();
    let eff = if down { requested + 1 } else { requested };
    let le = levels[eff];
    let cov = r && wants(le) && (!needs(le) || customer);
    (eff, down, cov)
}

fn primary(tag: &str) -> String {
    tag.split('-').next().unwrap().to_ascii_lowercase()
}

/// unified: A (24x7, needs customer), B (BH, on request), C (BH).
const UNIFIED: [(bool, bool, bool); 3] = [
    (true, true, false),
    (false, false, true),
    (false, false, false),
];
const UNIFIED_NAMES: [&str; 3] = ["A", "B", "C"];
const UNIFIED_TARGETS: [i64; 3] = [HOUR, 2 * HOUR, 4 * HOUR];
/// regional: urgent (24x7, needs), high (24x7), normal (BH, on request), last (24x7, needs).
const REGIONAL: [(bool, bool, bool); 4] = [
    (true, true, false),
    (true, false, false),
    (false, false, true),
    (true, true, false),
];
const REGIONAL_NAMES: [&str; 4] = ["urgent", "high", "normal", "last"];
const PRECISE: [(bool, bool, bool); 1] = [(true, false, false)];

/// The `default` calendar of `unified`: UTC, 09:00–17:00 Mon–Fri, holidays
/// 2026-12-25, 2026-12-31 and every 01-01 (Thanksgiving and japan's day are not its).
fn default_calendar_day_off(day: i64) -> bool {
    let weekday = (day + 3).rem_euclid(7); // 1970-01-01 was a Thursday: Mon = 0
    if weekday >= 5 {
        return true;
    }
    let date = Timestamp::from_second(day * DAY)
        .unwrap()
        .to_zoned(TimeZone::UTC)
        .date();
    let (y, m, d) = (date.year(), date.month(), date.day());
    (y == 2026 && m == 12 && (d == 25 || d == 31)) || (m == 1 && d == 1)
}

/// Covered, unpaused stretches from `start` up to `start + horizon`, in order.
struct Model {
    start: i64,
    pieces: Vec<(i64, i64)>,
}

impl Model {
    fn new(
        start: i64,
        round_the_clock: bool,
        pauses: &[(i64, Option<i64>)],
        horizon: i64,
    ) -> Model {
        let end = start + horizon;
        let covered: Vec<(i64, i64)> = if round_the_clock {
            vec![(start, end)]
        } else {
            let mut v = Vec::new();
            let mut day = start.div_euclid(DAY);
            while day * DAY < end {
                if !default_calendar_day_off(day) {
                    let (a, b) = (day * DAY + 9 * HOUR, day * DAY + 17 * HOUR);
                    let (a, b) = (a.max(start), b.min(end));
                    if a < b {
                        v.push((a, b));
                    }
                }
                day += 1;
            }
            v
        };
        // Merge the pauses myself.
        let mut ps: Vec<(i64, i64)> = pauses
            .iter()
            .map(|&(f, to)| (f, to.unwrap_or(i64::MAX)))
            .filter(|(f, to)| f < to)
            .collect();
        ps.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (f, to) in ps {
            match merged.last_mut() {
                Some(last) if f <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((f, to)),
            }
        }
        let mut pieces = Vec::new();
        for (a, b) in covered {
            let mut cur = a;
            for &(pf, pt) in &merged {
                if pt <= cur || pf >= b {
                    continue;
                }
                if pf > cur {
                    pieces.push((cur, pf));
                }
                cur = cur.max(pt);
                if cur >= b {
                    break;
                }
            }
            if cur < b {
                pieces.push((cur, b));
            }
        }
        Model { start, pieces }
    }

    /// Measure of [start, t) covered and not paused.
    fn consumed(&self, t: i64) -> i64 {
        self.pieces
            .iter()
            .map(|&(a, b)| (b.min(t) - a).max(0))
            .sum()
    }

    /// Earliest u ≥ start with consumed(u) ≥ x, within the horizon.
    fn instant(&self, x: i64) -> Option<i64> {
        if x <= 0 {
            return Some(self.start);
        }
        let mut left = x;
        for &(a, b) in &self.pieces {
            if b - a >= left {
                return Some(a + left);
            }
            left -= b - a;
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Generators.

const RANGE_START: i64 = 1_761_955_200; // 2025-11-01T00:00:00Z
const SPAN: i64 = 560 * DAY; // to mid-May 2027

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn rfc(s: i64) -> String {
    ts(s).to_string()
}

#[derive(Debug, Clone)]
struct Case {
    ns: &'static str,
    tier: Option<&'static str>,
    severity: String,
    language: Option<&'static str>,
    stage: Option<&'static str>,
    customer: Option<&'static str>,
    requested: Option<&'static str>,
    region: Option<&'static str>,
    time_zone: Option<&'static str>,
    category: Option<&'static str>,
    start: i64,
    pauses: Vec<(i64, Option<i64>)>,
    first_response: Option<i64>,
    resolved: Option<i64>,
    /// Logged Performance effort.
    effort: Option<&'static str>,
}

impl Case {
    fn fields(&self) -> Value {
        let mut f = json!({"severity": self.severity, "openedAt": rfc(self.start)});
        let mut set = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                f[k] = json!(v);
            }
        };
        set("tier", self.tier);
        set("language", self.language);
        set("productStage", self.stage);
        set("customerAvailability", self.customer);
        set("coverageRequested", self.requested);
        set("region", self.region);
        set("timeZone", self.time_zone);
        set("category", self.category);
        if !self.pauses.is_empty() {
            f["pauses"] = Value::Array(
                self.pauses
                    .iter()
                    .map(|&(from, to)| match to {
                        Some(to) => {
                            json!({"from": rfc(from), "to": rfc(to), "reason": "AwaitingCustomer"})
                        }
                        None => json!({"from": rfc(from), "reason": "AwaitingCustomer"}),
                    })
                    .collect(),
            );
        }
        if let Some(r) = self.first_response {
            f["firstResponseAt"] = json!(rfc(r));
        }
        if let Some(r) = self.resolved {
            f["resolvedAt"] = json!(rfc(r));
        }
        if let Some(e) = self.effort {
            f["investigation"] = json!("Performance");
            f["effort"] = json!(e);
        }
        f
    }

    fn spec(&self) -> TicketSpec {
        spec(self.fields())
    }

    fn eval(&self, spec: &TicketSpec, now: i64, previous: Option<&TicketStatus>) -> Evaluation {
        let input = TicketInput {
            namespace: self.ns,
            spec,
            created: t(CREATED),
            generation: Some(1),
        };
        evaluate(&CATALOG, input, previous, ts(now))
    }
}

fn opt<T: Clone + std::fmt::Debug + 'static>(xs: &'static [T]) -> impl Strategy<Value = Option<T>> {
    prop_oneof![Just(None), prop::sample::select(xs).prop_map(Some)]
}

prop_compose! {
    fn pauses_near(start: i64)(
        closed in prop::collection::vec((-2 * DAY..6 * DAY, 1..3 * DAY), 0..4),
        open in prop_oneof![3 => Just(None), 1 => (-DAY..8 * DAY).prop_map(Some)],
    ) -> Vec<(i64, Option<i64>)> {
        let mut v: Vec<(i64, Option<i64>)> = closed.into_iter().map(|(f, len)| (start + f, Some(start + f + len))).collect();
        if let Some(f) = open {
            v.push((start + f, None));
        }
        v
    }
}

fn any_case() -> impl Strategy<Value = Case> {
    let who = prop::sample::select(
        &[
            ("finance-support", None),
            ("finance-support", None),
            ("marketing-support", None),
            ("support-default", None),
            ("emea-support", None),
            ("emea-support", None),
            ("lab-support", None),
            ("open-support", Some("besteffort-plus")),
            ("open-support", Some("quiet")),
            ("open-support", Some("critical")),
            ("shop-support", None),
            ("kiosk-support", None),
            ("nowhere", None),
        ][..],
    );
    (
        who,
        0usize..4,
        opt(&["en", "en-US", "de", "fr"]),
        prop::sample::select(&[None, None, None, Some("PublicPreview")][..]),
        opt(&["24x7", "BusinessHours"]),
        opt(&["24x7", "BusinessHours"]),
        opt(&["north-america", "japan", "mars", "la-night", "la-gap"]),
        opt(&["Europe/Warsaw", "Asia/Tokyo", "America/Los_Angeles"]),
        RANGE_START..RANGE_START + SPAN,
    )
        .prop_flat_map(|((ns, tier), sev, language, stage, customer, requested, region, time_zone, start)| {
            let severity = match (ns, tier) {
                ("emea-support", _) => REGIONAL_NAMES[sev].to_string(),
                ("lab-support", _) => "P".to_string(),
                ("support-default", _) | ("open-support", Some("besteffort-plus" | "quiet")) => "C".to_string(),
                _ => UNIFIED_NAMES[sev % 3].to_string(),
            };
            (
                pauses_near(start),
                prop_oneof![2 => Just(None), 1 => (-DAY..10 * DAY).prop_map(move |d| Some(start + d))],
                prop_oneof![2 => Just(None), 1 => (-DAY..10 * DAY).prop_map(move |d| Some(start + d))],
                opt(&["3h", "4h", "5h"]),
            )
                .prop_map(move |(pauses, first_response, resolved, effort)| Case {
                    ns,
                    tier,
                    severity: severity.clone(),
                    language,
                    stage,
                    customer,
                    requested,
                    region,
                    time_zone,
                    category: None,
                    start,
                    pauses,
                    first_response,
                    resolved,
                    effort,
                })
        })
}

/// Tickets on `unified`'s default calendar (finance, no region, no zone).
fn default_calendar_case() -> impl Strategy<Value = Case> {
    (
        0usize..3,
        opt(&["en", "EN-gb", "de"]),
        prop::sample::select(&[None, None, Some("GA"), Some("PublicPreview")][..]),
        opt(&["24x7", "BusinessHours"]),
        opt(&["24x7", "BusinessHours"]),
        // 2026-11-01 … 2027-01-20: around Christmas, NYE and New Year.
        1_793_491_200i64..1_793_491_200 + 80 * DAY,
    )
        .prop_flat_map(|(sev, language, stage, customer, requested, start)| {
            (
                pauses_near(start),
                prop_oneof![2 => Just(None), 1 => (-DAY..10 * DAY).prop_map(move |d| Some(start + d))],
            )
                .prop_map(move |(pauses, first_response)| Case {
                    ns: "finance-support",
                    tier: None,
                    severity: UNIFIED_NAMES[sev].to_string(),
                    language,
                    stage,
                    customer,
                    requested,
                    region: None,
                    time_zone: None,
                    category: None,
                    start,
                    pauses,
                    first_response,
                    resolved: None,
                    effort: None,
                })
        })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    }
}

fn sev_index(names: &[&str], s: &str) -> usize {
    names.iter().position(|n| *n == s).unwrap()
}

proptest! {
    #![proptest_config(config())]

    /// Rules 1 (preview), 2–4 over the three policies.
    #[test]
    fn prop_rules_2_to_4(
        which in 0usize..3,
        sev in 0usize..4,
        language in prop::sample::select(&["en", "en-US", "EN", "de", "de-AT", "DE", "fr", "ja"][..]),
        stage in prop::sample::select(&[None, Some("GA"), Some("PublicPreview"), Some("PrivatePreview")][..]),
        customer in opt(&["24x7", "BusinessHours"]),
        requested in opt(&["24x7", "BusinessHours"]),
    ) {
        type Shape<'a> = (&'a str, &'a [&'a str], &'a [(bool, bool, bool)], &'a [&'a str], &'a [&'a str]);
        let (ns, names, levels, rtc, preview): Shape = match which {
            0 => ("finance-support", &UNIFIED_NAMES, &UNIFIED, &["en"], &["en"]),
            1 => ("emea-support", &REGIONAL_NAMES, &REGIONAL, &["en", "de"], &["en", "de"]),
            _ => ("lab-support", &["P"], &PRECISE, &["en"], &["en"]),
        };
        let requested_idx = sev % names.len();
        let case = Case {
            ns, tier: None, severity: names[requested_idx].to_string(), language: Some(language), stage,
            customer, requested, region: None, time_zone: None, category: Some("Technical"),
            start: 1_795_420_800, // 2026-11-23T08:00:00Z
            pauses: vec![], first_response: None, resolved: None, effort: None,
        };
        let spec = case.spec();
        let e = case.eval(&spec, 1_795_420_800, None);
        let lang = primary(language);
        let ga = matches!(stage, None | Some("GA"));
        if !ga && !preview.contains(&lang.as_str()) {
            assert_rejected(&e, "PreviewNotSupported");
            return Ok(());
        }
        assert_accepted(&e);
        let r = ga && rtc.contains(&lang.as_str());
        let (eff, down, cov) = rules_2_to_4(levels, requested_idx, r, customer == Some("24x7"), requested == Some("24x7"));
        let got = sev_index(names, e.status.severity.as_deref().unwrap());
        // Never more severe than requested, at most one level less.
        prop_assert!(got >= requested_idx && got <= requested_idx + 1);
        prop_assert_eq!(got, eff);
        prop_assert_eq!(e.status.downgrade.is_some(), down);
        prop_assert_eq!(e.status.downgrade.is_some(), got != requested_idx);
        if let Some(d) = &e.status.downgrade {
            prop_assert_eq!(d.from.as_str(), names[requested_idx]);
            prop_assert_eq!(d.reason.as_str(), "CustomerNot24x7");
        }
        prop_assert_eq!(e.status.coverage, Some(if cov { Coverage::RoundTheClock } else { Coverage::BusinessHours }));
        // "no ticket gets 24x7 without the commitment its level needs"
        let l = levels[got];
        if cov && (l.1 || (!l.0 && l.2 && requested == Some("24x7"))) {
            prop_assert_eq!(customer, Some("24x7"));
        }
        // Without R: never downgraded, never 24x7.
        if !r {
            prop_assert!(!down && !cov);
        }
    }

    /// Rules 6–8 against the independent model of `unified`'s default calendar.
    #[test]
    fn prop_rules_6_to_8_match_a_model(case in default_calendar_case(), now_off in -2 * DAY..25 * DAY) {
        let spec = case.spec();
        let now = case.start + now_off;
        let e = case.eval(&spec, now, None);
        if matches!(case.stage, Some("PublicPreview")) && case.language == Some("de") {
            assert_rejected(&e, "PreviewNotSupported");
            return Ok(());
        }
        assert_accepted(&e);
        let lang = primary(case.language.unwrap_or("en"));
        let r = matches!(case.stage, None | Some("GA")) && lang == "en";
        let requested_idx = sev_index(&UNIFIED_NAMES, &case.severity);
        let (eff, down, cov) = rules_2_to_4(&UNIFIED, requested_idx, r, case.customer == Some("24x7"), case.requested == Some("24x7"));
        prop_assert_eq!(e.status.severity.as_deref(), Some(UNIFIED_NAMES[eff]));
        prop_assert_eq!(e.status.downgrade.is_some(), down);
        prop_assert_eq!(e.status.calendar.as_deref(), Some("default"));
        let target = UNIFIED_TARGETS[eff];
        let model = Model::new(case.start, cov, &case.pauses, 60 * DAY);
        let has_open = case.pauses.iter().any(|p| p.1.is_none());
        let due_m = model.instant(target);
        let risk_m = model.instant(target * 75 / 100);
        if !has_open {
            prop_assert!(due_m.is_some(), "model horizon too short");
        }
        prop_assert_eq!(due(&e).map(|x| x.as_second()), due_m, "responseDueAt");
        prop_assert_eq!(at_risk(&e).map(|x| x.as_second()), risk_m, "atRiskAt");
        // Phase by rule 8, from consumed(now) directly.
        let responded = case.first_response.filter(|&r| r <= now);
        let paused = case.pauses.iter().any(|&(f, to)| f <= now && to.is_none_or(|to| now < to));
        let consumed = model.consumed(now);
        let want_phase = if responded.is_some() {
            Phase::Responded
        } else if now < case.start {
            Phase::Pending
        } else if consumed >= target {
            Phase::Breached
        } else if paused {
            Phase::Paused
        } else if consumed >= target * 75 / 100 {
            Phase::AtRisk
        } else {
            Phase::OnTrack
        };
        prop_assert_eq!(phase(&e), want_phase);
        let late = responded.is_some_and(|r| due_m.is_some_and(|d| r >= d));
        prop_assert_eq!(cond_status(&e, "Breached"), want_phase == Phase::Breached || late);
        prop_assert_eq!(cond_status(&e, "Responded"), want_phase == Phase::Responded);
        prop_assert_eq!(cond_status(&e, "Paused"), want_phase == Phase::Paused);
        // Escalation: critical's chain [0, 50%, 90m, 100%].
        let clock = responded.map_or(now, |r| r.min(now));
        let afters = [0, target * 50 / 100, 90 * 60, target];
        let want_level = (0..4).rev().find(|&k| model.instant(afters[k]).is_some_and(|b| b <= clock)).map(|k| k as u32 + 1);
        prop_assert_eq!(e.status.escalation.as_ref().map(|x| x.level), want_level);
    }

    /// responseDueAt never before the start; atRiskAt between start and due.
    #[test]
    fn prop_due_never_before_start(case in any_case(), now_off in -3 * DAY..15 * DAY) {
        let spec = case.spec();
        let e = case.eval(&spec, case.start + now_off, None);
        if let Some(d) = due(&e) {
            prop_assert!(d.as_second() >= case.start, "due {} before start {}", d, ts(case.start));
        }
        if let Some(a) = at_risk(&e) {
            prop_assert!(a.as_second() >= case.start);
            if let Some(d) = due(&e) {
                prop_assert!(a <= d);
            }
        }
        if e.status.phase == Some(Phase::Rejected) {
            prop_assert_eq!(e.next_change, None);
        }
    }

    /// Adding a pause never makes responseDueAt (nor atRiskAt) earlier.
    #[test]
    fn prop_pause_never_makes_due_earlier(
        case in any_case(),
        from in -2 * DAY..8 * DAY,
        len in prop_oneof![3 => (1..3 * DAY).prop_map(Some), 1 => Just(None)],
    ) {
        let spec = case.spec();
        let e = case.eval(&spec, case.start, None);
        let mut more = case.clone();
        let f = case.start + from;
        more.pauses.push((f, len.map(|l| f + l)));
        let spec2 = more.spec();
        let e2 = more.eval(&spec2, case.start, None);
        let later_or_never = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (None, b) => b.is_none(),
            (Some(_), None) => true,
            (Some(a), Some(b)) => b >= a,
        };
        prop_assert!(later_or_never(due(&e), due(&e2)), "due {:?} → {:?}", due(&e), due(&e2));
        prop_assert!(later_or_never(at_risk(&e), at_risk(&e2)), "atRisk {:?} → {:?}", at_risk(&e), at_risk(&e2));
    }

    /// Rule 10: nothing changes strictly between now and next_change; something
    /// changes at next_change; with no next change nothing ever changes.
    #[test]
    fn prop_next_change_is_exact(case in any_case(), now_off in -3 * DAY..15 * DAY, pick in 0.0f64..1.0) {
        let spec = case.spec();
        let now = case.start + now_off;
        let e = case.eval(&spec, now, None);
        let same = |u: i64| -> Result<(), TestCaseError> {
            let later = case.eval(&spec, u, Some(&e.status));
            prop_assert_eq!(&later.snapshot, &e.snapshot, "snapshot at {} vs {} (next {:?})", ts(u), ts(now), e.next_change);
            prop_assert_eq!(&later.status, &e.status, "status at {} vs {}", ts(u), ts(now));
            Ok(())
        };
        match e.next_change {
            Some(n) => {
                let n = n.as_second();
                prop_assert!(n > now);
                let mut probes = vec![now + 1, n - 1, now + (n - now) / 2, now + ((n - now) as f64 * pick) as i64];
                probes.retain(|&u| u > now && u < n);
                for u in probes {
                    same(u)?;
                }
                let at_n: Snapshot = case.eval(&spec, n, Some(&e.status)).snapshot;
                prop_assert_ne!(&at_n, &e.snapshot, "nothing changed at next_change {}", ts(n));
            }
            None => {
                for u in [now + 1, now + DAY, now + 40 * DAY, now + 1 + (400.0 * DAY as f64 * pick) as i64] {
                    same(u)?;
                }
            }
        }
    }
}
