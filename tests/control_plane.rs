//! The test harness's control plane is a real one (DESIGN.md, "Testing
//! against a real control plane"): RBAC decides, the garbage collector
//! deletes dependents, namespaces finish deleting, and every namespace gets
//! its `default` ServiceAccount.

mod support;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, Client};
use support::ControlPlane;

/// Polls `check` every 200 ms until it returns true; panics after `timeout`.
async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        if start.elapsed() > timeout {
            panic!(
                "{what}: not within {timeout:?}\n{}",
                ControlPlane::shared().log_tails()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn create_namespace(client: &Client, name: &str) {
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
}

/// Best effort: the control plane goes away with the test binary anyway.
async fn delete_namespace(client: &Client, name: &str) {
    let _ = Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await;
}

fn config_map(name: &str, owner: Option<&ConfigMap>) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            owner_references: owner.map(|owner| {
                vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    name: owner.metadata.name.clone().expect("owner name"),
                    uid: owner.metadata.uid.clone().expect("owner uid"),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("key".to_owned(), name.to_owned())])),
        ..ConfigMap::default()
    }
}

async fn exists(api: &Api<ConfigMap>, name: &str) -> bool {
    match api.get_opt(name).await {
        Ok(found) => found.is_some(),
        Err(e) => panic!("reading ConfigMap {name}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rbac_forbids_an_unbound_user_and_allows_the_admin() {
    let cp = ControlPlane::shared();
    let admin = cp.client().await;
    let ns = ControlPlane::unique_name("rbac");
    create_namespace(&admin, &ns).await;

    // The admin can create and read.
    let admin_cms = Api::<ConfigMap>::namespaced(admin.clone(), &ns);
    admin_cms
        .create(&PostParams::default(), &config_map("settings", None))
        .await
        .expect("the admin creates a ConfigMap");
    let read = admin_cms
        .get("settings")
        .await
        .expect("the admin reads it back");
    assert_eq!(read.data.unwrap()["key"], "settings");

    // Someone nobody granted anything is forbidden, in `default` and here.
    let nobody = cp.client_as("nobody@example.com", &[]).await;
    for namespace in ["default", ns.as_str()] {
        let err = Api::<ConfigMap>::namespaced(nobody.clone(), namespace)
            .list(&ListParams::default())
            .await
            .expect_err("nobody@example.com must not list ConfigMaps");
        match err {
            kube::Error::Api(status) => {
                assert_eq!(status.code, 403, "{status:?}");
                assert!(status.message.contains("nobody@example.com"), "{status:?}");
            }
            other => panic!("expected 403 Forbidden, got {other:?}"),
        }
    }
    let err = Api::<ConfigMap>::namespaced(nobody, &ns)
        .get("settings")
        .await
        .expect_err("nobody@example.com must not read the ConfigMap");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403),
        "{err:?}"
    );

    // The authorizer says the same through kubectl.
    let out = cp.kubectl(&[
        "auth",
        "can-i",
        "list",
        "configmaps",
        "--namespace=default",
        "--as=nobody@example.com",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no", "{out:?}");
    assert!(!out.status.success(), "{out:?}");
    let out = cp.kubectl(&["auth", "can-i", "list", "configmaps", "--namespace=default"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "yes",
        "{out:?}"
    );
    assert!(out.status.success(), "{out:?}");

    // And kubectl reads what the Rust client wrote.
    let out = cp.kubectl(&[
        "get",
        "configmap",
        "settings",
        "--namespace",
        &ns,
        "-o",
        "jsonpath={.data.key}",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "settings");

    delete_namespace(&admin, &ns).await;
}

/// Deletes an owner ConfigMap with `policy`; its dependent must be collected.
async fn garbage_collection(policy: DeleteParams, prefix: &str) {
    let cp = ControlPlane::shared();
    let admin = cp.client().await;
    let ns = ControlPlane::unique_name(prefix);
    create_namespace(&admin, &ns).await;
    let cms = Api::<ConfigMap>::namespaced(admin.clone(), &ns);

    let pp = PostParams::default();
    let owner = cms
        .create(&pp, &config_map("owner", None))
        .await
        .expect("owner");
    cms.create(&pp, &config_map("dependent", Some(&owner)))
        .await
        .expect("dependent");
    cms.create(&pp, &config_map("bystander", None))
        .await
        .expect("bystander");

    cms.delete("owner", &policy)
        .await
        .expect("deleting the owner");
    eventually(
        Duration::from_secs(30),
        "the dependent is garbage-collected",
        || async { !exists(&cms, "dependent").await },
    )
    .await;
    eventually(Duration::from_secs(30), "the owner is gone", || async {
        !exists(&cms, "owner").await
    })
    .await;
    assert!(
        exists(&cms, "bystander").await,
        "a ConfigMap without owner stays"
    );

    delete_namespace(&admin, &ns).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_collector_deletes_dependents_in_background() {
    garbage_collection(DeleteParams::background(), "gc-background").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_collector_deletes_dependents_in_foreground() {
    garbage_collection(DeleteParams::foreground(), "gc-foreground").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn namespace_with_content_finishes_deleting() {
    let cp = ControlPlane::shared();
    let admin = cp.client().await;
    let ns = ControlPlane::unique_name("ns-delete");
    create_namespace(&admin, &ns).await;

    // The service-account controller gives every namespace its `default`.
    let accounts = Api::<ServiceAccount>::namespaced(admin.clone(), &ns);
    eventually(
        Duration::from_secs(30),
        "the default ServiceAccount exists",
        || async {
            accounts
                .get_opt("default")
                .await
                .expect("reading ServiceAccount")
                .is_some()
        },
    )
    .await;

    let cms = Api::<ConfigMap>::namespaced(admin.clone(), &ns);
    cms.create(&PostParams::default(), &config_map("content", None))
        .await
        .expect("ConfigMap in the namespace");

    let namespaces = Api::<Namespace>::all(admin.clone());
    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("deleting the namespace");
    eventually(Duration::from_secs(60), "the namespace is gone", || async {
        namespaces
            .get_opt(&ns)
            .await
            .expect("reading Namespace")
            .is_none()
    })
    .await;
}
