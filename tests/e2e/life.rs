//! The ticket's later life, live on the real control plane: tickets that
//! belong elsewhere (a Publisher that appears, changes and goes re-evaluates
//! exactly its tickets), resolution, the resolution target breached at its
//! instant, and the effort cap with its one Event.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use support_operator::api::{Publisher, Ticket};

use super::support::ControlPlane;
use super::{eventually, noticed_on_time, setup, status_of, ticket_yaml, wait_namespace};

/// A policy whose A has a 1h response and a 30s resolution target (24x7),
/// capped Performance work at 2h; a tier entitled to Advisory; a workspace
/// with a partner (with a contact) that supports trials and may file.
struct Life {
    namespace: String,
    publisher: String,
}

fn life(cp: &ControlPlane) -> Life {
    let p = ControlPlane::unique_name("life-p");
    let t = ControlPlane::unique_name("life-t");
    let w = ControlPlane::unique_name("life-w");
    let ns = ControlPlane::unique_name("life-ns");
    let publisher = ControlPlane::unique_name("life-pub");
    cp.apply_yaml_ok(&format!(
            r#"apiVersion: supportpolicy.dev/v1alpha1
kind: SlaPolicy
metadata: {{name: {p}}}
spec:
  severities:
  - {{name: A, initialResponse: 1h, resolution: 30s, coverage: 24x7}}
  - {{name: B, initialResponse: 8h, resolution: 40h, coverage: BusinessHours}}
  effortCap: {{limit: 2h, investigations: [Performance]}}
  calendars:
  - {{name: default, timeZone: UTC, hours: [{{days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}}]}}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: SupportTier
metadata: {{name: {t}}}
spec:
  supportModel: Formal
  slaPolicy: {p}
  entitlements: [Technical, Advisory]
  escalation:
  - {{supportType: HelpDesk, queue: helpdesk}}
  - {{supportType: Dedicated, queue: duty-manager, after: "150%"}}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Workspace
metadata: {{name: {w}}}
spec:
  namespace: {ns}
  tier: {t}
  delegatedAdmins:
  - {{partner: fabrikam, group: fabrikam-support, provider: IndirectProvider, roles: [ServiceSupportAdministrator], contact: {{email: trials@fabrikam.example}}}}
---
apiVersion: supportpolicy.dev/v1alpha1
kind: Publisher
metadata: {{name: {publisher}}}
spec:
  displayName: Life Test Publisher
  contact: {{url: "https://one.example/support"}}
"#
        ),
    );
    Life {
        namespace: ns,
        publisher,
    }
}

/// A severity-A ticket ([`ticket_yaml`]).
fn ticket(name: &str, ns: &str, extra: &str) -> String {
    ticket_yaml(name, ns, "A", extra)
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

async fn events_for(cp: &ControlPlane, ns: &str, ticket: &str, reason: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(cp.client().await, ns);
    events
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(ticket)
                && e.reason.as_deref() == Some(reason)
        })
        .collect()
}

