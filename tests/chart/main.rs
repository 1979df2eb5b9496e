//! The Helm chart (charts/support-operator), checked the way a platform team
//! would use it: `helm lint` and `helm template` clean; its CRDs are the
//! generated ones; its RBAC is least privilege and its pods hardened; the
//! values table of docs/install.md is complete; and, for real in the test control plane
//! (tests/support), `helm install`, then the operator binary run out of
//! cluster with a token of the chart's ServiceAccount through the examples —
//! proof that the chart's RBAC is enough — while requests it must not make are
//! refused; `kubectl wait` on every kind; `helm upgrade` and `helm uninstall`
//! leave Tickets and CRDs in place.
//!
//! Run with `--nocapture` to see the rendered RBAC rules and what the API
//! server answered to the forbidden requests.

#[path = "../e2e/operator.rs"]
mod operator;
#[path = "../support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{
    ControlPlane, apply_examples, client_from, eventually, forbidden, lease_holder, repo_root,
    slice_as_evaluated, statuses_as_evaluated, text,
};
use support_operator::api::Ticket;

use operator::Operator;

/// Release name and namespace, as the README installs it.
const RELEASE: &str = "support-operator";
const NS: &str = "support-operator";
/// The ClusterRoles the operator binds (src/controller/workspace.rs).
const TICKET_ROLES: [&str; 3] = [
    "support-operator:ticket-viewer",
    "support-operator:ticket-editor",
    "support-operator:workspace-admin",
];

/// The control plane's Kubernetes version, for `helm template` and `helm
/// lint`: the helm here is built from source without the version ldflags,
/// so offline it assumes v1.20.0, which the chart's kubeVersion refuses.
const KUBE_VERSION: &str = "1.35.0";

/// `--set` flags that turn on the chart's optional objects: the
/// ServiceMonitor, the PrometheusRule and the PodDisruptionBudget.
const OPTIONAL_OBJECTS: [&str; 6] = [
    "--set",
    "metrics.serviceMonitor.enabled=true",
    "--set",
    "metrics.prometheusRule.enabled=true",
    "--set",
    "podDisruptionBudget.enabled=true",
];

/// `--set` flags for one replica without leader election.
const SINGLE_REPLICA: [&str; 4] = [
    "--set",
    "replicaCount=1",
    "--set",
    "operator.leaderElection=false",
];

fn chart() -> PathBuf {
    repo_root().join("charts/support-operator")
}

// ------------------------------------------------------------------ helm

