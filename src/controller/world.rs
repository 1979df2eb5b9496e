//! The operator's view of the cluster: caches of policies, tiers and
//! workspaces, a ticket index, and the fan-out of triggers.
//!
//! One watch per kind feeds a cache; only after the cache holds the new
//! object are the controllers told which objects it affects, so a reconcile
//! never sees an older world than the change that woke it. Tickets are found
//! through [`TicketIndex`] (by namespace, by explicit tier and by the
//! publisher they name), never by
//! relisting or scanning every ticket.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use tokio::sync::Notify;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::core::PartialObjectMeta;

use super::ticket_cache::CachedTicket;
use super::workspace::WORKSPACE_LABEL;
use crate::api::{Phase, Publisher, SlaPolicy, SupportTier, Workspace};
use crate::catalog::{Catalog, NamespaceLabels};

/// A ticket's key: (namespace, name).
pub type TicketKey = (String, String);

/// Where tickets are, for finding the ones a change affects.
#[derive(Default, Debug)]
pub struct TicketIndex {
    /// Every ticket by namespace, with its phase: one entry per ticket
    /// (the index is per ticket, so it keeps no second key for the phase).
    by_namespace: HashMap<String, BTreeMap<String, Option<Phase>>>,
    by_explicit_tier: HashMap<String, BTreeSet<TicketKey>>,
    explicit_tier: HashMap<TicketKey, String>,
    /// Tickets by the Publisher their `spec.product.publisher` names.
    by_publisher: HashMap<String, BTreeSet<TicketKey>>,
    publisher: HashMap<TicketKey, String>,
}

impl TicketIndex {
    /// Records a ticket; true when its phase changed. A deleted one goes
    /// through [`TicketIndex::remove`].
    pub fn update(&mut self, ticket: &CachedTicket) -> bool {
        let key = (ticket.namespace().unwrap_or_default(), ticket.name_any());
        self.unlink(&key);
        if let Some(tier) = &ticket.spec.tier {
            self.by_explicit_tier
                .entry(tier.clone())
                .or_default()
                .insert(key.clone());
            self.explicit_tier.insert(key.clone(), tier.clone());
        }
        if let Some(publisher) = ticket
            .spec
            .product
            .as_ref()
            .and_then(|p| p.publisher.as_ref())
        {
            self.by_publisher
                .entry(publisher.clone())
                .or_default()
                .insert(key.clone());
            self.publisher.insert(key.clone(), publisher.clone());
        }
        let phase = ticket.phase();
        let (namespace, name) = key;
        self.by_namespace
            .entry(namespace)
            .or_default()
            .insert(name, phase)
            .flatten()
            != phase
    }

    /// Forgets a ticket; true when it had a phase (its workspace's counts
    /// change).
    pub fn remove(&mut self, key: &TicketKey) -> bool {
        self.unlink(key);
        let Some(names) = self.by_namespace.get_mut(&key.0) else {
            return false;
        };
        let phase = names.remove(&key.1);
        if names.is_empty() {
            self.by_namespace.remove(&key.0);
        }
        phase.flatten().is_some()
    }

    /// Takes the ticket out of the tier and publisher maps.
    fn unlink(&mut self, key: &TicketKey) {
        if let Some(old) = self.explicit_tier.remove(key)
            && let Some(set) = self.by_explicit_tier.get_mut(&old)
        {
            set.remove(key);
            if set.is_empty() {
                self.by_explicit_tier.remove(&old);
            }
        }
        if let Some(old) = self.publisher.remove(key)
            && let Some(set) = self.by_publisher.get_mut(&old)
        {
            set.remove(key);
            if set.is_empty() {
                self.by_publisher.remove(&old);
            }
        }
    }

    /// Every indexed ticket.
    pub fn keys(&self) -> impl Iterator<Item = (&String, &String)> {
        self.by_namespace
            .iter()
            .flat_map(|(namespace, names)| names.keys().map(move |name| (namespace, name)))
    }

    /// Tickets whose `spec.product.publisher` names this Publisher.
    pub fn naming_publisher(&self, publisher: &str) -> impl Iterator<Item = &TicketKey> {
        self.by_publisher.get(publisher).into_iter().flatten()
    }

    pub fn in_namespace(&self, namespace: &str) -> impl Iterator<Item = &String> {
        self.by_namespace
            .get(namespace)
            .into_iter()
            .flat_map(|n| n.keys())
    }

