//! SlaPolicy and SupportTier: `Ready` with a reason when they reference
//! something missing or hold what CEL cannot check (overlapping windows,
//! unknown zones). Publisher: `Ready` once its contact is known (CEL has
//! checked it), so GitOps tools see it settle like the other kinds.

use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::{Context, Error, Shutdown, error_policy};
use super::errors::{self, Regarding};
use super::status::{self, FIELD_MANAGER};
use super::world::World;
use crate::api::condition::condition;
use crate::api::{
    Publisher, PublisherStatus, SlaPolicy, SlaPolicyStatus, SupportTier, SupportTierStatus,
};
use crate::catalog::{Catalog, Lookup};

/// What `Ready` says: whether, a reason, a message.
type Verdict = (bool, String, String);

/// A cluster-scoped kind whose status is one `Ready` condition derived from
/// the catalog: the three kinds differ only in their verdict, so one
/// controller and one reconcile serve them all.
pub trait ReadyKind: Regarding + Clone + Debug + DeserializeOwned + Send + Sync + 'static {
    /// Status with `observedGeneration` and `conditions`, nothing else.
    type Status: Serialize + PartialEq + Clone + Default + Send + Sync;
    /// Label in metrics and logs.
    const LABEL: &'static str;
    fn store(world: &World) -> Store<Self>;
    fn status(&self) -> Option<&Self::Status>;
    fn conditions(status: &Self::Status) -> &[Condition];
    fn new_status(generation: Option<i64>, conditions: Vec<Condition>) -> Self::Status;
    /// `None` while the catalog has not compiled this object yet (its
    /// change will trigger another reconcile).
    fn verdict(&self, catalog: &Catalog) -> Option<Verdict>;
}

/// Runs the readiness controller of `K`, woken by the world's triggers.
pub async fn run<K: ReadyKind>(
    ctx: Arc<Context>,
    triggers: UnboundedReceiver<ObjectRef<K>>,
    shutdown: Shutdown,
) {
    let idle = futures::stream::pending::<Result<K, watcher::Error>>();
    Controller::for_stream(idle, K::store(&ctx.world))
        .reconcile_on(triggers)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile::<K>, error_policy(K::LABEL), ctx.clone())
        .for_each(|result| errors::settle(ctx.clone(), K::LABEL, result))
        .await;
}

async fn reconcile<K: ReadyKind>(object: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile(K::LABEL);
    let Some((ok, reason, message)) = object.verdict(&ctx.world.catalog()) else {
        return Ok(Action::await_change());
    };
    let previous = object.status().map(K::conditions).unwrap_or_default();
    let generation = object.meta().generation;
    let ready = condition(
        previous,
        "Ready",
        ok,
        &reason,
        message,
        generation,
        Timestamp::now(),
    );
    let stalled = crate::api::condition::stalled(previous, &ready);
    let status = K::new_status(
        generation,
        [Some(ready), stalled].into_iter().flatten().collect(),
    );
    if object.status() != Some(&status) {
        status::apply::<K>(&ctx, None, &object.name_any(), FIELD_MANAGER, &status).await?;
        ctx.metrics.wrote(K::LABEL);
    }
    Ok(Action::await_change())
}

impl ReadyKind for Publisher {
    type Status = PublisherStatus;
    const LABEL: &'static str = "publisher";
    fn store(world: &World) -> Store<Self> {
        world.publishers.clone()
    }
    fn status(&self) -> Option<&PublisherStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &PublisherStatus) -> &[Condition] {
        &status.conditions
    }
    fn new_status(observed_generation: Option<i64>, conditions: Vec<Condition>) -> PublisherStatus {
        PublisherStatus {
            observed_generation,
            conditions,
        }
    }
    fn verdict(&self, _: &Catalog) -> Option<Verdict> {
        let contact = &self.spec.contact;
        let ways: Vec<&str> = [
            contact.url.as_ref().map(|_| "url"),
            contact.email.as_ref().map(|_| "email"),
            contact.phone.as_ref().map(|_| "phone"),
        ]
        .into_iter()
        .flatten()
        .collect();
        Some(if ways.is_empty() {
            (
                false,
                "NoContact".into(),
                "spec.contact: no url, email or phone".into(),
            )
        } else {
            (
                true,
                "Valid".into(),
                format!("tickets are redirected with its {}", ways.join(", ")),
            )
        })
    }
}

impl ReadyKind for SlaPolicy {
    type Status = SlaPolicyStatus;
    const LABEL: &'static str = "slapolicy";
    fn store(world: &World) -> Store<Self> {
        world.policies.clone()
    }
    fn status(&self) -> Option<&SlaPolicyStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &SlaPolicyStatus) -> &[Condition] {
        &status.conditions
    }
    fn new_status(observed_generation: Option<i64>, conditions: Vec<Condition>) -> SlaPolicyStatus {
        SlaPolicyStatus {
            observed_generation,
            conditions,
        }
    }
    fn verdict(&self, catalog: &Catalog) -> Option<Verdict> {
        match catalog.policy(&self.name_any()) {
            Lookup::Found(p) => Some((
                true,
                "Valid".to_string(),
                format!(
                    "{} severities, {} calendars",
                    p.levels.len(),
                    p.calendars.len()
                ),
            )),
            Lookup::Invalid(problem) => {
                Some((false, problem.reason.to_string(), problem.to_string()))
            }
            Lookup::Missing => None,
        }
    }
}

impl ReadyKind for SupportTier {
    type Status = SupportTierStatus;
    const LABEL: &'static str = "supporttier";
    fn store(world: &World) -> Store<Self> {
        world.tiers.clone()
    }
    fn status(&self) -> Option<&SupportTierStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &SupportTierStatus) -> &[Condition] {
        &status.conditions
    }
    fn new_status(
        observed_generation: Option<i64>,
        conditions: Vec<Condition>,
    ) -> SupportTierStatus {
        SupportTierStatus {
            observed_generation,
            conditions,
        }
    }
    fn verdict(&self, catalog: &Catalog) -> Option<Verdict> {
        Some(match catalog.tier(&self.name_any()) {
            Lookup::Missing => return None,
            Lookup::Invalid(problem) => (false, problem.reason.to_string(), problem.to_string()),
            Lookup::Found(_) => match (&self.spec.sla_policy, &self.spec.graduation) {
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
        })
    }
}
