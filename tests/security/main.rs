//! Security, tested as the people and programs involved (docs/security.md):
//! members, admins and strangers of workspaces, each a real user of a real
//! kube-apiserver with RBAC (tests/support), impersonated by the admin; the
//! operator binary running with a token of the Helm chart's ServiceAccount
//! (installed with `helm install`, so its RBAC is the chart's); and the
//! chart's pod under the restricted Pod Security Standard.
//!
//! Every test makes its own workspaces and namespaces (unique names): they
//! run in parallel against one operator. Run with `--nocapture` to see what
//! the API server answered.

#[path = "../e2e/operator.rs"]
mod operator;
#[path = "../support/mod.rs"]
mod support;
use support::held::{bindings as snapshot, held};

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, ResourceRule, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
    SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, Namespace, Pod, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};
use support::{ControlPlane, client_from, eventually, forbidden, repo_root, text};
use support_operator::api::{Ticket, Workspace, WorkspaceStatus};

use operator::Operator;

/// Release name and namespace of the chart, as the README installs it.
const RELEASE: &str = "support-operator";
const OPERATOR_NS: &str = "support-operator";
/// Who the operator runs as: the chart's ServiceAccount.
const OPERATOR_USER: &str = "system:serviceaccount:support-operator:support-operator";
const WORKSPACE_LABEL: &str = "supportpolicy.dev/workspace";
const ROLE_VIEWER: &str = "support-operator:ticket-viewer";
const ROLE_EDITOR: &str = "support-operator:ticket-editor";
const ROLE_ADMIN: &str = "support-operator:workspace-admin";
/// Namespaces no workspace may take (src/controller/workspace.rs), and the
/// operator's own.
const PROTECTED: [&str; 5] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
    OPERATOR_NS,
];
const TIMEOUT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------ setup

struct Installed {
    _operator: Operator,
    service_account_kubeconfig: PathBuf,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// The control plane with the chart installed (CRDs, ticket roles, the
/// operator's ServiceAccount and RBAC) and the operator binary running with
/// a token of that ServiceAccount.
fn setup() -> (&'static ControlPlane, &'static Installed) {
    let cp = ControlPlane::shared();
    let installed = INSTALLED.get_or_init(|| {
        let started = Instant::now();
        let chart = repo_root().join("charts/support-operator");
        // Without the chart's RoleBinding admission policy, so that the known
        // limit it closes can be shown; that test applies the policy the
        // chart renders.
        cp.helm_ok(&[
            "install",
            RELEASE,
            chart.to_str().unwrap(),
            "--namespace",
            OPERATOR_NS,
            "--create-namespace",
            "--set",
            "rbac.admissionPolicy.enabled=false",
        ]);
        cp.wait_crds_established();
        // The tier every workspace here names: a workspace on a missing
        // tier is not Ready (reason UnknownTier).
        let tier = repo_root().join("tests/security/tier.yaml");
        cp.kubectl_ok(&["apply", "-f", tier.to_str().unwrap()]);
        let token = cp.kubectl_ok(&[
            "create",
            "token",
            RELEASE,
            "-n",
            OPERATOR_NS,
            "--duration=1h",
        ]);
        let kubeconfig = service_account_kubeconfig(cp, token.trim());
        let operator = Operator::start_with_kubeconfig(
            cp,
            "operator-sa",
            &kubeconfig,
            &[
                "--namespace",
                OPERATOR_NS,
                "--leader-election=false",
                "--routing-debounce",
                "200ms",
            ],
        );
        eprintln!(
            "chart installed and operator running as {OPERATOR_USER} in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        Installed {
            _operator: operator,
            service_account_kubeconfig: kubeconfig,
        }
    });
    (cp, installed)
}

/// A kubeconfig for the chart's ServiceAccount: the control plane's server
/// and CA (from the admin kubeconfig) and a token from the TokenRequest API.
fn service_account_kubeconfig(cp: &ControlPlane, token: &str) -> PathBuf {
    cp.token_kubeconfig("security-operator.kubeconfig", "operator", token, None)
}

// ---------------------------------------------------------------- helpers

/// A request that must pass authorization: success, or 404 when the object
/// it names does not exist (authorization came first).
fn permitted<T>(what: &str, result: Result<T, kube::Error>) -> Option<T> {
    match result {
        Ok(v) => {
            eprintln!("  allowed   {what}");
            Some(v)
        }
        Err(kube::Error::Api(status)) if status.code == 404 => {
            eprintln!("  allowed   {what} (404: authorized, nothing there)");
            None
        }
        Err(e) => panic!("{what}: expected to be allowed, got {e:?}"),
    }
}

/// `resource[/subresource][.group]`, e.g. `tickets/status.supportpolicy.dev`.
fn attributes(verb: &str, resource: &str, namespace: &str, name: &str) -> ResourceAttributes {
    let (resource, group) = resource.split_once('.').unwrap_or((resource, ""));
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    ResourceAttributes {
        verb: some(verb),
        group: Some(group.to_string()),
        resource: some(resource),
        subresource: some(subresource),
        namespace: some(namespace),
        name: some(name),
        ..ResourceAttributes::default()
    }
}

/// A SubjectAccessReview by the admin: may `user` in `groups` (plus
/// `system:authenticated`, as the API server adds) do that?
async fn allowed(admin: &Client, user: &str, groups: &[&str], attrs: ResourceAttributes) -> bool {
    let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    groups.push("system:authenticated".into());
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.into()),
            groups: Some(groups),
            resource_attributes: Some(attrs),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    Api::<SubjectAccessReview>::all(admin.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("a SubjectAccessReview")
        .status
        .is_some_and(|s| s.allowed)
}

/// One permission, expanded: (api group, resource, verb, resource name or "").
type Permission = (String, String, String, String);

fn expand(
    groups: &[String],
    resources: &[String],
    verbs: &[String],
    names: &[String],
) -> BTreeSet<Permission> {
    let names = if names.is_empty() {
        vec![String::new()]
    } else {
        names.to_vec()
    };
    let mut out = BTreeSet::new();
    for g in groups {
        for r in resources {
            for v in verbs {
                for n in &names {
                    out.insert((g.clone(), r.clone(), v.clone(), n.clone()));
                }
            }
        }
    }
    out
}

/// Everything `client`'s user may do in `namespace`, by a
/// SelfSubjectRulesReview made as that user.
async fn rules_in(client: &Client, namespace: &str) -> BTreeSet<Permission> {
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.into()),
        },
        ..SelfSubjectRulesReview::default()
    };
    let status = Api::<SelfSubjectRulesReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("a SelfSubjectRulesReview")
        .status
        .expect("its status");
    assert!(!status.incomplete, "the rules review is complete");
    status
        .resource_rules
        .iter()
        .flat_map(|r: &ResourceRule| {
            expand(
                r.api_groups.as_deref().unwrap_or_default(),
                r.resources.as_deref().unwrap_or_default(),
                &r.verbs,
                r.resource_names.as_deref().unwrap_or_default(),
            )
        })
        .collect()
}

/// What `user` may do in `namespace` beyond what any authenticated user may.
async fn extra_rules(cp: &ControlPlane, user: &str, namespace: &str) -> BTreeSet<Permission> {
    let theirs = rules_in(&cp.client_as(user, &[]).await, namespace).await;
    let nobody = ControlPlane::unique_name("nobody");
    let baseline = rules_in(&cp.client_as(&nobody, &[]).await, namespace).await;
    theirs.difference(&baseline).cloned().collect()
}

fn permissions(rules: &[(&str, &str, &[&str], &[&str])]) -> BTreeSet<Permission> {
    let own = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    rules
        .iter()
        .flat_map(|(group, resource, verbs, names)| {
            expand(&own(&[group]), &own(&[resource]), &own(verbs), &own(names))
        })
        .collect()
}

/// support-operator:ticket-editor, what members get (DESIGN.md: members see
/// and file their workspace's tickets; the status is the operator's).
fn editor_permissions() -> BTreeSet<Permission> {
    permissions(&[
        (
            "supportpolicy.dev",
            "tickets",
            &["get", "list", "watch", "create", "update", "patch"],
            &[],
        ),
        (
            "supportpolicy.dev",
            "tickets/status",
            &["get", "list", "watch"],
            &[],
        ),
        (
            "",
            "configmaps",
            &["get", "list", "watch"],
            &["support-policy"],
        ),
    ])
}

/// support-operator:workspace-admin, what admins get: the members' rights,
/// deleting tickets, and reading the Events on them (both API groups:
/// `kubectl describe ticket` and `kubectl get events` read core/v1).
fn admin_permissions() -> BTreeSet<Permission> {
    let mut p = editor_permissions();
    p.extend(permissions(&[
        (
            "supportpolicy.dev",
            "tickets",
            &["delete", "deletecollection"],
            &[],
        ),
        ("events.k8s.io", "events", &["get", "list", "watch"], &[]),
        ("", "events", &["get", "list", "watch"], &[]),
    ]));
    p
}