    pub fn phase(&self, namespace: &str, name: &str) -> Option<Phase> {
        self.by_namespace
            .get(namespace)?
            .get(name)
            .copied()
            .flatten()
    }

    fn explicit_tier(&self, namespace: &str, name: &str) -> Option<&String> {
        self.explicit_tier
            .get(&(namespace.to_string(), name.to_string()))
    }
}

/// Where controllers are told what to look at.
pub struct Triggers {
    /// Only [`super::wakeup::Wakeups::run`] sends here: every other reason
    /// to look at a ticket goes through the wake-ups, which hand tickets
    /// over a bounded number at a time.
    pub tickets: UnboundedSender<ObjectRef<CachedTicket>>,
    pub workspaces: UnboundedSender<ObjectRef<Workspace>>,
    pub policies: UnboundedSender<ObjectRef<SlaPolicy>>,
    pub tiers: UnboundedSender<ObjectRef<SupportTier>>,
    pub publishers: UnboundedSender<ObjectRef<Publisher>>,
    /// The routing table must be recompiled.
    pub routing: Arc<Notify>,
}

/// The receiving ends, handed to the controllers once.
pub struct Receivers {
    pub tickets: UnboundedReceiver<ObjectRef<CachedTicket>>,
    pub workspaces: UnboundedReceiver<ObjectRef<Workspace>>,
    pub policies: UnboundedReceiver<ObjectRef<SlaPolicy>>,
    pub tiers: UnboundedReceiver<ObjectRef<SupportTier>>,
    pub publishers: UnboundedReceiver<ObjectRef<Publisher>>,
}

/// Writers of the caches, handed to the watch tasks once.
pub struct Writers {
    pub policies: Writer<SlaPolicy>,
    pub tiers: Writer<SupportTier>,
    pub workspaces: Writer<Workspace>,
    pub publishers: Writer<Publisher>,
    pub namespaces: Writer<PartialObjectMeta<Namespace>>,
    pub bindings: Writer<RoleBinding>,
}

pub struct World {
    pub policies: Store<SlaPolicy>,
    pub tiers: Store<SupportTier>,
    pub workspaces: Store<Workspace>,
    pub publishers: Store<Publisher>,
    /// Every namespace, metadata only (labels and ownerReferences): who
    /// holds a namespace (its workspace label, rule 1) and whether it exists
    /// are read here, not from the API server, so a burst of tickets moving
    /// workspace counts costs no namespace reads.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    /// The RoleBindings the operator made (label `app.kubernetes.io/managed-by`),
    /// for the same reason.
    pub bindings: Store<RoleBinding>,
    pub index: RwLock<TicketIndex>,
    /// When each ticket is next looked at (rule 10).
    pub wakeups: super::wakeup::Wakeups,
    pub triggers: Triggers,
    version: AtomicU64,
    catalog: Mutex<(u64, Arc<Catalog>)>,
    /// Woken when any workspace is deleted (the default one is kept).
    pub workspace_deleted: Notify,
    /// Last generation (and, for workspaces, namespace) seen per `Kind/name`:
    /// status-only updates are not changes.
    generations: Mutex<HashMap<String, Seen>>,
    /// Workspaces whose counts moved and whose reconcile is already coming.
    counts_pending: Arc<Mutex<std::collections::HashSet<String>>>,
    /// The workspace label of each labelled namespace as last seen: a
    /// namespace event changes the catalog only when this changes.
    namespace_labels: Mutex<NamespaceLabels>,
}

/// At most one count-driven reconcile per workspace in this time: a burst
/// of tickets moves a workspace's counts thousands of times, and each
/// reconcile reads its namespace and bindings (hack/scale-operator measured
/// 2.3 API requests per ticket with a 1 s interval). Unlike a debounce, a
/// steady stream of tickets cannot postpone it indefinitely. Counts are a
/// summary; five seconds late is still current for a person.
pub const COUNTS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// What was last seen of an object: its generation and, for a workspace, its namespace.
type Seen = (Option<i64>, Option<String>);

/// Which kind a watch event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Policy,
    Tier,
    Workspace,
    Publisher,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Policy => "SlaPolicy/",
            Kind::Tier => "SupportTier/",
            Kind::Workspace => "Workspace/",
            Kind::Publisher => "Publisher/",
        }
    }
}

