//! What every reconcile shares: the client, the caches, metrics, the Event
//! recorder and settings ([`Context`]); the error type and how a failure is
//! retried (per-object backoff, [`error_policy`]); when to look again
//! ([`requeue_at`]); and the one-shot [`Shutdown`] broadcast.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use kube::Client;
use kube::runtime::controller::Action;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::utils::{Backoff, ResetTimerBackoff};
use kube::runtime::watcher::ExponentialBackoff;

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
    /// What the ticket metrics' `workspace` label holds.
    pub metrics_workspace_label: crate::metrics::WorkspaceLabel,
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
    /// Exponential backoff per object with jitter ([`retry_delay`]: 1–2 s,
    /// 2–4 s … at most 5 min); reset on success. Also returns which failure
    /// in a row this is.
    pub(super) fn backoff(&self, key: String) -> (Duration, u32) {
        let Ok(mut failures) = self.failures.lock() else {
            return (Duration::from_secs(5), 1);
        };
        let n = failures.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        (retry_delay(*n), *n)
    }

    /// Forgets an object's failures; whether there were any.
    pub(super) fn succeeded(&self, key: &str) -> bool {
        match self.failures.lock() {
            Ok(mut failures) => failures.remove(key).is_some(),
            Err(_) => false,
        }
    }
}

/// First delay of a watch that fails, before jitter.
pub const WATCH_RETRY_MIN: Duration = Duration::from_millis(500);
/// Longest delay between two attempts of a watch, before jitter (so at most
/// twice this with it).
pub const WATCH_RETRY_MAX: Duration = Duration::from_secs(5);
/// A watch's delay starts over from [`WATCH_RETRY_MIN`] only after it has
/// gone this long without an error.
pub const WATCH_HEALTHY_PERIOD: Duration = Duration::from_secs(60);

/// How every watch retries: 0.5 s doubling to 5 s, each delay stretched
/// by a random 0–100 % (kube-runtime's `ExponentialBackoff` from a `backon`
/// builder with jitter, as its `DefaultBackoff` does), and started over only
/// after [`WATCH_HEALTHY_PERIOD`] without an error (kube-runtime's
/// `ResetTimerBackoff`).
///
/// Why not `WatchStreamExt::default_backoff()` as it is: `StreamBackoff`
/// calls `reset()` on every `Ok` item, and the watcher yields `Ok(Init)`
/// before each relist attempt, so during an outage every attempt starts from
/// the first delay again and the delay never grows (the retry storm of issue
/// 13: every watch every 250 ms with the former own backoff, every
/// 0.8–1.6 s with `DefaultBackoff`; `stream_backoff_resets_on_init` below
/// shows it). Here `reset()` does nothing: only a healthy period resets.
///
/// The bounds are tighter than `DefaultBackoff`'s (0.8 s to 30 s, reset
/// after 120 s): a watch that waits 30 s after kube-apiserver is back
/// misses changes for that long, and after a restart the first answer to a
/// resumed watch is `410 Expired`, which costs a second delay before the
/// relist (tests/faults measured 17–30 s of recovery after a 14 s outage
/// with those bounds, 52 s after a 30 s outage with a 10 s cap). With these
/// a watch waits at most 10 s per attempt, and an outage costs each watch
/// at most eight requests in its first 30 s, then one every 5–10 s
/// (docs/reliability.md has the measured figures).
pub struct WatchBackoff(ResetTimerBackoff<ExponentialBackoff>);

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff::with_healthy_period(WATCH_HEALTHY_PERIOD)
    }
}

impl WatchBackoff {
    /// The backoff, reset after `healthy` without an error.
    pub fn with_healthy_period(healthy: Duration) -> Self {
        let delays = backon::ExponentialBuilder::default()
            .with_min_delay(WATCH_RETRY_MIN)
            .with_max_delay(WATCH_RETRY_MAX)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        WatchBackoff(ResetTimerBackoff::new(
            ExponentialBackoff::from(delays),
            healthy,
        ))
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.0.next()
    }
}

impl Backoff for WatchBackoff {
    /// Deliberately nothing: see the type's documentation.
    fn reset(&mut self) {}
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

/// Longest base delay between two retries of one object; with jitter a
/// retry waits at most twice this (5 min).
pub const RETRY_MAX: Duration = Duration::from_secs(150);

/// The base delay before the `n`th retry in a row of one object (n ≥ 1):
/// 1 s doubling to [`RETRY_MAX`].
pub fn backoff_delay(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(9)).min(RETRY_MAX)
}

/// The delay before the `n`th retry in a row of one object: the base delay
/// `d` of [`backoff_delay`] stretched to a random point of `[d, 2d)` (the
/// jitter kube-runtime's watch backoff uses), so that objects that failed
/// together (an API server outage) do not retry together.
pub fn retry_delay(n: u32) -> Duration {
    let base = backoff_delay(n);
    base + base.mul_f64(random_fraction())
}