/// `run` given the arguments of `helm template` of the chart (release,
/// namespace, [`KUBE_VERSION`]) followed by `extra`.
fn template<R>(extra: &[&str], run: impl FnOnce(&[&str]) -> R) -> R {
    let chart = chart();
    let mut args = vec![
        "template",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        NS,
        "--kube-version",
        KUBE_VERSION,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// `helm template` of the chart with `extra` arguments, as objects.
fn render(cp: &ControlPlane, extra: &[&str]) -> Vec<Value> {
    let yaml = template(extra, |args| cp.helm_ok(args));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml)
        .unwrap_or_else(|e| panic!("helm template printed invalid YAML: {e}\n{yaml}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// `helm template` that must fail; its error.
fn render_err(cp: &ControlPlane, extra: &[&str]) -> String {
    let out = template(extra, |args| cp.helm(args));
    assert!(
        !out.status.success(),
        "helm template {extra:?} should have failed:\n{}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// `helm template --set SET` fails on values.schema.json for each
/// `(SET, why)`, naming `why`.
fn refused_by_schema(cp: &ControlPlane, cases: &[(&str, &str)]) {
    for (set, why) in cases {
        let err = render_err(cp, &["--set", set]);
        assert!(
            err.contains("values don't meet the specifications of the schema"),
            "{set}: {err}"
        );
        assert!(err.contains(why), "{set}: {err}");
    }
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Numbers with no fraction as integers, everywhere in `value`.
fn whole_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(whole_numbers).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, whole_numbers(v))).collect())
        }
        other => other,
    }
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// One line per rule: `verbs  apiGroup/resources  [names]`.
fn describe_rules(rules: &Value) -> String {
    let mut out = String::new();
    for rule in rules.as_array().into_iter().flatten() {
        let groups: Vec<&str> = strings(&rule["apiGroups"])
            .into_iter()
            .map(|g| if g.is_empty() { "core" } else { g })
            .collect();
        let names = strings(&rule["resourceNames"]);
        out.push_str(&format!(
            "    {:<26} {}/{}{}\n",
            strings(&rule["verbs"]).join(","),
            groups.join(","),
            strings(&rule["resources"]).join(","),
            if names.is_empty() {
                String::new()
            } else {
                format!("  resourceNames={}", names.join(","))
            }
        ));
    }
    out
}

// ------------------------------------------------------- chart, offline

#[test]
fn the_charts_crds_are_the_generated_crds() {
    let list = |dir: &Path| -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect()
    };
    let generated = list(&repo_root().join("crds"));
    let in_chart = list(&chart().join("files/crds"));
    assert_eq!(generated.len(), 5, "crds/ holds the five CRDs");
    assert!(
        generated == in_chart,
        "charts/support-operator/files/crds differs from crds/: refresh it with \
         `cargo run -- crds --out-dir charts/support-operator/files/crds` (files: crds/ {:?}, chart {:?})",
        generated.keys().collect::<Vec<_>>(),
        in_chart.keys().collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rendered_crds_are_the_generated_ones_kept_on_uninstall_and_skippable() {
    let cp = ControlPlane::shared();
    let docs = render(cp, &[]);
    let rendered = of_kind(&docs, "CustomResourceDefinition");
    assert_eq!(rendered.len(), 5);
    for file in std::fs::read_dir(repo_root().join("crds")).unwrap() {
        let path = file.unwrap().path();
        let want = yaml_docs(&path).remove(0);
        let name = want["metadata"]["name"].as_str().unwrap();
        let mut got = (*named(&docs, "CustomResourceDefinition", name)).clone();
        assert_eq!(
            got["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
            "{name} carries helm.sh/resource-policy: keep"
        );
        assert_eq!(
            got["metadata"]["labels"]["app.kubernetes.io/part-of"],
            "support-operator"
        );
        let meta = got["metadata"].as_object_mut().unwrap();
        meta.remove("annotations");
        meta.remove("labels");
        // Helm's fromYaml/toYaml reads numbers as floats and writes whole
        // ones without a fraction (`minimum: 0.0` becomes `0`): the same value.
        assert!(
            whole_numbers(got) == whole_numbers(want.clone()),
            "the chart renders {name} differently from {}",
            path.display()
        );
    }
    let skipped = render(cp, &["--set", "crds.install=false"]);
    assert!(of_kind(&skipped, "CustomResourceDefinition").is_empty());
    let not_kept = render(cp, &["--set", "crds.keep=false"]);
    for crd in of_kind(&not_kept, "CustomResourceDefinition") {
        assert!(crd["metadata"]["annotations"]["helm.sh/resource-policy"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_lint_is_clean() {
    let cp = ControlPlane::shared();
    let chart = chart();
    let chart = chart.to_str().unwrap();
    for extra in [
        &[][..],
        &OPTIONAL_OBJECTS[..],
        &[
            "--set",
            "crds.install=false",
            "--set",
            "replicaCount=1",
            "--set",
            "operator.leaderElection=false",
        ][..],
    ] {
        let mut args = vec![
            "lint",
            "--strict",
            chart,
            "--namespace",
            NS,
            "--kube-version",
            KUBE_VERSION,
        ];
        args.extend_from_slice(extra);
        let out = cp.helm_ok(&args);
        eprintln!("helm lint {extra:?}:\n{out}");
        assert!(out.contains("0 chart(s) failed"), "{out}");
        assert!(
            !out.contains("[WARNING]") && !out.contains("[ERROR]"),
            "{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_template_renders_least_privilege_rbac() {
    let cp = ControlPlane::shared();
    let docs = render(cp, &[]);

    // Every rule of every role: no wildcard, no Secrets, no escalate or
    // impersonate, and `bind` only on the three ticket roles.
    let roles: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
        .collect();
    assert_eq!(
        roles.len(),
        5,
        "the operator's ClusterRole and Role, three ticket roles"
    );
    eprintln!("\n==== RBAC rendered by `helm template` (verbs  group/resources  names)");
    for role in &roles {
        eprintln!(
            "  {} {}{}",
            role["kind"].as_str().unwrap(),
            role["metadata"]["name"].as_str().unwrap(),
            role["metadata"]["namespace"]
                .as_str()
                .map_or(String::new(), |n| format!(" (namespace {n})"))
        );
        eprint!("{}", describe_rules(&role["rules"]));
        for rule in role["rules"].as_array().unwrap() {
            for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                assert!(
                    !strings(&rule[field]).iter().any(|s| s.contains('*')),
                    "wildcard in {}: {rule}",
                    role["metadata"]["name"]
                );
            }
            assert!(rule["nonResourceURLs"].is_null(), "{rule}");
            let resources = strings(&rule["resources"]);
            assert!(!resources.contains(&"secrets"), "{rule}");
            let verbs = strings(&rule["verbs"]);
            assert!(
                !verbs.contains(&"escalate") && !verbs.contains(&"impersonate"),
                "{rule}"
            );
            if verbs.contains(&"bind") {
                assert_eq!(verbs, ["bind"], "{rule}");
                assert_eq!(resources, ["clusterroles"], "{rule}");
                let names: BTreeSet<&str> = strings(&rule["resourceNames"]).into_iter().collect();
                assert_eq!(names, TICKET_ROLES.into_iter().collect(), "{rule}");
            }
        }
    }

    // The operator's ClusterRole: exactly these grants (src/controller/*.rs).
    let grants = |role: &Value| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for rule in role["rules"].as_array().unwrap() {
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    for verb in strings(&rule["verbs"]) {
                        let names = strings(&rule["resourceNames"]);
                        out.insert(if names.is_empty() {
                            format!("{verb} {group}/{resource}")
                        } else {
                            format!("{verb} {group}/{resource} {}", names.join(","))
                        });
                    }
                }
            }
        }
        out
    };
    let mut want: BTreeSet<String> = BTreeSet::new();
    for kind in [
        "slapolicies",
        "supporttiers",
        "workspaces",
        "tickets",
        "publishers",
    ] {
        for verb in ["get", "list", "watch"] {
            want.insert(format!("{verb} supportpolicy.dev/{kind}"));
        }
        want.insert(format!("patch supportpolicy.dev/{kind}/status"));
    }
    want.insert("create supportpolicy.dev/workspaces".into());
    want.insert("update supportpolicy.dev/workspaces/finalizers".into());
    for verb in ["get", "list", "watch", "create"] {
        want.insert(format!("{verb} /namespaces"));
    }
    for verb in ["list", "watch"] {
        want.insert(format!("{verb} /configmaps"));
    }
    for verb in ["create", "patch", "delete"] {
        want.insert(format!("{verb} /configmaps support-policy"));
    }
    for verb in ["get", "list", "watch", "create", "patch", "delete"] {
        want.insert(format!("{verb} rbac.authorization.k8s.io/rolebindings"));
    }
    want.insert(format!(
        "bind rbac.authorization.k8s.io/clusterroles {}",
        TICKET_ROLES.join(",")
    ));
    for verb in ["create", "patch"] {
        want.insert(format!("{verb} events.k8s.io/events"));
    }
    assert_eq!(grants(named(&docs, "ClusterRole", RELEASE)), want);
    let role = named(&docs, "Role", RELEASE);
    assert_eq!(role["metadata"]["namespace"], NS);
    let want: BTreeSet<String> = [
        "get /configmaps",
        "create /configmaps",
        "patch /configmaps",
        "delete /configmaps",
        "create coordination.k8s.io/leases",
        "get coordination.k8s.io/leases support-operator",
        "patch coordination.k8s.io/leases support-operator",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(grants(role), want);
    // Bound to the chart's ServiceAccount, in the release namespace.
    for (kind, role_kind) in [
        ("ClusterRoleBinding", "ClusterRole"),
        ("RoleBinding", "Role"),
    ] {
        let binding = named(&docs, kind, RELEASE);
        assert_eq!(binding["roleRef"]["kind"], role_kind);
        assert_eq!(binding["roleRef"]["name"], RELEASE);
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": RELEASE, "namespace": NS}])
        );
    }

    // The ticket roles are deploy/cluster-roles.yaml's, with their aggregation labels.
    let shipped = yaml_docs(&repo_root().join("deploy/cluster-roles.yaml"));
    assert_eq!(shipped.len(), 3);
    for want in &shipped {
        let name = want["metadata"]["name"].as_str().unwrap();
        assert!(TICKET_ROLES.contains(&name));
        let got = named(&docs, "ClusterRole", name);
        assert_eq!(got["rules"], want["rules"], "rules of {name}");
        for (label, value) in want["metadata"]["labels"].as_object().unwrap() {
            assert_eq!(
                &got["metadata"]["labels"][label], value,
                "label {label} of {name}"
            );
        }
    }
    let no_roles = render(
        cp,
        &[
            "--set",
            "ticketRoles.create=false",
            "--set",
            "rbac.create=false",
        ],
    );
    assert!(of_kind(&no_roles, "ClusterRole").is_empty());
    assert!(of_kind(&no_roles, "Role").is_empty());
    // One replica without leader election: no Lease rules at all.
    let single = render(cp, &SINGLE_REPLICA);
    let role = named(&single, "Role", RELEASE);
    assert!(!grants(role).iter().any(|g| g.contains("leases")), "{role}");
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_template_renders_a_hardened_two_replica_deployment() {
    let cp = ControlPlane::shared();
    let docs = render(cp, &[]);
    let kinds: BTreeMap<&str, usize> = docs.iter().fold(BTreeMap::new(), |mut m, d| {
        *m.entry(d["kind"].as_str().unwrap()).or_default() += 1;
        m
    });
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("ClusterRole", 4),
            ("ClusterRoleBinding", 1),
            ("CustomResourceDefinition", 5),
            ("Deployment", 1),
            ("PodDisruptionBudget", 1),
            ("Role", 1),
            ("RoleBinding", 1),
            ("Service", 1),
            ("ServiceAccount", 1),
        ]),
        "monitoring objects are off by default, the budget on (two replicas); the admission \
         policy only where the API server serves it (helm template's built-in list lacks it)"
    );
    for doc in &docs {
        let cluster_scoped = [
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
        ]
        .contains(&doc["kind"].as_str().unwrap());
        if !cluster_scoped {
            assert_eq!(doc["metadata"]["namespace"], NS, "{}", doc["metadata"]);
        }
    }

    let deployment = named(&docs, "Deployment", RELEASE);
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], RELEASE);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(
        c["image"], "support-operator:0.1.0",
        "image tag defaults to appVersion"
    );
    let args = strings(&c["args"]);
    for want in [
        "run",
        "--namespace=$(POD_NAMESPACE)",
        "--identity=$(POD_NAME)",
        "--health-addr=0.0.0.0:8080",
        "--log-format=json",
        "--leader-election=true",
        "--lease-name=support-operator",
        "--default-workspace=default",
        "--lease-duration-seconds=15",
        "--lease-renew-grace-seconds=5",
    ] {
        assert!(args.contains(&want), "args {args:?} lack {want}");
    }
    let env: BTreeMap<&str, &str> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?,
                e["valueFrom"]["fieldRef"]["fieldPath"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        env,
        BTreeMap::from([
            ("POD_NAME", "metadata.name"),
            ("POD_NAMESPACE", "metadata.namespace")
        ])
    );
    assert_eq!(
        c["ports"],
        json!([{"name": "http-metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        c["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "http-metrics"})
    );
    assert_eq!(
        c["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "http-metrics"})
    );
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"][kind][resource].is_string(),
                "resources.{kind}.{resource}"
            );
        }
    }
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["runAsUser"], 65532);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert!(sc["privileged"].is_null() && sc["capabilities"]["add"].is_null());

    let service = named(&docs, "Service", "support-operator-metrics");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "http-metrics", "port": 8080, "targetPort": "http-metrics", "protocol": "TCP"}])
    );
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );

    // The optional objects, when asked for.
    let all = render(
        cp,
        &[
            &OPTIONAL_OBJECTS[..],
            &[
                "--set",
                "image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ],
        ]
        .concat(),
    );
    let monitor = named(&all, "ServiceMonitor", RELEASE);
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http-metrics");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"],
        service["spec"]["selector"]
    );
    let rule = named(&all, "PrometheusRule", RELEASE);
    let alerts: BTreeMap<&str, &str> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["alert"].as_str().unwrap(), r["expr"].as_str().unwrap()))
        .collect();
    assert!(
        alerts["SupportTicketsBreached"].contains(r#"support_operator_tickets{phase="Breached"}"#)
    );
    assert!(alerts["SupportTicketsAtRisk"].contains(r#"support_operator_tickets{phase="AtRisk"}"#));
    assert!(
        rule["spec"]["groups"][0]["rules"][0]["annotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("{{ $labels.workspace }}"),
        "alert templates reach Prometheus unrendered by Helm"
    );
    // Alerts on the operator itself, on its own metrics, in the release's namespace.
    let own: BTreeMap<&str, &str> = rule["spec"]["groups"][1]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["alert"].as_str().unwrap(), r["expr"].as_str().unwrap()))
        .collect();
    assert_eq!(
        own.keys().copied().collect::<Vec<_>>(),
        [
            "SupportOperatorNoLeader",
            "SupportOperatorReconcileErrors",
            "SupportRoutingPublishFailures"
        ]
    );
    assert!(own["SupportOperatorNoLeader"].contains(&format!(
        r#"absent(support_operator_leader{{namespace="{NS}"}})"#
    )));
    assert!(own["SupportOperatorReconcileErrors"].contains(r#"controller!="routing""#));
    assert!(own["SupportRoutingPublishFailures"].contains(r#"controller="routing""#));
    for name in own.keys() {
        let r = rule["spec"]["groups"][1]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["alert"] == *name)
            .unwrap();
        assert!(
            r["for"].is_string() && r["labels"]["severity"].is_string(),
            "{r}"
        );
    }
    let deployment = named(&all, "Deployment", RELEASE);
    assert!(
        deployment["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--metrics-workspace-label=full"))
    );
    let dropped = render(cp, &["--set", "metrics.workspaceLabel=none"]);
    assert!(
        named(&dropped, "Deployment", RELEASE)["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--metrics-workspace-label=none"))
    );
    let pdb = named(&all, "PodDisruptionBudget", RELEASE);
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    let image =
        &named(&all, "Deployment", RELEASE)["spec"]["template"]["spec"]["containers"][0]["image"];
    assert!(
        image
            .as_str()
            .unwrap()
            .starts_with("support-operator@sha256:"),
        "{image}"
    );

    // values.schema.json refuses what would break the install.
    refused_by_schema(
        cp,
        &[
            ("replicaCount=two", "replicaCount"),
            ("replicaCont=2", "replicaCont"),
            ("operator.logFormat=xml", "logFormat"),
            ("operator.routingDebounce=soon", "routingDebounce"),
            ("image.pullPolicy=Sometimes", "pullPolicy"),
        ],
    );
    let err = render_err(cp, &["--set", "operator.leaderElection=false"]);
    assert!(
        err.contains("leaderElection=false needs replicaCount=1"),
        "{err}"
    );
}

/// The knobs of issue 13: labels, extra flags and environment, scheduling,
/// probe and lease timing, the budget's rules, kubeVersion, and the admission
/// policy, templated for the release.
#[tokio::test(flavor = "multi_thread")]
async fn helm_template_renders_the_knobs_a_platform_team_sets() {
    let cp = ControlPlane::shared();
    let docs = render(
        cp,
        &[
            "--set",
            "commonLabels.team=platform",
            "--set",
            "podLabels.tier=ops",
            "--set",
            "extraArgs={--ticket-concurrency=16}",
            "--set",
            "extraEnv[0].name=HTTPS_PROXY",
            "--set",
            "extraEnv[0].value=http://proxy:3128",
            "--set",
            "priorityClassName=system-cluster-critical",
            "--set",
            "topologySpreadConstraints[0].maxSkew=1",
            "--set",
            "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
            "--set",
            "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
            "--set",
            "livenessProbe.periodSeconds=30",
            "--set",
            "readinessProbe.failureThreshold=6",
            "--set",
            "operator.lease.durationSeconds=30",
            "--set",
            "operator.lease.renewGraceSeconds=10",
            "--set",
            "operator.routingDebounce=1m500ms",
        ],
    );
    for doc in &docs {
        assert_eq!(
            doc["metadata"]["labels"]["team"], "platform",
            "commonLabels on {} {}",
            doc["kind"], doc["metadata"]["name"]
        );
    }
    let deployment = named(&docs, "Deployment", RELEASE);
    let template = &deployment["spec"]["template"];
    assert_eq!(template["metadata"]["labels"]["team"], "platform");
    assert_eq!(template["metadata"]["labels"]["tier"], "ops");
    assert!(
        deployment["spec"]["selector"]["matchLabels"]["team"].is_null(),
        "selectors stay fixed: a label change must not orphan the pods"
    );
    let pod = &template["spec"];
    assert_eq!(pod["priorityClassName"], "system-cluster-critical");
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "topology.kubernetes.io/zone"
    );
    let c = &pod["containers"][0];
    let args = strings(&c["args"]);
    assert_eq!(args.last(), Some(&"--ticket-concurrency=16"), "{args:?}");
    for want in [
        "--lease-duration-seconds=30",
        "--lease-renew-grace-seconds=10",
        "--routing-debounce=1m500ms",
    ] {
        assert!(args.contains(&want), "{args:?} lack {want}");
    }
    // The rendered arguments are ones the binary takes.
    {
        use clap::Parser;
        let mut argv = vec!["support-operator"];
        argv.extend(args.iter().copied());
        let cli = support_operator::cli::Cli::try_parse_from(argv).expect("the binary reads them");
        let support_operator::cli::Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.ticket_concurrency, 16, "extraArgs win");
        assert_eq!(run.routing_debounce, Duration::from_millis(60_500));
        assert_eq!(
            (run.lease_duration_seconds, run.lease_renew_grace_seconds),
            (30, 10)
        );
    }
    assert!(
        c["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "HTTPS_PROXY" && e["value"] == "http://proxy:3128")
    );
    assert_eq!(c["livenessProbe"]["periodSeconds"], 30);
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["failureThreshold"], 6);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");

    // The budget: on with two replicas, off with one, refused when it would block drains.
    assert_eq!(
        named(&docs, "PodDisruptionBudget", RELEASE)["spec"]["minAvailable"],
        1
    );
    let single = render(cp, &SINGLE_REPLICA);
    assert!(of_kind(&single, "PodDisruptionBudget").is_empty());
    let three = render(
        cp,
        &[
            "--set",
            "replicaCount=3",
            "--set",
            "podDisruptionBudget.minAvailable=2",
        ],
    );
    assert_eq!(
        named(&three, "PodDisruptionBudget", RELEASE)["spec"]["minAvailable"],
        2
    );
    let err = render_err(cp, &["--set", "podDisruptionBudget.minAvailable=2"]);
    assert!(err.contains("would block every node drain"), "{err}");
    let off = render(cp, &["--set", "podDisruptionBudget.enabled=false"]);
    assert!(of_kind(&off, "PodDisruptionBudget").is_empty());

    // The admission policy: rendered where the API server serves it, for
    // this release's ServiceAccount, and off on request.
    assert!(
        of_kind(&docs, "ValidatingAdmissionPolicy").is_empty(),
        "not rendered where the API is not served"
    );
    const VAP: &str = "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
    let docs = render(cp, &["--api-versions", VAP]);
    let policy = named(
        &docs,
        "ValidatingAdmissionPolicy",
        "support-operator-rolebindings",
    );
    assert_eq!(
        policy["spec"]["matchConditions"][0]["expression"],
        "request.userInfo.username == 'system:serviceaccount:support-operator:support-operator'"
    );
    let binding = named(
        &docs,
        "ValidatingAdmissionPolicyBinding",
        "support-operator-rolebindings",
    );
    assert_eq!(
        binding["spec"]["policyName"],
        "support-operator-rolebindings"
    );
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    let other = render(
        cp,
        &[
            "--api-versions",
            VAP,
            "--set",
            "serviceAccount.name=ops-bot",
        ],
    );
    assert!(
        named(
            &other,
            "ValidatingAdmissionPolicy",
            "support-operator-rolebindings"
        )["spec"]["matchConditions"][0]["expression"]
            .as_str()
            .unwrap()
            .ends_with(":support-operator:ops-bot'")
    );
    let no_policy = render(
        cp,
        &[
            "--api-versions",
            VAP,
            "--set",
            "rbac.admissionPolicy.enabled=false",
        ],
    );
    assert!(of_kind(&no_policy, "ValidatingAdmissionPolicy").is_empty());
    // Older clusters are refused (the CRDs' CEL needs 1.29).
    let err = render_err(cp, &["--kube-version", "1.28.0"]);
    assert!(err.contains("needs Kubernetes 1.29 or later"), "{err}");
    render(cp, &["--kube-version", "1.29.0"]);

    // values.schema.json refuses what the binary would refuse.
    refused_by_schema(
        cp,
        &[
            ("operator.routingDebounce=1.5", "routingDebounce"),
            ("operator.lease.durationSeconds=1", "durationSeconds"),
            ("extraArgs={ticket-concurrency=16}", "extraArgs"),
            ("livenessProbe.path=/other", "path"),
        ],
    );
    let err = render_err(
        cp,
        &[
            "--set",
            "operator.lease.durationSeconds=5",
            "--set",
            "operator.lease.renewGraceSeconds=5",
        ],
    );
    assert!(err.contains("renewGraceSeconds"), "{err}");
}

