//! Routing publication against a real control plane (issue 11): each
//! workspace's slice on its own, failures on that workspace alone
//! (`RoutingPublished=False` with the reason, an Event), a slice too large
//! refused without a retry loop, stale shards removed, no writes while idle
//! or after a restart, and SIGTERM under load: out within 5 s, lease released.
//!
//! The tests share one control plane and take turns (one operator at a time:
//! two would both publish every workspace).

#[path = "../e2e/operator.rs"]
mod operator;
#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::PartialObjectMeta;
use serde_json::json;
use support::{ControlPlane, eventually};
use support_operator::api::Workspace;

use operator::Operator;

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn setup(cp: &ControlPlane, operator_ns: &str) {
    cp.install_crds_and_roles();
    let _ = cp.kubectl(&["create", "namespace", operator_ns]);
}

/// The operator's routing writes so far (ConfigMaps, deletions, conditions).
fn routing_writes(op: &Operator) -> u64 {
    op.get("/metrics")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("support_operator_status_writes_total{controller=\"routing\"}"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// (status, reason) of a workspace's `RoutingPublished`.
async fn routing_condition(api: &Api<Workspace>, name: &str) -> Option<(String, String)> {
    let ws = api.get_opt(name).await.ok()??;
    ws.status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == "RoutingPublished")
        .map(|c| (c.status, c.reason))
}

async fn apply(client: &kube::Client, value: serde_json::Value) {
    let kind = value["kind"].as_str().unwrap().to_string();
    let name = value["metadata"]["name"].as_str().unwrap().to_string();
    let ar = match kind.as_str() {
        "SlaPolicy" => kube::api::ApiResource::erase::<support_operator::api::SlaPolicy>(&()),
        "SupportTier" => kube::api::ApiResource::erase::<support_operator::api::SupportTier>(&()),
        "Workspace" => kube::api::ApiResource::erase::<Workspace>(&()),
        other => panic!("no {other} here"),
    };
    let api: Api<kube::api::DynamicObject> = Api::all_with(client.clone(), &ar);
    api.patch(
        &name,
        &PatchParams::apply("publication-test").force(),
        &Patch::Apply(&value),
    )
    .await
    .unwrap_or_else(|e| panic!("apply {kind} {name}: {e}"));
}

/// An SLA policy whose routing entry is about 220 KB: 20 calendars, each
/// listing 500 holidays.
fn heavy_policy(name: &str) -> serde_json::Value {
    let calendars: Vec<_> = std::iter::once("default".to_string())
        .chain((1..20).map(|i| format!("region-{i}")))
        .map(|c| json!({"name": c, "timeZone": "UTC", "hours": [{"days": ["Mon"], "start": "09:00", "end": "17:00"}]}))
        .collect();
    let holidays: Vec<_> = (0..500)
        .map(|i| json!({"date": format!("{}-{:02}-{:02}", 2026 + i / 336, i / 28 % 12 + 1, i % 28 + 1)}))
        .collect();
    json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "SlaPolicy",
        "metadata": {"name": name},
        "spec": {"severities": [{"name": "A", "initialResponse": "1h", "coverage": "24x7"}],
                 "calendars": calendars, "holidays": holidays}
    })
}

fn tier(name: &str, policy: &str) -> serde_json::Value {
    json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "SupportTier",
        "metadata": {"name": name},
        "spec": {"supportModel": "Formal", "slaPolicy": policy,
                 "escalation": [{"supportType": "HelpDesk", "queue": format!("{name}-desk")}]}
    })
}

