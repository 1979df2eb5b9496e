//! Issue 15 §2: every spelling of a spec timestamp is either refused when
//! the object is created, or the object stays fully usable: a spec edit, a
//! status write by hand and the operator's own status writes all succeed.
//! Before, a lower-case `t` or an offset of `+25:00` was stored and then
//! every status write and edit failed inside CEL, for ever. Offline,
//! `evaluate` (strict reading of manifests) accepts exactly the same ones.

use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support_operator::api::common::{instant, is_spec_instant};
use support_operator::api::{Ticket, Workspace};

use super::support::ControlPlane;
use super::{eventually, model, setup, wait_namespace};

/// Spellings people (and tools) write, good and bad.
const SPELLINGS: [&str; 24] = [
    "2026-11-23T08:00:00Z",
    "2026-11-23t08:00:00z",
    "2026-11-23t08:00:00Z",
    "2026-11-23T08:00:00z",
    "2026-11-23T08:00:00+25:00",
    "2026-11-23T08:00:00+24:00",
    "2026-11-23T08:00:00+23:59",
    "2026-11-23T08:00:00-23:59",
    "2026-11-23T08:00:00+01:60",
    "2026-11-23T08:00:00.123456789Z",
    "2026-11-23T08:00:00.1234567891Z",
    "2026-11-23T08:00:00.5+01:00",
    "2026-11-23 08:00:00Z",
    "2026-11-23T08:00:00",
    "2026-11-23T08:00Z",
    "2026-11-23T08:00:00+0100",
    "2026-02-29T08:00:00Z",
    "2024-02-29T08:00:00Z",
    "2026-11-23T24:00:00Z",
    "2026-11-23T08:00:60Z",
    "9998-12-31T23:59:59Z",
    "9998-12-31T23:59:59-23:59",
    "9999-01-01T00:00:00Z",
    "0001-01-01T00:00:01Z",
];

/// Where a ticket holds a timestamp, and a spec with `at` there.
fn ticket_specs(at: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("openedAt", json!({"openedAt": at})),
        (
            "firstResponseAt",
            json!({"openedAt": "2020-01-06T08:00:00Z", "firstResponseAt": at}),
        ),
        ("pauses[0].from", json!({"pauses": [{"from": at}]})),
        (
            "pauses[0].to",
            json!({"pauses": [{"from": "0001-01-01T00:00:00Z", "to": at}]}),
        ),
        (
            "reopenOf.closedAt",
            json!({"reopenOf": {"name": "old", "closedAt": at, "sameEnvironment": true, "sameVersion": true}}),
        ),
    ]
}

