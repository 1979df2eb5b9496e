//! End to end, against a real kube-apiserver + etcd + kube-controller-manager
//! (tests/support) and the operator binary: what a user sees with kubectl.
//!
//! One operator serves every test of this binary; tests run in parallel, so
//! each makes its own policies, tiers, workspaces and namespaces, except the
//! examples test, which owns the names in examples/.

mod life;
mod operator;
#[path = "../support/mod.rs"]
mod support;
mod takeover;
mod timestamps;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{
    ControlPlane, apply_examples, eventually, repo_root, slice_as_evaluated, statuses_as_evaluated,
    wait_namespace,
};
use support_operator::api::{SlaPolicy, Ticket, Workspace};

use operator::Operator;

const OPERATOR_NS: &str = "support-operator";

static OPERATOR: OnceLock<Operator> = OnceLock::new();

/// The control plane with CRDs and roles installed and the operator running.
fn setup() -> &'static ControlPlane {
    let cp = ControlPlane::shared();
    OPERATOR.get_or_init(|| {
        cp.install_crds_and_roles();
        let _ = cp.kubectl(&["create", "namespace", OPERATOR_NS]);
        Operator::start(
            cp,
            "operator",
            &[
                "--namespace",
                OPERATOR_NS,
                "--leader-election=false",
                "--routing-debounce",
                "200ms",
            ],
        )
    });
    cp
}

async fn status_of(cp: &ControlPlane, ns: &str, name: &str) -> Option<Value> {
    let api: Api<Ticket> = Api::namespaced(cp.client().await, ns);
    let t = api.get_opt(name).await.ok()??;
    serde_json::to_value(t.status?).ok()
}

/// A policy with 24x7 severities (due = start + target, whatever the day),
/// a tier on it, and a workspace on that tier: the names, unique per test.
struct Model {
    policy: String,
    tier: String,
    workspace: String,
    namespace: String,
}

fn model(cp: &ControlPlane, prefix: &str, target: &str, extra_workspace: &str) -> Model {
    let m = Model {
        policy: ControlPlane::unique_name(&format!("{prefix}-p")),
        tier: ControlPlane::unique_name(&format!("{prefix}-t")),
        workspace: ControlPlane::unique_name(&format!("{prefix}-w")),
        namespace: ControlPlane::unique_name(&format!("{prefix}-ns")),
    };
    cp.apply_yaml_ok(&format!(
            r#"apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {{name: {p}}}
spec:
  severities:
  - {{name: A, initialResponse: {target}, coverage: 24x7}}
  - {{name: B, initialResponse: 8h, coverage: BusinessHours}}
  calendars:
  - {{name: default, timeZone: UTC, hours: [{{days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}}]}}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {{name: {t}}}
spec:
  supportModel: Formal
  slaPolicy: {p}
  escalation:
  - {{supportType: HelpDesk, queue: helpdesk}}
  - {{supportType: Vendor, queue: vendor, after: 50%}}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {{name: {w}}}
spec:
  namespace: {ns}
  tier: {t}
{extra_workspace}
"#,
            p = m.policy,
            t = m.tier,
            w = m.workspace,
            ns = m.namespace,
        ),
    );
    m
}

