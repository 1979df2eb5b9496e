//! The running operator: caches, controllers, the routing publisher, leader
//! election, and the health server. A thin shell: every decision is made by
//! the pure core ([`crate::deadline`], [`crate::routing`]).

pub mod conditions;
pub mod errors;
pub mod readiness;
pub mod routing;
pub mod ticket;
pub mod workspace;
pub mod world;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};

use crate::api::{SlaPolicy, SupportTier, Ticket, Workspace};
use crate::health::Health;
use crate::metrics::Metrics;
use world::{Kind, World};

/// What can go wrong while reconciling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("object has no {0}")]
    MissingField(&'static str),
    #[error("cannot serialize: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("leader election: {0}")]
    Lease(String),
    #[error("lost the leader lease")]
    LostLease,
}

impl Error {
    /// What a person reads in a condition or Event: the API server's own
    /// message rather than the client's debug dump of it.
    pub fn message(&self) -> String {
        match self {
            Error::Kube(kube::Error::Api(status)) => {
                format!(
                    "the API server refused: {} (HTTP {})",
                    status.message, status.code
                )
            }
            other => other.to_string(),
        }
    }

    /// A CamelCase reason for metrics, conditions and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(kube::Error::Api(e)) if e.code == 409 => "Conflict",
            Error::Kube(kube::Error::Api(e)) if e.code == 403 => "Forbidden",
            Error::Kube(kube::Error::Api(e)) if e.code == 422 => "Invalid",
            Error::Kube(_) => "ApiError",
            Error::MissingField(_) => "MissingField",
            Error::Serialize(_) => "SerializationFailed",
            Error::Lease(_) | Error::LostLease => "LeaderElection",
        }
    }
}

/// Settings of `support-operator run`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Namespace of the operator: `support-routing` and the lease live here.
    pub namespace: String,
    pub health_addr: SocketAddr,
    pub leader_election: bool,
    pub lease_name: String,
    /// This replica's name in the lease and in Events.
    pub identity: String,
    pub default_workspace: Option<DefaultWorkspace>,
    /// Domains whose accounts are personal (consumer) accounts.
    pub personal_domains: Vec<String>,
    /// Quiet time before the routing table is recompiled after a change.
    pub routing_debounce: Duration,
    pub ticket_concurrency: u16,
}

/// The workspace kept in existence, created if missing.
#[derive(Debug, Clone)]
pub struct DefaultWorkspace {
    pub name: String,
    pub namespace: String,
    pub tier: String,
}

/// What every reconcile gets.
pub struct Context {
    pub client: Client,
    pub world: Arc<World>,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub settings: Settings,
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// Exponential backoff per object: 1 s, 2 s, 4 s … 5 min; reset on
    /// success. Also returns which failure in a row this is.
    fn backoff(&self, key: String) -> (Duration, u32) {
        let Ok(mut failures) = self.failures.lock() else {
            return (Duration::from_secs(5), 1);
        };
        let n = failures.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        (backoff_delay(*n), *n)
    }

    /// Forgets an object's failures; whether there were any.
    fn succeeded(&self, key: &str) -> bool {
        match self.failures.lock() {
            Ok(mut failures) => failures.remove(key).is_some(),
            Err(_) => false,
        }
    }
}

/// How watches retry: 250 ms doubling to 5 s, reset by the next event.
/// kube's default (800 ms doubling to 30 s, reset only after 120 s) made
/// recovery from a kube-apiserver restart take about twice the outage: the
/// first relist after the restart also fails (410 Expired), and the wait
/// grows (tests/faults measured 17–30 s after a 14 s outage). A relist is
/// cheap next to missing a change for half a minute.
#[derive(Debug, Clone, Default)]
pub struct WatchBackoff {
    next: Option<Duration>,
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next.unwrap_or(Duration::from_millis(250));
        self.next = Some((delay * 2).min(Duration::from_secs(5)));
        Some(delay)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = None;
    }
}

/// Requeue at `next` (rule 10), or wait for a change when nothing is due.
pub fn requeue_at(next: Option<Timestamp>, now: Timestamp) -> Action {
    match next {
        Some(at) => {
            let millis = at
                .as_millisecond()
                .saturating_sub(now.as_millisecond())
                .max(0);
            Action::requeue(Duration::from_millis(millis as u64))
        }
        None => Action::await_change(),
    }
}

/// The delay before the `n`th retry in a row (n ≥ 1): 1 s doubling to 5 min.
pub fn backoff_delay(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(9)).min(Duration::from_secs(300))
}