fn show(permissions: &BTreeSet<Permission>) -> String {
    permissions
        .iter()
        .map(|(g, r, v, n)| {
            let n = if n.is_empty() {
                String::new()
            } else {
                format!(" [{n}]")
            };
            format!("\n    {v:<16} {r}.{g}{n}")
        })
        .collect()
}

async fn create_workspace(cp: &ControlPlane, name: &str, namespace: &str, extra: Value) {
    let mut spec = json!({"namespace": namespace, "tier": "security-self"});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    let ws: Workspace = serde_json::from_value(json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap();
    Api::<Workspace>::all(cp.client().await)
        .create(&PostParams::default(), &ws)
        .await
        .unwrap_or_else(|e| panic!("creating workspace {name}: {e}"));
}

/// The Workspace's status once its Ready condition is about the current
/// generation (and, with `want`, has that status), with that condition.
async fn ready(cp: &ControlPlane, name: &str, want: Option<bool>) -> (WorkspaceStatus, Condition) {
    let api: Api<Workspace> = Api::all(cp.client().await);
    eventually(
        TIMEOUT,
        &format!("workspace {name} Ready={want:?}"),
        async || {
            let ws = api.get_opt(name).await.ok()??;
            let status = ws.status?;
            let c = status
                .conditions
                .iter()
                .find(|c| c.type_ == "Ready" && c.observed_generation == ws.metadata.generation)?
                .clone();
            let ok = want.is_none_or(|w| (c.status == "True") == w);
            ok.then_some((status, c))
        },
    )
    .await
}

async fn workspace_ready(cp: &ControlPlane, name: &str) {
    let (_, c) = ready(cp, name, Some(true)).await;
    eprintln!("workspace {name}: Ready=True ({})", c.message);
}

/// A refused workspace: Ready=False with `reason`.
async fn refused_with(cp: &ControlPlane, name: &str, reason: &str) -> Condition {
    let (_, c) = ready(cp, name, Some(false)).await;
    assert_eq!(c.reason, reason, "workspace {name}: {c:?}");
    eprintln!("workspace {name}: Ready=False {}: {}", c.reason, c.message);
    c
}

/// Every RoleBinding in the cluster labelled for `workspace`.
async fn bindings_of(admin: &Client, workspace: &str) -> Vec<RoleBinding> {
    Api::<RoleBinding>::all(admin.clone())
        .list(&ListParams::default().labels(&format!("{WORKSPACE_LABEL}={workspace}")))
        .await
        .unwrap()
        .items
}

/// RoleBindings and ClusterRoleBindings anywhere that name `subject`.
async fn bindings_naming(admin: &Client, subject: &str) -> Vec<String> {
    let named = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
        subjects.iter().flatten().any(|s| s.name == subject)
    };
    let mut out: Vec<String> = Api::<RoleBinding>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|rb| named(&rb.subjects))
        .map(|rb| {
            format!(
                "RoleBinding {}/{}",
                rb.namespace().unwrap_or_default(),
                rb.name_any()
            )
        })
        .collect();
    out.extend(
        Api::<ClusterRoleBinding>::all(admin.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|crb| named(&crb.subjects))
            .map(|crb| format!("ClusterRoleBinding {}", crb.name_any())),
    );
    out
}

fn ticket(name: &str, title: &str) -> Ticket {
    serde_json::from_value(json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
        "metadata": {"name": name},
        "spec": {"title": title, "severity": "A"},
    }))
    .unwrap()
}

fn rolebinding(name: &str, kind: &str, role: &str, user: &str) -> RoleBinding {
    serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .unwrap()
}

fn dry_run() -> PostParams {
    PostParams {
        dry_run: true,
        ..PostParams::default()
    }
}

/// Replaces (PUT) a ticket's title, retrying when the operator's status
/// write changed its resourceVersion in between.
async fn replace_title(api: &Api<Ticket>, name: &str, title: &str) -> Result<Ticket, kube::Error> {
    loop {
        let mut t = api.get(name).await?;
        t.spec.title = title.into();
        match api.replace(name, &PostParams::default(), &t).await {
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            other => return other,
        }
    }
}

// ------------------------------------------------------------------ tests

/// Issue 6 §5a: tickets are visible to the workspace's members only.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_works_on_tickets_in_their_workspace_and_is_refused_in_another() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let (ws_a, ns_a) = (
        ControlPlane::unique_name("member-a"),
        ControlPlane::unique_name("member-a-ns"),
    );
    let (ws_b, ns_b) = (
        ControlPlane::unique_name("member-b"),
        ControlPlane::unique_name("member-b-ns"),
    );
    let alice = format!("{}@contoso.com", ControlPlane::unique_name("alice"));
    let bob = format!("{}@contoso.com", ControlPlane::unique_name("bob"));
    let team_a = ControlPlane::unique_name("team-a");
    create_workspace(
        cp,
        &ws_a,
        &ns_a,
        json!({"members": [{"kind": "User", "name": alice}, {"kind": "Group", "name": team_a}]}),
    )
    .await;
    create_workspace(
        cp,
        &ws_b,
        &ns_b,
        json!({"members": [{"kind": "User", "name": bob}]}),
    )
    .await;
    workspace_ready(cp, &ws_a).await;
    workspace_ready(cp, &ws_b).await;
    eventually(TIMEOUT, "alice's binding", async || {
        allowed(
            &admin,
            &alice,
            &[],
            attributes("create", "tickets.supportpolicy.dev", &ns_a, ""),
        )
        .await
        .then_some(())
    })
    .await;
    eventually(TIMEOUT, "bob's binding", async || {
        allowed(
            &admin,
            &bob,
            &[],
            attributes("create", "tickets.supportpolicy.dev", &ns_b, ""),
        )
        .await
        .then_some(())
    })
    .await;

    let as_alice = cp.client_as(&alice, &[]).await;
    let as_bob = cp.client_as(&bob, &[]).await;
    eprintln!("\n==== {alice}, member of {ws_a} ({ns_a}), not of {ws_b} ({ns_b})");
    let in_a: Api<Ticket> = Api::namespaced(as_alice.clone(), &ns_a);
    permitted(
        "create ticket in A",
        in_a.create(&PostParams::default(), &ticket("alices", "printer on fire"))
            .await,
    )
    .expect("created");
    permitted("get ticket in A", in_a.get("alices").await).expect("read back");
    let listed =
        permitted("list tickets in A", in_a.list(&ListParams::default()).await).expect("a list");
    assert_eq!(listed.items.len(), 1);
    permitted(
        "update (PUT) ticket in A",
        replace_title(&in_a, "alices", "printer still on fire").await,
    );
    permitted(
        "patch ticket in A",
        in_a.patch(
            "alices",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"title": "printer out"}})),
        )
        .await,
    );
    // Deleting is the admins' (support-operator:workspace-admin), not the members'.
    forbidden(
        "delete ticket in A (members do not delete; admins do)",
        in_a.delete("alices", &DeleteParams::default()).await,
    );
    let as_team: Api<Ticket> =
        Api::namespaced(cp.client_as("carol@contoso.com", &[&team_a]).await, &ns_a);
    permitted(
        "list tickets in A as carol, by her group",
        as_team.list(&ListParams::default()).await,
    );

    // Bob's ticket in B: alice cannot see nor touch it.
    Api::<Ticket>::namespaced(as_bob, &ns_b)
        .create(&PostParams::default(), &ticket("bobs", "secret merger"))
        .await
        .expect("bob files a ticket in B");
    let in_b: Api<Ticket> = Api::namespaced(as_alice.clone(), &ns_b);
    forbidden("get ticket in B", in_b.get("bobs").await);
    forbidden("list tickets in B", in_b.list(&ListParams::default()).await);
    forbidden(
        "create ticket in B",
        in_b.create(&PostParams::default(), &ticket("alices", "x"))
            .await,
    );
    let bobs = Api::<Ticket>::namespaced(admin.clone(), &ns_b)
        .get("bobs")
        .await
        .unwrap();
    forbidden(
        "update (PUT) ticket in B",
        in_b.replace("bobs", &PostParams::default(), &bobs).await,
    );
    forbidden(
        "patch ticket in B",
        in_b.patch(
            "bobs",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"title": "mine now"}})),
        )
        .await,
    );
    forbidden(
        "delete ticket in B",
        in_b.delete("bobs", &DeleteParams::default()).await,
    );
    forbidden(
        "list tickets in every namespace",
        Api::<Ticket>::all(as_alice.clone())
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list tickets in B as carol, by her group",
        Api::<Ticket>::namespaced(cp.client_as("carol@contoso.com", &[&team_a]).await, &ns_b)
            .list(&ListParams::default())
            .await,
    );
    let title = Api::<Ticket>::namespaced(admin.clone(), &ns_b)
        .get("bobs")
        .await
        .unwrap()
        .spec
        .title;
    assert_eq!(title, "secret merger", "bob's ticket is untouched");
}

