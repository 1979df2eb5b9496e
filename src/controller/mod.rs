//! The running operator, wired: caches, controllers, the routing publisher,
//! leader election and the health server. This file only connects them; what
//! they share is in [`context`]. A thin shell: every decision is made by the
//! pure core ([`crate::deadline`], [`crate::routing`]).

pub mod context;
pub mod errors;
pub mod leader;
pub mod memory;
pub mod readiness;
pub mod routing;
pub mod status;
pub mod ticket;
pub mod ticket_cache;
pub mod wakeup;
pub mod workspace;
pub mod world;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

use crate::api::{Publisher, SlaPolicy, SupportTier, Workspace};
use crate::health::Health;
use crate::metrics::Metrics;
use ticket_cache::CachedTicket;
use world::{Kind, World};

use context::shutdown_signal;
pub use context::{
    Context, DefaultWorkspace, Error, Settings, Shutdown, WatchBackoff, backoff_delay,
    error_policy, requeue_at, retry_delay,
};

/// How long in-flight reconciles and writes may take to finish after a
/// stop: with the lease release (at most [`leader::RELEASE_TIMEOUT`]) the
/// process ends within 5 s of SIGTERM, under any load (issue 11).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(2500);

/// Runs the operator until SIGTERM/SIGINT.
pub async fn run(settings: Settings) -> Result<(), Error> {
    let metrics = Arc::new(Metrics::new(settings.metrics_workspace_label));
    // Every request of every part (watches, writes, the lease) is counted
    // and timed: `support_operator_kube_requests_total`.
    let config = kube::Config::infer()
        .await
        .map_err(kube::Error::InferConfig)?;
    let client = kube::client::ClientBuilder::try_from(config)?
        .with_layer(&metrics.api_client_layer())
        .build();
    let health = Arc::new(Health::default());
    let shutdown = shutdown_signal();

    let server = tokio::spawn(crate::health::serve(
        settings.health_addr,
        health.clone(),
        metrics.clone(),
        shutdown.clone().wait(),
    ));

    if settings.leader_election {
        // A standby is ready: it is healthy and waiting, and rollouts of a
        // two-replica Deployment must not hang on it.
        health.ready.store(true, Ordering::Relaxed);
        let leadership = leader::acquire(client.clone(), &settings, shutdown.clone()).await?;
        let Some(mut lost) = leadership else {
            tracing::info!("shut down before becoming leader");
            let _ = server.await;
            return Ok(());
        };
        health.leader.store(true, Ordering::Relaxed);
        metrics.leader.set(1);
        let lost_lease = tokio::select! {
            result = controllers(client, settings, metrics.clone(), health.clone(), shutdown.clone()) => result.err(),
            _ = lost.wait() => {
                metrics.leader.set(0);
                tracing::error!("lost the leader lease; exiting so that another replica takes over");
                shutdown.trigger();
                Some(Error::LostLease)
            }
        };
        if let Some(e) = lost_lease {
            return Err(e);
        }
        // Stopped while leading: give the lease up so that a standby takes
        // over now rather than when it expires.
        lost.release().await;
    } else {
        health.leader.store(true, Ordering::Relaxed);
        metrics.leader.set(1);
        controllers(client, settings, metrics, health, shutdown.clone()).await?;
    }
    // The health server ends with the stop signal; an open connection does not hold the exit.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), server).await;
    Ok(())
}