/// The chart README's values table: `key`, default.
fn readme_values_table() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(chart().join("README.md")).unwrap();
    let mut rows = BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let key = cells[0]
            .trim_start_matches("| ")
            .trim_matches('`')
            .to_string();
        let default = cells
            .get(1)
            .map_or("", |c| c.trim())
            .trim_matches('`')
            .to_string();
        assert!(
            rows.insert(key.clone(), default).is_none(),
            "the chart README's values table lists {key} twice"
        );
    }
    rows
}

/// values.yaml's leaves (scalars, lists, empty maps) by dotted key, each as
/// compact JSON (strings quoted).
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.to_string());
        }
    }
}

// ------------------------------------------- the chart's README, generated

const VALUES_BEGIN: &str = "<!-- BEGIN VALUES (generated from values.yaml by tests/chart: UPDATE_CHART_README=1 cargo test --test chart chart_readme) -->\n";
const VALUES_END: &str = "<!-- END VALUES -->";

/// The comment block right above each key of values.yaml, by dotted key.
/// A blank line or a list item ends a block; nesting follows indentation.
fn values_comments(yaml: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(comment) = trimmed.strip_prefix('#') {
            block.push(comment.trim());
            continue;
        }
        let key = trimmed
            .split_once(':')
            .map(|(k, _)| k)
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        match key {
            Some(key) if !trimmed.starts_with('-') => {
                while stack.last().is_some_and(|(i, _)| *i >= indent) {
                    stack.pop();
                }
                let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).chain([key]).collect();
                if !block.is_empty() {
                    out.insert(path.join("."), block.join(" "));
                }
                stack.push((indent, key.to_string()));
            }
            _ => {}
        }
        block.clear();
    }
    out
}

