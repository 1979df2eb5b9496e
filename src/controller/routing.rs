//! Publishes the routing table: `support-routing` (sharded when large) in the
//! operator's namespace, and each workspace's `support-policy` slice.
//!
//! Isolated and bounded (issue 11): each slice is published on its own, a
//! few at a time. One that fails (too large, a ConfigMap someone else owns, a
//! conflict, forbidden) gets `RoutingPublished=False` with the reason on its
//! Workspace and a Warning Event, and is retried with backoff (jittered, for
//! that workspace alone) while every other slice goes on. A slice that cannot
//! fit is refused (`RoutingTooLarge`) and not retried until it changes.
//!
//! Writes only what changed: what is published is known from watches (the
//! `support-policy` ConfigMaps of every namespace, the operator namespace's
//! ConfigMaps, the workspace namespaces), so nothing is read back before a
//! write, an idle operator writes nothing, and a restarted one writes
//! nothing either when nothing changed. Debounced: a burst of changes is one
//! compile. On shutdown no new write starts and those in flight are dropped.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use super::context::{Context, Shutdown, WatchBackoff, retry_delay};
use super::status;
use super::workspace::WORKSPACE_LABEL;
use crate::api::Workspace;
use crate::api::condition::condition;
use crate::catalog::Catalog;
use crate::routing::{self, MANAGED_BY, POLICY_CONFIGMAP, ROUTES_KEY, ROUTING_CONFIGMAP};

/// Field manager of the published ConfigMaps.
pub const FIELD_MANAGER: &str = "support-operator-routing";
/// Field manager of the `RoutingPublished` condition: its own, so that the
/// workspace controller's status writes neither own nor remove it.
pub const CONDITION_MANAGER: &str = "support-operator-routing-status";
pub const CONDITION: &str = "RoutingPublished";
pub const CONTROLLER: &str = "routing";
/// Slices written at once; enough to keep the API server busy, few enough
/// that shutdown has little to drop and one slow namespace holds up nothing.
pub const CONCURRENCY: usize = 8;

/// What the watches say is published, per (namespace, name): whether the
/// operator owns it, a hash of its data, and its owner's uid.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    managed: bool,
    data: u64,
    owner: Option<String>,
}

#[derive(Default)]
struct Observed {
    maps: HashMap<(String, String), Seen>,
    /// Workspace namespaces and the workspace their label names.
    namespaces: HashMap<String, String>,
    /// Hash of the data last written per key: the echo of our own write is
    /// not a reason to compile again.
    written: HashMap<(String, String), u64>,
    /// Initial lists done: ConfigMaps of all namespaces, of the operator's, namespaces.
    synced: [bool; 3],
}

type Shared = Arc<Mutex<Observed>>;

/// One workspace's publication state between rounds.
#[derive(Default, Debug)]
struct WorkspaceState {
    failures: u32,
    retry_at: Option<Instant>,
    /// Hash of a document that was refused as too large: not tried again
    /// until the document changes.
    too_large: Option<u64>,
}

/// How one slice's publication ended.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Published,
    /// Not retried until its input changes.
    Refused {
        reason: &'static str,
        message: String,
    },
    /// Retried with backoff.
    Failed {
        reason: &'static str,
        message: String,
    },
}