fn ticket_yaml(name: &str, ns: &str, severity: &str, extra: &str) -> String {
    format!(
        "apiVersion: supportpolicy.dev/v1alpha1\nkind: Ticket\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  title: test\n  severity: {severity}\n{extra}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn examples_get_the_status_evaluate_prints() {
    let cp = setup();
    apply_examples(cp).await;
    let examples = repo_root().join("examples");
    // Every example policy, tier and workspace reports Ready, as GitOps tools read it.
    let names = [
        "standard",
        "professional-direct",
        "unified",
        "productivity",
        "important",
        "critical",
        "finance",
        "marketing",
        "default",
        "contoso",
    ];
    for kind in ["slapolicies", "supporttiers", "workspaces", "publishers"] {
        let jsonpath = "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}";
        eventually(
            Duration::from_secs(30),
            &format!("{kind} Ready"),
            async || {
                let out = cp.kubectl(&["get", kind, "-o", jsonpath]);
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let not_ready = text.split_whitespace().any(|pair| {
                    names.iter().any(|n| pair.starts_with(&format!("{n}=")))
                        && !pair.ends_with("=True")
                });
                (!not_ready && !text.is_empty()).then_some(())
            },
        )
        .await;
    }
    let manifests =
        support_operator::manifests::Manifests::load(std::slice::from_ref(&examples)).unwrap();
    // Every ticket gets a status; then statuses equal evaluate's at the same
    // instant.
    let client = cp.client().await;
    let expected = statuses_as_evaluated(&client, &manifests, OPERATOR_NS, String::new).await;
    assert_eq!(expected.report.tickets.len(), manifests.tickets.len());
    // The finance slice is built from examples objects only.
    slice_as_evaluated(&client, &expected, "finance-support").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_yaml_is_refused_by_the_api_server_with_the_cel_message() {
    let cp = setup();
    let name = ControlPlane::unique_name("bad");
    let out = cp.apply_yaml(&format!(
            r#"apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {{name: {name}}}
spec:
  severities: [{{name: A, initialResponse: 1h, coverage: 24x7}}]
  calendars: [{{name: default, timeZone: UTC, hours: [{{days: [Mon], start: "25:00", end: "17:00"}}]}}]
"#
        ),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("start must be a time HH:MM from 00:00 to 23:59"),
        "{err}"
    );
    let out = cp.apply_yaml(&format!(
        r#"apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {{name: {name}}}
spec:
  severities: [{{name: A, initialResponse: 1d, coverage: 24x7}}]
  calendars: [{{name: office, timeZone: UTC, hours: []}}]
"#
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("initialResponse must be a duration"), "{err}");
    assert!(
        err.contains("calendars must include one named default"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_change_moves_due_times_within_seconds() {
    let cp = setup();
    let m = model(cp, "move", "4h", "");
    wait_namespace(cp, &m.namespace).await;
    let opened = Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let opened = opened.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    cp.apply_yaml_ok(&ticket_yaml(
        "t1",
        &m.namespace,
        "A",
        &format!("  openedAt: \"{opened}\""),
    ));
    let start: Timestamp = opened.parse().unwrap();
    let due = |s: &Value| {
        s["responseDueAt"]
            .as_str()
            .and_then(|d| d.parse::<Timestamp>().ok())
    };
    let first = eventually(Duration::from_secs(30), "first due time", async || {
        due(&status_of(cp, &m.namespace, "t1").await?)
    })
    .await;
    assert_eq!(first, start + jiff::SignedDuration::from_hours(4));
    let api: Api<SlaPolicy> = Api::all(cp.client().await);
    let patch = json!({"spec": {"severities": [
        {"name": "A", "initialResponse": "2h", "coverage": "24x7"},
        {"name": "B", "initialResponse": "8h", "coverage": "BusinessHours"}]}});
    let changed_at = Instant::now();
    api.patch(&m.policy, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let second = eventually(Duration::from_secs(15), "moved due time", async || {
        due(&status_of(cp, &m.namespace, "t1").await?).filter(|d| *d != first)
    })
    .await;
    assert_eq!(second, start + jiff::SignedDuration::from_hours(2));
    eprintln!(
        "due time moved {:?} after the policy change",
        changed_at.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_turns_breached_at_its_due_time_with_no_other_change() {
    let cp = setup();
    let m = model(cp, "breach", "20s", "");
    wait_namespace(cp, &m.namespace).await;
    cp.apply_yaml_ok(&ticket_yaml("fast", &m.namespace, "A", ""));
    let status = eventually(Duration::from_secs(15), "a due time", async || {
        let s = status_of(cp, &m.namespace, "fast").await?;
        s["responseDueAt"].is_string().then_some(s)
    })
    .await;
    assert_eq!(status["phase"], "OnTrack");
    let due: Timestamp = status["responseDueAt"].as_str().unwrap().parse().unwrap();
    let breached = eventually(Duration::from_secs(40), "Breached", async || {
        let s = status_of(cp, &m.namespace, "fast").await?;
        (s["phase"] == "Breached").then(Timestamp::now)
    })
    .await;
    noticed_on_time("breach", due, breached);
    let s = status_of(cp, &m.namespace, "fast").await.unwrap();
    let breached = s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Breached")
        .unwrap()
        .clone();
    assert_eq!(breached["status"], "True");
    assert_eq!(breached["lastTransitionTime"], s["responseDueAt"]);
    assert_eq!(s["escalation"]["queue"], "vendor");
}

#[tokio::test(flavor = "multi_thread")]
async fn members_personal_accounts_and_partners_get_exactly_their_access() {
    let cp = setup();
    let soon = (Timestamp::now() + jiff::SignedDuration::from_secs(25))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let alice = format!("{}@contoso.com", ControlPlane::unique_name("alice"));
    let extra = format!(
        r#"  agreement: Unified
  members:
  - {{kind: User, name: {alice}}}
  - {{kind: User, name: someone@gmail.com}}
  - {{kind: Group, name: "system:masters"}}
  delegatedAdmins:
  - {{partner: fabrikam, group: fabrikam-support, provider: IndirectProvider, roles: [ServiceSupportAdministrator], expiresAt: "{soon}"}}
  - {{partner: northwind, group: northwind-support, provider: IndirectReseller, roles: [ServiceSupportAdministrator]}}"#
    );
    let a = model(cp, "rbac-a", "1h", &extra);
    let b = model(cp, "rbac-b", "1h", "");
    wait_namespace(cp, &a.namespace).await;
    wait_namespace(cp, &b.namespace).await;
    let can = |user: &str, group: Option<&str>, verb: &str, ns: &str| {
        let mut args = vec![
            "auth",
            "can-i",
            verb,
            "tickets.supportpolicy.dev",
            "-n",
            ns,
            "--as",
            user,
        ];
        if let Some(g) = group {
            args.extend(["--as-group", g]);
        }
        let out = cp.kubectl(&args);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    };
    let ws_api: Api<Workspace> = Api::all(cp.client().await);
    let status = eventually(Duration::from_secs(30), "workspace ready", async || {
        let w = ws_api.get_opt(&a.workspace).await.ok()??;
        let s = w.status?;
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
            .then_some(s)
    })
    .await;
    let refused: Vec<(String, String)> = status
        .rejected_subjects
        .iter()
        .map(|r| (r.name.clone(), r.reason.clone()))
        .collect();
    assert!(
        refused.contains(&("someone@gmail.com".into(), "PersonalAccount".into())),
        "{refused:?}"
    );
    assert!(
        refused.contains(&("system:masters".into(), "SystemIdentity".into())),
        "{refused:?}"
    );
    assert!(
        refused.contains(&("northwind-support".into(), "PartnerNotAuthorized".into())),
        "{refused:?}"
    );
    eventually(Duration::from_secs(15), "member access", async || {
        can(&alice, None, "create", &a.namespace).then_some(())
    })
    .await;
    assert!(can(&alice, None, "list", &a.namespace));
    assert!(
        !can(&alice, None, "create", &b.namespace),
        "a member of A may not create tickets in B"
    );
    assert!(
        !can(&alice, None, "list", &b.namespace),
        "a member of A may not read tickets in B"
    );
    assert!(
        !can("someone@gmail.com", None, "list", &a.namespace),
        "personal account bound"
    );
    assert!(!can(
        "carol@reseller.example",
        Some("northwind-support"),
        "create",
        &a.namespace
    ));
    // The member can really create and read a ticket, as herself.
    let as_alice: Api<Ticket> = Api::namespaced(cp.client_as(&alice, &[]).await, &a.namespace);
    let ticket: Ticket = serde_json::from_value(json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
        "metadata": {"name": "from-alice"}, "spec": {"title": "mine", "severity": "A"}}))
    .unwrap();
    as_alice
        .create(&PostParams::default(), &ticket)
        .await
        .expect("a member creates a ticket");
    as_alice.get("from-alice").await.expect("a member reads it");
    let in_b: Api<Ticket> = Api::namespaced(cp.client_as(&alice, &[]).await, &b.namespace);
    assert!(in_b.create(&PostParams::default(), &ticket).await.is_err());
    // The partner's group until its delegation expires, then not.
    assert!(
        can(
            "dave@fabrikam.example",
            Some("fabrikam-support"),
            "create",
            &a.namespace
        ),
        "active partner"
    );
    let expiry: Timestamp = soon.parse().unwrap();
    eventually(
        Duration::from_secs(60),
        "partner access removed at expiry",
        async || {
            (!can(
                "dave@fabrikam.example",
                Some("fabrikam-support"),
                "create",
                &a.namespace,
            ))
            .then_some(())
        },
    )
    .await;
    let removed_after = Timestamp::now().duration_since(expiry);
    eprintln!("partner access removed {removed_after:?} after expiry");
    assert!(removed_after >= jiff::SignedDuration::ZERO);
    assert!(removed_after < jiff::SignedDuration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_workspace_or_policy_removes_what_the_operator_made() {
    let cp = setup();
    let m = model(
        cp,
        "gone",
        "1h",
        "  members: [{kind: User, name: erin@contoso.com}]",
    );
    wait_namespace(cp, &m.namespace).await;
    cp.apply_yaml_ok(&ticket_yaml("t", &m.namespace, "A", ""));
    let client = cp.client().await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), &m.namespace);
    eventually(Duration::from_secs(30), "support-policy", async || {
        cms.get_opt("support-policy").await.ok().flatten()
    })
    .await;
    let routing: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), OPERATOR_NS);
    let has_policy = async |name: &str| {
        routing
            .get_opt("support-routing")
            .await
            .ok()
            .flatten()
            .and_then(|c| c.data)
            .is_some_and(|d| d.values().any(|v| v.contains(&format!("\"{name}\""))))
    };
    eventually(
        Duration::from_secs(30),
        "routes for the policy",
        async || has_policy(&m.policy).await.then_some(()),
    )
    .await;
    // Deleting the policy: its routes go, and its tickets are rejected (NoSlaPolicy).
    let policies: Api<SlaPolicy> = Api::all(client.clone());
    policies
        .delete(&m.policy, &DeleteParams::default())
        .await
        .unwrap();
    eventually(Duration::from_secs(30), "routes gone", async || {
        (!has_policy(&m.policy).await).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "ticket rejected", async || {
        let s = status_of(cp, &m.namespace, "t").await?;
        (s["phase"] == "Rejected").then_some(())
    })
    .await;
    // Deleting the workspace: namespace, bindings and slice go with it.
    let workspaces: Api<Workspace> = Api::all(client.clone());
    workspaces
        .delete(&m.workspace, &DeleteParams::default())
        .await
        .unwrap();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    eventually(Duration::from_secs(90), "namespace deleted", async || {
        namespaces
            .get_opt(&m.namespace)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_health_are_served() {
    let _cp = setup();
    // Readiness was awaited at start; metrics carry the families the README names.
    let metrics = health_get("/metrics").await;
    for family in [
        "support_operator_reconciles",
        "support_operator_reconcile_duration_seconds",
    ] {
        assert!(metrics.contains(family), "{family} missing:\n{metrics}");
    }
    assert_eq!(health_get("/healthz").await.trim(), "ok");
    // Shown with --nocapture: what a scrape sees at this point of the run.
    eprintln!("---- /metrics\n{metrics}");
}

async fn health_get(path: &str) -> String {
    let op = OPERATOR.get().expect("setup started the operator");
    op.get(path).unwrap_or_default()
}

/// A ticket whose status the API server refuses (a ValidatingAdmissionPolicy
/// stands in for any persistent write failure): it backs off alone, the
/// failure is visible as a Warning Event with the reason and a
/// `Reconciled=False` condition, its neighbours are served meanwhile, and
/// once the cause is gone the status lands and the condition is removed.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_ticket_shows_its_error_backs_off_alone_and_recovers() {
    let cp = setup();
    let m = model(cp, "poison", "1h", "");
    wait_namespace(cp, &m.namespace).await;
    let policy = ControlPlane::unique_name("refuse-phase");
    // Refuses any write that gives a labelled ticket a phase: the operator's
    // status writes fail, the condition-only write of the error does not.
    cp.apply_yaml_ok(&format!(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {policy}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [supportpolicy.dev]
      apiVersions: ["*"]
      operations: [UPDATE]
      resources: [tickets/status]
  validations:
  - expression: "!has(object.metadata.labels) || !('poison' in object.metadata.labels) || !has(object.status) || !has(object.status.phase)"
    message: poisoned ticket
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {policy}}}
spec:
  policyName: {policy}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {{kubernetes.io/metadata.name: {ns}}}
"#,
            ns = m.namespace
        ),
    );
    // Policies take effect asynchronously; wait until a probe is refused.
    let client = cp.client().await;
    let tickets: Api<Ticket> = Api::namespaced(client.clone(), &m.namespace);
    cp.apply_yaml_ok(&ticket_yaml("probe", &m.namespace, "A", "").replace(
        "metadata: {name: probe,",
        "metadata: {labels: {poison: \"true\"}, name: probe,",
    ));
    eventually(
        Duration::from_secs(30),
        "the policy to refuse",
        async || {
            let patch = json!({"status": {"phase": "Pending"}});
            match tickets
                .patch_status("probe", &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Err(kube::Error::Api(e)) if e.message.contains("poisoned ticket") => Some(()),
                _ => None,
            }
        },
    )
    .await;

    cp.apply_yaml_ok(&ticket_yaml("poisoned", &m.namespace, "A", "").replace(
        "metadata: {name: poisoned,",
        "metadata: {labels: {poison: \"true\"}, name: poisoned,",
    ));
    cp.apply_yaml_ok(&ticket_yaml("healthy", &m.namespace, "A", ""));

    // The neighbour is served while the poisoned one fails.
    eventually(
        Duration::from_secs(30),
        "the healthy ticket's status",
        async || {
            status_of(cp, &m.namespace, "healthy")
                .await
                .filter(|s| s["phase"].is_string())
        },
    )
    .await;
    let condition = eventually(Duration::from_secs(30), "Reconciled=False", async || {
        let s = status_of(cp, &m.namespace, "poisoned").await?;
        s["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Reconciled")
            .cloned()
    })
    .await;
    assert_eq!(condition["status"], "False", "{condition}");
    assert_eq!(condition["reason"], "Forbidden", "{condition}");
    assert!(
        condition["message"].as_str().is_some_and(
            |m| m.starts_with("the API server refused: ") && m.contains("poisoned ticket")
        ),
        "{condition}"
    );
    let status = status_of(cp, &m.namespace, "poisoned").await.unwrap();
    assert!(
        status.get("phase").is_none(),
        "no phase was written: {status}"
    );
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), &m.namespace);
    let event = eventually(Duration::from_secs(30), "the Warning Event", async || {
        events
            .list(&Default::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("poisoned")
                    && e.reason.as_deref() == Some("Forbidden")
            })
    })
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert!(
        event
            .note
            .as_deref()
            .is_some_and(|n| n.contains("poisoned ticket")),
        "{event:?}"
    );

    // The cause goes: the status lands and the condition is taken away.
    cp.kubectl_ok(&["delete", "validatingadmissionpolicybinding", &policy]);
    cp.kubectl_ok(&["delete", "validatingadmissionpolicy", &policy]);
    let status = eventually(
        Duration::from_secs(60),
        "the status after recovery",
        async || {
            status_of(cp, &m.namespace, "poisoned").await.filter(|s| {
                s["phase"].is_string()
                    && !s["conditions"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c["type"] == "Reconciled"))
            })
        },
    )
    .await;
    assert_eq!(status["severity"], "A", "{status}");
}

/// A deadline the operator noticed `seen`: at or after `due`, within 3 s.
fn noticed_on_time(what: &str, due: Timestamp, seen: Timestamp) {
    let late = seen.duration_since(due);
    eprintln!("{what} observed {late:?} after its due time");
    assert!(
        late >= jiff::SignedDuration::ZERO,
        "{what} before its due time"
    );
    assert!(
        late < jiff::SignedDuration::from_secs(3),
        "{what} noticed {late:?} late"
    );
}