impl World {
    pub fn new() -> (Arc<World>, Writers, Receivers) {
        let (policies, pw) = kube::runtime::reflector::store();
        let (tiers, tw) = kube::runtime::reflector::store();
        let (workspaces, ww) = kube::runtime::reflector::store();
        let (publishers, pubw) = kube::runtime::reflector::store();
        let (namespaces, nw) = kube::runtime::reflector::store();
        let (bindings, bw) = kube::runtime::reflector::store();
        let (t_tx, t_rx) = unbounded();
        let (w_tx, w_rx) = unbounded();
        let (p_tx, p_rx) = unbounded();
        let (r_tx, r_rx) = unbounded();
        let (pub_tx, pub_rx) = unbounded();
        let world = World {
            policies,
            tiers,
            workspaces,
            publishers,
            namespaces,
            bindings,
            index: RwLock::new(TicketIndex::default()),
            wakeups: super::wakeup::Wakeups::default(),
            triggers: Triggers {
                tickets: t_tx,
                workspaces: w_tx,
                policies: p_tx,
                tiers: r_tx,
                publishers: pub_tx,
                routing: Arc::new(Notify::new()),
            },
            version: AtomicU64::new(1),
            catalog: Mutex::new((0, Arc::new(Catalog::default()))),
            generations: Mutex::new(HashMap::new()),
            counts_pending: Arc::default(),
            workspace_deleted: Notify::new(),
            namespace_labels: Mutex::new(NamespaceLabels::new()),
        };
        (
            Arc::new(world),
            Writers {
                policies: pw,
                tiers: tw,
                workspaces: ww,
                publishers: pubw,
                namespaces: nw,
                bindings: bw,
            },
            Receivers {
                tickets: t_rx,
                workspaces: w_rx,
                policies: p_rx,
                tiers: r_rx,
                publishers: pub_rx,
            },
        )
    }

    /// The catalog for the current caches, rebuilt only after a spec changed.
    pub fn catalog(&self) -> Arc<Catalog> {
        let version = self.version.load(Ordering::Acquire);
        let Ok(mut guard) = self.catalog.lock() else {
            return Arc::new(self.build_catalog());
        };
        if guard.0 != version {
            *guard = (version, Arc::new(self.build_catalog()));
        }
        guard.1.clone()
    }

    fn build_catalog(&self) -> Catalog {
        let policies = self.policies.state();
        let tiers = self.tiers.state();
        let labels = match self.namespace_labels.lock() {
            Ok(labels) => labels.clone(),
            Err(_) => NamespaceLabels::new(),
        };
        Catalog::with_namespace_labels(
            policies.iter().map(AsRef::as_ref),
            tiers.iter().map(AsRef::as_ref),
            self.workspaces.state(),
            &labels,
        )
        .with_publishers(self.publishers.state())
    }

    /// Whether an applied object is a change of spec (or new); records it.
    /// For a deletion, gives back the namespace last recorded.
    fn record(
        &self,
        kind: Kind,
        name: &str,
        generation: Option<i64>,
        namespace: Option<String>,
    ) -> bool {
        let key = format!("{}{name}", kind.prefix());
        let Ok(mut gens) = self.generations.lock() else {
            return true;
        };
        gens.insert(key, (generation, namespace)).map(|(g, _)| g) != Some(generation)
    }

    fn forget(&self, kind: Kind, name: &str) -> Option<String> {
        let key = format!("{}{name}", kind.prefix());
        self.generations
            .lock()
            .ok()?
            .remove(&key)
            .and_then(|(_, ns)| ns)
    }

    /// Names (and namespaces) known before a relist that the relist no longer has.
    fn forget_missing(
        &self,
        kind: Kind,
        present: &HashSet<String>,
    ) -> Vec<(String, Option<String>)> {
        let Ok(mut gens) = self.generations.lock() else {
            return Vec::new();
        };
        let prefix = kind.prefix();
        let gone: Vec<String> = gens
            .keys()
            .filter_map(|k| k.strip_prefix(prefix))
            .filter(|n| !present.contains(*n))
            .map(String::from)
            .collect();
        gone.into_iter()
            .map(|name| {
                let ns = gens
                    .remove(&format!("{prefix}{name}"))
                    .and_then(|(_, ns)| ns);
                (name, ns)
            })
            .collect()
    }