/// A number in `[0, 1)`, different at each call: the standard library's
/// randomly keyed hasher (a new key per `RandomState`) over a counter.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let bits = RandomState::new().hash_one(CALLS.fetch_add(1, Ordering::Relaxed));
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Per-object backoff, and the error made visible on the object: an Event
/// each time (the recorder folds repeats into a series) and the `Reconciled`
/// condition at the first failure of a run (see [`errors`]).
pub fn error_policy<K: errors::Regarding + Send + Sync + 'static>(
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
    fn per_object_backoff_doubles_from_one_second_with_jitter_and_stays_under_five_minutes() {
        let bases: Vec<u64> = (1..=12).map(|n| backoff_delay(n).as_secs()).collect();
        assert_eq!(bases, [1, 2, 4, 8, 16, 32, 64, 128, 150, 150, 150, 150]);
        let mut distinct = std::collections::HashSet::new();
        for n in 1..=12 {
            for _ in 0..50 {
                let d = retry_delay(n);
                let base = backoff_delay(n);
                assert!(
                    d >= base && d < base * 2,
                    "retry {n}: {d:?} not in [{base:?}, 2x)"
                );
                assert!(d < Duration::from_secs(300));
                distinct.insert(d);
            }
        }
        assert!(
            distinct.len() > 500,
            "jitter: only {} distinct delays of 600",
            distinct.len()
        );
    }

    /// Runs a stream that yields, `attempts` times, `Ok` and then an error
    /// (what kube-runtime's watcher does while its relist fails: `Ok(Init)`,
    /// then the list's error) through `StreamBackoff` with `backoff` in a
    /// recorder; gives the delays asked for, with `None` for each reset.
    fn calls_through_outage<B: Backoff>(backoff: B, attempts: usize) -> Vec<Option<Duration>> {
        use futures::StreamExt;
        use kube::runtime::utils::StreamBackoff;
        use std::sync::{Arc, Mutex};
        struct Recorder<B>(B, Arc<Mutex<Vec<Option<Duration>>>>);
        impl<B: Backoff> Iterator for Recorder<B> {
            type Item = Duration;
            fn next(&mut self) -> Option<Duration> {
                let d = self.0.next();
                self.1.lock().unwrap().push(d);
                // The stream really waits nothing: only the delays matter.
                d.map(|_| Duration::ZERO)
            }
        }
        impl<B: Backoff> Backoff for Recorder<B> {
            fn reset(&mut self) {
                self.0.reset();
                self.1.lock().unwrap().push(None);
            }
        }
        let calls = Arc::new(Mutex::new(Vec::new()));
        let items = (0..attempts).flat_map(|_| [Ok(()), Err(())]);
        let stream = StreamBackoff::new(
            futures::stream::iter(items),
            Recorder(backoff, calls.clone()),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(stream.for_each(|_| async {}));
        calls.lock().unwrap().clone()
    }

    /// The reason for [`WatchBackoff`]: `StreamBackoff` resets its backoff
    /// on the `Ok` the watcher yields before each attempt, so kube-runtime's
    /// default backoff never waits more than its first delay (0.8–1.6 s)
    /// however long the outage.
    #[test]
    fn stream_backoff_resets_on_init() {
        let calls = calls_through_outage(kube::runtime::watcher::DefaultBackoff::default(), 12);
        // 12 × (reset on `Ok`, delay after the error), and a reset at the end.
        assert_eq!(calls.len(), 25, "{calls:?}");
        for pair in calls[..24].chunks(2) {
            assert_eq!(pair[0], None, "a reset before each attempt: {calls:?}");
            let d = pair[1].unwrap();
            assert!(d < Duration::from_millis(1600), "{calls:?}");
        }
    }

    #[test]
    fn watches_back_off_through_an_outage() {
        let calls = calls_through_outage(WatchBackoff::default(), 12);
        let delays: Vec<Duration> = calls.into_iter().flatten().collect();
        assert_eq!(delays.len(), 12, "each attempt asks for a delay");
        // 0.5 s doubling to 5 s, each stretched by 0-100 %.
        let mut base = WATCH_RETRY_MIN;
        for d in &delays {
            assert!(*d >= base && *d < base * 2, "{delays:?}");
            base = (base * 2).min(WATCH_RETRY_MAX);
        }
        assert!(delays.iter().sum::<Duration>() > Duration::from_secs(40));
    }

    #[test]
    fn watch_backoff_starts_over_only_after_a_healthy_period() {
        let healthy = Duration::from_millis(300);
        let mut b = WatchBackoff::with_healthy_period(healthy);
        for _ in 0..6 {
            b.next();
        }
        b.reset();
        assert!(
            b.next().unwrap() >= WATCH_RETRY_MAX,
            "reset() alone does not"
        );
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            b.next().unwrap() >= WATCH_RETRY_MAX,
            "nor a short quiet time"
        );
        std::thread::sleep(healthy + Duration::from_millis(50));
        assert!(b.next().unwrap() < WATCH_RETRY_MIN * 2);
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
