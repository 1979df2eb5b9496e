//! What a namespace takeover could change about a workspace and its
//! namespace, read as one value so a test compares before, during and after.
//! Used by tests/e2e (the operator's verdict) and tests/security (the same
//! attempt made as the users involved).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use serde_json::Value;
use support_operator::api::{Ticket, Workspace};

/// A namespace's RoleBindings: name -> (uid, resourceVersion, subjects).
pub type Bindings = BTreeMap<String, (String, String, Value)>;

/// The RoleBindings of `namespace`, as [`Bindings`].
pub async fn bindings(client: &Client, namespace: &str) -> Bindings {
    Api::<RoleBinding>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|rb| {
            (
                rb.name_any(),
                (
                    rb.metadata.uid.clone().unwrap_or_default(),
                    rb.metadata.resource_version.clone().unwrap_or_default(),
                    serde_json::to_value(&rb.subjects).unwrap(),
                ),
            )
        })
        .collect()
}

/// Everything a takeover could change about a workspace and its namespace.
#[derive(Debug, PartialEq)]
pub struct Held {
    pub status: Value,
    pub bindings: Bindings,
    pub slice: Option<(String, BTreeMap<String, String>, Vec<String>)>,
    pub tickets: BTreeMap<String, (String, Value)>,
    pub events: BTreeMap<String, (String, String)>,
}

pub async fn held(client: &Client, holder: &str, ns: &str) -> Held {
    let ws = Api::<Workspace>::all(client.clone())
        .get(holder)
        .await
        .unwrap();
    let slice = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt("support-policy")
        .await
        .unwrap()
        .map(|cm| {
            (
                cm.metadata.resource_version.clone().unwrap_or_default(),
                cm.data.clone().unwrap_or_default(),
                cm.owner_references()
                    .iter()
                    .map(|o| format!("{}/{}", o.kind, o.name))
                    .collect(),
            )
        });
    let tickets = Api::<Ticket>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| {
            (
                t.name_any(),
                (
                    t.metadata.resource_version.clone().unwrap_or_default(),
                    serde_json::to_value(&t.status).unwrap(),
                ),
            )
        })
        .collect();
    let events = Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            (
                e.name_any(),
                (
                    e.metadata.resource_version.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                ),
            )
        })
        .collect();
    Held {
        status: serde_json::to_value(&ws.status).unwrap(),
        bindings: bindings(client, ns).await,
        slice,
        tickets,
        events,
    }
}

pub fn summary(h: &Held) -> String {
    format!(
        "status {}; bindings {:?}; slice {:?}; tickets {:?}; events {:?}",
        h.status["conditions"]
            .as_array()
            .map(|cs| cs
                .iter()
                .map(|c| format!("{}={} {}", c["type"], c["status"], c["reason"]))
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default(),
        h.bindings.keys().collect::<Vec<_>>(),
        h.slice.as_ref().map(|s| (&s.0, &s.2)),
        h.tickets
            .iter()
            .map(|(n, (rv, s))| format!("{n}@{rv}: {} {}", s["phase"], s["workspace"]))
            .collect::<Vec<_>>(),
        h.events.values().map(|(_, r)| r).collect::<Vec<_>>(),
    )
}