    /// A policy, tier or workspace changed (or went): tell everyone it
    /// affects. `namespace` is a workspace's `spec.namespace`.
    pub fn changed(&self, kind: Kind, name: &str, namespace: Option<&str>) {
        self.version.fetch_add(1, Ordering::AcqRel);
        self.triggers.routing.notify_one();
        match kind {
            Kind::Policy => {
                let _ = self.triggers.policies.unbounded_send(ObjectRef::new(name));
                for tier in self.tiers.state() {
                    if tier.spec.sla_policy.as_deref() == Some(name) {
                        let _ = self
                            .triggers
                            .tiers
                            .unbounded_send(ObjectRef::from(tier.as_ref()));
                        self.tier_changed_tickets(&tier.name_any());
                    }
                }
            }
            Kind::Tier => {
                let _ = self.triggers.tiers.unbounded_send(ObjectRef::new(name));
                // Tiers that graduate to this one are Ready only while it exists.
                for tier in self.tiers.state() {
                    if tier.spec.graduation.as_ref().is_some_and(|g| g.to == name) {
                        let _ = self
                            .triggers
                            .tiers
                            .unbounded_send(ObjectRef::from(tier.as_ref()));
                    }
                }
                self.tier_changed_tickets(name);
                for ws in self.workspaces.state() {
                    let uses = ws.spec.tier == name
                        || ws.spec.allowed_tiers.iter().flatten().any(|t| t == name);
                    if uses {
                        let _ = self
                            .triggers
                            .workspaces
                            .unbounded_send(ObjectRef::from(ws.as_ref()));
                    }
                }
            }
            Kind::Workspace => {
                let _ = self
                    .triggers
                    .workspaces
                    .unbounded_send(ObjectRef::new(name));
                // Others that claim the same namespace may gain or lose it.
                let Some(namespace) = namespace else {
                    return;
                };
                for ws in self.workspaces.state() {
                    if ws.spec.namespace == namespace && ws.name_any() != name {
                        let _ = self
                            .triggers
                            .workspaces
                            .unbounded_send(ObjectRef::from(ws.as_ref()));
                    }
                }
                self.tickets_in(namespace);
            }
            Kind::Publisher => {
                let _ = self
                    .triggers
                    .publishers
                    .unbounded_send(ObjectRef::new(name));
                // Exactly the tickets that name it: redirected to it while it
                // exists, rejected (UnknownPublisher) while it does not.
                let Ok(index) = self.index.read() else {
                    return;
                };
                for (ns, ticket) in index.naming_publisher(name) {
                    self.wakeups.look_now(ns, ticket);
                }
            }
        }
    }

    /// A namespace's workspace label is now `label` (`None`: unlabelled or
    /// gone). When that changes who may hold it, the catalog is rebuilt and
    /// every workspace claiming it or named by the label, and its tickets,
    /// are looked at again. `gone`: the namespace was deleted, so the
    /// workspace that held it must make it again.
    fn namespace_seen(&self, namespace: &str, label: Option<String>, gone: bool) {
        let previous = match self.namespace_labels.lock() {
            Ok(mut labels) => match &label {
                Some(l) => labels.insert(namespace.to_string(), l.clone()),
                None => labels.remove(namespace),
            },
            Err(_) => None,
        };
        if previous == label && !gone {
            return;
        }
        if previous != label {
            self.version.fetch_add(1, Ordering::AcqRel);
            self.triggers.routing.notify_one();
            self.tickets_in(namespace);
        }
        for name in previous.iter().chain(label.iter()) {
            let _ = self
                .triggers
                .workspaces
                .unbounded_send(ObjectRef::new(name));
        }
        for ws in self.workspaces.state() {
            if ws.spec.namespace == namespace {
                let _ = self
                    .triggers
                    .workspaces
                    .unbounded_send(ObjectRef::from(ws.as_ref()));
            }
        }
    }

    /// Tickets whose effective tier is `tier`.
    fn tier_changed_tickets(&self, tier: &str) {
        let Ok(index) = self.index.read() else {
            return;
        };
        for (ns, name) in index.by_explicit_tier.get(tier).into_iter().flatten() {
            self.wakeups.look_now(ns, name);
        }
        for ws in self.workspaces.state() {
            if ws.spec.tier == tier {
                for name in index.in_namespace(&ws.spec.namespace) {
                    if index.explicit_tier(&ws.spec.namespace, name).is_none() {
                        self.wakeups.look_now(&ws.spec.namespace, name);
                    }
                }
            }
        }
    }

    fn tickets_in(&self, namespace: &str) {
        let Ok(index) = self.index.read() else {
            return;
        };
        for name in index.in_namespace(namespace) {
            self.wakeups.look_now(namespace, name);
        }
    }