/// The values table: every leaf of values.yaml, its default, and the
/// comment above it (or above the nearest key that holds it).
fn values_table() -> String {
    let text = std::fs::read_to_string(chart().join("values.yaml")).unwrap();
    let values: Value = serde_saphyr::from_str(&text).unwrap();
    let comments = values_comments(&text);
    let mut leaves = BTreeMap::new();
    flatten("", &values, &mut leaves);
    let mut out = String::from("| key | default | description |\n|---|---|---|\n");
    let mut undescribed = Vec::new();
    let mut last_owner = String::new();
    for (key, default) in &leaves {
        let mut owner = key.as_str();
        let description = loop {
            if let Some(c) = comments.get(owner) {
                break c.clone();
            }
            match owner.rsplit_once('.') {
                Some((up, _)) => owner = up,
                None => {
                    undescribed.push(key.clone());
                    break String::new();
                }
            }
        };
        // A leaf described by a key above it names that key; its
        // description is written out at the first such leaf only.
        let description = if owner == key {
            description
        } else if owner == last_owner {
            format!("(`{owner}`)")
        } else {
            format!("(`{owner}`) {description}")
        };
        last_owner = owner.to_string();
        out.push_str(&format!(
            "| `{key}` | `{default}` | {} |\n",
            description.replace('|', "\\|")
        ));
    }
    assert!(
        undescribed.is_empty(),
        "values.yaml keys with no comment above them or above a key that holds them: {undescribed:?}"
    );
    out
}