/// Issue 6 §5a: in their own namespace a member holds exactly the
/// ticket-editor rules (no Secrets, no other ConfigMaps, no RoleBindings),
/// and in another workspace's nothing at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_holds_exactly_the_ticket_editor_rules_in_their_namespace_and_none_elsewhere() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let (ws_a, ns_a) = (
        ControlPlane::unique_name("rules-a"),
        ControlPlane::unique_name("rules-a-ns"),
    );
    let (ws_b, ns_b) = (
        ControlPlane::unique_name("rules-b"),
        ControlPlane::unique_name("rules-b-ns"),
    );
    let alice = format!("{}@contoso.com", ControlPlane::unique_name("alice"));
    create_workspace(
        cp,
        &ws_a,
        &ns_a,
        json!({"members": [{"kind": "User", "name": alice}]}),
    )
    .await;
    create_workspace(
        cp,
        &ws_b,
        &ns_b,
        json!({"members": [{"kind": "User", "name": "someone-else@contoso.com"}]}),
    )
    .await;
    workspace_ready(cp, &ws_a).await;
    workspace_ready(cp, &ws_b).await;
    // Something to read that she must not: a Secret and a ConfigMap in A.
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), &ns_a);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "db-password"}, "stringData": {"password": "hunter2"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    Api::<ConfigMap>::namespaced(admin.clone(), &ns_a)
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "app-settings"}, "data": {"k": "v"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();

    let want = editor_permissions();
    let got = eventually(TIMEOUT, "alice's rules in A", async || {
        let got = extra_rules(cp, &alice, &ns_a).await;
        (!got.is_empty()).then_some(got)
    })
    .await;
    eprintln!(
        "\n==== {alice}: rules in {ns_a} beyond any authenticated user's:{}",
        show(&got)
    );
    assert_eq!(
        got,
        want,
        "a member holds exactly support-operator:ticket-editor\n  more: {}\n  less: {}",
        show(&got.difference(&want).cloned().collect()),
        show(&want.difference(&got).cloned().collect())
    );
    let elsewhere = extra_rules(cp, &alice, &ns_b).await;
    assert!(
        elsewhere.is_empty(),
        "a member of A holds nothing in B: {}",
        show(&elsewhere)
    );
    for ns in ["kube-system", "default", OPERATOR_NS] {
        let there = extra_rules(cp, &alice, ns).await;
        assert!(there.is_empty(), "nothing in {ns}: {}", show(&there));
    }

    // And as requests.
    let as_alice = cp.client_as(&alice, &[]).await;
    forbidden(
        "list Secrets in A",
        Api::<Secret>::namespaced(as_alice.clone(), &ns_a)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "get Secret A/db-password",
        Api::<Secret>::namespaced(as_alice.clone(), &ns_a)
            .get("db-password")
            .await,
    );
    let cms: Api<ConfigMap> = Api::namespaced(as_alice.clone(), &ns_a);
    forbidden(
        "list ConfigMaps in A",
        cms.list(&ListParams::default()).await,
    );
    forbidden(
        "get ConfigMap A/app-settings",
        cms.get("app-settings").await,
    );
    forbidden(
        "get ConfigMap A/kube-root-ca.crt",
        cms.get("kube-root-ca.crt").await,
    );
    permitted(
        "get ConfigMap A/support-policy (the workspace's routing slice)",
        cms.get("support-policy").await,
    );
    forbidden(
        "list RoleBindings in A",
        Api::<RoleBinding>::namespaced(as_alice.clone(), &ns_a)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "get RoleBinding A/support-operator.members",
        Api::<RoleBinding>::namespaced(as_alice.clone(), &ns_a)
            .get("support-operator.members")
            .await,
    );
    forbidden(
        "list Pods in A",
        Api::<Pod>::namespaced(as_alice.clone(), &ns_a)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Events in A (events.k8s.io: admins only)",
        Api::<Event>::namespaced(as_alice.clone(), &ns_a)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "get ConfigMap B/support-policy",
        Api::<ConfigMap>::namespaced(as_alice.clone(), &ns_b)
            .get("support-policy")
            .await,
    );
}

/// Issue 6 §5b: a member cannot change the Workspace, grant access, or
/// escalate to workspace-admin.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_cannot_change_the_workspace_grant_access_or_escalate() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let ws = ControlPlane::unique_name("escalate");
    let ns = ControlPlane::unique_name("escalate-ns");
    let alice = format!("{}@contoso.com", ControlPlane::unique_name("alice"));
    let dana = format!("{}@contoso.com", ControlPlane::unique_name("dana"));
    create_workspace(
        cp,
        &ws,
        &ns,
        json!({"admins": [{"kind": "User", "name": dana}], "members": [{"kind": "User", "name": alice}]}),
    )
    .await;
    workspace_ready(cp, &ws).await;
    eventually(TIMEOUT, "alice's binding", async || {
        allowed(
            &admin,
            &alice,
            &[],
            attributes("create", "tickets.supportpolicy.dev", &ns, ""),
        )
        .await
        .then_some(())
    })
    .await;
    let before_ws = Api::<Workspace>::all(admin.clone()).get(&ws).await.unwrap();
    let before_rbs = snapshot(&admin, &ns).await;

    let as_alice = cp.client_as(&alice, &[]).await;
    eprintln!("\n==== {alice}, member (not admin) of {ws}");
    let workspaces: Api<Workspace> = Api::all(as_alice.clone());
    forbidden(
        "patch the Workspace (make herself admin)",
        workspaces
            .patch(
                &ws,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"admins": [{"kind": "User", "name": alice}]}})),
            )
            .await,
    );
    let mut changed = before_ws.clone();
    changed
        .spec
        .admins
        .push(serde_json::from_value(json!({"kind": "User", "name": alice})).unwrap());
    forbidden(
        "update (PUT) the Workspace",
        workspaces
            .replace(&ws, &PostParams::default(), &changed)
            .await,
    );
    forbidden(
        "delete the Workspace",
        workspaces.delete(&ws, &DeleteParams::default()).await,
    );
    forbidden(
        "patch the Workspace's status",
        workspaces
            .patch_status(
                &ws,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"rejectedSubjects": []}})),
            )
            .await,
    );
    forbidden(
        "create another Workspace on her own namespace",
        workspaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
                    "metadata": {"name": format!("{ws}-mine")},
                    "spec": {"namespace": format!("{ns}-mine"), "tier": "x", "admins": [{"kind": "User", "name": alice}]}}))
                .unwrap(),
            )
            .await,
    );
    let rbs: Api<RoleBinding> = Api::namespaced(as_alice.clone(), &ns);
    forbidden(
        "create RoleBinding -> workspace-admin for herself",
        rbs.create(
            &PostParams::default(),
            &rolebinding("alice-admin", "ClusterRole", ROLE_ADMIN, &alice),
        )
        .await,
    );
    forbidden(
        "create RoleBinding -> ticket-viewer for a friend",
        rbs.create(
            &PostParams::default(),
            &rolebinding("friend", "ClusterRole", ROLE_VIEWER, "friend@contoso.com"),
        )
        .await,
    );
    forbidden(
        "patch RoleBinding support-operator.members (add herself as admin elsewhere)",
        rbs.patch(
            "support-operator.members",
            &PatchParams::default(),
            &Patch::Merge(json!({"roleRef": {"name": ROLE_ADMIN}})),
        )
        .await,
    );
    forbidden(
        "delete RoleBinding support-operator.admins",
        rbs.delete("support-operator.admins", &DeleteParams::default())
            .await,
    );
    forbidden(
        "create Role in her namespace",
        Api::<Role>::namespaced(as_alice.clone(), &ns)
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "mine"},
                    "rules": [{"apiGroups": ["supportpolicy.dev"], "resources": ["tickets"], "verbs": ["delete"]}]}))
                .unwrap(),
            )
            .await,
    );
    forbidden(
        "patch ClusterRole ticket-editor (add delete)",
        Api::<ClusterRole>::all(as_alice.clone())
            .patch(
                ROLE_EDITOR,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
            )
            .await,
    );
    forbidden(
        "create ClusterRoleBinding -> workspace-admin",
        Api::<ClusterRoleBinding>::all(as_alice.clone())
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": format!("{ws}-alice")},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE_ADMIN},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": alice}]}))
                .unwrap(),
            )
            .await,
    );
    forbidden(
        "patch her namespace (label it for another workspace)",
        Api::<Namespace>::all(as_alice.clone())
            .patch(
                &ns,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {WORKSPACE_LABEL: "other"}}})),
            )
            .await,
    );
    forbidden(
        "delete her namespace",
        Api::<Namespace>::all(as_alice.clone())
            .delete(&ns, &DeleteParams::default())
            .await,
    );
    let tickets: Api<Ticket> = Api::namespaced(as_alice.clone(), &ns);
    tickets
        .create(&PostParams::default(), &ticket("t", "x"))
        .await
        .expect("a member files a ticket");
    forbidden(
        "patch a ticket's status (mark it Responded)",
        tickets
            .patch_status(
                "t",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"phase": "Responded"}})),
            )
            .await,
    );
    forbidden(
        "delete a ticket",
        tickets.delete("t", &DeleteParams::default()).await,
    );
    for (verb, resource, name) in [
        ("bind", "clusterroles.rbac.authorization.k8s.io", ROLE_ADMIN),
        (
            "escalate",
            "clusterroles.rbac.authorization.k8s.io",
            ROLE_ADMIN,
        ),
        ("impersonate", "users", &dana),
        ("create", "serviceaccounts/token", "default"),
    ] {
        let a = allowed(&admin, &alice, &[], attributes(verb, resource, &ns, name)).await;
        eprintln!("  SubjectAccessReview {verb} {resource} {name}: {a}");
        assert!(!a, "a member may not {verb} {resource} {name}");
    }

    // Nothing changed.
    let after_ws = Api::<Workspace>::all(admin.clone()).get(&ws).await.unwrap();
    assert_eq!(after_ws.spec, before_ws.spec, "the Workspace is unchanged");
    assert_eq!(
        snapshot(&admin, &ns).await,
        before_rbs,
        "the RoleBindings are unchanged"
    );
}