    /// A ticket changed phase or came or went: its workspace's counts move.
    pub fn ticket_moved(&self, namespace: &str) {
        let catalog = self.catalog();
        let Some(ws) = catalog.workspace_for_namespace(namespace) else {
            return;
        };
        let target = ObjectRef::from(ws.as_ref());
        let sender = self.triggers.workspaces.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let _ = sender.unbounded_send(target);
            return;
        };
        let newly = match self.counts_pending.lock() {
            Ok(mut pending) => pending.insert(target.name.clone()),
            Err(_) => true,
        };
        if newly {
            let pending = self.counts_pending.clone();
            runtime.spawn(async move {
                tokio::time::sleep(COUNTS_INTERVAL).await;
                if let Ok(mut pending) = pending.lock() {
                    pending.remove(&target.name);
                }
                let _ = sender.unbounded_send(target);
            });
        }
    }

    /// Counts of a namespace's tickets: (open, at risk, breached).
    pub fn counts(&self, namespace: &str) -> (u32, u32, u32) {
        let Ok(index) = self.index.read() else {
            return (0, 0, 0);
        };
        let mut counts = (0, 0, 0);
        for name in index.in_namespace(namespace) {
            match index.phase(namespace, name) {
                // Answered, closed, or not this desk's: not open.
                Some(Phase::Responded | Phase::Rejected | Phase::Resolved | Phase::Redirected) => {}
                Some(Phase::AtRisk) => {
                    counts.0 += 1;
                    counts.1 += 1;
                }
                Some(Phase::Breached) => {
                    counts.0 += 1;
                    counts.2 += 1;
                }
                _ => counts.0 += 1,
            }
        }
        counts
    }
}

/// A changed object (name, namespace) whose announcement waits for the end
/// of a relist.
type Announcement = (String, Option<String>);

/// Keeps one cache (policies, tiers or workspaces) and fans its spec changes
/// out as triggers. Runs until the watch stream ends.
pub async fn watch_catalog<K>(
    api: kube::Api<K>,
    mut writer: Writer<K>,
    world: Arc<World>,
    kind: Kind,
    namespace_of: fn(&K) -> Option<String>,
) where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let stream =
        watcher(api, watcher::Config::default()).backoff(super::context::WatchBackoff::default());
    futures::pin_mut!(stream);
    // During a relist (after the watch lost its place) the store holds the
    // old objects until InitDone (kube-runtime swaps it in then): what
    // changed is announced only after that, or the catalog rebuilt for the
    // announcement would be built from the old store and kept.
    let mut relisted: Option<(HashSet<String>, Vec<Announcement>)> = None;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(e) => e.modify(|o| o.managed_fields_mut().clear()),
            Err(e) => {
                tracing::warn!(kind = ?kind, error = %e, "watch failed; retrying with backoff");
                continue;
            }
        };
        writer.apply_watcher_event(&event);
        match &event {
            watcher::Event::Init => relisted = Some((HashSet::new(), Vec::new())),
            watcher::Event::InitApply(o) | watcher::Event::Apply(o) => {
                let name = o.name_any();
                let ns = namespace_of(o);
                let changed = world.record(kind, &name, o.meta().generation, ns.clone());
                match relisted.as_mut() {
                    Some((seen, announce)) => {
                        seen.insert(name.clone());
                        if changed {
                            announce.push((name, ns));
                        }
                    }
                    None if changed => world.changed(kind, &name, ns.as_deref()),
                    None => {}
                }
            }
            watcher::Event::Delete(o) => {
                let name = o.name_any();
                if kind == Kind::Workspace {
                    world.workspace_deleted.notify_waiters();
                }
                let ns = world.forget(kind, &name).or_else(|| namespace_of(o));
                world.changed(kind, &name, ns.as_deref());
            }
            watcher::Event::InitDone => {
                if let Some((seen, announce)) = relisted.take() {
                    let missing = world.forget_missing(kind, &seen);
                    for (name, ns) in announce.into_iter().chain(missing) {
                        world.changed(kind, &name, ns.as_deref());
                    }
                }
            }
        }
    }
}

