//! The Workspace controller: its namespace, RBAC for its admins, members and
//! partners, ticket counts and graduation advice; and the default workspace.
//!
//! It never grants more than the ticket roles the install ships, only in a
//! namespace it created (or one labelled for the workspace), and never to
//! `system:` identities or, where not allowed, personal accounts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject as RbacSubject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use super::context::{Context, Error, Shutdown, error_policy, requeue_at};
use super::errors;
use super::status::{self, FIELD_MANAGER};
use crate::api::common::{Subject, SubjectKind};
use crate::api::condition::{STALLED, condition, stalled};
use crate::api::workspace::{Provider, RejectedSubject, SUPPORT_ADMIN_ROLE};
use crate::api::{Workspace, WorkspaceSpec, WorkspaceStatus};
use crate::catalog::{Catalog, allows_personal_accounts};
use crate::routing::MANAGED_BY;

pub const CONTROLLER: &str = "workspace";
/// Label naming the workspace a namespace or binding belongs to; set by hand
/// on an existing namespace, it lets a workspace adopt it.
pub const WORKSPACE_LABEL: &str = "supportpolicy.dev/workspace";
/// ClusterRoles the install ships; the only roles the operator ever binds.
pub const ROLE_VIEWER: &str = "support-operator:ticket-viewer";
pub const ROLE_EDITOR: &str = "support-operator:ticket-editor";
pub const ROLE_ADMIN: &str = "support-operator:workspace-admin";

pub async fn controller(
    ctx: Arc<Context>,
    triggers: UnboundedReceiver<ObjectRef<Workspace>>,
    shutdown: Shutdown,
) {
    // Namespaces and RoleBindings wake workspaces through the world's
    // caches (world::watch_namespaces, world::watch_bindings): labelling an
    // existing namespace for a workspace is how a person lets it be adopted,
    // and deleting a managed binding must put it back.
    let idle = futures::stream::pending::<Result<Workspace, watcher::Error>>();
    Controller::for_stream(idle, ctx.world.workspaces.clone())
        .reconcile_on(triggers)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile, error_policy(CONTROLLER), ctx.clone())
        .for_each(|result| errors::settle(ctx.clone(), CONTROLLER, result))
        .await;
}

/// The outcome of one workspace's checks, before it is written.
struct Verdict {
    ready: bool,
    reason: String,
    message: String,
    next_expiry: Option<Timestamp>,
    rejected: Vec<RejectedSubject>,
}

async fn reconcile(ws: Arc<Workspace>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let now = Timestamp::now();
    let catalog = ctx.world.catalog();
    let verdict = if let Some(owner) = catalog.namespace_taken_by(&ws) {
        refused(
            "NamespaceTaken",
            format!(
                "namespace {:?} belongs to workspace {owner:?}",
                ws.spec.namespace
            ),
        )
    } else if Catalog::namespace_protected(&ws.spec.namespace, &ctx.settings.namespace) {
        refused(
            "NamespaceProtected",
            format!("namespace {:?} cannot hold a workspace", ws.spec.namespace),
        )
    } else {
        match ensure_namespace(&ws, &ctx).await? {
            Some(problem) => refused("NamespaceNotManaged", problem),
            // Access does not depend on the tier, so members keep it while
            // a tier is missing; the workspace is not Ready until it exists.
            None => {
                let bound = bind(&ws, &ctx, now).await?;
                match catalog.missing_tiers(&ws).first() {
                    Some((field, message)) => Verdict {
                        ready: false,
                        reason: "UnknownTier".into(),
                        message: format!("{field}: {message}"),
                        ..bound
                    },
                    None => bound,
                }
            }
        }
    };
    let (open, at_risk, breached) = ctx.world.counts(&ws.spec.namespace);
    let previous = ws.status.clone().unwrap_or_default();
    let generation = ws.meta().generation;
    let ready = condition(
        &previous.conditions,
        "Ready",
        verdict.ready,
        &verdict.reason,
        verdict.message,
        generation,
        now,
    );
    let stalled = stalled(&previous.conditions, &ready);
    let mut conditions: Vec<_> = [Some(ready), stalled].into_iter().flatten().collect();
    if let Some(Ok(tier)) = catalog.tiers.get(&ws.spec.tier)
        && let Some(g) = &tier.spec.graduation
    {
        let over = open > g.when_open_tickets_exceed;
        let message = if over {
            format!(
                "{open} open tickets exceed {} for tier {}: consider tier {}",
                g.when_open_tickets_exceed, tier.name, g.to
            )
        } else {
            format!(
                "{open} open tickets, threshold {}",
                g.when_open_tickets_exceed
            )
        };
        let reason = if over {
            "OpenTicketsExceedThreshold"
        } else {
            "WithinThreshold"
        };
        conditions.push(condition(
            &previous.conditions,
            "GraduationRecommended",
            over,
            reason,
            message,
            generation,
            now,
        ));
    }
    let status = WorkspaceStatus {
        observed_generation: generation,
        open_tickets: Some(open),
        at_risk_tickets: Some(at_risk),
        breached_tickets: Some(breached),
        rejected_subjects: verdict.rejected,
        conditions,
    };
    // Compared on what this manager owns: `RoutingPublished` and
    // `Reconciled` belong to other managers, and counting them as a
    // difference rewrote every workspace after each restart.
    if ws.status.as_ref().map(own_part).as_ref() != Some(&status) {
        status::apply::<Workspace>(&ctx, None, &ws.name_any(), FIELD_MANAGER, &status).await?;
        ctx.metrics.wrote(CONTROLLER);
    }
    Ok(requeue_at(verdict.next_expiry, now))
}

