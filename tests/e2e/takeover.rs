//! Issue 15 §1 (DESIGN.md rule 1) on the real control plane: a Workspace
//! that claims a namespace another one holds never takes it. Two intruders,
//! one sorting after the holder and one before it (the one that used to
//! win), are `NamespaceTaken`; the holder's status, RoleBindings, slice,
//! tickets and Events stay exactly as they were (resourceVersions
//! included), while the intruders exist and after they are gone.
//! tests/security repeats the attempt as the users involved (access).

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use support_operator::api::{Phase, Ticket, Workspace};

use super::support::ControlPlane;
use super::support::held::{held, summary};
use super::{eventually, model, setup, wait_namespace};

const TIMEOUT: Duration = Duration::from_secs(60);

async fn ready(client: &Client, name: &str) -> (bool, String, String) {
    let api = Api::<Workspace>::all(client.clone());
    eventually(TIMEOUT, &format!("workspace {name} judged"), async || {
        let ws = api.get_opt(name).await.ok()??;
        let c = ws
            .status?
            .conditions
            .into_iter()
            .find(|c| c.type_ == "Ready" && c.observed_generation == ws.metadata.generation)?;
        Some((c.status == "True", c.reason, c.message))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_never_takes_a_held_namespace_its_tickets_or_its_slice() {
    let cp = setup();
    let partner = r#"  delegatedAdmins:
  - {partner: fabrikam, group: fabrikam-support, provider: DirectProvider, roles: [ServiceSupportAdministrator]}
  members: [{kind: User, name: alice@contoso.com}]"#;
    let m = model(cp, "hold", "1h", partner);
    wait_namespace(cp, &m.namespace).await;
    let client = cp.client().await;
    // The holder allows only its own tier: a slice with `anyTier` lists every
    // tier's name, and the other tests of this binary make tiers meanwhile.
    Api::<Workspace>::all(client.clone())
        .patch(
            &m.workspace,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"allowedTiers": [m.tier]}})),
        )
        .await
        .unwrap();
    let (ok, reason, message) = ready(&client, &m.workspace).await;
    assert!(ok, "holder Ready: {reason} {message}");
    let tickets: Api<Ticket> = Api::namespaced(client.clone(), &m.namespace);
    for (name, extra) in [
        ("late", json!({})),
        ("partner", json!({"onBehalfOf": {"partner": "fabrikam"}})),
    ] {
        let mut spec = json!({"title": name, "severity": "A", "openedAt": "2020-01-06T08:00:00Z"});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        let t: Ticket = serde_json::from_value(json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap();
        tickets.create(&PostParams::default(), &t).await.unwrap();
        eventually(TIMEOUT, &format!("ticket {name} Breached"), async || {
            let phase = tickets.get(name).await.ok()?.status?.phase?;
            (phase == Phase::Breached).then_some(())
        })
        .await;
    }
    // The intruders' tier: no SLA, no partner (had one taken the namespace,
    // the Breached tickets would be BestEffort and the partner's Rejected).
    let self_tier = ControlPlane::unique_name("hold-self");
    cp.apply_yaml_ok(&format!(
            "apiVersion: supportpolicy.dev/v1alpha1\nkind: SupportTier\nmetadata: {{name: {self_tier}}}\nspec:\n  supportModel: Self\n"
        ),
    );
    eventually(TIMEOUT, "the holder's slice", async || {
        let cm = Api::<ConfigMap>::namespaced(client.clone(), &m.namespace)
            .get_opt("support-policy")
            .await
            .ok()??;
        let routes = cm.data.as_ref()?.get("routes.json")?;
        (cm.owner_references().iter().any(|o| o.name == m.workspace)
            && !routes.contains("\"anyTier\": true"))
        .then_some(())
    })
    .await;
    // Counts are refreshed at most every 5 s: let them and Events settle.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let before = held(&client, &m.workspace, &m.namespace).await;
    eprintln!("BEFORE  {}", summary(&before));

    let later = format!("zz-{}", m.workspace);
    let earlier = format!("aa-{}", m.workspace);
    assert!(earlier < m.workspace && m.workspace < later);
    for intruder in [&later, &earlier] {
        cp.apply_yaml_ok(&format!(
                "apiVersion: supportpolicy.dev/v1alpha1\nkind: Workspace\nmetadata: {{name: {intruder}}}\nspec:\n  namespace: {ns}\n  tier: {self_tier}\n  members: [{{kind: User, name: mallory@contoso.com}}]\n",
                ns = m.namespace
            ),
        );
        let (ok, reason, message) = ready(&client, intruder).await;
        eprintln!("CLAIMANT {intruder}: Ready={ok} {reason}: {message}");
        assert!(
            !ok && reason == "NamespaceTaken",
            "{intruder}: {reason} {message}"
        );
        assert!(
            message.contains(&m.workspace),
            "names the holder: {message}"
        );
    }
    // Longer than the counts interval and the routing debounce.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let during = held(&client, &m.workspace, &m.namespace).await;
    eprintln!("DURING  {}", summary(&during));
    assert_eq!(during, before, "nothing of the holder's changed");
    let (ok, _, _) = ready(&client, &m.workspace).await;
    assert!(ok, "the holder stays Ready");
    for intruder in [&later, &earlier] {
        let labelled = Api::<RoleBinding>::all(client.clone())
            .list(&ListParams::default().labels(&format!("supportpolicy.dev/workspace={intruder}")))
            .await
            .unwrap()
            .items;
        assert!(
            labelled.is_empty(),
            "{intruder} bound nothing: {labelled:?}"
        );
    }

    for intruder in [&earlier, &later] {
        Api::<Workspace>::all(client.clone())
            .delete(intruder, &DeleteParams::default())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(7)).await;
    let after = held(&client, &m.workspace, &m.namespace).await;
    eprintln!("AFTER   {}", summary(&after));
    assert_eq!(
        after, before,
        "nothing of the holder's changed after the intruders left"
    );
}