/// A ticket about a marketplace product follows its Publisher live: it is
/// Redirected with the contact, follows a change of contact, is Rejected
/// (UnknownPublisher) while the Publisher is gone, and redirected again
/// when it returns; a ticket naming another publisher is not touched.
#[tokio::test(flavor = "multi_thread")]
async fn a_publisher_redirects_its_tickets_and_its_changes_reach_them() {
    let cp = setup();
    let m = life(cp);
    wait_namespace(cp, &m.namespace).await;
    let product = |publisher: &str| format!("  product: {{name: gadget, publisher: {publisher}}}");
    cp.apply_yaml_ok(&ticket("market", &m.namespace, &product(&m.publisher)));
    cp.apply_yaml_ok(&ticket(
        "bystander",
        &m.namespace,
        &product("nobody-publishes-this"),
    ));
    let s = eventually(Duration::from_secs(30), "Redirected", async || {
        status_of(cp, &m.namespace, "market")
            .await
            .filter(|s| s["phase"] == "Redirected")
    })
    .await;
    assert_eq!(condition(&s, "Accepted")["reason"], "RoutedToPublisher");
    assert_eq!(
        s["redirect"],
        json!({"to": "Publisher", "name": m.publisher, "contact": {"url": "https://one.example/support"}})
    );
    assert!(s.get("responseDueAt").is_none(), "{s}");
    let bystander = eventually(Duration::from_secs(30), "UnknownPublisher", async || {
        status_of(cp, &m.namespace, "bystander")
            .await
            .filter(|s| s["phase"] == "Rejected")
    })
    .await;
    assert_eq!(
        condition(&bystander, "Accepted")["reason"],
        "UnknownPublisher"
    );
    eventually(
        Duration::from_secs(30),
        "the Redirected Event",
        async || {
            (!events_for(cp, &m.namespace, "market", "Redirected")
                .await
                .is_empty())
            .then_some(())
        },
    )
    .await;
    // Printer columns: Phase shows Redirected.
    let out = cp.kubectl_ok(&["get", "tickets", "-n", &m.namespace, "market", "-o", "wide"]);
    assert!(
        out.contains("Redirected") && out.contains(&m.publisher),
        "{out}"
    );

    // The contact changes: the ticket follows within seconds.
    let publishers: Api<Publisher> = Api::all(cp.client().await);
    let changed = std::time::Instant::now();
    publishers
        .patch(
            &m.publisher,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"contact": {"url": "https://two.example/help", "email": "help@two.example"}}})),
        )
        .await
        .unwrap();
    eventually(Duration::from_secs(15), "the new contact", async || {
        status_of(cp, &m.namespace, "market")
            .await
            .filter(|s| s["redirect"]["contact"]["email"] == "help@two.example")
    })
    .await;
    eprintln!(
        "a Publisher's new contact reached its ticket in {:?}",
        changed.elapsed()
    );
    // The Publisher is Ready, as GitOps tools read it.
    eventually(Duration::from_secs(15), "Publisher Ready", async || {
        let p = publishers.get(&m.publisher).await.ok()?;
        p.status?
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
            .then_some(())
    })
    .await;

    // Deleted: nobody to send it to. The bystander's status is untouched.
    let bystander_before = status_of(cp, &m.namespace, "bystander").await.unwrap();
    publishers
        .delete(&m.publisher, &DeleteParams::default())
        .await
        .unwrap();
    let s = eventually(
        Duration::from_secs(15),
        "UnknownPublisher after deletion",
        async || {
            status_of(cp, &m.namespace, "market")
                .await
                .filter(|s| s["phase"] == "Rejected")
        },
    )
    .await;
    assert_eq!(condition(&s, "Accepted")["reason"], "UnknownPublisher");
    assert!(s.get("redirect").is_none(), "{s}");
    // Back again: redirected again.
    cp.apply_yaml_ok(&format!(
            "apiVersion: supportpolicy.dev/v1alpha1\nkind: Publisher\nmetadata: {{name: {}}}\nspec:\n  contact: {{phone: \"+1 555 0100\"}}\n",
            m.publisher
        ),
    );
    eventually(Duration::from_secs(15), "redirected again", async || {
        status_of(cp, &m.namespace, "market").await.filter(|s| {
            s["phase"] == "Redirected" && s["redirect"]["contact"]["phone"] == "+1 555 0100"
        })
    })
    .await;
    assert_eq!(
        status_of(cp, &m.namespace, "bystander").await.unwrap(),
        bystander_before,
        "a ticket naming another publisher is not re-evaluated"
    );
}

