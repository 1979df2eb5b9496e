//! When each ticket is next looked at (rule 10: exactly when its status will
//! next change), kept compactly.
//!
//! Every open ticket has such an instant, so at 50,000 tickets this is one of
//! the larger things the operator holds. Returned to kube-runtime as
//! `Action::requeue`, each wake-up sat in the controller's scheduler as two
//! copies of a reconcile request (its object reference with name, namespace,
//! uid and resourceVersion, and a reason) plus a delay-queue slot: about
//! 880 bytes per ticket in a heap profile. Here a wake-up is one shared
//! `namespace/name` key and an instant, in a map and an ordered set (about a
//! tenth of that); when it is due the ticket is sent through the same
//! trigger channel as every other reason to look at it
//! ([`super::world::Triggers::tickets`]). A ticket reconciled again gets the
//! instant that reconcile computed (the old one is dropped); a deleted or
//! resolved ticket has none. A wake-up of a ticket that is gone is ignored
//! by the controller (it is no longer in the cache).
//!
//! Every other reason to look at a ticket again that reaches many tickets at
//! once (a policy, tier, publisher or namespace change, and each ticket the
//! watch lists at start or after a relist) is a wake-up due now, and only
//! [`HANDED`] tickets at a time are handed to the controller and not yet
//! begun: the controller's scheduler would otherwise hold a request for
//! every ticket at once (two copies of its reference and a delay-queue slot,
//! about 440 bytes each, 22 MB at 50,000 tickets; measured at that size the
//! hand lowered the resident set's peaks by 6 to 10 MiB). A reconcile that
//! begins makes room for the next. A ticket's pending wake-up is dropped
//! when its reconcile begins, and the instant that reconcile computes is
//! kept only if nothing earlier was asked meanwhile (a change that arrives
//! during a reconcile which read the world before it is looked at again).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use jiff::Timestamp;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::Notify;

use super::context::Shutdown;
use super::ticket_cache::CachedTicket;

/// Tickets handed to the controller and not yet begun, at most: enough to
/// keep any reconcile concurrency busy (each that begins makes room for the
/// next), few enough that the scheduler's copies stay under a megabyte.
pub const HANDED: usize = 1_000;

/// A handed ticket whose reconcile has not begun after this long (it was
/// deleted meanwhile, or the cache is still listing) no longer holds room.
const HANDED_FOR: Duration = Duration::from_secs(30);

/// The pending wake-ups of tickets.
#[derive(Default)]
pub struct Wakeups {
    inner: Mutex<Inner>,
    /// An earlier wake-up than the one [`Wakeups::run`] sleeps towards.
    earlier: Notify,
    /// Room among the handed tickets.
    room: Notify,
}

#[derive(Default)]
struct Inner {
    /// Each ticket's instant (milliseconds since the epoch), by `namespace/name`.
    due: HashMap<Arc<str>, i64>,
    /// The same wake-ups in the order they are due.
    queue: BTreeSet<(i64, Arc<str>)>,
    /// Tickets handed to the controller and not yet begun, with when
    /// (milliseconds since the epoch).
    handed: HashMap<Arc<str>, i64>,
    /// The handed were at most since they were last all begun: a burst,
    /// whose memory is handed back when it ends ([`super::memory`]).
    burst: bool,
}

impl Inner {
    /// Whether a burst just ended (nothing handed any more); it is over.
    fn end_of_burst(&mut self) -> bool {
        let ended = self.burst && self.handed.is_empty();
        if ended {
            self.burst = false;
        }
        ended
    }

    fn remove(&mut self, key: &str) -> Option<Arc<str>> {
        let (k, old) = self.due.remove_entry(key)?;
        self.queue.remove(&(old, k.clone()));
        Some(k)
    }
}

impl Wakeups {
    /// Looks at the ticket as soon as there is room: something it depends on
    /// changed (or it was just listed).
    pub fn look_now(&self, namespace: &str, name: &str) {
        self.put(namespace, name, Some(Timestamp::now()));
    }

