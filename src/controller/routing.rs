//! Publishes the routing table: `support-routing` (sharded when large) in the
//! operator's namespace and each workspace's `support-policy`.
//!
//! Debounced: a burst of changes is one compile and one round of writes.
//! ConfigMaps are written by server-side apply only when their data changed,
//! never over one the operator does not own, and stale shards are removed.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};

use super::context::{Context, Error, Shutdown, WatchBackoff};
use crate::routing::{self, MANAGED_BY, POLICY_CONFIGMAP, ROUTING_CONFIGMAP};

pub const FIELD_MANAGER: &str = "support-operator-routing";
pub const CONTROLLER: &str = "routing";

pub async fn publish(ctx: Arc<Context>, shutdown: Shutdown) {
    let dirty = ctx.world.triggers.routing.clone();
    // Someone deleting or editing a published ConfigMap: publish again.
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    let drift = watcher(
        Api::<ConfigMap>::all(ctx.client.clone()),
        watcher::Config::default().labels(&selector),
    )
    .backoff(WatchBackoff::default())
    .touched_objects();
    let drift_dirty = dirty.clone();
    let drift_task = tokio::spawn(async move {
        futures::pin_mut!(drift);
        while drift.next().await.is_some() {
            drift_dirty.notify_one();
        }
    });
    let stop = shutdown.wait();
    tokio::pin!(stop);
    dirty.notify_one();
    let mut failures = 0u32;
    loop {
        tokio::select! {
            _ = dirty.notified() => {}
            _ = &mut stop => break,
        }
        // Debounce: wait for a quiet period, at most ten of them.
        for _ in 0..10 {
            tokio::select! {
                _ = dirty.notified() => continue,
                _ = tokio::time::sleep(ctx.settings.routing_debounce) => break,
            }
        }
        let _timer = ctx.metrics.reconcile(CONTROLLER);
        match publish_once(&ctx).await {
            Ok(()) => failures = 0,
            Err(e) => {
                ctx.metrics.error(CONTROLLER, e.reason());
                failures = failures.saturating_add(1);
                let delay =
                    Duration::from_secs(1u64 << failures.min(8)).min(Duration::from_secs(300));
                tracing::warn!(error = %e, retry_in = ?delay, "publishing the routing table failed");
                let retry = dirty.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    retry.notify_one();
                });
            }
        }
    }
    drift_task.abort();
}

async fn publish_once(ctx: &Context) -> Result<(), Error> {
    let catalog = ctx.world.catalog();
    let policies = ctx.world.policies.state();
    let policies: Vec<_> = policies.iter().map(|p| p.as_ref().clone()).collect();
    let table = routing::compile(&catalog, &policies);
    let maps = routing::config_maps(&table, &catalog, &ctx.settings.namespace);
    let operator_ns = ctx.settings.namespace.as_str();

    for mut cm in maps {
        let namespace = cm.metadata.namespace.clone().unwrap_or_default();
        let name = cm.metadata.name.clone().unwrap_or_default();
        let workspace = (name == POLICY_CONFIGMAP)
            .then(|| catalog.workspace_for_namespace(&namespace))
            .flatten()
            .and_then(|w| w.metadata.name.as_deref());
        if let Some(ws) = workspace.and_then(|w| ctx.world.workspaces.get(&ObjectRef::new(w))) {
            cm.metadata.owner_references = ws.controller_owner_ref(&()).map(|o| vec![o]);
        }
        let api = Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace);
        let outcome = match api.get_opt(&name).await {
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 403 => {
                Err(format!("cannot read {namespace}/{name}: {}", e.message))
            }
            Err(e) => return Err(e.into()),
            Ok(Some(existing))
                if existing.labels().get(MANAGED_BY.0).map(String::as_str)
                    != Some(MANAGED_BY.1) =>
            {
                Err(format!(
                    "ConfigMap {namespace}/{name} exists and is not managed by support-operator; it was left untouched"
                ))
            }
            Ok(existing) => {
                let same = existing.as_ref().is_some_and(|e| {
                    e.data == cm.data
                        && (workspace.is_none()
                            || e.metadata.owner_references == cm.metadata.owner_references)
                });
                if !same {
                    match api
                        .patch(
                            &name,
                            &PatchParams::apply(FIELD_MANAGER).force(),
                            &Patch::Apply(&cm),
                        )
                        .await
                    {
                        Ok(_) => ctx.metrics.wrote(CONTROLLER),
                        // The namespace may not exist yet: the workspace controller makes it.
                        Err(kube::Error::Api(e)) if e.code == 404 => {
                            return Err(Error::Kube(kube::Error::Api(e)));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
        };
        match (workspace, outcome) {
            (Some(ws), outcome) => {
                let (ok, message) = match outcome {
                    Ok(()) => (true, format!("{namespace}/{name} is up to date")),
                    Err(m) => (false, m),
                };
                if !ok {
                    ctx.metrics.error(CONTROLLER, "ConfigMapConflict");
                }
                if ctx.world.set_routing_state(ws, ok, message.clone()) {
                    let _ = ctx
                        .world
                        .triggers
                        .workspaces
                        .unbounded_send(ObjectRef::new(ws));
                    if !ok {
                        conflict_event(ctx, ws, message).await;
                    }
                }
            }
            (None, Err(message)) => {
                ctx.metrics.error(CONTROLLER, "ConfigMapConflict");
                tracing::error!(%message, "routing table not published");
            }
            (None, Ok(())) => {}
        }
    }
    // Stale shards: ours, in the operator's namespace, no longer wanted.
    let api = Api::<ConfigMap>::namespaced(ctx.client.clone(), operator_ns);
    let sharded = table.shard(routing::SHARD_LIMIT_BYTES);
    let wanted = if sharded.index.is_some() {
        sharded.shards.len()
    } else {
        0
    };
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    for cm in api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
    {
        let name = cm.name_any();
        let shard = name
            .strip_prefix(&format!("{ROUTING_CONFIGMAP}-"))
            .and_then(|n| n.parse::<usize>().ok());
        if shard.is_some_and(|n| n >= wanted) {
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => ctx.metrics.wrote(CONTROLLER),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// One Warning Event on the workspace when its slice cannot be published.
async fn conflict_event(ctx: &Context, workspace: &str, message: String) {
    let Some(ws) = ctx.world.workspaces.get(&ObjectRef::new(workspace)) else {
        return;
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "ConfigMapConflict".into(),
        note: Some(message),
        action: "PublishRouting".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &ws.object_ref(&())).await {
        tracing::warn!(%workspace, error = %e, "could not publish event");
    }
}