/// A trial goes to the partner; a ticket is resolved live (phase Resolved,
/// condition Resolved, the cap's next step gone); a resolution target is
/// breached at its instant with no other change; the effort cap is reached
/// with one Event, however often the effort moves after.
#[tokio::test(flavor = "multi_thread")]
async fn trials_resolution_and_the_effort_cap_live() {
    let cp = setup();
    let m = life(cp);
    wait_namespace(cp, &m.namespace).await;
    let ns = m.namespace.as_str();

    cp.apply_yaml_ok(&ticket("trial", ns, "  subscription: Trial"));
    let s = eventually(Duration::from_secs(30), "RoutedToPartner", async || {
        status_of(cp, ns, "trial")
            .await
            .filter(|s| s["phase"] == "Redirected")
    })
    .await;
    assert_eq!(condition(&s, "Accepted")["reason"], "RoutedToPartner");
    assert_eq!(
        s["redirect"],
        json!({"to": "Partner", "name": "fabrikam", "contact": {"email": "trials@fabrikam.example"}})
    );

    // The resolution target (30 s, 24x7) is breached at its instant.
    cp.apply_yaml_ok(&ticket("slow-fix", ns, ""));
    let s = eventually(Duration::from_secs(15), "resolutionDueAt", async || {
        status_of(cp, ns, "slow-fix")
            .await
            .filter(|s| s["resolutionDueAt"].is_string())
    })
    .await;
    let due: Timestamp = s["resolutionDueAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(condition(&s, "ResolutionBreached")["status"], "False");
    let seen = eventually(Duration::from_secs(60), "ResolutionBreached", async || {
        status_of(cp, ns, "slow-fix")
            .await
            .filter(|s| condition(s, "ResolutionBreached")["status"] == "True")
            .map(|_| Timestamp::now())
    })
    .await;
    noticed_on_time("resolution breach", due, seen);
    eventually(
        Duration::from_secs(15),
        "the ResolutionBreached Event",
        async || {
            (!events_for(cp, ns, "slow-fix", "ResolutionBreached")
                .await
                .is_empty())
            .then_some(())
        },
    )
    .await;

    // The effort cap: below, at, above; one Event.
    cp.apply_yaml_ok(&ticket(
        "perf",
        ns,
        "  investigation: Performance\n  effort: 1h",
    ));
    let s = eventually(Duration::from_secs(15), "a status", async || {
        status_of(cp, ns, "perf")
            .await
            .filter(|s| s["phase"].is_string())
    })
    .await;
    assert_eq!(
        condition(&s, "EffortCapReached")["reason"],
        "WithinEffortCap"
    );
    let tickets: Api<Ticket> = Api::namespaced(cp.client().await, ns);
    let effort = async |e: &str| {
        tickets
            .patch(
                "perf",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"effort": e}})),
            )
            .await
            .unwrap();
    };
    effort("2h").await;
    let s = eventually(Duration::from_secs(15), "EffortCapReached", async || {
        status_of(cp, ns, "perf")
            .await
            .filter(|s| condition(s, "EffortCapReached")["status"] == "True")
    })
    .await;
    assert_eq!(s["nextStep"], "ContinueAsAdvisory");
    assert_eq!(
        s["phase"], "OnTrack",
        "the cap does not change the phase (1h to respond)"
    );
    effort("1h").await;
    eventually(Duration::from_secs(15), "below the cap again", async || {
        status_of(cp, ns, "perf")
            .await
            .filter(|s| condition(s, "EffortCapReached")["status"] == "False")
    })
    .await;
    effort("3h").await;
    eventually(Duration::from_secs(15), "the cap again", async || {
        status_of(cp, ns, "perf")
            .await
            .filter(|s| condition(s, "EffortCapReached")["status"] == "True")
    })
    .await;
    let events = eventually(
        Duration::from_secs(15),
        "the EffortCapReached Event",
        async || {
            let e = events_for(cp, ns, "perf", "EffortCapReached").await;
            (!e.is_empty()).then_some(e)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events_after = events_for(cp, ns, "perf", "EffortCapReached").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events_after.len(),
        1,
        "one Event however often the cap is reached"
    );
    assert!(
        events[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("ContinueAsAdvisory")),
        "{:?}",
        events[0]
    );

    // Resolved now: phase Resolved, the cap and its next step gone.
    let resolved_at = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    tickets
        .patch(
            "perf",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"resolvedAt": resolved_at.to_string()}})),
        )
        .await
        .unwrap();
    let s = eventually(Duration::from_secs(15), "Resolved", async || {
        status_of(cp, ns, "perf")
            .await
            .filter(|s| s["phase"] == "Resolved")
    })
    .await;
    assert_eq!(condition(&s, "Resolved")["status"], "True");
    assert_eq!(
        condition(&s, "Resolved")["lastTransitionTime"],
        json!(resolved_at.to_string())
    );
    assert_eq!(condition(&s, "EffortCapReached")["reason"], "Resolved");
    assert!(s.get("nextStep").is_none(), "{s}");
    let out = cp.kubectl_ok(&["get", "tickets", "-n", ns, "perf"]);
    assert!(out.contains("Resolved"), "{out}");
}