/// Issue 6 §5b: an admin holds exactly support-operator:workspace-admin in
/// the workspace's namespace: tickets (including delete) and their Events,
/// and nothing more; not the Workspace, not its RoleBindings.
#[tokio::test(flavor = "multi_thread")]
async fn an_admin_holds_exactly_the_workspace_admin_rules_and_no_more() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let ws = ControlPlane::unique_name("admin");
    let ns = ControlPlane::unique_name("admin-ns");
    let (ws_other, ns_other) = (
        ControlPlane::unique_name("admin-other"),
        ControlPlane::unique_name("admin-other-ns"),
    );
    let dana = format!("{}@contoso.com", ControlPlane::unique_name("dana"));
    create_workspace(
        cp,
        &ws,
        &ns,
        json!({"admins": [{"kind": "User", "name": dana}]}),
    )
    .await;
    create_workspace(
        cp,
        &ws_other,
        &ns_other,
        json!({"members": [{"kind": "User", "name": "someone-else@contoso.com"}]}),
    )
    .await;
    workspace_ready(cp, &ws).await;
    workspace_ready(cp, &ws_other).await;

    let want = admin_permissions();
    let got = eventually(TIMEOUT, "dana's rules", async || {
        let got = extra_rules(cp, &dana, &ns).await;
        (!got.is_empty()).then_some(got)
    })
    .await;
    eprintln!(
        "\n==== {dana}, admin of {ws}: rules in {ns} beyond any authenticated user's:{}",
        show(&got)
    );
    assert_eq!(
        got,
        want,
        "an admin holds exactly support-operator:workspace-admin\n  more: {}\n  less: {}",
        show(&got.difference(&want).cloned().collect()),
        show(&want.difference(&got).cloned().collect())
    );
    let elsewhere = extra_rules(cp, &dana, &ns_other).await;
    assert!(
        elsewhere.is_empty(),
        "an admin of one workspace holds nothing in another: {}",
        show(&elsewhere)
    );

    let as_dana = cp.client_as(&dana, &[]).await;
    let tickets: Api<Ticket> = Api::namespaced(as_dana.clone(), &ns);
    for name in ["one", "two", "three"] {
        permitted(
            &format!("create ticket {name}"),
            tickets
                .create(&PostParams::default(), &ticket(name, "x"))
                .await,
        );
    }
    permitted(
        "update (PUT) a ticket",
        replace_title(&tickets, "one", "y").await,
    );
    permitted(
        "patch a ticket",
        tickets
            .patch(
                "one",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"title": "z"}})),
            )
            .await,
    );
    permitted(
        "delete a ticket",
        tickets.delete("one", &DeleteParams::default()).await,
    );
    permitted(
        "delete every ticket (deletecollection)",
        tickets
            .delete_collection(&DeleteParams::default(), &ListParams::default())
            .await,
    );
    permitted(
        "list Events (events.k8s.io) in the namespace",
        Api::<Event>::namespaced(as_dana.clone(), &ns)
            .list(&ListParams::default())
            .await,
    );
    // core/v1 Events (what `kubectl get events` and `kubectl describe`
    // read) are the same objects under another API group: both are granted.
    permitted(
        "list Events (core/v1) in the namespace",
        Api::<CoreEvent>::namespaced(as_dana.clone(), &ns)
            .list(&ListParams::default())
            .await,
    );
    let cms: Api<ConfigMap> = Api::namespaced(as_dana.clone(), &ns);
    permitted(
        "get ConfigMap support-policy",
        cms.get("support-policy").await,
    );
    forbidden("list ConfigMaps", cms.list(&ListParams::default()).await);
    forbidden(
        "list Secrets",
        Api::<Secret>::namespaced(as_dana.clone(), &ns)
            .list(&ListParams::default())
            .await,
    );
    tickets
        .create(&PostParams::default(), &ticket("four", "x"))
        .await
        .unwrap();
    forbidden(
        "patch a ticket's status",
        tickets
            .patch_status(
                "four",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"phase": "Responded"}})),
            )
            .await,
    );
    let rbs: Api<RoleBinding> = Api::namespaced(as_dana.clone(), &ns);
    forbidden("list RoleBindings", rbs.list(&ListParams::default()).await);
    forbidden(
        "create RoleBinding -> ticket-editor for a new member",
        rbs.create(
            &PostParams::default(),
            &rolebinding("new-member", "ClusterRole", ROLE_EDITOR, "new@contoso.com"),
        )
        .await,
    );
    forbidden(
        "create RoleBinding -> workspace-admin for a co-admin",
        rbs.create(
            &PostParams::default(),
            &rolebinding("co-admin", "ClusterRole", ROLE_ADMIN, "co@contoso.com"),
        )
        .await,
    );
    let workspaces: Api<Workspace> = Api::all(as_dana.clone());
    forbidden("get her Workspace", workspaces.get(&ws).await);
    forbidden(
        "patch her Workspace (add a member)",
        workspaces
            .patch(
                &ws,
                &PatchParams::default(),
                &Patch::Merge(
                    json!({"spec": {"members": [{"kind": "User", "name": "new@contoso.com"}]}}),
                ),
            )
            .await,
    );
    forbidden(
        "delete her Workspace",
        workspaces.delete(&ws, &DeleteParams::default()).await,
    );
    forbidden(
        "delete her namespace",
        Api::<Namespace>::all(as_dana.clone())
            .delete(&ns, &DeleteParams::default())
            .await,
    );
    forbidden(
        "list tickets of another workspace",
        Api::<Ticket>::namespaced(as_dana.clone(), &ns_other)
            .list(&ListParams::default())
            .await,
    );
    for (verb, resource, name) in [
        ("bind", "clusterroles.rbac.authorization.k8s.io", ROLE_ADMIN),
        ("escalate", "roles.rbac.authorization.k8s.io", ""),
        ("impersonate", "users", "anyone@contoso.com"),
    ] {
        let a = allowed(&admin, &dana, &[], attributes(verb, resource, &ns, name)).await;
        eprintln!("  SubjectAccessReview {verb} {resource} {name}: {a}");
        assert!(!a, "an admin may not {verb} {resource} {name}");
    }
}

/// Issue 6 §5c: kube-system, kube-public, kube-node-lease, default and the
/// operator's own namespace hold no workspace; nothing is bound there.
#[tokio::test(flavor = "multi_thread")]
async fn protected_namespaces_get_no_workspace_and_their_rolebindings_are_untouched() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let mut before = BTreeMap::new();
    for ns in PROTECTED {
        before.insert(ns, snapshot(&admin, ns).await);
    }
    let mallory = format!("{}@contoso.com", ControlPlane::unique_name("mallory"));
    let crew = ControlPlane::unique_name("mallory-crew");
    let mut names = Vec::new();
    for ns in PROTECTED {
        let name = ControlPlane::unique_name(&format!("grab-{ns}"));
        create_workspace(
            cp,
            &name,
            ns,
            json!({"admins": [{"kind": "User", "name": mallory}], "members": [{"kind": "Group", "name": crew}],
                   "delegatedAdmins": [{"partner": "p", "group": crew, "provider": "DirectProvider", "roles": ["ServiceSupportAdministrator"]}]}),
        )
        .await;
        names.push((name, ns));
    }
    eprintln!();
    for (name, ns) in &names {
        let c = refused_with(cp, name, "NamespaceProtected").await;
        assert!(c.message.contains(ns), "{c:?}");
        assert!(
            bindings_of(&admin, name).await.is_empty(),
            "no RoleBinding labelled for {name}"
        );
    }
    // A refusal is written after the checks that refuse: by then nothing
    // was made; wait a little more for anything late all the same.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for ns in PROTECTED {
        assert_eq!(
            snapshot(&admin, ns).await,
            before[ns],
            "the RoleBindings of {ns} are unchanged"
        );
    }
    for subject in [&mallory, &crew] {
        let found = bindings_naming(&admin, subject).await;
        assert!(found.is_empty(), "{subject} is bound: {found:?}");
    }
    for ns in PROTECTED {
        for resource in ["tickets.supportpolicy.dev", "secrets", "configmaps"] {
            assert!(
                !allowed(
                    &admin,
                    &mallory,
                    &[&crew],
                    attributes("list", resource, ns, "")
                )
                .await,
                "mallory may not list {resource} in {ns}"
            );
        }
    }
    eprintln!(
        "RoleBindings of {} unchanged; nothing names {mallory} or {crew}",
        PROTECTED.join(", ")
    );
}