/// charts/support-operator/README.md's values table is generated from
/// values.yaml's comments; UPDATE_CHART_README=1 rewrites it.
#[test]
fn chart_readme_values_table_is_generated_from_values_yaml() {
    let path = chart().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(VALUES_BEGIN)
        .expect("the chart README has the BEGIN VALUES marker")
        + VALUES_BEGIN.len();
    let stop = readme[start..]
        .find(VALUES_END)
        .expect("the chart README has the END VALUES marker")
        + start;
    let table = values_table();
    if readme[start..stop] != table {
        if std::env::var_os("UPDATE_CHART_README").is_some() {
            let updated = format!("{}{table}{}", &readme[..start], &readme[stop..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "charts/support-operator/README.md is stale: \
                 UPDATE_CHART_README=1 cargo test --test chart chart_readme"
            );
        }
    }
}

#[test]
fn the_values_comment_reader_follows_nesting() {
    let comments = values_comments(
        "# top\na:\n  # inner\n  b: 1\n  c:\n    - x\n  # after a list\n  d: 2\n\n# e\n\ne: 3\n",
    );
    assert_eq!(comments["a"], "top");
    assert_eq!(comments["a.b"], "inner");
    assert_eq!(comments["a.d"], "after a list");
    assert!(!comments.contains_key("a.c"));
    assert!(!comments.contains_key("e"), "a blank line ends a block");
}

#[test]
fn readme_values_table_lists_every_value_with_its_default() {
    let values: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(chart().join("values.yaml")).unwrap())
            .unwrap();
    let mut want = BTreeMap::new();
    flatten("", &values, &mut want);
    let table = readme_values_table();
    let missing: Vec<&String> = want.keys().filter(|k| !table.contains_key(*k)).collect();
    let extra: Vec<&String> = table.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the chart README's values table and values.yaml differ: missing from the README {missing:?}, \
         not in values.yaml {extra:?}"
    );
    for (key, default) in &want {
        assert_eq!(&table[key], default, "docs/install.md default of {key}");
    }
    // And every key is in the schema.
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart().join("values.schema.json")).unwrap())
            .unwrap();
    for key in want.keys() {
        // Down to the key, or to a free-form object above it (resources,
        // security contexts: Kubernetes' own schema applies).
        let mut node = &schema;
        for part in key.split('.') {
            if node["type"] == "object" && node["properties"].is_null() {
                break;
            }
            node = &node["properties"][part];
            assert!(
                !node.is_null(),
                "values.schema.json does not describe {key}"
            );
        }
    }
}

// ------------------------------------------------- chart, in the cluster

/// A kubeconfig for the chart's ServiceAccount: the control plane's server
/// and CA (from the admin kubeconfig) and a token from the TokenRequest API.
async fn service_account_kubeconfig(cp: &ControlPlane) -> (PathBuf, String) {
    let admin = cp.client().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(admin, NS);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            bound_object_ref: None,
        },
        ..TokenRequest::default()
    };
    let token = accounts
        .create_token_request(RELEASE, &PostParams::default(), &request)
        .await
        .expect("a TokenRequest for the chart's ServiceAccount")
        .status
        .expect("TokenRequest status")
        .token;
    let user = format!("system:serviceaccount:{NS}:{RELEASE}");
    let path = cp.token_kubeconfig("service-account.kubeconfig", &user, &token, Some(NS));
    (path, user)
}

/// Server-side apply, as the operator writes (field manager
/// `support-operator`, forced), of the RoleBinding finance-support/`name` to
/// the ClusterRole `role` through `bindings`: must be refused ([`forbidden`]).
async fn refused_apply(what: &str, bindings: &Api<RoleBinding>, name: &str, role: &str) -> String {
    let apply = PatchParams::apply("support-operator").force();
    let binding = rolebinding_to(name, "finance-support", "ClusterRole", role);
    forbidden(
        what,
        bindings.patch(name, &apply, &Patch::Apply(binding)).await,
    )
}

fn rolebinding_to(name: &str, namespace: &str, kind: &str, role: &str) -> RoleBinding {
    serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory@contoso.com"}],
    }))
    .unwrap()
}

