//! SlaPolicy and SupportTier: `Ready` with a reason when they reference
//! something missing or hold what CEL cannot check (overlapping windows,
//! unknown zones). Publisher: `Ready` once its contact is known (CEL has
//! checked it), so GitOps tools see it settle like the other kinds.

use std::sync::Arc;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use super::conditions::condition;
use super::context::{Context, Error, Shutdown, error_policy};
use super::errors;
use crate::api::{
    API_VERSION, Publisher, PublisherStatus, SlaPolicy, SlaPolicyStatus, SupportTier,
    SupportTierStatus,
};
use crate::catalog::Lookup;

pub const FIELD_MANAGER: &str = "support-operator";

pub async fn policy_controller(
    ctx: Arc<Context>,
    triggers: UnboundedReceiver<ObjectRef<SlaPolicy>>,
    shutdown: Shutdown,
) {
    let idle = futures::stream::pending::<Result<SlaPolicy, watcher::Error>>();
    Controller::for_stream(idle, ctx.world.policies.clone())
        .reconcile_on(triggers)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile_policy, error_policy("slapolicy"), ctx.clone())
        .for_each(|result| errors::settle(ctx.clone(), "slapolicy", result))
        .await;
}

pub async fn tier_controller(
    ctx: Arc<Context>,
    triggers: UnboundedReceiver<ObjectRef<SupportTier>>,
    shutdown: Shutdown,
) {
    let idle = futures::stream::pending::<Result<SupportTier, watcher::Error>>();
    Controller::for_stream(idle, ctx.world.tiers.clone())
        .reconcile_on(triggers)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile_tier, error_policy("supporttier"), ctx.clone())
        .for_each(|result| errors::settle(ctx.clone(), "supporttier", result))
        .await;
}

pub async fn publisher_controller(
    ctx: Arc<Context>,
    triggers: UnboundedReceiver<ObjectRef<Publisher>>,
    shutdown: Shutdown,
) {
    let idle = futures::stream::pending::<Result<Publisher, watcher::Error>>();
    Controller::for_stream(idle, ctx.world.publishers.clone())
        .reconcile_on(triggers)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile_publisher, error_policy("publisher"), ctx.clone())
        .for_each(|result| errors::settle(ctx.clone(), "publisher", result))
        .await;
}

async fn reconcile_publisher(
    publisher: Arc<Publisher>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile("publisher");
    let name = publisher.name_any();
    let contact = &publisher.spec.contact;
    let ways: Vec<&str> = [
        contact.url.as_ref().map(|_| "url"),
        contact.email.as_ref().map(|_| "email"),
        contact.phone.as_ref().map(|_| "phone"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let (ok, reason, message) = if ways.is_empty() {
        (
            false,
            "NoContact",
            "spec.contact: no url, email or phone".to_string(),
        )
    } else {
        (
            true,
            "Valid",
            format!("tickets are redirected with its {}", ways.join(", ")),
        )
    };
    let previous = publisher.status.clone().unwrap_or_default();
    let generation = publisher.meta().generation;
    let status = PublisherStatus {
        observed_generation: generation,
        conditions: vec![ready(&previous.conditions, ok, reason, message, generation)],
    };
    if publisher.status.as_ref() != Some(&status) {
        apply_status::<Publisher>(&ctx, &name, "Publisher", &status).await?;
    }
    Ok(Action::await_change())
}

async fn reconcile_policy(policy: Arc<SlaPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile("slapolicy");
    let name = policy.name_any();
    let catalog = ctx.world.catalog();
    let (ok, reason, message) = match catalog.policy(&name) {
        Lookup::Found(p) => (
            true,
            "Valid".to_string(),
            format!(
                "{} severities, {} calendars",
                p.levels.len(),
                p.calendars.len()
            ),
        ),
        Lookup::Invalid(problem) => (false, problem.reason.to_string(), problem.to_string()),
        Lookup::Missing => return Ok(Action::await_change()),
    };
    let previous = policy.status.clone().unwrap_or_default();
    let generation = policy.meta().generation;
    let status = SlaPolicyStatus {
        observed_generation: generation,
        conditions: vec![ready(
            &previous.conditions,
            ok,
            &reason,
            message,
            generation,
        )],
    };
    if policy.status.as_ref() != Some(&status) {
        apply_status::<SlaPolicy>(&ctx, &name, "SlaPolicy", &status).await?;
    }
    Ok(Action::await_change())
}

async fn reconcile_tier(tier: Arc<SupportTier>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile("supporttier");
    let name = tier.name_any();
    let catalog = ctx.world.catalog();
    let (ok, reason, message) = match catalog.tier(&name) {
        Lookup::Missing => return Ok(Action::await_change()),
        Lookup::Invalid(problem) => (false, problem.reason.to_string(), problem.to_string()),
        Lookup::Found(_) => match (&tier.spec.sla_policy, &tier.spec.graduation) {
            (Some(p), _) if matches!(catalog.policy(p), Lookup::Missing) => (
                false,
                "PolicyNotFound".into(),
                format!("spec.slaPolicy: no SlaPolicy named {p:?}"),
            ),
            (Some(p), _) if matches!(catalog.policy(p), Lookup::Invalid(_)) => (
                false,
                "PolicyNotReady".into(),
                format!("spec.slaPolicy: SlaPolicy {p:?} is not ready"),
            ),
            (_, Some(g)) if !catalog.tiers.contains_key(&g.to) => (
                false,
                "UnknownTier".into(),
                format!("spec.graduation.to: no SupportTier named {:?}", g.to),
            ),
            (None, _) => (
                true,
                "BestEffort".into(),
                "no SLA policy: tickets are best effort".into(),
            ),
            (Some(p), _) => (
                true,
                "Valid".into(),
                format!("deadlines from SlaPolicy {p}"),
            ),
        },
    };
    let previous = tier.status.clone().unwrap_or_default();
    let generation = tier.meta().generation;
    let status = SupportTierStatus {
        observed_generation: generation,
        conditions: vec![ready(
            &previous.conditions,
            ok,
            &reason,
            message,
            generation,
        )],
    };
    if tier.status.as_ref() != Some(&status) {
        apply_status::<SupportTier>(&ctx, &name, "SupportTier", &status).await?;
    }
    Ok(Action::await_change())
}

fn ready(
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    ok: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    condition(
        previous,
        "Ready",
        ok,
        reason,
        message,
        generation,
        Timestamp::now(),
    )
}

/// Writes a cluster-scoped object's status by server-side apply.
async fn apply_status<K>(
    ctx: &Context,
    name: &str,
    kind: &str,
    status: &impl serde::Serialize,
) -> Result<(), Error>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::ClusterResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let patch = serde_json::json!({"apiVersion": API_VERSION, "kind": kind, "status": status});
    Api::<K>::all(ctx.client.clone())
        .patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    ctx.metrics.wrote(&kind.to_ascii_lowercase());
    Ok(())
}
