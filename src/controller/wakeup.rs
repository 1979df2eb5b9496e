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

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use jiff::Timestamp;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::Notify;

use super::context::Shutdown;
use super::ticket_cache::CachedTicket;

/// The pending wake-ups of tickets.
#[derive(Default)]
pub struct Wakeups {
    inner: Mutex<Inner>,
    /// An earlier wake-up than the one [`Wakeups::run`] sleeps towards.
    earlier: Notify,
}

#[derive(Default)]
struct Inner {
    /// Each ticket's instant (milliseconds since the epoch), by `namespace/name`.
    due: HashMap<Arc<str>, i64>,
    /// The same wake-ups in the order they are due.
    queue: BTreeSet<(i64, Arc<str>)>,
}

impl Wakeups {
    /// Sets (or with `None` clears) when the ticket is next looked at.
    pub fn set(&self, namespace: &str, name: &str, at: Option<Timestamp>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = format!("{namespace}/{name}");
        let kept = match inner.due.remove_entry(key.as_str()) {
            Some((k, old)) => {
                inner.queue.remove(&(old, k.clone()));
                Some(k)
            }
            None => None,
        };
        let Some(at) = at else {
            return;
        };
        let key = kept.unwrap_or_else(|| Arc::from(key));
        let millis = at.as_millisecond();
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

    /// Takes every wake-up due at `now`; the instant of the next one.
    fn take_due(&self, now: i64) -> (Vec<Arc<str>>, Option<i64>) {
        let Ok(mut inner) = self.inner.lock() else {
            return (Vec::new(), None);
        };
        let mut due = Vec::new();
        while let Some((t, _)) = inner.queue.first()
            && *t <= now
        {
            if let Some((_, key)) = inner.queue.pop_first() {
                inner.due.remove(&key);
                due.push(key);
            }
        }
        let next = inner.queue.first().map(|(t, _)| *t);
        (due, next)
    }

    /// Sends each ticket to `tickets` when its wake-up is due, until stopped.
    pub async fn run(&self, tickets: UnboundedSender<ObjectRef<CachedTicket>>, shutdown: Shutdown) {
        loop {
            let (due, next) = self.take_due(Timestamp::now().as_millisecond());
            for key in due {
                if let Some((namespace, name)) = key.split_once('/') {
                    let _ = tickets.unbounded_send(ObjectRef::new(name).within(namespace));
                }
            }
            // With nothing pending, only a new wake-up (or the stop) ends
            // the wait: no timer runs for nothing.
            let next = async {
                match next {
                    Some(t) => {
                        let millis = t.saturating_sub(Timestamp::now().as_millisecond());
                        let millis = u64::try_from(millis).unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(millis)).await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.earlier.notified() => {}
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

    #[test]
    fn a_wake_up_is_replaced_cleared_and_taken_when_due() {
        let w = Wakeups::default();
        w.set("ns", "a", Some(at("2026-12-01T10:00:00Z")));
        w.set("ns", "b", Some(at("2026-12-01T09:00:00Z")));
        w.set("other", "a", Some(at("2026-12-01T11:00:00Z")));
        // Reconciled again: its new instant replaces the old one.
        w.set("ns", "a", Some(at("2026-12-01T12:00:00Z")));
        // Resolved: no wake-up any more.
        w.set("other", "a", None);
        assert_eq!(w.len(), 2);

        let (due, next) = w.take_due(at("2026-12-01T10:30:00Z").as_millisecond());
        assert_eq!(due, vec![Arc::<str>::from("ns/b")]);
        assert_eq!(next, Some(at("2026-12-01T12:00:00Z").as_millisecond()));
        let (due, next) = w.take_due(at("2026-12-01T12:00:00Z").as_millisecond());
        assert_eq!(due, vec![Arc::<str>::from("ns/a")]);
        assert_eq!(next, None);
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
        w.set("ns", "late", Some(at("2026-01-01T00:00:00Z")));
        let soon = Timestamp::now() + jiff::SignedDuration::from_millis(200);
        w.set("ns", "soon", Some(soon));
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
}