pub async fn publish(ctx: Arc<Context>, shutdown: Shutdown) {
    let dirty = ctx.world.triggers.routing.clone();
    let observed: Shared = Arc::default();
    let synced = Arc::new(Notify::new());
    let watches = [
        tokio::spawn(watch_maps(
            Api::<ConfigMap>::all(ctx.client.clone()),
            watcher::Config::default().fields(&format!("metadata.name={POLICY_CONFIGMAP}")),
            0,
            observed.clone(),
            dirty.clone(),
            synced.clone(),
        )),
        tokio::spawn(watch_maps(
            Api::<ConfigMap>::namespaced(ctx.client.clone(), &ctx.settings.namespace),
            watcher::Config::default(),
            1,
            observed.clone(),
            dirty.clone(),
            synced.clone(),
        )),
        tokio::spawn(watch_namespaces(
            ctx.clone(),
            observed.clone(),
            dirty.clone(),
            synced.clone(),
        )),
    ];
    let stop = shutdown.clone().wait();
    tokio::pin!(stop);
    // Nothing is compared, written or deleted before every watch has listed.
    loop {
        let notified = synced.notified();
        if observed.lock().is_ok_and(|o| o.synced.iter().all(|s| *s)) {
            break;
        }
        tokio::select! {
            _ = notified => {}
            _ = &mut stop => {
                for w in watches { w.abort(); }
                return;
            }
        }
    }
    let mut states: HashMap<String, WorkspaceState> = HashMap::new();
    let mut table_state = WorkspaceState::default();
    let mut tasks: JoinSet<(String, Outcome, u64)> = JoinSet::new();
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut in_flight: HashSet<String> = HashSet::new();
    dirty.notify_one();
    loop {
        let next_retry = states
            .values()
            .chain(std::iter::once(&table_state))
            .filter_map(|s| s.retry_at)
            .min();
        let retry = async {
            match next_retry {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((key, outcome, data)) = done {
                    in_flight.remove(&key);
                    settle(&ctx, &mut states, &mut table_state, key, outcome, data);
                }
                if tasks.is_empty() {
                    // The round's documents are written and dropped.
                    super::memory::release_freed();
                }
                continue;
            }
            _ = dirty.notified() => {
                // Debounce: wait for a quiet period, at most ten of them.
                for _ in 0..10 {
                    tokio::select! {
                        _ = dirty.notified() => continue,
                        _ = tokio::time::sleep(ctx.settings.routing_debounce) => break,
                        _ = &mut stop => break,
                    }
                }
            }
            _ = retry => {}
        }
        if shutdown.is_triggered() {
            break;
        }
        let _timer = ctx.metrics.reconcile(CONTROLLER);
        let round = Round::plan(&ctx, &observed, &mut states, &mut table_state, &in_flight);
        if round.jobs.is_empty() && tasks.is_empty() {
            // Compiled, and nothing to write: the compile's memory is free.
            super::memory::release_freed();
        }
        for job in round.jobs {
            if shutdown.is_triggered() {
                break;
            }
            in_flight.insert(job.key());
            let ctx = ctx.clone();
            let permits = permits.clone();
            let observed = observed.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                job.run(&ctx, &observed).await
            });
        }
    }
    // Shutdown: whatever is in flight is dropped; the next leader compares
    // and writes what is missing.
    tasks.abort_all();
    for w in watches {
        w.abort();
    }
}

/// Records a job's outcome: backoff for a failure (jittered, this key
/// only), none after success or a refusal; a refused document is not tried
/// again until it changes. Keys starting with NUL are the table's objects.
fn settle(
    ctx: &Context,
    states: &mut HashMap<String, WorkspaceState>,
    table_state: &mut WorkspaceState,
    key: String,
    outcome: Outcome,
    data: u64,
) {
    let table = key.starts_with('\0');
    let state = if table {
        table_state
    } else {
        states.entry(key.clone()).or_default()
    };
    match outcome {
        Outcome::Published => {
            state.failures = 0;
            state.retry_at = None;
        }
        Outcome::Refused { reason, .. } => {
            ctx.metrics.error(CONTROLLER, reason);
            state.failures = 0;
            state.retry_at = None;
            state.too_large = Some(data);
        }
        Outcome::Failed { reason, message } => {
            ctx.metrics.error(CONTROLLER, reason);
            state.failures = state.failures.saturating_add(1);
            let delay = retry_delay(state.failures);
            state.retry_at = Some(Instant::now() + delay);
            if table {
                tracing::warn!(object = %key.trim_start_matches('\0'), %reason, %message, retry_in = ?delay, "publishing the routing table failed");
            } else {
                tracing::warn!(workspace = %key, %reason, %message, retry_in = ?delay, "publishing a routing slice failed");
            }
        }
    }
}