/// Issue 15 §1 (DESIGN.md rule 1): a namespace another workspace holds is
/// not shared and cannot be taken: a newcomer, whether its name sorts after
/// the holder's or before it, is `NamespaceTaken` and binds nothing, and
/// the holder's status, RoleBindings, slice, tickets and their Events stay
/// exactly as they were (resourceVersions included), while the newcomer
/// exists and after it is gone.
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_taken_by_another_workspace_grants_the_intruder_nothing() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let ns = ControlPlane::unique_name("taken-ns");
    let holder = ControlPlane::unique_name("taken-m");
    let later = ControlPlane::unique_name("taken-z"); // sorts after the holder
    let earlier = ControlPlane::unique_name("taken-a"); // sorts before it
    assert!(earlier < holder && holder < later);
    let alice = format!("{}@contoso.com", ControlPlane::unique_name("alice"));
    let mallory = format!("{}@contoso.com", ControlPlane::unique_name("mallory"));
    // The holder's tickets have deadlines (a 24x7 policy, 1 h for A) and a
    // partner may file for the customer: what the newcomer's tier (no SLA,
    // no partner) would change if it took the namespace.
    let policy = ControlPlane::unique_name("taken-policy");
    let tier = ControlPlane::unique_name("taken-tier");
    kubectl_apply(
        cp,
        &json!({"apiVersion": "supportpolicy.dev/v1alpha1", "kind": "SlaPolicy",
            "metadata": {"name": policy},
            "spec": {"severities": [{"name": "A", "initialResponse": "1h", "coverage": "24x7"}],
                     "calendars": [{"name": "default", "timeZone": "UTC",
                                    "hours": [{"days": ["Mon"], "start": "09:00", "end": "17:00"}]}]}}),
    );
    kubectl_apply(
        cp,
        &json!({"apiVersion": "supportpolicy.dev/v1alpha1", "kind": "SupportTier",
            "metadata": {"name": tier},
            "spec": {"supportModel": "Formal", "slaPolicy": policy,
                     "escalation": [{"supportType": "HelpDesk", "queue": "desk"}]}}),
    );
    create_workspace(
        cp,
        &holder,
        &ns,
        json!({"tier": tier, "members": [{"kind": "User", "name": alice}],
               "delegatedAdmins": [{"partner": "fabrikam", "group": "fabrikam-support",
                                    "provider": "DirectProvider",
                                    "roles": ["ServiceSupportAdministrator"]}]}),
    )
    .await;
    workspace_ready(cp, &holder).await;
    let tickets: Api<Ticket> = Api::namespaced(cp.client_as(&alice, &[]).await, &ns);
    let filed = |name: &str, spec: Value| -> Ticket {
        serde_json::from_value(json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap()
    };
    for t in [
        filed(
            "late",
            json!({"title": "late", "severity": "A", "openedAt": "2020-01-06T08:00:00Z"}),
        ),
        filed(
            "partner",
            json!({"title": "for the customer", "severity": "A",
                                "openedAt": "2020-01-06T08:00:00Z", "onBehalfOf": {"partner": "fabrikam"}}),
        ),
    ] {
        tickets
            .create(&PostParams::default(), &t)
            .await
            .expect("the holder's member files a ticket");
    }
    for name in ["late", "partner"] {
        eventually(TIMEOUT, &format!("ticket {name} Breached"), async || {
            let t = tickets.get(name).await.ok()?;
            let phase = t.status?.phase?;
            (phase == support_operator::api::Phase::Breached).then_some(())
        })
        .await;
    }
    let slice_of = async |admin: &Client| {
        eventually(TIMEOUT, "the holder's support-policy slice", async || {
            let cm = Api::<ConfigMap>::namespaced(admin.clone(), &ns)
                .get_opt("support-policy")
                .await
                .ok()??;
            cm.owner_references()
                .iter()
                .any(|o| o.name == holder)
                .then_some(())
        })
        .await
    };
    slice_of(&admin).await;
    // Let counts, Events and the slice settle before the snapshot.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let before = held(&admin, &holder, &ns).await;
    eprintln!("before: {before:#?}");
    assert!(before.bindings.contains_key("support-operator.members"));
    assert!(
        before
            .bindings
            .contains_key("support-operator.partner.fabrikam")
    );

    let intruder = json!({"admins": [{"kind": "User", "name": mallory}], "members": [{"kind": "User", "name": mallory}]});
    // An intruder that sorts after the holder, then one that sorts before
    // it (before rule 1 had the label decide, that one took the namespace).
    create_workspace(cp, &later, &ns, intruder.clone()).await;
    let c = refused_with(cp, &later, "NamespaceTaken").await;
    assert!(c.message.contains(&holder), "names the holder: {c:?}");
    create_workspace(cp, &earlier, &ns, intruder).await;
    let c = refused_with(cp, &earlier, "NamespaceTaken").await;
    assert!(c.message.contains(&holder), "names the holder: {c:?}");
    workspace_ready(cp, &holder).await;

    // Longer than a counts interval and the routing debounce: whatever the
    // newcomers set moving has landed.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let during = held(&admin, &holder, &ns).await;
    eprintln!("with both intruders: {during:#?}");
    assert_eq!(during, before, "nothing of the holder's changed");
    for name in [&later, &earlier] {
        assert!(
            bindings_of(&admin, name).await.is_empty(),
            "no RoleBinding labelled for {name}"
        );
    }
    assert!(
        bindings_naming(&admin, &mallory).await.is_empty(),
        "{mallory} is bound nowhere"
    );
    for verb in ["get", "list", "create"] {
        assert!(
            !allowed(
                &admin,
                &mallory,
                &[],
                attributes(verb, "tickets.supportpolicy.dev", &ns, "")
            )
            .await,
            "the intruder may not {verb} tickets"
        );
        assert!(
            allowed(
                &admin,
                &alice,
                &[],
                attributes(verb, "tickets.supportpolicy.dev", &ns, "")
            )
            .await,
            "the holder's member keeps {verb} on tickets"
        );
    }

    // The intruders gone, nothing of the holder's changed either.
    for name in [&earlier, &later] {
        Api::<Workspace>::all(admin.clone())
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = held(&admin, &holder, &ns).await;
    assert_eq!(
        after, before,
        "nothing of the holder's changed after the intruders left"
    );
    workspace_ready(cp, &holder).await;
    eprintln!(
        "holder {holder} kept its status, {} RoleBindings, its slice, {} tickets and {} Events through two takeover attempts",
        after.bindings.len(),
        after.tickets.len(),
        after.events.len()
    );
}

/// Issue 6 §5c: an existing namespace is adopted only when labelled for the
/// workspace: unlabelled, or labelled for another, nothing is bound there.
#[tokio::test(flavor = "multi_thread")]
async fn an_existing_namespace_is_adopted_only_when_labelled_for_the_workspace() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    let plain = ControlPlane::unique_name("existing-ns");
    let others = ControlPlane::unique_name("existing-other-ns");
    let ws = ControlPlane::unique_name("adopt");
    let ws2 = ControlPlane::unique_name("adopt-other");
    for (ns, labels) in [
        (&plain, json!({"team": "payments"})),
        (&others, json!({WORKSPACE_LABEL: "someone-else"})),
    ] {
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns, "labels": labels}}))
                    .unwrap(),
            )
            .await
            .unwrap();
    }
    let before = snapshot(&admin, &plain).await;
    let mallory = format!("{}@contoso.com", ControlPlane::unique_name("mallory"));
    let members = json!({"admins": [{"kind": "User", "name": mallory}], "members": [{"kind": "User", "name": mallory}]});
    create_workspace(cp, &ws, &plain, members.clone()).await;
    create_workspace(cp, &ws2, &others, members).await;
    for (name, ns) in [(&ws, &plain), (&ws2, &others)] {
        let c = refused_with(cp, name, "NamespaceNotManaged").await;
        assert!(c.message.contains(ns.as_str()), "{c:?}");
        assert!(bindings_of(&admin, name).await.is_empty());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(snapshot(&admin, &plain).await, before);
    assert!(
        bindings_naming(&admin, &mallory).await.is_empty(),
        "{mallory} is bound nowhere"
    );
    assert!(
        !allowed(
            &admin,
            &mallory,
            &[],
            attributes("list", "tickets.supportpolicy.dev", &plain, "")
        )
        .await
    );

    // The control: labelled for the workspace (as its status says), it is
    // adopted, and not owned: deleting the workspace will not delete it.
    namespaces
        .patch(
            &plain,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {WORKSPACE_LABEL: ws}}})),
        )
        .await
        .unwrap();
    // Nothing else changes: the label alone must bring the workspace back.
    let api: Api<Workspace> = Api::all(admin.clone());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready = api
            .get(&ws)
            .await
            .unwrap()
            .status
            .and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready"));
        if ready.as_ref().is_some_and(|c| c.status == "True") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "namespace {plain} labelled {WORKSPACE_LABEL}={ws}, as the status asks, was not \
             adopted within 15 s: {ready:?}. The workspace controller watches namespaces by \
             app.kubernetes.io/managed-by=support-operator only, so the new label never \
             triggers a reconcile of the refused workspace"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    workspace_ready(cp, &ws).await;
    eventually(TIMEOUT, "the adopted namespace's bindings", async || {
        allowed(
            &admin,
            &mallory,
            &[],
            attributes("list", "tickets.supportpolicy.dev", &plain, ""),
        )
        .await
        .then_some(())
    })
    .await;
    let adopted = namespaces.get(&plain).await.unwrap();
    assert!(
        adopted
            .metadata
            .owner_references
            .unwrap_or_default()
            .is_empty(),
        "an adopted namespace gets no ownerReference"
    );
}