async fn controllers(
    client: Client,
    settings: Settings,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    shutdown: Shutdown,
) -> Result<(), Error> {
    let (world, writers, receivers) = World::new();
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "support-operator".into(),
            instance: Some(settings.identity.clone()),
        },
    );
    let ctx = Arc::new(Context {
        client: client.clone(),
        world: world.clone(),
        metrics: metrics.clone(),
        recorder,
        settings: settings.clone(),
        failures: Mutex::new(HashMap::new()),
    });

    let watches = [
        tokio::spawn(world::watch_catalog(
            Api::<SlaPolicy>::all(client.clone()),
            writers.policies,
            world.clone(),
            Kind::Policy,
            |_| None,
        )),
        tokio::spawn(world::watch_catalog(
            Api::<SupportTier>::all(client.clone()),
            writers.tiers,
            world.clone(),
            Kind::Tier,
            |_| None,
        )),
        tokio::spawn(world::watch_catalog(
            Api::<Workspace>::all(client.clone()),
            writers.workspaces,
            world.clone(),
            Kind::Workspace,
            |w| Some(w.spec.namespace.clone()),
        )),
        tokio::spawn(world::watch_catalog(
            Api::<Publisher>::all(client.clone()),
            writers.publishers,
            world.clone(),
            Kind::Publisher,
            |_| None,
        )),
        tokio::spawn(world::watch_namespaces(
            Api::<PartialObjectMeta<Namespace>>::all(client.clone()),
            writers.namespaces,
            world.clone(),
        )),
        tokio::spawn(world::watch_bindings(
            Api::<RoleBinding>::all(client.clone()),
            writers.bindings,
            world.clone(),
        )),
    ];
    // No ticket is judged against a half-loaded world.
    let ready = async {
        let _ = world.policies.wait_until_ready().await;
        let _ = world.tiers.wait_until_ready().await;
        let _ = world.workspaces.wait_until_ready().await;
        let _ = world.publishers.wait_until_ready().await;
        // Who holds a namespace is read from its label (rule 1), and the
        // workspace controller reads namespaces and bindings from these.
        let _ = world.namespaces.wait_until_ready().await;
        let _ = world.bindings.wait_until_ready().await;
    };
    tokio::select! {
        _ = ready => {}
        _ = shutdown.clone().wait() => return Ok(()),
    }
    tracing::info!(
        "caches of policies, tiers, workspaces, publishers, namespaces and role bindings are synced"
    );

    // Tickets: one watch feeds the cache, the index and the controller.
    // Read straight into the cache's compact form (controller::ticket_cache).
    let (ticket_store, ticket_writer) = kube::runtime::reflector::store::<CachedTicket>();
    let index_world = world.clone();
    let index_metrics = metrics.clone();
    let index_store = ticket_store.clone();
    let ticket_stream = watcher(
        Api::<CachedTicket>::all(client.clone()),
        watcher::Config::default(),
    )
    .backoff(WatchBackoff::default())
    .modify(CachedTicket::forget_version)
    .reflect(ticket_writer)
    .inspect(move |event| {
        if let Ok(event) = event {
            index_ticket_event(&index_world, &index_metrics, &index_store, event);
        }
    })
    // Listed tickets are looked at through the wake-ups once the list is
    // done (a bounded number handed over at a time, see controller::wakeup);
    // a change to one (after the list) straight away.
    .try_filter(|event| std::future::ready(!matches!(event, watcher::Event::InitApply(_))))
    .applied_objects();

    let tickets_listed = ticket_store.clone();
    let ticket_controller = Controller::for_stream(ticket_stream, ticket_store)
        .with_config(ControllerConfig::default().concurrency(settings.ticket_concurrency))
        .reconcile_on(receivers.tickets)
        .graceful_shutdown_on(shutdown.clone().wait())
        .run(
            ticket::reconcile,
            error_policy(ticket::CONTROLLER),
            ctx.clone(),
        )
        .for_each(|result| errors::settle(ctx.clone(), ticket::CONTROLLER, result));

    // A workspace's open, at-risk and breached counts come from the ticket
    // index: judged before every ticket was listed they would be written
    // low and then right again, two writes per workspace at each restart or
    // failover. Its triggers wait in their channel meanwhile.
    let workspace_triggers = receivers.workspaces;
    let workspace_controller = {
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        async move {
            tokio::select! {
                _ = tickets_listed.wait_until_ready() => {}
                _ = shutdown.clone().wait() => return,
            }
            workspace::controller(ctx, workspace_triggers, shutdown).await;
        }
    };
    let policy_controller =
        readiness::run::<SlaPolicy>(ctx.clone(), receivers.policies, shutdown.clone());
    let tier_controller =
        readiness::run::<SupportTier>(ctx.clone(), receivers.tiers, shutdown.clone());
    let publisher_controller =
        readiness::run::<Publisher>(ctx.clone(), receivers.publishers, shutdown.clone());
    let publisher = routing::publish(ctx.clone(), shutdown.clone());
    let default_workspace = workspace::keep_default(ctx.clone(), shutdown.clone());
    let forget_workspaces =
        forget_deleted_workspaces(world.clone(), metrics.clone(), shutdown.clone());
    let wakeups = world
        .wakeups
        .run(world.triggers.tickets.clone(), shutdown.clone());

    health.ready.store(true, Ordering::Relaxed);
    tracing::info!("controllers running");
    let all = async {
        tokio::join!(
            ticket_controller,
            workspace_controller,
            policy_controller,
            tier_controller,
            publisher_controller,
            publisher,
            default_workspace,
            forget_workspaces,
            wakeups
        )
    };
    // After a stop no new work starts; work in flight gets SHUTDOWN_GRACE
    // to finish and is then dropped: what it did not write, the next
    // leader compares and writes (statuses and slices are recomputed).
    let grace = async {
        shutdown.clone().wait().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        _ = all => {}
        _ = grace => tracing::warn!(grace = ?SHUTDOWN_GRACE, "stopping without waiting for work still in flight"),
    }
    for w in watches {
        w.abort();
    }
    Ok(())
}