/// Per-object backoff, and the error made visible on the object: an Event
/// each time (the recorder folds repeats into a series) and the `Reconciled`
/// condition at the first failure of a run (see [`errors`]).
fn error_policy<K: Resource<DynamicType = ()> + Send + Sync + 'static>(
    controller: &'static str,
) -> impl Fn(Arc<K>, &Error, Arc<Context>) -> Action {
    move |obj, error, ctx| {
        let key = format!("{controller}/{}", ObjectRef::from(obj.as_ref()));
        let reason = error.reason();
        ctx.metrics.error(controller, reason);
        let (delay, attempt) = ctx.backoff(key.clone());
        tracing::warn!(%controller, object = %key, error = %error, attempt, retry_in = ?delay, "reconcile failed");
        if attempt == 1 || attempt.is_power_of_two() {
            tokio::spawn(errors::surface(ctx, obj, reason, error.message()));
        }
        Action::requeue(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_object_backoff_doubles_from_one_second_to_five_minutes() {
        let delays: Vec<u64> = (1..=12).map(|n| backoff_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    }

    #[test]
    fn watches_retry_from_a_quarter_second_up_to_five_and_start_over_on_reset() {
        use kube::runtime::utils::Backoff;
        let mut b = WatchBackoff::default();
        let first: Vec<u128> = b.by_ref().take(7).map(|d| d.as_millis()).collect();
        assert_eq!(first, [250, 500, 1000, 2000, 4000, 5000, 5000]);
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(250)));
    }
}

/// Runs the operator until SIGTERM/SIGINT.
pub async fn run(settings: Settings) -> Result<(), Error> {
    let client = Client::try_default().await?;
    let metrics = Arc::new(Metrics::default());
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
        let leadership =
            crate::leader::acquire(client.clone(), &settings, shutdown.clone()).await?;
        let Some(mut lost) = leadership else {
            tracing::info!("shut down before becoming leader");
            let _ = server.await;
            return Ok(());
        };
        health.leader.store(true, Ordering::Relaxed);
        tokio::select! {
            result = controllers(client, settings, metrics, health.clone(), shutdown.clone()) => result?,
            _ = lost.wait() => {
                tracing::error!("lost the leader lease; exiting so that another replica takes over");
                shutdown.trigger();
                return Err(Error::LostLease);
            }
        }
    } else {
        health.leader.store(true, Ordering::Relaxed);
        controllers(client, settings, metrics, health, shutdown.clone()).await?;
    }
    let _ = server.await;
    Ok(())
}

/// A one-shot broadcast of "stop": SIGTERM, SIGINT or a lost lease.
#[derive(Clone)]
pub struct Shutdown(Arc<tokio::sync::watch::Sender<bool>>);

impl Shutdown {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }

    pub async fn wait(self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

fn shutdown_signal() -> Shutdown {
    let (tx, _) = tokio::sync::watch::channel(false);
    let shutdown = Shutdown(Arc::new(tx));
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        tracing::info!("shutting down");
        trigger.trigger();
    });
    shutdown
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
    ];
    // No ticket is judged against a half-loaded world.
    let ready = async {
        let _ = world.policies.wait_until_ready().await;
        let _ = world.tiers.wait_until_ready().await;
        let _ = world.workspaces.wait_until_ready().await;
    };
    tokio::select! {
        _ = ready => {}
        _ = shutdown.clone().wait() => return Ok(()),
    }
    tracing::info!("caches of policies, tiers and workspaces are synced");

    // Tickets: one watch feeds the cache, the index and the controller.
    let (ticket_store, ticket_writer) = kube::runtime::reflector::store::<Ticket>();
    let index_world = world.clone();
    let index_metrics = metrics.clone();
    let ticket_stream = watcher(
        Api::<Ticket>::all(client.clone()),
        watcher::Config::default(),
    )
    .backoff(WatchBackoff::default())
    .modify(|t| t.managed_fields_mut().clear())
    .reflect(ticket_writer)
    .inspect(move |event| {
        if let Ok(event) = event {
            index_ticket_event(&index_world, &index_metrics, event);
        }
    })
    .applied_objects();

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

    let workspace_controller =
        workspace::controller(ctx.clone(), receivers.workspaces, shutdown.clone());
    let policy_controller =
        readiness::policy_controller(ctx.clone(), receivers.policies, shutdown.clone());
    let tier_controller =
        readiness::tier_controller(ctx.clone(), receivers.tiers, shutdown.clone());
    let publisher = routing::publish(ctx.clone(), shutdown.clone());
    let default_workspace = workspace::keep_default(ctx.clone(), shutdown.clone());

    health.ready.store(true, Ordering::Relaxed);
    tracing::info!("controllers running");
    tokio::join!(
        ticket_controller,
        workspace_controller,
        policy_controller,
        tier_controller,
        publisher,
        default_workspace
    );
    for w in watches {
        w.abort();
    }
    Ok(())
}

fn index_ticket_event(world: &World, metrics: &Metrics, event: &watcher::Event<Ticket>) {
    let (ticket, deleted) = match event {
        watcher::Event::Apply(t) | watcher::Event::InitApply(t) => (t, false),
        watcher::Event::Delete(t) => (t, true),
        _ => return,
    };
    let moved = match world.index.write() {
        Ok(mut index) => index.update(ticket, deleted),
        Err(_) => false,
    };
    let namespace = ticket.namespace().unwrap_or_default();
    if deleted {
        metrics.set_ticket((namespace.clone(), ticket.name_any()), None);
    }
    if moved {
        world.ticket_moved(&namespace);
    }
}