/// Issue 6 §5c: `system:` users, groups and service accounts are never
/// bound (listed in rejectedSubjects, SystemIdentity), nor personal accounts
/// where the agreement refuses them; ServiceAccount subjects cannot even be
/// written.
#[tokio::test(flavor = "multi_thread")]
async fn system_identities_and_personal_accounts_are_never_bound() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let ws = ControlPlane::unique_name("system");
    let ns = ControlPlane::unique_name("system-ns");
    let alice = format!("{}@contoso.com", ControlPlane::unique_name("alice"));
    let system_members = [
        ("Group", "system:masters"),
        ("Group", "system:authenticated"),
        ("Group", "system:unauthenticated"),
        ("Group", "system:serviceaccounts"),
        ("Group", "system:serviceaccounts:kube-system"),
        ("Group", "system:nodes"),
        ("User", "system:admin"),
        ("User", "system:anonymous"),
        ("User", "system:kube-controller-manager"),
        ("User", "system:serviceaccount:kube-system:default"),
        (
            "User",
            "system:serviceaccount:support-operator:support-operator",
        ),
    ];
    let system_admins = [
        ("Group", "system:masters"),
        ("User", "system:kube-scheduler"),
    ];
    let personal = [("User", "someone@gmail.com"), ("User", "Someone@GMAIL.COM")];
    let subjects = |xs: &[(&str, &str)]| -> Vec<Value> {
        xs.iter()
            .map(|(k, n)| json!({"kind": k, "name": n}))
            .collect()
    };
    let mut members = subjects(&system_members);
    members.extend(subjects(&personal));
    members.push(json!({"kind": "User", "name": alice}));

    // A ServiceAccount is no subject kind a Workspace can name.
    let sa_kind: Result<Workspace, _> = serde_json::from_value(json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
        "metadata": {"name": format!("{ws}-sa")},
        "spec": {"namespace": format!("{ns}-sa"), "tier": "x", "members": [{"kind": "ServiceAccount", "name": "default"}]}}));
    assert!(sa_kind.is_err(), "the Rust type refuses it too");
    let file = cp.dir().join(format!("{ws}-sa.yaml"));
    std::fs::write(
        &file,
        format!(
            "apiVersion: supportpolicy.dev/v1alpha1\nkind: Workspace\nmetadata: {{name: {ws}-sa}}\nspec:\n  namespace: {ns}-sa\n  tier: x\n  members: [{{kind: ServiceAccount, name: default}}]\n"
        ),
    )
    .unwrap();
    let out = cp.kubectl(&["create", "-f", file.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "a ServiceAccount subject is refused");
    assert!(
        err.contains("Unsupported value: \"ServiceAccount\""),
        "{err}"
    );
    eprintln!(
        "kubectl create (kind: ServiceAccount member): {}",
        err.trim()
    );

    create_workspace(
        cp,
        &ws,
        &ns,
        json!({
            "agreement": "Unified",
            "admins": subjects(&system_admins),
            "members": members,
            "delegatedAdmins": [{"partner": "evil", "group": "system:authenticated", "provider": "DirectProvider",
                                 "roles": ["ServiceSupportAdministrator"]}],
        }),
    )
    .await;
    let (status, c) = ready(cp, &ws, Some(true)).await;
    eprintln!("workspace {ws}: Ready=True ({})", c.message);
    let got: BTreeSet<(String, String, String)> = status
        .rejected_subjects
        .iter()
        .map(|r| {
            let kind = serde_json::to_value(r.kind).unwrap();
            (
                kind.as_str().unwrap().to_string(),
                r.name.clone(),
                r.reason.clone(),
            )
        })
        .collect();
    let mut want: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (k, n) in system_members.iter().chain(&system_admins) {
        want.insert((k.to_string(), n.to_string(), "SystemIdentity".into()));
    }
    want.insert((
        "Group".into(),
        "system:authenticated".into(),
        "SystemIdentity".into(),
    ));
    for (k, n) in personal {
        want.insert((k.into(), n.into(), "PersonalAccount".into()));
    }
    eprintln!("rejectedSubjects:");
    for (k, n, r) in &got {
        eprintln!("  {k:<5} {n:<58} {r}");
    }
    assert_eq!(
        got, want,
        "every system: and personal subject is refused, with its reason"
    );

    let bindings = eventually(TIMEOUT, "the members' RoleBinding", async || {
        let b = bindings_of(&admin, &ws).await;
        (!b.is_empty()).then_some(b)
    })
    .await;
    let bound: Vec<(String, String, String)> = bindings
        .iter()
        .flat_map(|rb| {
            rb.subjects.iter().flatten().map(|s| {
                (
                    format!("{}/{}", rb.namespace().unwrap_or_default(), rb.name_any()),
                    s.kind.clone(),
                    s.name.clone(),
                )
            })
        })
        .collect();
    assert_eq!(
        bound,
        vec![(
            format!("{ns}/support-operator.members"),
            "User".to_string(),
            alice.clone()
        )],
        "only alice is bound: no admins' or partner's binding at all"
    );
    let rb = &bindings[0];
    assert_eq!(rb.role_ref.name, ROLE_EDITOR);
    for name in ["someone@gmail.com", "Someone@GMAIL.COM"] {
        assert!(
            bindings_naming(&admin, name).await.is_empty(),
            "{name} is bound"
        );
    }
    // Anyone at all (system:authenticated, system:anonymous) holds nothing there.
    let nobody = ControlPlane::unique_name("nobody");
    let extra = extra_rules(cp, &nobody, &ns).await;
    assert!(extra.is_empty(), "{}", show(&extra));
    assert!(
        !allowed(
            &admin,
            "system:anonymous",
            &["system:unauthenticated"],
            attributes("list", "tickets.supportpolicy.dev", &ns, "")
        )
        .await
    );
}