/// The watch has listed every ticket (at start, or again after it lost its
/// place) and the store now holds them: each is looked at, and a ticket
/// that went while the watch was away is forgotten (index, metric series,
/// wake-up). Not at each listed ticket: until the list is done the store
/// holds the tickets as they were (kube-runtime swaps it in at the end), a
/// relist does not wait for that, and a reconcile would judge the old copy.
fn tickets_listed(world: &World, metrics: &Metrics, store: &Store<CachedTicket>) {
    let gone: Vec<world::TicketKey> = match world.index.read() {
        Ok(index) => index
            .keys()
            .filter(|(namespace, name)| {
                let key = ObjectRef::new(name).within(namespace);
                store.get(&key).is_none()
            })
            .map(|(namespace, name)| (namespace.clone(), name.clone()))
            .collect(),
        Err(_) => Vec::new(),
    };
    for key in gone {
        forget_ticket(world, metrics, key);
    }
    for ticket in store.state() {
        world
            .wakeups
            .look_now(&ticket.namespace().unwrap_or_default(), &ticket.name_any());
    }
}

/// Removes the metric series of each deleted workspace (the world's
/// workspace cache is updated before it notifies). Runs until stopped.
async fn forget_deleted_workspaces(world: Arc<World>, metrics: Arc<Metrics>, shutdown: Shutdown) {
    loop {
        // Registered before the check: a deletion meanwhile still wakes it.
        let deleted = world.workspace_deleted.notified();
        let live: std::collections::HashSet<String> = world
            .workspaces
            .state()
            .iter()
            .map(|w| w.name_any())
            .collect();
        metrics.retain_workspaces(|w| live.contains(w));
        tokio::select! {
            _ = deleted => {}
            _ = shutdown.clone().wait() => return,
        }
    }
}

fn index_ticket_event(
    world: &World,
    metrics: &Metrics,
    store: &Store<CachedTicket>,
    event: &watcher::Event<CachedTicket>,
) {
    let ticket = match event {
        watcher::Event::Apply(t) | watcher::Event::InitApply(t) => t,
        watcher::Event::Delete(t) => {
            let key = (t.namespace().unwrap_or_default(), t.name_any());
            return forget_ticket(world, metrics, key);
        }
        watcher::Event::InitDone => return tickets_listed(world, metrics, store),
        watcher::Event::Init => return,
    };
    let moved = match world.index.write() {
        Ok(mut index) => index.update(ticket),
        Err(_) => false,
    };
    if moved {
        world.ticket_moved(&ticket.namespace().unwrap_or_default());
    }
}

/// A ticket is gone (deleted, or missing from a relist): its index entry,
/// metric series and wake-up go with it, and its workspace's counts change
/// if it had a phase.
fn forget_ticket(world: &World, metrics: &Metrics, key: world::TicketKey) {
    let moved = match world.index.write() {
        Ok(mut index) => index.remove(&key),
        Err(_) => false,
    };
    world.wakeups.forget(&key.0, &key.1);
    if moved {
        world.ticket_moved(&key.0);
    }
    metrics.set_ticket(key, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::store;

    fn ticket(namespace: &str, name: &str) -> CachedTicket {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"title": "x", "severity": "A"}
        }))
        .unwrap()
    }

    /// Feeds one watch event through the store and then the index, as the
    /// ticket watch does (`.reflect` before `.inspect`).
    fn feed(
        world: &World,
        metrics: &Metrics,
        writer: &mut kube::runtime::reflector::store::Writer<CachedTicket>,
        store: &Store<CachedTicket>,
        event: watcher::Event<CachedTicket>,
    ) {
        writer.apply_watcher_event(&event);
        index_ticket_event(world, metrics, store, &event);
    }

    fn indexed(world: &World) -> Vec<String> {
        let index = world.index.read().unwrap();
        let mut keys: Vec<String> = index.keys().map(|(n, t)| format!("{n}/{t}")).collect();
        keys.sort();
        keys
    }

    /// A relist (the watch lost its place) is looked at once the store holds
    /// it, not while the store still holds the old copies; a ticket deleted
    /// meanwhile is forgotten, and one created meanwhile is looked at.
    #[test]
    fn listed_tickets_are_looked_at_once_the_store_holds_them_and_vanished_ones_forgotten() {
        let (world, _writers, _receivers) = World::new();
        let metrics = Metrics::default();
        let (store, mut writer) = store::<CachedTicket>();
        let mut feed = |event| feed(&world, &metrics, &mut writer, &store, event);

        feed(watcher::Event::Init);
        feed(watcher::Event::InitApply(ticket("a", "kept")));
        feed(watcher::Event::InitApply(ticket("a", "deleted")));
        assert!(world.wakeups.is_empty(), "nothing looked at mid-list");
        feed(watcher::Event::InitDone);
        assert_eq!(world.wakeups.len(), 2);
        world.wakeups.begin("a", "kept");
        world.wakeups.begin("a", "deleted");

        // The watch lost its place; meanwhile one ticket went, one came.
        feed(watcher::Event::Init);
        feed(watcher::Event::InitApply(ticket("a", "kept")));
        feed(watcher::Event::InitApply(ticket("b", "created")));
        assert!(
            world.wakeups.is_empty(),
            "the store still holds the old list"
        );
        feed(watcher::Event::InitDone);
        assert_eq!(indexed(&world), ["a/kept", "b/created"]);
        assert_eq!(world.wakeups.len(), 2, "each listed ticket is looked at");
    }
}