fn hash_data(data: &BTreeMap<String, String>) -> u64 {
    let mut h = DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

/// Keeps [`Observed::maps`] current for one ConfigMap watch.
async fn watch_maps(
    api: Api<ConfigMap>,
    config: watcher::Config,
    slot: usize,
    observed: Shared,
    dirty: Arc<Notify>,
    synced: Arc<Notify>,
) {
    let stream = watcher(api, config).backoff(WatchBackoff::default());
    futures::pin_mut!(stream);
    let mut relist: Option<HashMap<(String, String), Seen>> = None;
    while let Some(event) = stream.next().await {
        let Ok(event) = event else { continue };
        let Ok(mut o) = observed.lock() else { return };
        let mut wake = false;
        match event {
            watcher::Event::Init => relist = Some(HashMap::new()),
            watcher::Event::InitApply(cm) => {
                if let Some(r) = relist.as_mut() {
                    r.insert(key_of(&cm), seen(&cm));
                }
            }
            watcher::Event::InitDone => {
                if let Some(r) = relist.take() {
                    let ns_scoped = slot == 1;
                    o.maps.retain(|k, _| {
                        if ns_scoped {
                            k.1 == POLICY_CONFIGMAP
                        } else {
                            k.1 != POLICY_CONFIGMAP
                        }
                    });
                    o.maps.extend(r);
                }
                o.synced[slot] = true;
                synced.notify_waiters();
                wake = true;
            }
            watcher::Event::Apply(cm) => {
                let key = key_of(&cm);
                let s = seen(&cm);
                wake = o.written.get(&key) != Some(&s.data) || !s.managed;
                o.maps.insert(key, s);
            }
            watcher::Event::Delete(cm) => {
                let key = key_of(&cm);
                o.maps.remove(&key);
                o.written.remove(&key);
                wake = true;
            }
        }
        drop(o);
        if wake {
            dirty.notify_one();
        }
    }
}

fn key_of(cm: &ConfigMap) -> (String, String) {
    (cm.namespace().unwrap_or_default(), cm.name_any())
}

fn seen(cm: &ConfigMap) -> Seen {
    Seen {
        managed: cm.labels().get(MANAGED_BY.0).map(String::as_str) == Some(MANAGED_BY.1),
        data: hash_data(cm.data.as_ref().unwrap_or(&BTreeMap::new())),
        owner: cm
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true))
            .map(|o| o.uid.clone()),
    }
}

/// Keeps [`Observed::namespaces`]: a slice goes only into a namespace that
/// exists and is labelled for its workspace (made or adopted by the
/// workspace controller), never ahead of it.
async fn watch_namespaces(
    ctx: Arc<Context>,
    observed: Shared,
    dirty: Arc<Notify>,
    synced: Arc<Notify>,
) {
    let stream = watcher(
        Api::<PartialObjectMeta<Namespace>>::all(ctx.client.clone()),
        watcher::Config::default().labels(WORKSPACE_LABEL),
    )
    .backoff(WatchBackoff::default());
    futures::pin_mut!(stream);
    let mut relist: Option<HashMap<String, String>> = None;
    while let Some(event) = stream.next().await {
        let Ok(event) = event else { continue };
        let label = |m: &PartialObjectMeta<Namespace>| {
            m.labels().get(WORKSPACE_LABEL).cloned().unwrap_or_default()
        };
        let Ok(mut o) = observed.lock() else { return };
        let wake = match event {
            watcher::Event::Init => {
                relist = Some(HashMap::new());
                false
            }
            watcher::Event::InitApply(m) => {
                if let Some(r) = relist.as_mut() {
                    r.insert(m.name_any(), label(&m));
                }
                false
            }
            watcher::Event::InitDone => {
                if let Some(r) = relist.take() {
                    o.namespaces = r;
                }
                o.synced[2] = true;
                synced.notify_waiters();
                true
            }
            watcher::Event::Apply(m) => {
                o.namespaces.insert(m.name_any(), label(&m)) != Some(label(&m))
            }
            watcher::Event::Delete(m) => o.namespaces.remove(&m.name_any()).is_some(),
        };
        drop(o);
        if wake {
            dirty.notify_one();
        }
    }
}

/// One API call's worth of work.
enum Job {
    /// Apply a ConfigMap (the table, a shard, or a workspace's slice).
    Apply {
        workspace: Option<String>,
        cm: Box<ConfigMap>,
        /// Force: the object is ours already; otherwise a conflict with
        /// another manager's fields is reported, not overwritten.
        force: bool,
    },
    /// Delete a ConfigMap of ours that nothing wants any more.
    Delete { namespace: String, name: String },
    /// Only the condition is out of date.
    Condition { workspace: String, outcome: Outcome },
}