/// The condition types the workspace controller writes.
const OWN_CONDITIONS: [&str; 3] = ["Ready", STALLED, "GraduationRecommended"];

/// The part of a stored status this controller's field manager owns.
fn own_part(status: &WorkspaceStatus) -> WorkspaceStatus {
    WorkspaceStatus {
        conditions: status
            .conditions
            .iter()
            .filter(|c| OWN_CONDITIONS.contains(&c.type_.as_str()))
            .cloned()
            .collect(),
        ..status.clone()
    }
}

fn refused(reason: &str, message: String) -> Verdict {
    Verdict {
        ready: false,
        reason: reason.into(),
        message,
        next_expiry: None,
        rejected: Vec::new(),
    }
}

fn labels(ws: &Workspace) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
        (WORKSPACE_LABEL.to_string(), ws.name_any()),
    ])
}

/// Creates the namespace if missing; a problem when it exists and is not ours.
/// Reads the namespace cache: a workspace reconciled for its ticket counts
/// costs no request while its namespace stands.
async fn ensure_namespace(ws: &Workspace, ctx: &Context) -> Result<Option<String>, Error> {
    let name = &ws.spec.namespace;
    let not_ours = |label: Option<&String>| {
        (label != Some(&ws.name_any())).then(|| {
            format!(
                "namespace {name:?} exists and is not managed for this workspace; label it {WORKSPACE_LABEL}={} to adopt it",
                ws.name_any()
            )
        })
    };
    if let Some(existing) = ctx.world.namespaces.get(&ObjectRef::new(name)) {
        return Ok(not_ours(existing.labels().get(WORKSPACE_LABEL)));
    }
    let api = Api::<Namespace>::all(ctx.client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(labels(ws)),
            owner_references: ws.controller_owner_ref(&()).map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => {
            ctx.metrics.wrote(CONTROLLER);
            Ok(None)
        }
        // Made a moment ago, by us or by someone else: the cache has not
        // caught up, so look once at the one that exists.
        Err(kube::Error::Api(e)) if e.code == 409 => match api.get_opt(name).await? {
            Some(existing) => Ok(not_ours(existing.labels().get(WORKSPACE_LABEL))),
            None => Ok(None),
        },
        Err(e) => Err(e.into()),
    }
}

/// Who may be bound, and why the others may not.
fn admissible(
    spec: &WorkspaceSpec,
    subject: &Subject,
    personal_domains: &[String],
) -> Result<(), &'static str> {
    if subject.name.starts_with("system:") {
        return Err("SystemIdentity");
    }
    let personal = subject.kind == SubjectKind::User
        && subject.name.rsplit_once('@').is_some_and(|(_, domain)| {
            personal_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
        });
    if personal && !allows_personal_accounts(spec) {
        return Err("PersonalAccount");
    }
    Ok(())
}

