//! Two replicas with leader election against a real control plane: only the
//! leader writes, and the standby takes over within the lease time when the
//! leader is killed without warning.

#[path = "../e2e/operator.rs"]
mod operator;
#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use support::{ControlPlane, eventually, lease_holder, repo_root, wait_namespace};
use support_operator::api::Ticket;

use operator::Operator;

const NS: &str = "support-operator";

async fn holder(leases: &Api<Lease>) -> Option<String> {
    lease_holder(leases, "support-operator").await
}

fn writes(op: &Operator) -> u64 {
    let metrics = op.get("/metrics").unwrap_or_default();
    metrics
        .lines()
        .filter(|l| l.starts_with("support_operator_status_writes_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// The value of an unlabelled metric on `/metrics`.
fn gauge(op: &Operator, name: &str) -> Option<f64> {
    let metrics = op.get("/metrics")?;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_leader_writes_and_the_standby_takes_over() {
    let cp = ControlPlane::shared();
    cp.install_crds_and_roles();
    cp.kubectl_ok(&["create", "namespace", NS]);
    let a = Operator::start(
        cp,
        "replica-a",
        &["--namespace", NS, "--identity", "replica-a"],
    );
    let b = Operator::start(
        cp,
        "replica-b",
        &["--namespace", NS, "--identity", "replica-b"],
    );
    let client = cp.client().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), NS);
    let leader = eventually(
        Duration::from_secs(30),
        "a replica to take the lease",
        async || holder(&leases).await,
    )
    .await;
    let (leader_op, standby_op, standby_name) = if leader == "replica-a" {
        (&a, &b, "replica-b")
    } else {
        (&b, &a, "replica-a")
    };

    // Work for the leader: the examples.
    for file in ["policies.yaml", "tiers.yaml", "workspaces.yaml"] {
        cp.kubectl_ok(&[
            "apply",
            "-f",
            repo_root().join("examples").join(file).to_str().unwrap(),
        ]);
    }
    wait_namespace(cp, "finance-support").await;
    let tickets: Api<Ticket> = Api::namespaced(client.clone(), "finance-support");
    cp.kubectl_ok(&[
        "apply",
        "-f",
        repo_root().join("examples/tickets.yaml").to_str().unwrap(),
    ]);
    eventually(
        Duration::from_secs(30),
        "a status on the tickets",
        async || {
            let list = tickets.list(&Default::default()).await.unwrap();
            (!list.items.is_empty() && list.items.iter().all(|t| t.status.is_some())).then_some(())
        },
    )
    .await;
    assert!(writes(leader_op) > 0, "the leader wrote nothing");
    assert_eq!(writes(standby_op), 0, "the standby wrote");
    // Both serve metrics: which one leads, what they are, their API requests
    // (the standby's: the lease, read while it waits).
    assert_eq!(gauge(leader_op, "support_operator_leader"), Some(1.0));
    assert_eq!(gauge(standby_op, "support_operator_leader"), Some(0.0));
    for op in [leader_op, standby_op] {
        let metrics = op.get("/metrics").unwrap_or_default();
        for family in [
            "support_operator_build_info{",
            "process_resident_memory_bytes ",
            r#"support_operator_kube_requests_total{method="GET",code="200"}"#,
        ] {
            assert!(
                metrics.lines().any(|l| l.starts_with(family)),
                "{family} missing:\n{metrics}"
            );
        }
    }

    // Kill the leader hard: no lease release. The standby must take over.
    let killed = Instant::now();
    leader_op.kill_hard();
    eventually(
        Duration::from_secs(40),
        "the standby to take the lease",
        async || (holder(&leases).await.as_deref() == Some(standby_name)).then_some(()),
    )
    .await;
    let takeover = killed.elapsed();
    eventually(
        Duration::from_secs(10),
        "the new leader's support_operator_leader to be 1",
        async || (gauge(standby_op, "support_operator_leader") == Some(1.0)).then_some(()),
    )
    .await;
    // And it works: a new ticket gets its status.
    let file = write_ticket(cp);
    cp.kubectl_ok(&["apply", "-f", &file]);
    eventually(
        Duration::from_secs(30),
        "the new leader to evaluate a new ticket",
        async || tickets.get_opt("after-failover").await.ok()??.status,
    )
    .await;
    let serving = killed.elapsed();
    eprintln!(
        "failover: lease taken {takeover:?} after SIGKILL, new ticket evaluated {serving:?} after"
    );
    assert!(
        takeover <= Duration::from_secs(support_operator::controller::leader::LEASE_SECONDS + 3),
        "takeover took {takeover:?}, longer than the lease time"
    );
    assert!(writes(standby_op) > 0, "the new leader wrote nothing");
}

fn write_ticket(cp: &ControlPlane) -> String {
    let file = cp.dir().join("after-failover.yaml");
    std::fs::write(
        &file,
        "apiVersion: supportpolicy.dev/v1alpha1\nkind: Ticket\nmetadata: {name: after-failover, namespace: finance-support}\nspec: {title: after failover, severity: B}\n",
    )
    .unwrap();
    file.display().to_string()
}