impl Job {
    /// Workspace name for a slice, NUL and `namespace/name` for the table's objects.
    fn key(&self) -> String {
        match self {
            Job::Apply {
                workspace: Some(ws),
                ..
            }
            | Job::Condition { workspace: ws, .. } => ws.clone(),
            Job::Apply { cm, .. } => object_key(
                cm.metadata.namespace.as_deref().unwrap_or_default(),
                cm.metadata.name.as_deref().unwrap_or_default(),
            ),
            Job::Delete { namespace, name } => object_key(namespace, name),
        }
    }

    async fn run(self, ctx: &Context, observed: &Shared) -> (String, Outcome, u64) {
        let key = self.key();
        match self {
            Job::Apply {
                workspace,
                cm,
                force,
            } => {
                let data = hash_data(cm.data.as_ref().unwrap_or(&BTreeMap::new()));
                let outcome = apply(ctx, observed, &cm, force).await;
                if let Some(ws) = &workspace {
                    set_condition(ctx, ws, &outcome).await;
                }
                (key, outcome, data)
            }
            Job::Delete { namespace, name } => {
                let api = Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace);
                let outcome = match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => {
                        ctx.metrics.wrote(CONTROLLER);
                        Outcome::Published
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => Outcome::Published,
                    Err(e) => failed(&e),
                };
                (key, outcome, 0)
            }
            Job::Condition { workspace, outcome } => {
                set_condition(ctx, &workspace, &outcome).await;
                (key, Outcome::Published, 0)
            }
        }
    }
}

fn object_key(namespace: &str, name: &str) -> String {
    format!("\0{namespace}/{name}")
}

fn failed(e: &kube::Error) -> Outcome {
    match e {
        kube::Error::Api(s) if s.code == 422 && is_too_long(&s.message) => Outcome::Refused {
            reason: "RoutingTooLarge",
            message: format!(
                "the API server refused the slice as too large: {}",
                s.message
            ),
        },
        kube::Error::Api(s) => Outcome::Failed {
            reason: match s.code {
                409 => "ConfigMapConflict",
                403 => "Forbidden",
                404 => "NamespaceNotFound",
                422 => "Invalid",
                _ => "ApiError",
            },
            message: format!("the API server refused: {} (HTTP {})", s.message, s.code),
        },
        other => Outcome::Failed {
            reason: "ApiError",
            message: other.to_string(),
        },
    }
}

fn is_too_long(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too long") || m.contains("too large") || m.contains("exceeds")
}

async fn apply(ctx: &Context, observed: &Shared, cm: &ConfigMap, force: bool) -> Outcome {
    let namespace = cm.metadata.namespace.clone().unwrap_or_default();
    let name = cm.metadata.name.clone().unwrap_or_default();
    let api = Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace);
    let data = hash_data(cm.data.as_ref().unwrap_or(&BTreeMap::new()));
    if let Ok(mut o) = observed.lock() {
        o.written.insert((namespace.clone(), name.clone()), data);
    }
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    match api.patch(&name, &params, &Patch::Apply(cm)).await {
        Ok(_) => {
            ctx.metrics.wrote(CONTROLLER);
            Outcome::Published
        }
        Err(e) => {
            if let Ok(mut o) = observed.lock() {
                o.written.remove(&(namespace, name));
            }
            failed(&e)
        }
    }
}

/// `RoutingPublished` as the outcome says, written (with its own field
/// manager) only when it differs from what the Workspace holds; a Warning
/// Event when it turns or stays false with a new reason.
async fn set_condition(ctx: &Context, workspace: &str, outcome: &Outcome) {
    let Some(ws) = ctx.world.workspaces.get(&ObjectRef::new(workspace)) else {
        return;
    };
    let previous = ws
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let wanted = wanted_condition(&ws, outcome, previous);
    if !differs(previous, &wanted) {
        return;
    }
    let result = status::apply::<Workspace>(
        ctx,
        None,
        workspace,
        CONDITION_MANAGER,
        &serde_json::json!({"conditions": [wanted]}),
    )
    .await;
    match result {
        Ok(_) => ctx.metrics.wrote(CONTROLLER),
        Err(e) => tracing::debug!(%workspace, error = %e, "could not set RoutingPublished"),
    }
    if wanted.status == "False" {
        let event = Event {
            type_: EventType::Warning,
            reason: wanted.reason.clone(),
            note: Some(wanted.message.chars().take(1000).collect()),
            action: "PublishRouting".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &ws.object_ref(&())).await {
            tracing::debug!(%workspace, error = %e, "could not publish event");
        }
    }
}