/// What `evaluate` thinks of a document: read strictly, as manifests are.
fn offline_accepts<K: serde::de::DeserializeOwned>(doc: &Value) -> bool {
    instant::strictly(|| serde_json::from_value::<K>(doc.clone())).is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_timestamp_spelling_is_refused_on_create_or_fully_usable() {
    let cp = setup();
    let m = model(cp, "stamps", "1h", "");
    wait_namespace(cp, &m.namespace).await;
    let client = cp.client().await;
    let tickets: Api<Ticket> = Api::namespaced(client.clone(), &m.namespace);
    let workspaces: Api<Workspace> = Api::all(client.clone());
    let ticket_kind = ApiResource::erase::<Ticket>(&());
    let workspace_kind = ApiResource::erase::<Workspace>(&());
    let mut accepted_tickets = Vec::new();
    let mut accepted_workspaces = Vec::new();
    let mut table = Vec::new();
    for (i, at) in SPELLINGS.iter().enumerate() {
        let mut objects: Vec<(String, Value, bool)> = Vec::new();
        for (j, (field, extra)) in ticket_specs(at).into_iter().enumerate() {
            let mut spec = json!({"title": format!("{field} = {at}"), "severity": "A"});
            if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
                s.extend(e.clone());
            }
            let doc = json!({"apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
                "metadata": {"name": format!("stamp-{i}-{j}"), "namespace": m.namespace}, "spec": spec});
            objects.push((format!("spec.{field}"), doc, true));
        }
        let ws = ControlPlane::unique_name("stamp-ws");
        objects.push((
            "spec.delegatedAdmins[0].expiresAt".into(),
            json!({"apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
                "metadata": {"name": ws},
                "spec": {"namespace": ws, "tier": m.tier, "delegatedAdmins": [
                    {"partner": "fabrikam", "group": "fabrikam-support", "provider": "DirectProvider",
                     "roles": ["ServiceSupportAdministrator"], "expiresAt": at}]}}),
            false,
        ));
        for (field, doc, is_ticket) in objects {
            let name = doc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // Sent as written: a typed object would be re-spelled by jiff.
            let raw: DynamicObject = serde_json::from_value(doc.clone()).unwrap();
            let created = if is_ticket {
                Api::<DynamicObject>::namespaced_with(client.clone(), &m.namespace, &ticket_kind)
                    .create(&PostParams::default(), &raw)
                    .await
                    .map(|_| ())
            } else {
                Api::<DynamicObject>::all_with(client.clone(), &workspace_kind)
                    .create(&PostParams::default(), &raw)
                    .await
                    .map(|_| ())
            };
            let offline = if is_ticket {
                offline_accepts::<Ticket>(&doc)
            } else {
                offline_accepts::<Workspace>(&doc)
            };
            let stored = created.is_ok();
            match created {
                Ok(()) => {
                    table.push(format!("accepted {field:<36} {at}"));
                    if is_ticket {
                        accepted_tickets.push(name.clone());
                    } else {
                        accepted_workspaces.push(name.clone());
                    }
                }
                Err(kube::Error::Api(e)) if e.code == 422 => {
                    assert!(
                        e.message.contains(&field),
                        "{field} = {at}: the refusal names the field: {}",
                        e.message
                    );
                    table.push(format!("refused  {field:<36} {at}"));
                }
                Err(e) => panic!("{field} = {at}: {e}"),
            }
            assert_eq!(
                stored, offline,
                "{field} = {at}: the API server and evaluate agree"
            );
        }
        // The two readers agree with the one predicate everything uses.
        let one_ticket_accepted = table
            .iter()
            .rev()
            .take(6)
            .any(|l| l.starts_with("accepted") && l.contains("spec.openedAt"));
        assert_eq!(one_ticket_accepted, is_spec_instant(at), "{at}");
    }
    eprintln!("{}", table.join("\n"));
    assert!(!accepted_tickets.is_empty() && !accepted_workspaces.is_empty());

    // Everything stored stays usable: an edit and a status write by hand...
    for name in &accepted_tickets {
        tickets
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"title": "edited"}})),
            )
            .await
            .unwrap_or_else(|e| panic!("ticket {name}: edit: {e}"));
        tickets
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"calendar": "by-hand"}})),
            )
            .await
            .unwrap_or_else(|e| panic!("ticket {name}: status write: {e}"));
    }
    for name in &accepted_workspaces {
        workspaces
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(
                    json!({"spec": {"members": [{"kind": "User", "name": "edited@contoso.com"}]}}),
                ),
            )
            .await
            .unwrap_or_else(|e| panic!("workspace {name}: edit: {e}"));
    }
    // ... and the operator writes every status, for the current generation.
    for name in &accepted_tickets {
        eventually(
            std::time::Duration::from_secs(60),
            &format!("ticket {name} judged by the operator after the edit"),
            async || {
                let t = tickets.get(name).await.ok()?;
                let s = t.status?;
                let judged = s.conditions.iter().any(|c| {
                    c.type_ == "Accepted" && c.observed_generation == t.metadata.generation
                });
                (s.observed_generation == t.metadata.generation && judged).then_some(())
            },
        )
        .await;
    }
    for name in &accepted_workspaces {
        eventually(
            std::time::Duration::from_secs(60),
            &format!("workspace {name} judged by the operator after the edit"),
            async || {
                let w = workspaces.get(name).await.ok()?;
                let s = w.status?;
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.observed_generation == w.metadata.generation)
                    .then_some(())
            },
        )
        .await;
        let _ = workspaces.delete(name, &Default::default()).await;
    }
    eprintln!(
        "{} tickets and {} workspaces stored, edited and given a status; {} refused on create",
        accepted_tickets.len(),
        accepted_workspaces.len(),
        table.iter().filter(|l| l.starts_with("refused")).count()
    );
}