async fn bind(ws: &Workspace, ctx: &Context, now: Timestamp) -> Result<Verdict, Error> {
    let spec = &ws.spec;
    let domains = &ctx.settings.personal_domains;
    let mut rejected = Vec::new();
    let mut keep = |subjects: &[Subject]| -> Vec<Subject> {
        subjects
            .iter()
            .filter(|s| match admissible(spec, s, domains) {
                Ok(()) => true,
                Err(reason) => {
                    rejected.push(RejectedSubject {
                        kind: s.kind,
                        name: s.name.clone(),
                        reason: reason.into(),
                    });
                    false
                }
            })
            .cloned()
            .collect()
    };
    let mut desired: BTreeMap<String, (&str, Vec<Subject>)> = BTreeMap::new();
    desired.insert(
        "support-operator.admins".into(),
        (ROLE_ADMIN, keep(&spec.admins)),
    );
    desired.insert(
        "support-operator.members".into(),
        (ROLE_EDITOR, keep(&spec.members)),
    );
    let mut next_expiry: Option<Timestamp> = None;
    for d in &spec.delegated_admins {
        let group = Subject {
            kind: SubjectKind::Group,
            name: d.group.clone(),
        };
        let expires = d.expires_at.as_ref().map(|t| t.0);
        let reason = if d.provider == Provider::IndirectReseller
            || !d.roles.iter().any(|r| r == SUPPORT_ADMIN_ROLE)
        {
            Some("PartnerNotAuthorized")
        } else if expires.is_some_and(|e| e <= now) {
            Some("DelegationExpired")
        } else {
            admissible(spec, &group, domains).err()
        };
        if let Some(reason) = reason {
            rejected.push(RejectedSubject {
                kind: SubjectKind::Group,
                name: d.group.clone(),
                reason: reason.into(),
            });
            continue;
        }
        if let Some(e) = expires {
            next_expiry = Some(next_expiry.map_or(e, |n| n.min(e)));
        }
        let name = format!("support-operator.partner.{}", sanitize(&d.partner));
        desired
            .entry(name)
            .or_insert((ROLE_EDITOR, Vec::new()))
            .1
            .push(group);
    }
    desired.retain(|_, (_, subjects)| !subjects.is_empty());

    // Bindings are read from the cache of the ones the operator made: a
    // stale entry costs at most one idempotent write or a 404 on delete.
    let api = Api::<RoleBinding>::namespaced(ctx.client.clone(), &spec.namespace);
    let ours = ws.name_any();
    let existing: Vec<String> = ctx
        .world
        .bindings
        .state()
        .iter()
        .filter(|rb| {
            rb.namespace().as_deref() == Some(spec.namespace.as_str())
                && rb.labels().get(WORKSPACE_LABEL) == Some(&ours)
        })
        .map(|rb| rb.name_any())
        .collect();
    for name in existing {
        if !desired.contains_key(&name) {
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => ctx.metrics.wrote(CONTROLLER),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    for (name, (role, subjects)) in &desired {
        let rb = RoleBinding {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(spec.namespace.clone()),
                labels: Some(labels(ws)),
                owner_references: ws.controller_owner_ref(&()).map(|o| vec![o]),
                ..ObjectMeta::default()
            },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: (*role).into(),
            },
            subjects: Some(
                subjects
                    .iter()
                    .map(|s| RbacSubject {
                        api_group: Some("rbac.authorization.k8s.io".into()),
                        kind: match s.kind {
                            SubjectKind::User => "User".into(),
                            SubjectKind::Group => "Group".into(),
                        },
                        name: s.name.clone(),
                        namespace: None,
                    })
                    .collect(),
            ),
        };
        let current = ctx
            .world
            .bindings
            .get(&ObjectRef::new(name).within(&spec.namespace));
        let same = current
            .as_ref()
            .is_some_and(|c| c.role_ref == rb.role_ref && c.subjects == rb.subjects);
        if !same {
            api.patch(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&rb),
            )
            .await?;
            ctx.metrics.wrote(CONTROLLER);
        }
    }
    let bound: BTreeSet<&str> = desired.keys().map(String::as_str).collect();
    Ok(Verdict {
        ready: true,
        reason: "Ready".into(),
        message: format!(
            "namespace {} with {} role bindings{}",
            spec.namespace,
            bound.len(),
            if rejected.is_empty() {
                String::new()
            } else {
                format!("; {} subjects refused", rejected.len())
            }
        ),
        next_expiry,
        rejected,
    })
}

/// A DNS-label-safe form of a partner name for a RoleBinding name.
fn sanitize(text: &str) -> String {
    let s: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.trim_matches('-').chars().take(63).collect()
}

/// Keeps the default workspace in existence: created when missing, again
/// whenever it is deleted.
pub async fn keep_default(ctx: Arc<Context>, shutdown: Shutdown) {
    let Some(default) = ctx.settings.default_workspace.clone() else {
        return;
    };
    let api = Api::<Workspace>::all(ctx.client.clone());
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let gone = ctx.world.workspace_deleted.notified();
        if ctx
            .world
            .workspaces
            .get(&ObjectRef::new(&default.name))
            .is_none()
        {
            let ws = Workspace::new(
                &default.name,
                WorkspaceSpec {
                    namespace: default.namespace.clone(),
                    tier: default.tier.clone(),
                    allowed_tiers: None,
                    agreement: None,
                    allow_personal_accounts: None,
                    admins: Vec::new(),
                    members: Vec::new(),
                    delegated_admins: Vec::new(),
                },
            );
            match api.create(&PostParams::default(), &ws).await {
                Ok(_) => tracing::info!(workspace = %default.name, "created the default workspace"),
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => tracing::warn!(error = %e, "could not create the default workspace"),
            }
        }
        tokio::select! {
            _ = gone => {}
            _ = &mut stop => return,
        }
    }
}