/// The manifest of the NOTES' `kubectl apply -f - <<'YAML'` block.
fn notes_manifest(notes: &str) -> String {
    let start = notes
        .find("kubectl apply -f - <<'YAML'\n")
        .expect("the NOTES show a first manifest")
        + "kubectl apply -f - <<'YAML'\n".len();
    let end = notes[start..].find("\n  YAML").expect("the heredoc ends") + start;
    notes[start..end]
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_install_runs_the_operator_on_the_charts_service_account() {
    let cp = ControlPlane::shared();
    let admin = cp.client().await;
    let chart = chart();
    let chart = chart.to_str().unwrap();
    let started = Instant::now();

    // ---- helm install of the packaged chart, as a user gets it (no
    // repository around it: the NOTES must not point into one).
    let package_dir = std::env::temp_dir().join(format!("chart-package-{}", std::process::id()));
    std::fs::create_dir_all(&package_dir).unwrap();
    let packaged = cp.helm_ok(&["package", chart, "-d", package_dir.to_str().unwrap()]);
    let package = packaged
        .trim()
        .rsplit(' ')
        .next()
        .expect("helm package names the file")
        .to_string();
    let out = cp.helm_ok(&[
        "install",
        RELEASE,
        &package,
        "--namespace",
        NS,
        "--create-namespace",
    ]);
    eprintln!(
        "helm install {package} ({:.1}s):\n{out}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        !out.contains("examples/"),
        "the NOTES point into the repository:\n{out}"
    );
    let notes_sample = notes_manifest(&out);
    // The capability check found ValidatingAdmissionPolicy on this 1.35 API server.
    cp.kubectl_ok(&[
        "get",
        "validatingadmissionpolicy,validatingadmissionpolicybinding",
        "support-operator-rolebindings",
    ]);
    cp.kubectl_ok(&[
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=60s",
    ]);
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), NS);
    let deployment = deployments
        .get(RELEASE)
        .await
        .expect("the chart's Deployment");
    assert_eq!(deployment.spec.as_ref().unwrap().replicas, Some(2));

    // ---- The operator, out of cluster, with only the chart's ServiceAccount.
    let (kubeconfig, user) = service_account_kubeconfig(cp).await;
    let sa = client_from(&kubeconfig).await;
    eprintln!(
        "operator runs as {user} (token from TokenRequest, kubeconfig {})",
        kubeconfig.display()
    );
    let op = Operator::start_with_kubeconfig(
        cp,
        "operator-sa",
        &kubeconfig,
        &[
            "--namespace",
            NS,
            "--lease-name",
            "support-operator",
            "--routing-debounce",
            "200ms",
        ],
    );
    let leases: Api<Lease> = Api::namespaced(admin.clone(), NS);
    let holder = eventually(Duration::from_secs(30), "the leader Lease", async || {
        lease_holder(&leases, "support-operator").await
    })
    .await;
    eprintln!("leader lease held by {holder}");

    // ---- The NOTES' first try works as printed: a tier, a best-effort
    // ticket in the default workspace. (Removed again: the examples follow.)
    let sample = package_dir.join("notes-sample.yaml");
    std::fs::write(&sample, &notes_sample).unwrap();
    cp.kubectl_ok(&["apply", "-f", sample.to_str().unwrap()]);
    cp.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "workspace/default",
        "--timeout=60s",
    ]);
    cp.kubectl_ok(&[
        "wait",
        "--for=condition=Accepted",
        "ticket/first-ticket",
        "-n",
        "support-default",
        "--timeout=60s",
    ]);
    let wide = cp.kubectl_ok(&["get", "tickets", "-A", "-o", "wide"]);
    eprint!("kubectl get tickets -A -o wide (the NOTES' first try):\n{wide}");
    assert!(
        wide.contains("first-ticket") && wide.contains("BestEffort"),
        "{wide}"
    );
    cp.kubectl_ok(&["delete", "ticket", "first-ticket", "-n", "support-default"]);
    std::fs::remove_dir_all(&package_dir).ok();

    // ---- The examples, applied by the admin.
    apply_examples(cp).await;
    let examples = repo_root().join("examples");

    // GitOps readiness, as a pipeline would wait for it.
    for kind in ["slapolicy", "supporttier", "workspace", "publisher"] {
        let out = cp.kubectl_ok(&[
            "wait",
            "--for=condition=Ready",
            kind,
            "--all",
            "--timeout=60s",
        ]);
        eprint!("kubectl wait --for=condition=Ready {kind} --all:\n{out}");
    }
    cp.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "slapolicies,supporttiers,workspaces",
        "--all",
        "--timeout=60s",
    ]);
    cp.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "workspace/finance",
        "--timeout=60s",
    ]);

    // Every ticket's status is exactly what `evaluate` prints.
    let manifests =
        support_operator::manifests::Manifests::load(std::slice::from_ref(&examples)).unwrap();
    let expected = statuses_as_evaluated(&admin, &manifests, NS, || op.log_tail(40)).await;
    assert_eq!(expected.report.tickets.len(), manifests.tickets.len());

    // `kubectl wait --for=condition=Accepted` on tickets, and =False for the rejected.
    let mut accepted = 0;
    for report in &expected.report.tickets {
        let ok = report
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == "Accepted" && c.status == "True");
        let condition = if ok {
            "--for=condition=Accepted"
        } else {
            "--for=condition=Accepted=False"
        };
        accepted += usize::from(ok);
        cp.kubectl_ok(&[
            "wait",
            condition,
            &format!("ticket/{}", report.name),
            "-n",
            &report.namespace,
            "--timeout=30s",
        ]);
    }
    assert!(accepted > 0 && accepted < expected.report.tickets.len());
    let out = cp.kubectl_ok(&[
        "wait",
        "--for=condition=Accepted",
        "tickets",
        "--all",
        "-n",
        "support-default",
        "--timeout=30s",
    ]);
    eprint!("kubectl wait --for=condition=Accepted tickets --all -n support-default:\n{out}");

    // RoleBindings, the routing table, a workspace's slice, Events, metrics.
    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), "finance-support");
    for name in [
        "support-operator.admins",
        "support-operator.members",
        "support-operator.partner.fabrikam",
    ] {
        let rb = eventually(Duration::from_secs(30), name, async || {
            bindings.get_opt(name).await.ok()?
        })
        .await;
        assert!(
            TICKET_ROLES.contains(&rb.role_ref.name.as_str()),
            "{name}: {:?}",
            rb.role_ref
        );
    }
    let routing: Api<ConfigMap> = Api::namespaced(admin.clone(), NS);
    let routes = eventually(Duration::from_secs(30), "support-routing", async || {
        routing
            .get_opt("support-routing")
            .await
            .ok()??
            .data?
            .remove("routes.json")
    })
    .await;
    let routes: Value = serde_json::from_str(&routes).unwrap();
    assert_eq!(routes["schemaVersion"], 2);
    slice_as_evaluated(&admin, &expected, "finance-support").await;
    let events: Api<Event> = Api::namespaced(admin.clone(), "finance-support");
    eventually(Duration::from_secs(30), "a Rejected event", async || {
        events
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.reason.as_deref() == Some("Rejected")
                    && e.reporting_controller.as_deref() == Some("support-operator")
            })
    })
    .await;
    // The series the PrometheusRule's alerts sum: by workspace, severity, phase.
    let metrics = op.get("/metrics").unwrap_or_default();
    assert!(
        metrics.lines().any(|l| l
            .starts_with(r#"support_operator_tickets{workspace="finance",severity=""#)
            && l.contains(r#"phase=""#)),
        "support_operator_tickets{{workspace,severity,phase}} is exported:\n{metrics}"
    );
    // The operator's own: build, leader, process, and its API requests
    // (server-side applies answered 200 or 201).
    for want in [
        format!(
            r#"support_operator_build_info{{version="{}",commit="{}"}} 1"#,
            support_operator::version::VERSION,
            support_operator::version::COMMIT
        ),
        "support_operator_leader 1".to_string(),
    ] {
        assert!(
            metrics.lines().any(|l| l == want),
            "{want} missing:\n{metrics}"
        );
    }
    for family in [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        r#"support_operator_kube_requests_total{method="WATCH",code="200"}"#,
        r#"support_operator_kube_requests_total{method="PATCH",code="20"#,
        r#"support_operator_kube_request_duration_seconds_count{method="PATCH"}"#,
    ] {
        assert!(
            metrics.lines().any(|l| l.starts_with(family)),
            "{family} missing:\n{metrics}"
        );
    }

    // ---- What the ServiceAccount must not be able to do.
    eprintln!("\n==== requests made with the chart's ServiceAccount token ({user})");
    forbidden(
        "list Secrets in the release namespace",
        Api::<Secret>::namespaced(sa.clone(), NS)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Secrets in all namespaces",
        Api::<Secret>::all(sa.clone())
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "get Secret kube-system/any",
        Api::<Secret>::namespaced(sa.clone(), "kube-system")
            .get("any")
            .await,
    );
    let sa_bindings: Api<RoleBinding> = Api::namespaced(sa.clone(), "finance-support");
    // It may create and apply RoleBindings, so these are refused by RBAC's
    // escalation check: it holds `bind` on the ticket roles only.
    let escalation = "is attempting to grant RBAC permissions not currently held";
    let message = forbidden(
        "create RoleBinding finance-support/mallory -> ClusterRole cluster-admin (POST)",
        sa_bindings
            .create(
                &PostParams::default(),
                &rolebinding_to("mallory", "finance-support", "ClusterRole", "cluster-admin"),
            )
            .await,
    );
    assert!(message.contains(escalation), "{message}");
    let apply = PatchParams::apply("support-operator").force();
    let message = refused_apply(
        "apply RoleBinding finance-support/mallory -> ClusterRole cluster-admin (server-side apply, the verb it holds)",
        &sa_bindings,
        "mallory",
        "cluster-admin",
    )
    .await;
    assert!(message.contains(escalation), "{message}");
    let message = refused_apply(
        "apply RoleBinding finance-support/mallory -> ClusterRole edit (a ClusterRole other than the three)",
        &sa_bindings,
        "mallory",
        "edit",
    )
    .await;
    assert!(message.contains(escalation), "{message}");
    refused_apply(
        "apply RoleBinding finance-support/mallory -> ClusterRole admin (aggregates the ticket roles, and far more)",
        &sa_bindings,
        "mallory",
        "admin",
    )
    .await;
    let crb: ClusterRoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "mallory"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory@contoso.com"}],
    }))
    .unwrap();
    forbidden(
        "apply ClusterRoleBinding mallory -> cluster-admin",
        Api::<ClusterRoleBinding>::all(sa.clone())
            .patch("mallory", &apply, &Patch::Apply(crb))
            .await,
    );
    forbidden(
        "apply ClusterRole mallory (new rules)",
        Api::<ClusterRole>::all(sa.clone())
            .patch(
                "mallory",
                &apply,
                &Patch::Apply(
                    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": "mallory"}, "rules": []}),
                ),
            )
            .await,
    );
    forbidden(
        "patch ConfigMap finance-support/kube-root-ca.crt (not support-policy)",
        Api::<ConfigMap>::namespaced(sa.clone(), "finance-support")
            .patch(
                "kube-root-ca.crt",
                &apply,
                &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt"}, "data": {"x": "y"}})),
            )
            .await,
    );
    // `create` on ConfigMaps is granted by name (support-policy) only: a
    // server-side apply that would create another name is refused, and so
    // is a POST, whose authorization carries no name at all.
    let cm = |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"x": "y"}});
    forbidden(
        "apply ConfigMap finance-support/mallory (a new name, not support-policy)",
        Api::<ConfigMap>::namespaced(sa.clone(), "finance-support")
            .patch("mallory", &apply, &Patch::Apply(cm("mallory")))
            .await,
    );
    forbidden(
        "create ConfigMap finance-support/mallory (POST)",
        Api::<ConfigMap>::namespaced(sa.clone(), "finance-support")
            .create(
                &PostParams::default(),
                &serde_json::from_value(cm("mallory")).unwrap(),
            )
            .await,
    );
    forbidden(
        "delete Namespace finance-support",
        Api::<Namespace>::all(sa.clone())
            .delete("finance-support", &DeleteParams::default())
            .await,
    );
    forbidden(
        "patch Ticket spec finance-support/payments-down-no-commitment",
        Api::<Ticket>::namespaced(sa.clone(), "finance-support")
            .patch(
                "payments-down-no-commitment",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"severity": "C"}})),
            )
            .await,
    );
    forbidden(
        "get Lease support-operator/someone-else",
        Api::<Lease>::namespaced(sa.clone(), NS)
            .get("someone-else")
            .await,
    );
    // RBAC lets it bind a ticket role anywhere; the chart's admission
    // policy confines that to workspace namespaces.
    let in_kube_system: Api<RoleBinding> = Api::namespaced(sa.clone(), "kube-system");
    let dry_run = PostParams {
        dry_run: true,
        field_manager: None,
    };
    let message = eventually(
        Duration::from_secs(30),
        "the chart's admission policy in force",
        async || match in_kube_system
            .create(
                &dry_run,
                &rolebinding_to("mallory", "kube-system", "ClusterRole", TICKET_ROLES[0]),
            )
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 403 => Some(s.message),
            _ => None,
        },
    )
    .await;
    eprintln!(
        "  refused  create RoleBinding kube-system/mallory -> {} (RBAC allows it): {message}",
        TICKET_ROLES[0]
    );
    assert!(
        message.contains("support-operator-rolebindings"),
        "{message}"
    );
    let unlabelled = refused_apply(
        "apply an unlabelled RoleBinding finance-support/chart-test-control -> a ticket role",
        &sa_bindings,
        "chart-test-control",
        TICKET_ROLES[0],
    )
    .await;
    assert!(
        unlabelled.contains("labelled for the workspace"),
        "{unlabelled}"
    );
    // The control: the roles it may bind, labelled for the namespace's
    // workspace, it can bind.
    let mut control = rolebinding_to(
        "chart-test-control",
        "finance-support",
        "ClusterRole",
        TICKET_ROLES[0],
    );
    control.metadata.labels = Some(BTreeMap::from([(
        "supportpolicy.dev/workspace".to_string(),
        "finance".to_string(),
    )]));
    sa_bindings
        .patch("chart-test-control", &apply, &Patch::Apply(control))
        .await
        .expect("binding a ticket role is allowed");
    sa_bindings
        .delete("chart-test-control", &DeleteParams::default())
        .await
        .expect("deleting the binding is allowed");
    eprintln!(
        "  allowed  apply RoleBinding finance-support/chart-test-control -> {} (and delete it)",
        TICKET_ROLES[0]
    );

    // Nothing the operator did was forbidden.
    let log = std::fs::read_to_string(&op.log).unwrap();
    let forbidden: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Forbidden") || l.contains("forbidden") || l.contains(" 403"))
        .collect();
    assert!(
        forbidden.is_empty(),
        "the operator hit refusals:\n{}",
        forbidden.join("\n")
    );
    drop(op);

    // ---- helm upgrade: a changed value; tickets and CRDs stay.
    let tickets: Api<Ticket> = Api::all(admin.clone());
    let ticket_count = async || {
        tickets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len()
    };
    let count = ticket_count().await;
    assert_eq!(count, manifests.tickets.len());
    // `helm upgrade --reuse-values` with `sets`.
    let upgrade = |sets: &[&str]| {
        let mut args = vec![
            "upgrade",
            RELEASE,
            chart,
            "--namespace",
            NS,
            "--reuse-values",
        ];
        args.extend_from_slice(sets);
        cp.helm_ok(&args)
    };
    let out = upgrade(&[
        "--set",
        "replicaCount=3",
        "--set",
        "operator.ticketConcurrency=4",
    ]);
    eprintln!("helm upgrade:\n{out}");
    let deployment = deployments.get(RELEASE).await.unwrap();
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(3));
    let args = spec.template.spec.unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert!(
        args.contains(&"--ticket-concurrency=4".to_string()),
        "{args:?}"
    );
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    let ours = |list: Vec<CustomResourceDefinition>| {
        list.into_iter()
            .filter(|c| c.spec.group == "supportpolicy.dev")
            .count()
    };
    assert_eq!(
        ours(crds.list(&ListParams::default()).await.unwrap().items),
        5
    );
    let after = tickets.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(after.len(), count);
    assert!(
        after.iter().all(|t| t.status.is_some()),
        "statuses survive the upgrade"
    );
    // Handing the CRDs over to someone else (crds.install=false) keeps them too.
    let out = upgrade(&["--set", "crds.install=false"]);
    assert!(out.contains("REVISION: 3"), "{out}");
    assert_eq!(
        ours(crds.list(&ListParams::default()).await.unwrap().items),
        5
    );
    assert_eq!(ticket_count().await, count);
    let out = upgrade(&["--set", "crds.install=true"]);
    assert!(out.contains("REVISION: 4"), "{out}");

    // ---- helm uninstall: the operator's objects go; CRDs and tickets stay.
    let out = cp.helm_ok(&["uninstall", RELEASE, "--namespace", NS]);
    eprintln!("helm uninstall:\n{out}");
    assert_eq!(
        ours(crds.list(&ListParams::default()).await.unwrap().items),
        5
    );
    let after = tickets.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(after.len(), count, "tickets survive helm uninstall");
    assert!(after.iter().all(|t| t.status.is_some()));
    let roles: Api<ClusterRole> = Api::all(admin.clone());
    eventually(
        Duration::from_secs(30),
        "the chart's objects to go",
        async || {
            let gone = deployments.get_opt(RELEASE).await.ok()?.is_none()
                && Api::<ServiceAccount>::namespaced(admin.clone(), NS)
                    .get_opt(RELEASE)
                    .await
                    .ok()?
                    .is_none()
                && roles.get_opt(RELEASE).await.ok()?.is_none()
                && roles.get_opt(TICKET_ROLES[1]).await.ok()?.is_none();
            gone.then_some(())
        },
    )
    .await;

    // ---- And installed again over the kept CRDs (Helm adopts them).
    let out = cp.helm_ok(&["install", RELEASE, chart, "--namespace", NS]);
    assert!(out.contains("STATUS: deployed"), "{out}");
    assert_eq!(ticket_count().await, count);
    eprintln!(
        "chart test in the cluster: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

// ------------------------------------- durations: the chart and the binary

/// values.schema.json, compiled as Helm's validator would use it.
fn values_validator() -> (boon::Schemas, boon::SchemaIndex) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart().join("values.schema.json")).unwrap())
            .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("values.schema.json", schema).unwrap();
    let index = compiler
        .compile("values.schema.json", &mut schemas)
        .unwrap();
    (schemas, index)
}