/// Issue 6 §5d: the operator's ServiceAccount, as the chart installs it,
/// cannot read Secrets, create ClusterRoleBindings, or grant anything but
/// the three ticket roles (RBAC's escalation check refuses: it does not
/// hold what cluster-admin, admin, edit or a Secret-reading Role allow).
#[tokio::test(flavor = "multi_thread")]
async fn the_operators_service_account_cannot_read_secrets_or_grant_more_than_the_ticket_roles() {
    let (cp, installed) = setup();
    let admin = cp.client().await;
    let sa = client_from(&installed.service_account_kubeconfig).await;
    let ws = ControlPlane::unique_name("sa");
    let ns = ControlPlane::unique_name("sa-ns");
    create_workspace(
        cp,
        &ws,
        &ns,
        json!({"members": [{"kind": "User", "name": "erin@contoso.com"}]}),
    )
    .await;
    workspace_ready(cp, &ws).await;
    Api::<Role>::namespaced(admin.clone(), &ns)
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "secret-reader"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}))
            .unwrap(),
        )
        .await
        .unwrap();

    // What `kubectl auth can-i --list` shows for it, in the workspace's
    // namespace and in kube-system.
    for where_ in [ns.as_str(), "kube-system"] {
        let list = cp.kubectl_ok(&[
            "auth",
            "can-i",
            "--list",
            "--as",
            OPERATOR_USER,
            "-n",
            where_,
        ]);
        eprintln!("\n==== kubectl auth can-i --list --as={OPERATOR_USER} -n {where_}\n{list}");
        for line in list.lines().skip(1) {
            let resource = line.split_whitespace().next().unwrap_or_default();
            assert!(
                resource != "secrets" && !resource.starts_with('*'),
                "no Secrets and no wildcard resources: {line}"
            );
            assert!(
                !line.trim_end().ends_with("[*]"),
                "no wildcard verbs: {line}"
            );
        }
    }
    for (verb, resource, namespace) in [
        ("get", "secrets", "kube-system"),
        ("list", "secrets", ""),
        ("watch", "secrets", ""),
        (
            "create",
            "clusterrolebindings.rbac.authorization.k8s.io",
            "",
        ),
        ("create", "clusterroles.rbac.authorization.k8s.io", ""),
        ("update", "clusterroles.rbac.authorization.k8s.io", ""),
        ("create", "roles.rbac.authorization.k8s.io", ns.as_str()),
        ("escalate", "clusterroles.rbac.authorization.k8s.io", ""),
        ("impersonate", "users", ""),
        ("impersonate", "serviceaccounts", ""),
        ("create", "pods", ns.as_str()),
        ("create", "pods/exec", ns.as_str()),
        ("create", "serviceaccounts/token", OPERATOR_NS),
        ("update", "namespaces", ""),
        ("delete", "namespaces", ""),
        (
            "create",
            "validatingadmissionpolicies.admissionregistration.k8s.io",
            "",
        ),
        ("update", "tickets.supportpolicy.dev", ns.as_str()),
        ("delete", "workspaces.supportpolicy.dev", ""),
    ] {
        let a = allowed(
            &admin,
            OPERATOR_USER,
            &[
                "system:serviceaccounts",
                "system:serviceaccounts:support-operator",
            ],
            attributes(verb, resource, namespace, ""),
        )
        .await;
        eprintln!("  SubjectAccessReview {verb:<8} {resource} {namespace}: {a}");
        assert!(
            !a,
            "the operator may not {verb} {resource} in {namespace:?}"
        );
    }
    for role in ["cluster-admin", "admin", "edit", "view"] {
        let a = allowed(
            &admin,
            OPERATOR_USER,
            &["system:serviceaccounts"],
            attributes("bind", "clusterroles.rbac.authorization.k8s.io", "", role),
        )
        .await;
        assert!(!a, "the operator holds no bind on ClusterRole {role}");
    }

    eprintln!("\n==== requests with the operator's own token");
    forbidden(
        "list Secrets in every namespace",
        Api::<Secret>::all(sa.clone())
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "get Secret kube-system/anything",
        Api::<Secret>::namespaced(sa.clone(), "kube-system")
            .get("anything")
            .await,
    );
    forbidden(
        "create ClusterRoleBinding -> cluster-admin",
        Api::<ClusterRoleBinding>::all(sa.clone())
            .create(
                &dry_run(),
                &serde_json::from_value(json!({"metadata": {"name": "mallory"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory@contoso.com"}]}))
                .unwrap(),
            )
            .await,
    );
    forbidden(
        "create ClusterRoleBinding -> workspace-admin (even a ticket role, cluster-wide)",
        Api::<ClusterRoleBinding>::all(sa.clone())
            .create(
                &dry_run(),
                &serde_json::from_value(json!({"metadata": {"name": "mallory"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE_ADMIN},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory@contoso.com"}]}))
                .unwrap(),
            )
            .await,
    );
    // It may create RoleBindings; RBAC's escalation check is what refuses
    // these: the roles hold permissions the operator does not.
    let escalation = "is attempting to grant RBAC permissions not currently held";
    let rbs: Api<RoleBinding> = Api::namespaced(sa.clone(), &ns);
    for (kind, role) in [
        ("ClusterRole", "cluster-admin"),
        ("ClusterRole", "admin"),
        ("ClusterRole", "edit"),
        ("ClusterRole", "view"),
        ("Role", "secret-reader"),
    ] {
        let message = forbidden(
            &format!("create RoleBinding in {ns} -> {kind} {role}"),
            rbs.create(
                &dry_run(),
                &rolebinding("mallory", kind, role, "mallory@contoso.com"),
            )
            .await,
        );
        assert!(message.contains(escalation), "{message}");
    }
    let message = forbidden(
        "create RoleBinding in kube-system -> ClusterRole cluster-admin",
        Api::<RoleBinding>::namespaced(sa.clone(), "kube-system")
            .create(
                &dry_run(),
                &rolebinding(
                    "mallory",
                    "ClusterRole",
                    "cluster-admin",
                    "mallory@contoso.com",
                ),
            )
            .await,
    );
    assert!(message.contains(escalation), "{message}");
    forbidden(
        "patch ClusterRole ticket-editor (widen a role it may bind)",
        Api::<ClusterRole>::all(sa.clone())
            .patch(
                ROLE_EDITOR,
                &PatchParams::default(),
                &Patch::Merge(json!({"rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]})),
            )
            .await,
    );
    let out = cp.kubectl(&[
        "create",
        "token",
        "default",
        "-n",
        "kube-system",
        "--as",
        OPERATOR_USER,
    ]);
    let err = text(&out.stderr);
    assert!(
        !out.status.success() && err.contains("forbidden"),
        "minting a token for kube-system/default is refused: {err}"
    );
    eprintln!(
        "  refused   kubectl create token default -n kube-system: {}",
        err.trim()
    );
    // The control: the roles it binds, it can bind.
    for role in [ROLE_VIEWER, ROLE_EDITOR, ROLE_ADMIN] {
        permitted(
            &format!("create RoleBinding in {ns} -> {role} (dry run)"),
            rbs.create(
                &dry_run(),
                &rolebinding("control", "ClusterRole", role, "x@contoso.com"),
            )
            .await,
        );
    }
}

/// Issue 6 §5d, known limit (docs/security.md): RBAC cannot confine the
/// operator's RoleBinding rights to workspace namespaces nor its `bind` to
/// some subjects, so its token could bind a ticket role in kube-system or
/// to `system:authenticated`, and delete any RoleBinding; it also reads
/// ConfigMaps everywhere. The chart's ValidatingAdmissionPolicy
/// (templates/admission-policy.yaml, on by default where the API server
/// serves it) closes the RoleBinding part, and the operator keeps working
/// under it.
#[tokio::test(flavor = "multi_thread")]
async fn known_limit_the_operator_can_bind_anywhere_until_an_admission_policy_confines_it() {
    let (cp, installed) = setup();
    let admin = cp.client().await;
    let sa = client_from(&installed.service_account_kubeconfig).await;
    let mallory = "mallory@contoso.com";
    let in_kube_system: Api<RoleBinding> = Api::namespaced(sa.clone(), "kube-system");
    let ws = ControlPlane::unique_name("policy");
    let ns = ControlPlane::unique_name("policy-ns");
    let erin = format!("{}@contoso.com", ControlPlane::unique_name("erin"));
    create_workspace(
        cp,
        &ws,
        &ns,
        json!({"members": [{"kind": "User", "name": erin}]}),
    )
    .await;
    workspace_ready(cp, &ws).await;
    let rbs: Api<RoleBinding> = Api::namespaced(sa.clone(), &ns);
    let labelled = |workspace: &str| {
        let mut rb = rolebinding("extra", "ClusterRole", ROLE_ADMIN, mallory);
        rb.metadata.labels = Some(BTreeMap::from([(
            WORKSPACE_LABEL.to_string(),
            workspace.to_string(),
        )]));
        rb
    };
    let mut to_everyone = labelled(&ws);
    to_everyone.subjects = Some(vec![k8s_openapi::api::rbac::v1::Subject {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: "Group".into(),
        name: "system:authenticated".into(),
        namespace: None,
    }]);
    eprintln!("\n==== the limit, with the operator's token (dry runs: nothing is stored)");
    permitted(
        &format!("create RoleBinding {ns}/extra -> workspace-admin for Group system:authenticated"),
        rbs.create(&dry_run(), &to_everyone).await,
    );
    permitted(
        "create RoleBinding kube-system/mallory -> workspace-admin",
        in_kube_system
            .create(
                &dry_run(),
                &rolebinding("mallory", "ClusterRole", ROLE_ADMIN, mallory),
            )
            .await,
    );
    let victim = Api::<RoleBinding>::list(
        &Api::namespaced(admin.clone(), "kube-system"),
        &ListParams::default(),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .next()
    .expect("kube-system has RoleBindings")
    .name_any();
    let delete_dry = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    permitted(
        &format!("delete RoleBinding kube-system/{victim}"),
        in_kube_system.delete(&victim, &delete_dry).await,
    );
    permitted(
        "list ConfigMaps in kube-system",
        Api::<ConfigMap>::namespaced(sa.clone(), "kube-system")
            .list(&ListParams::default())
            .await,
    );

    // The policy, as the chart renders it for this release.
    let rendered = cp.helm_ok(&[
        "template",
        RELEASE,
        repo_root()
            .join("charts/support-operator")
            .to_str()
            .unwrap(),
        "--namespace",
        OPERATOR_NS,
        "--show-only",
        "templates/admission-policy.yaml",
        // This helm is built without version stamps: offline it assumes
        // Kubernetes 1.20, which the chart refuses.
        "--kube-version",
        "1.35.0",
        "--api-versions",
        "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy",
    ]);
    let policy = cp.dir().join("rolebinding-policy.yaml");
    std::fs::write(&policy, rendered).unwrap();
    cp.kubectl_ok(&["apply", "-f", policy.to_str().unwrap()]);
    let refusal = eventually(
        TIMEOUT,
        "the policy in force",
        async || match in_kube_system
            .create(
                &dry_run(),
                &rolebinding("mallory", "ClusterRole", ROLE_ADMIN, mallory),
            )
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 403 => Some(s.message),
            _ => None,
        },
    )
    .await;
    eprintln!("\n==== with the chart's admission policy applied");
    eprintln!("  refused   create RoleBinding kube-system/mallory -> workspace-admin: {refusal}");
    assert!(
        refusal.contains("support-operator-rolebindings"),
        "{refusal}"
    );
    forbidden(
        &format!("delete RoleBinding kube-system/{victim}"),
        in_kube_system.delete(&victim, &delete_dry).await,
    );
    // A namespace the operator made for a workspace: only bindings labelled
    // for that workspace, to users and groups outside system:.
    forbidden(
        "create an unlabelled RoleBinding in the workspace's namespace",
        rbs.create(
            &dry_run(),
            &rolebinding("extra", "ClusterRole", ROLE_ADMIN, mallory),
        )
        .await,
    );
    forbidden(
        "create a RoleBinding labelled for another workspace",
        rbs.create(&dry_run(), &labelled("another")).await,
    );
    let message = forbidden(
        "create a RoleBinding labelled for the workspace, to Group system:authenticated",
        rbs.create(&dry_run(), &to_everyone).await,
    );
    assert!(message.contains("never system: identities"), "{message}");
    permitted(
        "create a RoleBinding labelled for the namespace's workspace",
        rbs.create(&dry_run(), &labelled(&ws)).await,
    );
    // The operator keeps working under the policy: it rebinds (a patch of
    // its RoleBinding) and unbinds (a delete).
    let frank = format!("{}@contoso.com", ControlPlane::unique_name("frank"));
    let workspaces: Api<Workspace> = Api::all(admin.clone());
    let can_file = async |user: &str| {
        allowed(
            &admin,
            user,
            &[],
            attributes("create", "tickets.supportpolicy.dev", &ns, ""),
        )
        .await
    };
    workspaces
        .patch(
            &ws,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"members": [{"kind": "User", "name": frank}]}})),
        )
        .await
        .unwrap();
    eventually(
        TIMEOUT,
        "the operator rebinds under the policy",
        async || (can_file(&frank).await && !can_file(&erin).await).then_some(()),
    )
    .await;
    workspaces
        .patch(
            &ws,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"members": null}})),
        )
        .await
        .unwrap();
    eventually(
        TIMEOUT,
        "the operator unbinds under the policy",
        async || (!can_file(&frank).await).then_some(()),
    )
    .await;
    eprintln!("  the operator rebound and unbound members of {ws} under the policy");
    cp.kubectl_ok(&["delete", "-f", policy.to_str().unwrap(), "--wait=false"]);
}

/// Known limit (docs/security.md): the ticket roles are aggregated into the
/// built-in view, edit and admin ClusterRoles, so whoever holds one of those
/// through a ClusterRoleBinding reads the tickets of every workspace.
#[tokio::test(flavor = "multi_thread")]
async fn known_limit_cluster_wide_view_edit_or_admin_reads_every_workspaces_tickets() {
    let (cp, _) = setup();
    let admin = cp.client().await;
    let roles: Api<ClusterRole> = Api::all(admin.clone());
    for (builtin, verb) in [("view", "list"), ("edit", "create"), ("admin", "delete")] {
        eventually(
            TIMEOUT,
            &format!("{builtin} aggregating the ticket roles"),
            async || {
                let role = roles.get(builtin).await.ok()?;
                role.rules
                    .iter()
                    .flatten()
                    .any(|r| {
                        r.api_groups
                            .iter()
                            .flatten()
                            .any(|g| g == "supportpolicy.dev")
                            && r.resources.iter().flatten().any(|x| x == "tickets")
                            && r.verbs.iter().any(|v| v == verb)
                    })
                    .then_some(())
            },
        )
        .await;
        eprintln!("ClusterRole {builtin} grants {verb} on tickets.supportpolicy.dev (aggregated)");
    }
}

/// Issue 6 §5e: the chart's pod is admitted in a namespace enforcing the
/// restricted Pod Security Standard, and the same pod made privileged or
/// allowed to run as root is refused.
///
/// This control plane has no scheduler and no kubelet (nor Deployment
/// controller), so a Deployment would never make a pod: the honest
/// admission check is to create the Deployment's pod template as a bare Pod
/// with a server-side dry run, which runs the API server's PodSecurity
/// admission plugin exactly as a real creation would, and stores nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_charts_pod_is_admitted_under_the_restricted_pod_security_standard() {
    let cp = ControlPlane::shared();
    let admin = cp.client().await;
    let ns = ControlPlane::unique_name("restricted");
    Api::<Namespace>::all(admin.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns, "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest"}}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let chart = repo_root().join("charts/support-operator");
    let yaml = cp.helm_ok(&[
        "template",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        &ns,
        // Offline, this helm assumes Kubernetes 1.20, which the chart refuses.
        "--kube-version",
        "1.35.0",
    ]);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("helm template prints YAML");
    let of = |kind: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("the chart renders a {kind}"))
            .clone()
    };
    // The pod names the chart's ServiceAccount, which admission looks up.
    let mut account = of("ServiceAccount");
    account["metadata"]["namespace"] = json!(ns);
    kubectl_apply(cp, &account);
    let deployment = of("Deployment");
    let template = &deployment["spec"]["template"];
    let pod = |name: &str, spec: Value| -> Pod {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": template["metadata"]["labels"]},
            "spec": spec,
        }))
        .unwrap()
    };
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    eprintln!(
        "\n==== the chart's pod template, as a Pod, dry run in {ns} (enforce=restricted:latest)"
    );
    let admitted = permitted(
        "the chart's pod",
        pods.create(&dry_run(), &pod("operator", template["spec"].clone()))
            .await,
    )
    .expect("admitted");
    let sc = serde_json::to_value(&admitted.spec.unwrap().containers[0].security_context).unwrap();
    eprintln!("            container securityContext: {sc}");

    let mut privileged = template["spec"].clone();
    privileged["containers"][0]["securityContext"]["privileged"] = json!(true);
    privileged["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    let message = forbidden(
        "the same pod with privileged: true",
        pods.create(&dry_run(), &pod("privileged", privileged))
            .await,
    );
    assert!(message.contains("restricted"), "{message}");
    assert!(message.contains("privileged"), "{message}");

    let mut root_allowed = template["spec"].clone();
    for pointer in ["/securityContext", "/containers/0/securityContext"] {
        if let Some(o) = root_allowed
            .pointer_mut(pointer)
            .and_then(Value::as_object_mut)
        {
            o.remove("runAsNonRoot");
        }
    }
    let message = forbidden(
        "the same pod without runAsNonRoot",
        pods.create(&dry_run(), &pod("root", root_allowed)).await,
    );
    assert!(message.contains("restricted"), "{message}");
    assert!(message.contains("runAsNonRoot"), "{message}");

    let mut capable = template["spec"].clone();
    capable["containers"][0]["securityContext"]["capabilities"] = json!({"add": ["NET_ADMIN"]});
    let message = forbidden(
        "the same pod with capabilities NET_ADMIN and none dropped",
        pods.create(&dry_run(), &pod("capable", capable)).await,
    );
    assert!(message.contains("restricted"), "{message}");
}

/// `kubectl apply` of one object, through a file.
fn kubectl_apply(cp: &ControlPlane, object: &Value) {
    let file = cp
        .dir()
        .join(format!("{}.json", ControlPlane::unique_name("apply")));
    std::fs::write(&file, serde_json::to_string(object).unwrap()).unwrap();
    cp.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
}