fn wanted_condition(ws: &Workspace, outcome: &Outcome, previous: &[Condition]) -> Condition {
    let (ok, reason, message) = match outcome {
        Outcome::Published => (
            true,
            "Published",
            format!("{}/{POLICY_CONFIGMAP} is up to date", ws.spec.namespace),
        ),
        Outcome::Refused { reason, message } | Outcome::Failed { reason, message } => {
            (false, *reason, message.clone())
        }
    };
    condition(
        previous,
        CONDITION,
        ok,
        reason,
        message,
        ws.meta().generation,
        Timestamp::now(),
    )
}

fn differs(previous: &[Condition], wanted: &Condition) -> bool {
    !previous.iter().any(|c| {
        c.type_ == wanted.type_
            && c.status == wanted.status
            && c.reason == wanted.reason
            && c.message == wanted.message
            && c.observed_generation == wanted.observed_generation
    })
}

/// What one round compares and decides; the writes are its jobs.
struct Round {
    jobs: Vec<Job>,
}

impl Round {
    fn plan(
        ctx: &Context,
        observed: &Shared,
        states: &mut HashMap<String, WorkspaceState>,
        table_state: &mut WorkspaceState,
        in_flight: &HashSet<String>,
    ) -> Round {
        let catalog = ctx.world.catalog();
        let policies = ctx.world.policies.state();
        let policies: Vec<_> = policies.iter().map(|p| p.as_ref().clone()).collect();
        let table = routing::compile(&catalog, &policies);
        let operator_ns = ctx.settings.namespace.as_str();
        let now = Instant::now();
        let Ok(o) = observed.lock() else {
            return Round { jobs: Vec::new() };
        };
        let mut jobs = Vec::new();

        // The table: each map written when its data differs, as one unit.
        let table_maps = routing::table_config_maps(&table, operator_ns);
        let wanted_names: HashSet<String> = table_maps
            .iter()
            .filter_map(|c| c.metadata.name.clone())
            .collect();
        let table_due = table_state.retry_at.is_none_or(|at| at <= now);
        for cm in table_maps {
            let key = (
                operator_ns.to_string(),
                cm.metadata.name.clone().unwrap_or_default(),
            );
            let data = hash_data(cm.data.as_ref().unwrap_or(&BTreeMap::new()));
            match o.maps.get(&key) {
                Some(s) if !s.managed => {
                    tracing::error!(configmap = %key.1, "routing table not published: a ConfigMap of that name exists and is not managed by support-operator");
                    ctx.metrics.error(CONTROLLER, "ConfigMapConflict");
                }
                Some(s) if s.data == data => {}
                _ if in_flight.contains(&object_key(&key.0, &key.1)) => {}
                existing if table_due => jobs.push(Job::Apply {
                    workspace: None,
                    cm: Box::new(cm),
                    force: existing.is_some(),
                }),
                _ => {}
            }
        }
        // Stale shards (and a stale index or document key: SSA removes the
        // key we no longer apply, so only whole objects go here).
        for ((ns, name), s) in &o.maps {
            let ours = ns == operator_ns
                && s.managed
                && name.starts_with(&format!("{ROUTING_CONFIGMAP}-"));
            if ours && !wanted_names.contains(name) && !in_flight.contains(&object_key(ns, name)) {
                jobs.push(Job::Delete {
                    namespace: ns.clone(),
                    name: name.clone(),
                });
            }
        }

        // Slices, each on its own.
        let slices = routing::slices(&table, &catalog, operator_ns);
        let mut wanted_slices: HashSet<String> = HashSet::new();
        for slice in slices {
            let ws_name = slice.workspace.clone();
            let Some(ws) = ctx.world.workspaces.get(&ObjectRef::new(&ws_name)) else {
                continue;
            };
            wanted_slices.insert(slice.namespace.clone());
            if in_flight.contains(&ws_name) {
                continue;
            }
            // Not before the workspace controller has made (or adopted) the namespace.
            if o.namespaces.get(&slice.namespace) != Some(&ws_name) {
                continue;
            }
            let state = states.entry(ws_name.clone()).or_default();
            let fits = slice.fits();
            let size = slice.document.len();
            let cm = routing::config_map(
                POLICY_CONFIGMAP,
                &slice.namespace,
                vec![(ROUTES_KEY, slice.document)],
            );
            let data = hash_data(cm.data.as_ref().unwrap_or(&BTreeMap::new()));
            let conditions = ws
                .status
                .as_ref()
                .map(|s| s.conditions.as_slice())
                .unwrap_or_default();
            let condition_job = |outcome: Outcome| {
                differs(conditions, &wanted_condition(&ws, &outcome, conditions)).then(|| {
                    Job::Condition {
                        workspace: ws_name.clone(),
                        outcome,
                    }
                })
            };
            if !fits {
                let outcome = Outcome::Refused {
                    reason: "RoutingTooLarge",
                    message: format!(
                        "the slice is {} bytes, over the {} byte limit of one ConfigMap; list fewer allowedTiers (the previous slice, if any, is kept)",
                        size,
                        routing::SHARD_LIMIT_BYTES
                    ),
                };
                if state.too_large != Some(data) {
                    state.too_large = Some(data);
                    ctx.metrics.error(CONTROLLER, "RoutingTooLarge");
                }
                jobs.extend(condition_job(outcome));
                continue;
            }
            if state.too_large == Some(data) {
                continue;
            }
            state.too_large = None;
            let owner = ws.controller_owner_ref(&());
            let key = (slice.namespace.clone(), POLICY_CONFIGMAP.to_string());
            match o.maps.get(&key) {
                Some(s) if !s.managed => {
                    jobs.extend(condition_job(Outcome::Refused {
                        reason: "ConfigMapConflict",
                        message: format!(
                            "ConfigMap {}/{POLICY_CONFIGMAP} exists and is not managed by support-operator; it was left untouched",
                            slice.namespace
                        ),
                    }));
                }
                Some(s) if s.data == data && s.owner == owner.as_ref().map(|o| o.uid.clone()) => {
                    jobs.extend(condition_job(Outcome::Published));
                }
                existing => {
                    if state.retry_at.is_some_and(|at| at > now) {
                        continue;
                    }
                    let mut cm = cm;
                    cm.metadata.owner_references = owner.map(|o| vec![o]);
                    jobs.push(Job::Apply {
                        workspace: Some(ws_name.clone()),
                        cm: Box::new(cm),
                        force: existing.is_some(),
                    });
                }
            }
        }
        // Workspaces that get no slice (namespace held by another, or
        // protected) say so.
        for ws in ctx.world.workspaces.state() {
            let name = ws.name_any();
            let reason = if catalog.namespace_taken_by(&ws).is_some() {
                "NamespaceTaken"
            } else if Catalog::namespace_protected(&ws.spec.namespace, operator_ns) {
                "NamespaceProtected"
            } else {
                continue;
            };
            if in_flight.contains(&name) {
                continue;
            }
            let outcome = Outcome::Refused {
                reason,
                message: format!(
                    "no routing slice: namespace {:?} cannot be this workspace's",
                    ws.spec.namespace
                ),
            };
            let conditions = ws
                .status
                .as_ref()
                .map(|s| s.conditions.as_slice())
                .unwrap_or_default();
            if differs(conditions, &wanted_condition(&ws, &outcome, conditions)) {
                jobs.push(Job::Condition {
                    workspace: name,
                    outcome,
                });
            }
        }
        // Stale slices: ours, in a namespace no routed workspace publishes to.
        for ((ns, name), s) in &o.maps {
            if name == POLICY_CONFIGMAP
                && s.managed
                && !wanted_slices.contains(ns)
                && !in_flight.contains(&object_key(ns, name))
            {
                jobs.push(Job::Delete {
                    namespace: ns.clone(),
                    name: name.clone(),
                });
            }
        }
        // Forget workspaces that are gone.
        states.retain(|name, _| catalog.workspaces.contains_key(name));
        drop(o);
        Round { jobs }
    }
}
