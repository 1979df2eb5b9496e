//! What every reconcile shares: the client, the caches, metrics, the Event
//! recorder and settings ([`Context`]); the error type and how a failure is
//! retried (per-object backoff, [`error_policy`]); when to look again
//! ([`requeue_at`]); and the one-shot [`Shutdown`] broadcast.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::ObjectRef;
use kube::{Client, Resource};

use super::errors;
use super::world::World;
use crate::metrics::Metrics;

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
    /// How long a lease lasts, and how long before its end the leader renews it.
    pub lease_duration_seconds: u64,
    pub lease_renew_grace_seconds: u64,
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
    pub(super) failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// Exponential backoff per object: 1 s, 2 s, 4 s … 5 min; reset on
    /// success. Also returns which failure in a row this is.
    pub(super) fn backoff(&self, key: String) -> (Duration, u32) {
        let Ok(mut failures) = self.failures.lock() else {
            return (Duration::from_secs(5), 1);
        };
        let n = failures.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        (backoff_delay(*n), *n)
    }

    /// Forgets an object's failures; whether there were any.
    pub(super) fn succeeded(&self, key: &str) -> bool {
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
pub fn error_policy<K: Resource<DynamicType = ()> + Send + Sync + 'static>(
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

/// A one-shot broadcast of "stop": SIGTERM, SIGINT or a lost lease.
#[derive(Clone)]
pub struct Shutdown(Arc<tokio::sync::watch::Sender<bool>>);

impl Shutdown {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }

    /// Whether stop was asked: checked before starting any new write.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    pub async fn wait(self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

pub(super) fn shutdown_signal() -> Shutdown {
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