/// What `support-operator run --routing-debounce TEXT` makes of it.
fn binary_reads(text: &str) -> Option<Duration> {
    use clap::Parser;
    use support_operator::cli::{Cli, Command};
    match Cli::try_parse_from(["support-operator", "run", "--routing-debounce", text]) {
        Ok(Cli {
            command: Command::Run(args),
        }) => Some(args.routing_debounce),
        Ok(other) => panic!("parsed as {other:?}"),
        Err(_) => None,
    }
}

/// A duration the chart's schema accepts is one the binary reads, to the
/// nanosecond, and one the schema refuses the binary refuses too: no value
/// passes `helm install` and then crash-loops the operator, and none is
/// silently truncated (`1.5s` was read as 1 s, `1m500ms` refused).
#[test]
fn chart_durations_are_exactly_what_the_binary_reads() {
    let (schemas, index) = values_validator();
    let base: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(chart().join("values.yaml")).unwrap())
            .unwrap();
    let schema_accepts = |text: &str| {
        let mut values = base.clone();
        values["operator"]["routingDebounce"] = json!(text);
        schemas.validate(&values, index).is_ok()
    };
    assert!(schema_accepts("500ms"), "values.yaml itself is valid");
    let pattern: Value =
        serde_json::from_str(&std::fs::read_to_string(chart().join("values.schema.json")).unwrap())
            .unwrap();
    assert_eq!(
        pattern["properties"]["operator"]["properties"]["routingDebounce"]["pattern"],
        support_operator::api::pattern::FLAG_DURATION,
        "the chart's pattern is the binary's grammar"
    );
    let ms = Duration::from_millis;
    for (text, want) in [
        ("500ms", Some(ms(500))),
        ("1.5s", Some(ms(1500))),
        ("1m500ms", Some(ms(60_500))),
        ("1h30m", Some(Duration::from_secs(5400))),
        ("0s", Some(Duration::ZERO)),
        ("2.000000001s", Some(Duration::new(2, 1))),
        ("1.5us", Some(Duration::from_nanos(1500))),
        ("1µs", Some(Duration::from_nanos(1000))),
        ("0.1ns", Some(Duration::ZERO)),
        ("999999999h", Some(Duration::from_secs(999_999_999 * 3600))),
        ("1h1m1s1ms1us1ns", Some(Duration::new(3661, 1_001_001))),
        ("", None),
        ("1", None),
        ("soon", None),
        ("1d", None),
        ("1S", None),
        ("-1s", None),
        ("+1s", None),
        (".5s", None),
        ("1.s", None),
        ("1e3ms", None),
        (" 1s", None),
        ("1s ", None),
        ("1μs", None), // Greek mu: Go reads it, the pattern does not
        ("1234567890s", None),
        ("1.1234567890s", None),
        ("1s1s1s1s1s1s1s", None),
    ] {
        assert_eq!(
            schema_accepts(text),
            want.is_some(),
            "values.schema.json on {text:?}"
        );
        assert_eq!(binary_reads(text), want, "the binary on {text:?}");
    }
    // And thousands of strings from the grammar's alphabet: both agree.
    let alphabet: Vec<char> = "0123456789..smhnuµ1".chars().collect();
    let mut seed: u64 = 0x5eed;
    let mut accepted = 0;
    for _ in 0..5000 {
        let mut text = String::new();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = 1 + (seed >> 60) as usize;
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
        }
        let schema = schema_accepts(&text);
        assert_eq!(schema, binary_reads(&text).is_some(), "{text:?}");
        accepted += usize::from(schema);
    }
    assert!(
        accepted > 100,
        "the sample reaches valid durations ({accepted})"
    );
}

/// `extraArgs` come after the chart's flags and win: the binary takes the
/// last of a repeated flag.
#[test]
fn a_repeated_flag_takes_its_last_value() {
    use clap::Parser;
    use support_operator::cli::{Cli, Command};
    let Cli {
        command: Command::Run(args),
    } = Cli::try_parse_from([
        "support-operator",
        "run",
        "--ticket-concurrency=8",
        "--ticket-concurrency=16",
    ])
    .unwrap()
    else {
        panic!("not run")
    };
    assert_eq!(args.ticket_concurrency, 16);
}