/// Keeps the Namespace cache (metadata only, managed fields and annotations
/// dropped) and tells the world when a namespace's workspace label changes
/// or a labelled namespace goes. Runs until the watch stream ends.
pub async fn watch_namespaces(
    api: kube::Api<PartialObjectMeta<Namespace>>,
    mut writer: Writer<PartialObjectMeta<Namespace>>,
    world: Arc<World>,
) {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    // `Api<PartialObjectMeta<_>>` asks for metadata only.
    let stream =
        watcher(api, watcher::Config::default()).backoff(super::context::WatchBackoff::default());
    futures::pin_mut!(stream);
    let label_of = |ns: &PartialObjectMeta<Namespace>| ns.labels().get(WORKSPACE_LABEL).cloned();
    let mut relisted: Option<HashSet<String>> = None;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(e) => e.modify(|ns| {
                ns.metadata.managed_fields = None;
                ns.metadata.annotations = None;
            }),
            Err(e) => {
                tracing::warn!(error = %e, "namespace watch failed; retrying with backoff");
                continue;
            }
        };
        writer.apply_watcher_event(&event);
        match &event {
            watcher::Event::Init => relisted = Some(HashSet::new()),
            watcher::Event::InitApply(ns) | watcher::Event::Apply(ns) => {
                if let Some(seen) = relisted.as_mut() {
                    seen.insert(ns.name_any());
                }
                world.namespace_seen(&ns.name_any(), label_of(ns), false);
            }
            watcher::Event::Delete(ns) => world.namespace_seen(&ns.name_any(), None, true),
            watcher::Event::InitDone => {
                if let Some(seen) = relisted.take() {
                    let gone: Vec<String> = match world.namespace_labels.lock() {
                        Ok(labels) => labels
                            .keys()
                            .filter(|n| !seen.contains(*n))
                            .cloned()
                            .collect(),
                        Err(_) => Vec::new(),
                    };
                    for name in gone {
                        world.namespace_seen(&name, None, true);
                    }
                }
            }
        }
    }
}

/// Keeps the cache of the RoleBindings the operator made, and wakes the
/// workspace a binding belongs to when it changes or goes (someone edited or
/// deleted it: it is put back). Runs until the watch stream ends.
pub async fn watch_bindings(
    api: kube::Api<RoleBinding>,
    mut writer: Writer<RoleBinding>,
    world: Arc<World>,
) {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let selector = format!(
        "{}={}",
        crate::routing::MANAGED_BY.0,
        crate::routing::MANAGED_BY.1
    );
    let stream = watcher(api, watcher::Config::default().labels(&selector))
        .backoff(super::context::WatchBackoff::default());
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(e) => e.modify(|rb| rb.managed_fields_mut().clear()),
            Err(e) => {
                tracing::warn!(error = %e, "RoleBinding watch failed; retrying with backoff");
                continue;
            }
        };
        writer.apply_watcher_event(&event);
        if let watcher::Event::Apply(rb) | watcher::Event::Delete(rb) = &event
            && let Some(ws) = rb.labels().get(WORKSPACE_LABEL)
        {
            let _ = world.triggers.workspaces.unbounded_send(ObjectRef::new(ws));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(ns: &str, name: &str, publisher: Option<&str>) -> CachedTicket {
        let mut spec = serde_json::json!({"title": "t", "severity": "A"});
        if let Some(p) = publisher {
            spec["product"] = serde_json::json!({"name": "x", "publisher": p});
        }
        let mut t = crate::api::Ticket::new(name, serde_json::from_value(spec).unwrap());
        t.metadata.namespace = Some(ns.into());
        t.into()
    }

    fn naming(index: &TicketIndex, publisher: &str) -> Vec<TicketKey> {
        index.naming_publisher(publisher).cloned().collect()
    }

    /// A Publisher's change reaches exactly the tickets that name it, as
    /// their specs say now.
    #[test]
    fn tickets_are_indexed_by_the_publisher_they_name() {
        let mut index = TicketIndex::default();
        index.update(&ticket("a", "one", Some("contoso")));
        index.update(&ticket("b", "two", Some("contoso")));
        index.update(&ticket("a", "three", Some("fabrikam")));
        index.update(&ticket("a", "four", None));
        let key = |ns: &str, n: &str| (ns.to_string(), n.to_string());
        assert_eq!(
            naming(&index, "contoso"),
            [key("a", "one"), key("b", "two")]
        );
        assert_eq!(naming(&index, "fabrikam"), [key("a", "three")]);
        // A ticket that changes publisher moves; one deleted goes.
        index.update(&ticket("a", "one", Some("fabrikam")));
        index.remove(&key("b", "two"));
        assert!(naming(&index, "contoso").is_empty());
        assert!(
            !index.by_publisher.contains_key("contoso"),
            "no empty sets kept"
        );
        assert_eq!(
            naming(&index, "fabrikam"),
            [key("a", "one"), key("a", "three")]
        );
        // A product without a publisher is indexed by none.
        index.update(&ticket("a", "three", None));
        assert_eq!(naming(&index, "fabrikam"), [key("a", "one")]);
    }
}