    /// Its reconcile begins: what was pending for it is what this reconcile
    /// does, and it no longer holds room among the handed.
    pub fn begin(&self, namespace: &str, name: &str) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = format!("{namespace}/{name}");
        inner.remove(&key);
        self.unhand(inner, &key);
    }

    /// The ticket no longer holds room among the handed: [`Wakeups::run`]
    /// may hand the next (it waits for this only while the hand is full).
    fn unhand(&self, mut inner: std::sync::MutexGuard<'_, Inner>, key: &str) {
        if inner.handed.remove(key).is_none() {
            return;
        }
        let ended = inner.end_of_burst();
        drop(inner);
        self.room.notify_one();
        if ended {
            super::memory::release_freed();
        }
    }

    /// Its reconcile computed `at` as the next instant that matters (rule
    /// 10; `None`: there is none). A wake-up asked since it began is
    /// earlier and stays.
    pub fn finish(&self, namespace: &str, name: &str, at: Option<Timestamp>) {
        self.put(namespace, name, at);
    }

    /// The ticket is gone.
    pub fn forget(&self, namespace: &str, name: &str) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = format!("{namespace}/{name}");
        inner.remove(&key);
        self.unhand(inner, &key);
    }

    /// Keeps the earlier of the ticket's pending wake-up and `at`.
    fn put(&self, namespace: &str, name: &str, at: Option<Timestamp>) {
        let Some(at) = at else {
            return;
        };
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let millis = at.as_millisecond();
        let key = format!("{namespace}/{name}");
        if inner.due.get(key.as_str()).is_some_and(|t| *t <= millis) {
            return;
        }
        let key = inner.remove(&key).unwrap_or_else(|| Arc::from(key));
        let first = inner.queue.first().is_none_or(|(t, _)| millis < *t);
        inner.due.insert(key.clone(), millis);
        inner.queue.insert((millis, key));
        drop(inner);
        if first {
            self.earlier.notify_one();
        }
    }

    /// How many tickets have a wake-up.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.due.len())
    }

    /// Whether no ticket has a wake-up.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the wake-ups due at `now` that there is room to hand over;
    /// the instant of the next one, and whether the handed are at most.
    fn take_due(&self, now: i64) -> (Vec<Arc<str>>, Option<i64>, bool) {
        let Ok(mut inner) = self.inner.lock() else {
            return (Vec::new(), None, false);
        };
        // Handed tickets that never began (deleted before their turn) give
        // their room back, and end a burst they alone kept open.
        let stale = now.saturating_sub(HANDED_FOR.as_millis() as i64);
        let before = inner.handed.len();
        inner.handed.retain(|_, at| *at > stale);
        if inner.handed.len() < before && inner.end_of_burst() {
            super::memory::release_freed();
        }
        let mut due = Vec::new();
        while inner.handed.len() < HANDED
            && let Some((t, _)) = inner.queue.first()
            && *t <= now
        {
            if let Some((_, key)) = inner.queue.pop_first() {
                inner.due.remove(&key);
                inner.handed.insert(key.clone(), now);
                due.push(key);
            }
        }
        let next = inner.queue.first().map(|(t, _)| *t);
        let full = inner.handed.len() >= HANDED;
        inner.burst |= full;
        (due, next, full)
    }

    /// Sends each ticket to `tickets` when its wake-up is due and there is
    /// room, until stopped.
    pub async fn run(&self, tickets: UnboundedSender<ObjectRef<CachedTicket>>, shutdown: Shutdown) {
        loop {
            let (due, next, full) = self.take_due(Timestamp::now().as_millisecond());
            for key in due {
                if let Some((namespace, name)) = key.split_once('/') {
                    let _ = tickets.unbounded_send(ObjectRef::new(name).within(namespace));
                }
            }
            // With nothing pending, only a new wake-up (or the stop) ends
            // the wait: no timer runs for nothing. With no room, a reconcile
            // that begins ends it (or handed tickets that never begin
            // expire).
            let next = async {
                let wait = match next {
                    _ if full => HANDED_FOR,
                    Some(t) => {
                        let millis = t.saturating_sub(Timestamp::now().as_millisecond());
                        Duration::from_millis(u64::try_from(millis).unwrap_or(0))
                    }
                    None => return std::future::pending().await,
                };
                tokio::time::sleep(wait).await;
            };
            tokio::select! {
                _ = self.earlier.notified(), if !full => {}
                _ = self.room.notified(), if full => {}
                _ = next => {}
                _ = shutdown.clone().wait() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn now() -> i64 {
        Timestamp::now().as_millisecond()
    }

    #[test]
    fn a_wake_up_is_replaced_by_the_next_reconcile_cleared_and_taken_when_due() {
        let w = Wakeups::default();
        w.finish("ns", "a", Some(at("2026-12-01T10:00:00Z")));
        w.finish("ns", "b", Some(at("2026-12-01T09:00:00Z")));
        w.finish("other", "a", Some(at("2026-12-01T11:00:00Z")));
        // Reconciled again: its new instant replaces the old one.
        w.begin("ns", "a");
        w.finish("ns", "a", Some(at("2026-12-01T12:00:00Z")));
        // Resolved: no wake-up any more.
        w.begin("other", "a");
        w.finish("other", "a", None);
        assert_eq!(w.len(), 2);

        let (due, next, full) = w.take_due(at("2026-12-01T10:30:00Z").as_millisecond());
        assert_eq!(due, vec![Arc::<str>::from("ns/b")]);
        assert_eq!(next, Some(at("2026-12-01T12:00:00Z").as_millisecond()));
        assert!(!full);
        let (due, next, _) = w.take_due(at("2026-12-01T12:00:00Z").as_millisecond());
        assert_eq!(due, vec![Arc::<str>::from("ns/a")]);
        assert_eq!(next, None);
        assert!(w.is_empty());
    }

    /// A change that arrives while a reconcile runs (which read the world
    /// before it) wakes the ticket again; the reconcile's own instant does
    /// not replace it.
    #[test]
    fn a_change_during_a_reconcile_is_not_lost() {
        let w = Wakeups::default();
        w.finish("ns", "x", Some(at("2099-01-01T00:00:00Z")));
        w.begin("ns", "x");
        assert!(w.is_empty(), "what was pending is what this reconcile does");
        w.look_now("ns", "x");
        w.finish("ns", "x", Some(at("2099-01-01T00:00:00Z")));
        let (due, _, _) = w.take_due(now());
        assert_eq!(due, vec![Arc::<str>::from("ns/x")]);
        // And without a change meanwhile, the reconcile's instant is kept.
        w.begin("ns", "x");
        w.finish("ns", "x", Some(at("2099-01-01T00:00:00Z")));
        assert_eq!(w.take_due(now()).0, Vec::<Arc<str>>::new());
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn at_most_handed_tickets_are_out_until_their_reconciles_begin() {
        let w = Wakeups::default();
        for i in 0..HANDED + 5 {
            w.look_now("ns", &format!("t{i}"));
        }
        let (due, _, full) = w.take_due(now());
        assert_eq!(due.len(), HANDED);
        assert!(full);
        assert_eq!(w.take_due(now()).0.len(), 0, "no room");
        // One begins, one is deleted: room for two.
        w.begin("ns", &due[0][3..]);
        w.forget("ns", &due[1][3..]);
        let (more, _, full) = w.take_due(now());
        assert_eq!(more.len(), 2);
        assert!(full);
        // Handed ones that never begin stop holding room after a while.
        let later = now() + HANDED_FOR.as_millis() as i64 + 1;
        let (rest, next, full) = w.take_due(later);
        assert_eq!(rest.len(), 3);
        assert_eq!(next, None);
        assert!(!full);
        assert!(w.is_empty());
    }

    #[tokio::test]
    async fn a_due_ticket_is_sent_to_the_controller() {
        let w = Arc::new(Wakeups::default());
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        let shutdown = super::super::context::shutdown_signal();
        let runner = tokio::spawn({
            let w = w.clone();
            let shutdown = shutdown.clone();
            async move { w.run(tx, shutdown).await }
        });
        // Already due (a deadline in the past), then one a moment from now.
        w.finish("ns", "late", Some(at("2026-01-01T00:00:00Z")));
        let soon = Timestamp::now() + jiff::SignedDuration::from_millis(200);
        w.finish("ns", "soon", Some(soon));
        use futures::StreamExt;
        let first = rx.next().await.unwrap();
        assert_eq!(
            (first.name.as_str(), first.namespace.as_deref()),
            ("late", Some("ns"))
        );
        let second = rx.next().await.unwrap();
        assert_eq!(second.name, "soon");
        assert!(Timestamp::now() >= soon);
        shutdown.trigger();
        runner.await.unwrap();
    }

    /// The end of a burst (the hand was full, and every handed ticket has
    /// begun) is when freed memory is handed back (controller::memory).
    #[test]
    fn a_burst_ends_when_every_handed_ticket_has_begun() {
        let w = Wakeups::default();
        let burst = |w: &Wakeups| w.inner.lock().unwrap().burst;
        w.look_now("ns", "one");
        let (due, _, full) = w.take_due(now());
        assert!(!full && !burst(&w), "one ticket is no burst");
        w.begin("ns", &due[0][3..]);
        for i in 0..HANDED {
            w.look_now("ns", &format!("t{i}"));
        }
        let (due, _, _) = w.take_due(now());
        assert!(burst(&w));
        for key in &due[..HANDED - 1] {
            w.begin("ns", &key[3..]);
        }
        assert!(burst(&w), "one is still out");
        w.begin("ns", &due[HANDED - 1][3..]);
        assert!(!burst(&w));

        // A burst whose last handed ticket never begins (it was deleted
        // before its turn) ends when that one expires.
        for i in 0..HANDED {
            w.look_now("ns", &format!("u{i}"));
        }
        let (due, _, _) = w.take_due(now());
        for key in &due[1..] {
            w.begin("ns", &key[3..]);
        }
        assert!(burst(&w));
        w.take_due(now() + HANDED_FOR.as_millis() as i64 + 1);
        assert!(!burst(&w), "the one that never began expired");
    }

    #[tokio::test]
    async fn a_full_hand_goes_on_when_a_reconcile_begins() {
        full_hand_goes_on(|w, name| w.begin("ns", name)).await;
    }

    /// A handed ticket deleted before its turn makes room at once, not when
    /// its hand expires.
    #[tokio::test]
    async fn a_full_hand_goes_on_when_a_handed_ticket_is_deleted() {
        full_hand_goes_on(|w, name| w.forget("ns", name)).await;
    }

    /// Hands one ticket more than fits, lets `release` free the first
    /// handed one, and expects the last well before [`HANDED_FOR`].
    async fn full_hand_goes_on(release: impl Fn(&Wakeups, &str)) {
        let w = Arc::new(Wakeups::default());
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        let shutdown = super::super::context::shutdown_signal();
        for i in 0..=HANDED {
            w.look_now("ns", &format!("t{i:05}"));
        }
        let runner = tokio::spawn({
            let w = w.clone();
            let shutdown = shutdown.clone();
            async move { w.run(tx, shutdown).await }
        });
        use futures::StreamExt;
        let mut first = None;
        for _ in 0..HANDED {
            let r = rx.next().await.unwrap();
            first.get_or_insert(r.name);
        }
        let wait = Duration::from_millis(300);
        assert!(
            tokio::time::timeout(wait, rx.next()).await.is_err(),
            "nothing more while the hand is full"
        );
        release(&w, &first.unwrap());
        let last = tokio::time::timeout(Duration::from_secs(5), rx.next()).await;
        assert!(matches!(last, Ok(Some(_))), "the last one follows");
        shutdown.trigger();
        runner.await.unwrap();
    }
}