fn workspace(name: &str, tier: &str, allowed: Option<Vec<String>>) -> serde_json::Value {
    let mut spec = json!({"namespace": format!("{name}-ns"), "tier": tier});
    if let Some(a) = allowed {
        spec["allowedTiers"] = json!(a);
    }
    json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
        "metadata": {"name": name}, "spec": spec
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_slice_is_published_on_its_own_and_a_failure_stays_with_its_workspace() {
    let _turn = TURN.lock().await;
    let cp = ControlPlane::shared();
    let ns = "pub-operator-a";
    setup(cp, ns);
    let client = cp.client().await;
    let p = ControlPlane::unique_name("pa");
    // Five heavy policies, one tier on each: a workspace allowed all five
    // has a slice of about 1.1 MB, over the limit; the table is sharded.
    for i in 0..5 {
        apply(&client, heavy_policy(&format!("{p}-heavy-{i}"))).await;
        apply(
            &client,
            tier(&format!("{p}-t{i}"), &format!("{p}-heavy-{i}")),
        )
        .await;
    }
    let all: Vec<String> = (0..5).map(|i| format!("{p}-t{i}")).collect();
    let (ok1, taken, big, ok2) = (
        format!("{p}-ok1"),
        format!("{p}-taken"),
        format!("{p}-big"),
        format!("{p}-ok2"),
    );
    // `taken`'s namespace already holds a support-policy that is not ours.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let labelled: Namespace = serde_json::from_value(json!({
        "metadata": {"name": format!("{taken}-ns"), "labels": {"supportpolicy.dev/workspace": taken}}
    }))
    .unwrap();
    namespaces
        .create(&PostParams::default(), &labelled)
        .await
        .unwrap();
    let foreign: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "support-policy"}, "data": {"routes.json": "{}"}
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), &format!("{taken}-ns"))
        .create(&PostParams::default(), &foreign)
        .await
        .unwrap();
    for (name, allowed) in [
        (&ok1, None),
        (&taken, None),
        (&big, Some(all.clone())),
        (&ok2, Some(vec![all[0].clone()])),
    ] {
        apply(&client, workspace(name, &all[0], allowed)).await;
    }

    let op = Operator::start(
        cp,
        "publication-a",
        &[
            "--namespace",
            ns,
            "--leader-election=false",
            "--default-workspace=",
        ],
    );
    let workspaces: Api<Workspace> = Api::all(client.clone());
    for name in [&ok1, &ok2] {
        eventually(
            Duration::from_secs(60),
            &format!("{name} published"),
            async || {
                (routing_condition(&workspaces, name).await? == ("True".into(), "Published".into()))
                    .then_some(())
            },
        )
        .await;
        let cm = Api::<ConfigMap>::namespaced(client.clone(), &format!("{name}-ns"))
            .get("support-policy")
            .await
            .unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&cm.data.unwrap()["routes.json"]).unwrap();
        assert_eq!(doc["schemaVersion"], 2);
        assert_eq!(doc["workspace"], name.as_str());
    }
    eventually(
        Duration::from_secs(30),
        "taken: ConfigMapConflict",
        async || {
            (routing_condition(&workspaces, &taken).await?
                == ("False".into(), "ConfigMapConflict".into()))
                .then_some(())
        },
    )
    .await;
    let untouched = Api::<ConfigMap>::namespaced(client.clone(), &format!("{taken}-ns"))
        .get("support-policy")
        .await
        .unwrap();
    assert_eq!(
        untouched.data.unwrap()["routes.json"],
        "{}",
        "someone else's ConfigMap was changed"
    );
    eventually(
        Duration::from_secs(30),
        "big: RoutingTooLarge",
        async || {
            (routing_condition(&workspaces, &big).await?
                == ("False".into(), "RoutingTooLarge".into()))
                .then_some(())
        },
    )
    .await;
    // Each refusal is an Event on its workspace.
    let events: Api<Event> = Api::all(client.clone());
    for (name, reason) in [(&taken, "ConfigMapConflict"), (&big, "RoutingTooLarge")] {
        eventually(
            Duration::from_secs(30),
            &format!("a {reason} Event on {name}"),
            async || {
                events
                    .list(&ListParams::default())
                    .await
                    .ok()?
                    .items
                    .iter()
                    .any(|e| {
                        e.reason.as_deref() == Some(reason)
                            && e.regarding.as_ref().and_then(|r| r.name.as_deref())
                                == Some(name.as_str())
                    })
                    .then_some(())
            },
        )
        .await;
    }
    // The table holds the heavy policies: sharded, each shard under the limit.
    let routing: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let index = eventually(Duration::from_secs(30), "a sharded table", async || {
        routing
            .get_opt("support-routing")
            .await
            .ok()??
            .data?
            .remove("index.json")
    })
    .await;
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    let shards: Vec<String> = serde_json::from_value(index["shards"].clone()).unwrap();
    assert!(shards.len() >= 2);
    for shard in &shards {
        let cm = eventually(Duration::from_secs(30), shard, async || {
            routing.get_opt(shard).await.ok()?
        })
        .await;
        assert!(cm.data.unwrap()["routes.json"].len() <= 900 * 1024);
    }

    // Nothing is retried in a loop and nothing else is written while idle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = routing_writes(&op);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(routing_writes(&op), before, "routing writes while idle");

    // The foreign ConfigMap goes: `taken` is published. `big` drops to one tier: published.
    Api::<ConfigMap>::namespaced(client.clone(), &format!("{taken}-ns"))
        .delete("support-policy", &DeleteParams::default())
        .await
        .unwrap();
    apply(
        &client,
        workspace(&big, &all[0], Some(vec![all[1].clone()])),
    )
    .await;
    for name in [&taken, &big] {
        eventually(
            Duration::from_secs(30),
            &format!("{name} published"),
            async || {
                (routing_condition(&workspaces, name).await? == ("True".into(), "Published".into()))
                    .then_some(())
            },
        )
        .await;
    }

    // The heavy policies go: the table fits again and the shards are removed.
    let policies: Api<support_operator::api::SlaPolicy> = Api::all(client.clone());
    for i in 0..5 {
        policies
            .delete(&format!("{p}-heavy-{i}"), &DeleteParams::default())
            .await
            .unwrap();
    }
    eventually(Duration::from_secs(30), "an unsharded table", async || {
        let cm = routing.get_opt("support-routing").await.ok()??;
        let data = cm.data?;
        (data.contains_key("routes.json") && !data.contains_key("index.json")).then_some(())
    })
    .await;
    eventually(
        Duration::from_secs(30),
        "stale shards removed",
        async || {
            let names: Vec<String> = routing
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .filter_map(|c| c.metadata.name)
                .filter(|n| n.starts_with("support-routing-"))
                .collect();
            names.is_empty().then_some(())
        },
    )
    .await;

    // A restart with nothing changed writes nothing.
    assert!(
        op.terminate(Duration::from_secs(10)).is_some(),
        "operator did not stop"
    );
    drop(op);
    let op = Operator::start(
        cp,
        "publication-a2",
        &[
            "--namespace",
            ns,
            "--leader-election=false",
            "--default-workspace=",
        ],
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        routing_writes(&op),
        0,
        "routing writes after a restart with nothing changed:\n{}",
        op.log_tail(40)
    );
    assert!(op.terminate(Duration::from_secs(10)).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_exits_within_five_seconds_holding_no_lease() {
    let _turn = TURN.lock().await;
    let cp = ControlPlane::shared();
    let ns = "pub-operator-b";
    setup(cp, ns);
    let client = cp.client().await;
    let p = ControlPlane::unique_name("pb");
    apply(&client, heavy_policy(&format!("{p}-policy"))).await;
    let tiers: Vec<String> = (0..3).map(|i| format!("{p}-t{i}")).collect();
    for t in &tiers {
        apply(&client, tier(t, &format!("{p}-policy"))).await;
    }
    // 150 workspaces, each with a slice of about 220 KB to publish.
    for i in 0..150 {
        apply(
            &client,
            workspace(&format!("{p}-w{i:03}"), &tiers[0], Some(tiers.clone())),
        )
        .await;
    }
    let op = Operator::start(
        cp,
        "publication-b",
        &[
            "--namespace",
            ns,
            "--identity",
            "pub-b",
            "--default-workspace=",
        ],
    );
    let leases: Api<Lease> = Api::namespaced(client.clone(), ns);
    eventually(Duration::from_secs(30), "the lease held", async || {
        (leases
            .get_opt("support-operator")
            .await
            .ok()??
            .spec?
            .holder_identity?
            == "pub-b")
            .then_some(())
    })
    .await;
    // Under load: the slices are being written (at least one is out).
    let slices = async || {
        Api::<PartialObjectMeta<ConfigMap>>::all(client.clone())
            .list_metadata(&ListParams::default().fields("metadata.name=support-policy"))
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter(|m| {
                        m.metadata
                            .namespace
                            .as_deref()
                            .is_some_and(|n| n.starts_with(&p))
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    eventually(Duration::from_secs(60), "the first slices", async || {
        (slices().await > 0).then_some(())
    })
    .await;
    let took = op
        .terminate(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("still running 20 s after SIGTERM:\n{}", op.log_tail(40)));
    let published = slices().await;
    eprintln!("SIGTERM under load: exited in {took:?} with {published}/150 slices out");
    assert!(
        took <= Duration::from_secs(5),
        "exit took {took:?} ({published}/150 slices were out)"
    );
    assert!(
        published < 150,
        "the load was over before SIGTERM; the test proves nothing"
    );
    let holder = leases
        .get("support-operator")
        .await
        .unwrap()
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(
        holder,
        None,
        "the lease is still held after exit:\n{}",
        op.log_tail(20)
    );
}
