//! The operator at scale (issue 5, item 3), driven by `hack/scale-operator`
//! against a real control plane that the script started, with the CRDs,
//! roles, policies and tiers applied.
//!
//! 1. Creates W workspaces (namespaces pre-labelled for adoption) and N
//!    tickets over them, with the operator NOT running.
//! 2. Bare client: server-side-applies each ticket's status (the status the
//!    core computes, the same body the operator would write) with the same
//!    concurrency the operator gets. This is the physical limit.
//! 3. Removes those statuses, starts the operator, and times until every
//!    ticket has a status for its generation; counts the API requests the
//!    apiserver served meanwhile (its own `apiserver_request_total`).
//! 4. 60 s idle: counts writes.
//! 5. Changes the SlaPolicy targets under every ticket and times until every
//!    due time is the new one; then the bare client does the same number of
//!    status writes again.
//! 6. Reports the operator's peak RSS (VmHWM).
//!
//! With `--tiers T --policies P` the catalog is a large organisation's: P
//! copies of `unified`, T tiers over them; one workspace in five lists three
//! allowed tiers, the others none (any tier). With `--routing true` (issue
//! 11), the operator runs with leader election and, after step 4:
//!
//! 7. Waits for every workspace's `RoutingPublished=True`; sums the
//!    ConfigMaps it published (data and whole objects) and names the largest.
//! 8. Changes one tier's first queue and times until the table (or its
//!    shard) and every affected slice hold it; counts the writes.
//! 9. SIGTERM under load (a policy change under every ticket in flight):
//!    time to exit, and whether the lease was released.
//! 10. Starts it again: time until the interrupted change is complete; then
//!     SIGTERM when idle, and a restart with every ticket converged: time until
//!     it runs, and its writes over the idle period (expected: none).
//! 11. Leader failover with every ticket converged: a standby waits for the
//!     lease; the leader gets SIGKILL (the lease must expire), then the new
//!     leader SIGTERM (it releases the lease); each time, how long until the
//!     standby runs its controllers, and its writes over the idle period.
//!
//! Figures only; nothing here is a pass/fail test.

use std::collections::BTreeMap;
use std::error::Error;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use support_operator::api::{
    API_VERSION, SlaPolicy, SupportTier, Ticket, TicketSpec, TicketStatus, Workspace,
};
use support_operator::catalog::Catalog;
use support_operator::deadline::{TicketInput, evaluate};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

struct Args {
    tickets: usize,
    workspaces: usize,
    concurrency: usize,
    idle: u64,
    operator: String,
    /// Tiers of its own (`scale-tier-NNN`, over `policies`); 0: the examples' important and critical.
    tiers: usize,
    /// SLA policies of its own (copies of `unified`); 0: the examples' policies.
    policies: usize,
    /// The routing phases (issue 11): table size, a tier change, SIGTERM
    /// under load, restart with converged tickets.
    routing: bool,
    /// The policy change of step 5 (and the bare client's same writes).
    policy_change: bool,
    /// Step 2, the bare client (off: the cold start is timed without a
    /// ratio; at 50,000 tickets its two passes take a quarter hour).
    bare: bool,
}

fn args() -> Res<Args> {
    let mut a = Args {
        tickets: 10_000,
        workspaces: 50,
        concurrency: 16,
        idle: 60,
        operator: "target/release/support-operator".into(),
        tiers: 0,
        policies: 0,
        routing: false,
        policy_change: true,
        bare: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tickets" => a.tickets = value.parse()?,
            "--workspaces" => a.workspaces = value.parse()?,
            "--concurrency" => a.concurrency = value.parse()?,
            "--idle" => a.idle = value.parse()?,
            "--operator" => a.operator = value,
            "--tiers" => a.tiers = value.parse()?,
            "--policies" => a.policies = value.parse()?,
            "--routing" => a.routing = value.parse()?,
            "--policy-change" => a.policy_change = value.parse()?,
            "--bare" => a.bare = value.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(a)
}

fn say(text: impl AsRef<str>) {
    eprintln!("[scale-operator] {}", text.as_ref());
}

/// `apiserver_request_total` summed by (verb, resource).
async fn requests(client: &Client) -> Res<BTreeMap<(String, String), f64>> {
    let req = http::Request::get("/metrics").body(Vec::new())?;
    let text = client.request_text(req).await?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap_or_default()
        };
        *out.entry((label("verb"), label("resource"))).or_insert(0.0) += value.parse::<f64>()?;
    }
    Ok(out)
}

/// Requests between two scrapes, limited to what the operator touches.
fn delta(
    before: &BTreeMap<(String, String), f64>,
    after: &BTreeMap<(String, String), f64>,
    writes_only: bool,
) -> (f64, BTreeMap<String, f64>) {
    const OURS: [&str; 9] = [
        "tickets",
        "workspaces",
        "slapolicies",
        "supporttiers",
        "events",
        "configmaps",
        "namespaces",
        "rolebindings",
        "leases",
    ];
    let mut by = BTreeMap::new();
    let mut total = 0.0;
    for ((verb, resource), n) in after {
        if !OURS.contains(&resource.as_str()) {
            continue;
        }
        if writes_only && !matches!(verb.as_str(), "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE") {
            continue;
        }
        let d = n - before
            .get(&(verb.clone(), resource.clone()))
            .unwrap_or(&0.0);
        if d > 0.0 {
            total += d;
            *by.entry(format!("{verb} {resource}")).or_insert(0.0) += d;
        }
    }
    (total, by)
}

async fn world(client: &Client) -> Res<Catalog> {
    let lp = ListParams::default();
    let policies = Api::<SlaPolicy>::all(client.clone()).list(&lp).await?.items;
    let tiers = Api::<SupportTier>::all(client.clone())
        .list(&lp)
        .await?
        .items;
    let workspaces = Api::<Workspace>::all(client.clone()).list(&lp).await?.items;
    Ok(Catalog::new(&policies, &tiers, &workspaces))
}

/// The status the core gives `t` now: what the bare client writes.
fn status_of(catalog: &Catalog, t: &Ticket, now: Timestamp) -> serde_json::Value {
    json!(evaluate(catalog, TicketInput::of(t, now), None, now).status)
}

/// Server-side applies a status to every ticket, `concurrency` at a time.
async fn bare_writes(
    client: &Client,
    tickets: &[Ticket],
    concurrency: usize,
    status: impl Fn(&Ticket) -> serde_json::Value,
) -> Res<Duration> {
    let bodies: Vec<(String, String, serde_json::Value)> = tickets
        .iter()
        .map(|t| {
            (
                t.namespace().unwrap_or_default(),
                t.name_any(),
                json!({"apiVersion": API_VERSION, "kind": "Ticket", "status": status(t)}),
            )
        })
        .collect();
    let started = Instant::now();
    stream::iter(bodies)
        .map(|(ns, name, body)| {
            let api: Api<Ticket> = Api::namespaced(client.clone(), &ns);
            async move {
                api.patch_status(
                    &name,
                    &PatchParams::apply("scale-bare-client").force(),
                    &Patch::Apply(&body),
                )
                .await
            }
        })
        .buffer_unordered(concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    Ok(started.elapsed())
}

/// What the driver's watch reads of a ticket: the `Ticket` without its
/// managedFields, which are most of a ticket as sent and were parsed for
/// nothing. The driver watches every ticket while the operator converges,
/// on the same two cores, and the bare client has no such observer:
/// reading less keeps the observer from weighing on what it measures.
#[derive(Clone, Debug, serde::Deserialize)]
struct Observed {
    #[serde(deserialize_with = "meta_without_managed_fields")]
    metadata: ObjectMeta,
    spec: TicketSpec,
    status: Option<TicketStatus>,
}

fn meta_without_managed_fields<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<ObjectMeta, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Meta {
        name: Option<String>,
        namespace: Option<String>,
        generation: Option<i64>,
        resource_version: Option<String>,
    }
    let m = <Meta as serde::Deserialize>::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        generation: m.generation,
        resource_version: m.resource_version,
        ..ObjectMeta::default()
    })
}

impl kube::Resource for Observed {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(dt: &()) -> std::borrow::Cow<'_, str> {
        Ticket::kind(dt)
    }
    fn group(dt: &()) -> std::borrow::Cow<'_, str> {
        Ticket::group(dt)
    }
    fn version(dt: &()) -> std::borrow::Cow<'_, str> {
        Ticket::version(dt)
    }
    fn api_version(dt: &()) -> std::borrow::Cow<'_, str> {
        Ticket::api_version(dt)
    }
    fn plural(dt: &()) -> std::borrow::Cow<'_, str> {
        Ticket::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Waits (watching, not polling) until `done` holds for all `n` tickets.
async fn converge(
    client: &Client,
    n: usize,
    started: Instant,
    done: impl Fn(&Ticket) -> bool,
) -> Res<Duration> {
    use kube::runtime::watcher;
    let mut state: std::collections::HashMap<(String, String), bool> = Default::default();
    let mut count = 0usize;
    let mut events = watcher(
        Api::<Observed>::all(client.clone()),
        watcher::Config::default(),
    )
    .boxed();
    let mut last_report = Instant::now();
    while let Some(event) = events.try_next().await? {
        let tickets = match event {
            watcher::Event::Apply(t) | watcher::Event::InitApply(t) => vec![Ticket {
                metadata: t.metadata,
                spec: t.spec,
                status: t.status,
            }],
            _ => continue,
        };
        for t in tickets {
            let key = (t.namespace().unwrap_or_default(), t.name_any());
            let now_done = done(&t);
            let was = state.insert(key, now_done).unwrap_or(false);
            match (was, now_done) {
                (false, true) => count += 1,
                (true, false) => count -= 1,
                _ => {}
            }
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            say(format!(
                "  {count}/{n} after {:.1}s",
                started.elapsed().as_secs_f64()
            ));
            last_report = Instant::now();
        }
        if count >= n {
            return Ok(started.elapsed());
        }
    }
    Err("the watch ended".into())
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn operator_writes(health: &str) -> f64 {
    writes_of(health, "")
}

/// The operator's own count of its writes, for one controller (`""`: all).
fn writes_of(health: &str, controller: &str) -> f64 {
    let Ok(out) = Command::new("curl")
        .args(["-sf", &format!("http://{health}/metrics")])
        .output()
    else {
        return f64::NAN;
    };
    let prefix = if controller.is_empty() {
        "support_operator_status_writes_total".to_string()
    } else {
        format!("support_operator_status_writes_total{{controller=\"{controller}\"}}")
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>()
        // An empty sum of floats is -0.0, printed "-0": no series is 0.
        + 0.0
}

fn start_operator(
    path: &str,
    health: &str,
    concurrency: usize,
    log: &str,
    leader_election: bool,
) -> Res<Child> {
    start_replica(
        path,
        "scale-operator",
        health,
        concurrency,
        log,
        leader_election,
    )
}

/// One replica under its own identity (a standby for the failover steps).
fn start_replica(
    path: &str,
    identity: &str,
    health: &str,
    concurrency: usize,
    log: &str,
    leader_election: bool,
) -> Res<Child> {
    let log = std::fs::File::create(log)?;
    Ok(Command::new(path)
        .args([
            "run",
            &format!("--leader-election={leader_election}"),
            "--identity",
            identity,
            "--default-workspace=",
            "--health-addr",
            health,
            "--ticket-concurrency",
            &concurrency.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?)
}

fn figure(name: &str, value: impl std::fmt::Display) {
    println!("{name:<56} {value}");
}

/// Sends SIGTERM and waits for the process to end: how long it took.
async fn terminate(child: &mut Child, limit: Duration) -> Res<Duration> {
    let started = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    while started.elapsed() < limit {
        if child.try_wait()?.is_some() {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("the operator was still running {limit:?} after SIGTERM").into())
}

/// Waits until the operator's log says its controllers run (after the
/// caches synced and, with leader election, the lease was taken): the
/// moment `/readyz` turns 200.
async fn running(log: &str, started: Instant, limit: Duration) -> Res<Duration> {
    logged(log, "controllers running", started, limit).await
}

/// Waits until `log` contains `line`: the time since `started`.
async fn logged(log: &str, line: &str, started: Instant, limit: Duration) -> Res<Duration> {
    while started.elapsed() < limit {
        if std::fs::read_to_string(log).is_ok_and(|t| t.contains(line)) {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("no '{line}' in {log} after {limit:?}").into())
}

fn free_addr() -> Res<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Ok(format!("127.0.0.1:{port}"))
}

/// Leader failover with every ticket converged: a standby (`identity`) is
/// started and waits for the lease; the leader is stopped (`kill`: SIGKILL,
/// so the lease must expire; else SIGTERM, which releases it); the time
/// until the standby runs its controllers is reported, then its writes over
/// `idle` seconds. Returns the new leader.
async fn failover(
    client: &Client,
    a: &Args,
    leader: &mut Child,
    identity: &str,
    log: &str,
    kill: bool,
) -> Res<(Child, String)> {
    let how = if kill { "SIGKILL" } else { "SIGTERM" };
    let health = free_addr()?;
    let mut standby = start_replica(&a.operator, identity, &health, a.concurrency, log, true)?;
    let waiting = logged(
        log,
        "waiting for the leader lease",
        Instant::now(),
        Duration::from_secs(120),
    )
    .await;
    if let Err(e) = waiting {
        let _ = standby.kill();
        return Err(e);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = requests(client).await?;
    let started = Instant::now();
    if kill {
        leader.kill()?;
        leader.wait()?;
    } else {
        terminate(leader, Duration::from_secs(60)).await?;
    }
    let ready = match running(log, started, Duration::from_secs(300)).await {
        Ok(d) => d,
        Err(e) => {
            let _ = standby.kill();
            return Err(e);
        }
    };
    figure(
        &format!("failover ({how} to the leader): standby running"),
        format!("{:.1}s", ready.as_secs_f64()),
    );
    tokio::time::sleep(Duration::from_secs(a.idle)).await;
    let after = requests(client).await?;
    let (writes, by) = delta(&before, &after, true);
    let routing = writes_of(&health, "routing");
    figure(
        &format!("failover ({how}) + {} s: status writes", a.idle),
        operator_writes(&health) - routing,
    );
    figure(
        &format!("failover ({how}) + {} s: routing writes", a.idle),
        routing,
    );
    figure(
        &format!("failover ({how}) + {} s: API writes (ours)", a.idle),
        format!("{writes:.0} {by:?}"),
    );
    Ok((standby, health))
}

fn tier_name(i: usize) -> String {
    format!("scale-tier-{i:03}")
}

/// The tiers and policies of a large organisation: `policies` copies of
/// `unified`, `tiers` tiers over them with a three-level chain.
async fn create_catalog(client: &Client, tiers: usize, policies: usize) -> Res<()> {
    let api = Api::<SlaPolicy>::all(client.clone());
    let unified = api.get("unified").await?;
    for p in 0..policies {
        let mut copy = SlaPolicy::new(&format!("scale-policy-{p:02}"), unified.spec.clone());
        copy.metadata.managed_fields = None;
        api.patch(
            &format!("scale-policy-{p:02}"),
            &PatchParams::apply("scale-setup").force(),
            &Patch::Apply(&copy),
        )
        .await?;
    }
    let tier_api = Api::<SupportTier>::all(client.clone());
    for t in 0..tiers {
        let policy = if policies == 0 {
            "unified".to_string()
        } else {
            format!("scale-policy-{:02}", t % policies)
        };
        let tier: SupportTier = serde_json::from_value(json!({
            "apiVersion": API_VERSION, "kind": "SupportTier",
            "metadata": {"name": tier_name(t)},
            "spec": {"displayName": format!("Scale tier {t}"), "supportModel": "Formal",
                     "slaPolicy": policy,
                     "entitlements": ["Technical", "Billing", "Subscription", "Advisory"],
                     "escalation": [
                         {"supportType": "HelpDesk", "queue": format!("desk-{t:03}")},
                         {"supportType": "Dedicated", "queue": format!("team-{t:03}"), "after": "50%"},
                         {"supportType": "Vendor", "queue": "vendor-support", "after": "100%"}]}
        }))?;
        tier_api
            .patch(
                &tier_name(t),
                &PatchParams::apply("scale-setup").force(),
                &Patch::Apply(&tier),
            )
            .await?;
    }
    Ok(())
}

/// Workspace `w`'s default tier and allowed tiers: with tiers of its own,
/// one in five workspaces lists three allowed tiers and the others none
/// (any tier, as most workspaces of a new user's cluster).
fn workspace_tiers(w: usize, tiers: usize) -> (String, Option<Vec<String>>) {
    if tiers == 0 {
        let t = ["important", "critical"];
        return (
            t[w % 2].to_string(),
            Some(t.iter().map(|s| s.to_string()).collect()),
        );
    }
    let own = tier_name(w % tiers);
    let allowed = w.is_multiple_of(5).then(|| {
        (0..3)
            .map(|k| tier_name((w + k) % tiers))
            .collect::<Vec<_>>()
    });
    (own, allowed)
}

/// Every ConfigMap the operator published: (count, data bytes, whole
/// objects' bytes as JSON, the largest object's name and bytes).
async fn routing_objects(client: &Client) -> Res<(usize, usize, usize, (String, usize))> {
    let selector = "app.kubernetes.io/managed-by=support-operator";
    let maps = Api::<ConfigMap>::all(client.clone())
        .list(&ListParams::default().labels(selector))
        .await?
        .items;
    let mut data = 0;
    let mut whole = 0;
    let mut largest = (String::new(), 0);
    for cm in &maps {
        data += cm
            .data
            .iter()
            .flatten()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
        let size = serde_json::to_vec(cm)?.len();
        whole += size;
        if size > largest.1 {
            largest = (
                format!("{}/{}", cm.namespace().unwrap_or_default(), cm.name_any()),
                size,
            );
        }
    }
    Ok((maps.len(), data, whole, largest))
}

/// Workspaces whose `RoutingPublished` is True.
async fn published(client: &Client) -> Res<usize> {
    Ok(Api::<Workspace>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter(|w| {
            w.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "RoutingPublished" && c.status == "True")
            })
        })
        .count())
}

/// Whether the cluster table (whole or the shard holding `tier`) contains `needle`.
async fn table_contains(client: &Client, tier: &str, needle: &str) -> Res<bool> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), "support-operator");
    let Some(cm) = api.get_opt("support-routing").await? else {
        return Ok(false);
    };
    let data = cm.data.unwrap_or_default();
    if let Some(doc) = data.get("routes.json") {
        return Ok(doc.contains(needle));
    }
    let Some(index) = data.get("index.json") else {
        return Ok(false);
    };
    let index: serde_json::Value = serde_json::from_str(index)?;
    let Some(i) = index["tiers"][tier].as_u64() else {
        return Ok(false);
    };
    let Some(name) = index["shards"][i as usize].as_str() else {
        return Ok(false);
    };
    Ok(api
        .get_opt(name)
        .await?
        .and_then(|c| c.data)
        .and_then(|mut d| d.remove("routes.json"))
        .is_some_and(|doc| doc.contains(needle)))
}

/// Multiplies every SlaPolicy's targets by `factor`; gives each ticket's
/// `responseDueAt` as the core computes it under the new policies.
async fn change_policies(
    client: &Client,
    tickets: &[Ticket],
    factor: i64,
) -> Res<std::collections::HashMap<(String, String), Option<String>>> {
    let policies = Api::<SlaPolicy>::all(client.clone());
    let mut changed = Vec::new();
    for p in policies.list(&ListParams::default()).await?.items {
        let mut spec = serde_json::to_value(&p.spec)?;
        if let Some(sevs) = spec.get_mut("severities").and_then(|s| s.as_array_mut()) {
            for s in sevs {
                if let Some(t) = s.get("initialResponse").and_then(|t| t.as_str()) {
                    let secs = support_operator::api::quantity::parse_duration(t)? * factor;
                    s["initialResponse"] = json!(format!("{}s", secs));
                }
            }
        }
        changed.push((p, spec));
    }
    let mut new_policies = Vec::new();
    for (p, spec) in &changed {
        let mut p = p.clone();
        p.spec = serde_json::from_value(spec.clone())?;
        p.metadata.managed_fields = None;
        new_policies.push(p);
    }
    let tiers_now = Api::<SupportTier>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items;
    let ws_now = Api::<Workspace>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items;
    let new_catalog = Catalog::new(&new_policies, &tiers_now, &ws_now);
    let now = Timestamp::now();
    let expected = tickets
        .iter()
        .map(|t| {
            let s = status_of(&new_catalog, t, now);
            (
                (t.namespace().unwrap_or_default(), t.name_any()),
                s.get("responseDueAt")
                    .and_then(|d| d.as_str())
                    .map(str::to_string),
            )
        })
        .collect();
    for (p, spec) in &changed {
        policies
            .patch(
                &p.name_any(),
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": spec})),
            )
            .await?;
    }
    Ok(expected)
}

fn due_matches(
    expected: &std::collections::HashMap<(String, String), Option<String>>,
    t: &Ticket,
) -> bool {
    let key = (t.namespace().unwrap_or_default(), t.name_any());
    let due = t
        .status
        .as_ref()
        .and_then(|s| s.response_due_at.as_ref())
        .map(|d| d.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    expected.get(&key).is_some_and(|e| *e == due)
}

#[tokio::main]
async fn main() -> Res<()> {
    let a = args()?;
    let client = Client::try_default().await?;
    let severities = ["B", "C"];

    if a.tiers > 0 {
        say(format!(
            "creating {} policies and {} tiers",
            a.policies, a.tiers
        ));
        create_catalog(&client, a.tiers, a.policies).await?;
    }
    say(format!("creating {} workspaces", a.workspaces));
    stream::iter(0..a.workspaces)
        .map(|w| {
            let client = client.clone();
            let tiers = a.tiers;
            async move {
                let name = format!("scale-{w:03}");
                let ns = format!("scale-{w:03}-support");
                let namespaces: Api<Namespace> = Api::all(client.clone());
                let namespace: Namespace = serde_json::from_value(json!({
                    "metadata": {"name": ns, "labels": {"supportpolicy.dev/workspace": name}}
                }))?;
                let _ = namespaces.create(&PostParams::default(), &namespace).await;
                let (tier, allowed) = workspace_tiers(w, tiers);
                let mut spec = json!({"namespace": ns, "tier": tier, "agreement": "Unified",
                         "members": [{"kind": "Group", "name": format!("scale-{w:03}-members")}],
                         "delegatedAdmins": [{"partner": "fabrikam", "group": format!("fabrikam-{w:03}"),
                                              "provider": "IndirectProvider",
                                              "roles": ["ServiceSupportAdministrator"]}]});
                if let Some(allowed) = allowed {
                    spec["allowedTiers"] = json!(allowed);
                }
                let workspace: Workspace = serde_json::from_value(json!({
                    "apiVersion": API_VERSION, "kind": "Workspace",
                    "metadata": {"name": name}, "spec": spec
                }))?;
                Api::<Workspace>::all(client)
                    .patch(
                        &name,
                        &PatchParams::apply("scale-setup").force(),
                        &Patch::Apply(&workspace),
                    )
                    .await?;
                Res::Ok(())
            }
        })
        .buffer_unordered(a.concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await?;

    say(format!("creating {} tickets", a.tickets));
    let started = Instant::now();
    stream::iter(0..a.tickets)
        .map(|i| {
            let client = client.clone();
            async move {
                let ns = format!("scale-{:03}-support", i % a.workspaces);
                let ticket: Ticket = serde_json::from_value(json!({
                    "apiVersion": API_VERSION, "kind": "Ticket",
                    "metadata": {"name": format!("t-{i:06}"), "namespace": ns},
                    "spec": {"title": format!("scale ticket {i}"), "severity": severities[(i / a.workspaces) % 2],
                             "category": "Technical"}
                }))?;
                Api::<Ticket>::namespaced(client, &ns)
                    .create(&PostParams::default(), &ticket)
                    .await?;
                Res::Ok(())
            }
        })
        .buffer_unordered(a.concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    let created = started.elapsed();
    figure(
        "tickets created",
        format!(
            "{} in {:.1}s ({:.0}/s)",
            a.tickets,
            created.as_secs_f64(),
            a.tickets as f64 / created.as_secs_f64()
        ),
    );

    let lp = ListParams::default().labels("");
    let mut tickets: Vec<Ticket> = Api::<Ticket>::all(client.clone())
        .list(&lp)
        .await?
        .items
        .into_iter()
        .filter(|t| t.namespace().is_some_and(|n| n.starts_with("scale-")))
        .collect();
    tickets.sort_by_key(|t| (t.namespace(), t.name_any()));
    let n = tickets.len();

    // 2. The bare client: the same status writes, no operator.
    let bare = if a.bare {
        let catalog = world(&client).await?;
        let now = Timestamp::now();
        let bare = bare_writes(&client, &tickets, a.concurrency, |t| {
            status_of(&catalog, t, now)
        })
        .await?;
        figure(
            "bare client: status writes",
            format!(
                "{n} in {:.1}s ({:.0}/s)",
                bare.as_secs_f64(),
                n as f64 / bare.as_secs_f64()
            ),
        );
        // Its statuses go (applying an empty status releases every field it set).
        bare_writes(&client, &tickets, a.concurrency, |_| json!({})).await?;
        Some(bare)
    } else {
        None
    };

    // 3. The operator from cold: every ticket gets its status.
    let health = free_addr()?;
    let log = std::env::var("OPERATOR_LOG").unwrap_or_else(|_| "/tmp/scale-operator.log".into());
    let before = requests(&client).await?;
    let started = Instant::now();
    let mut operator = start_operator(&a.operator, &health, a.concurrency, &log, a.routing)?;
    let pid = operator.id();
    let result = async {
        let cold = converge(&client, n, started, |t| {
            t.status.as_ref().is_some_and(|s| {
                s.phase.is_some() && s.observed_generation == t.metadata.generation
            })
        })
        .await?;
        let after = requests(&client).await?;
        let (total, by) = delta(&before, &after, false);
        figure(
            "operator: every ticket has its status",
            format!(
                "{:.1}s ({:.0} tickets/s)",
                cold.as_secs_f64(),
                n as f64 / cold.as_secs_f64()
            ),
        );
        if let Some(bare) = bare {
            figure(
                "operator / bare client",
                format!("{:.2}x", cold.as_secs_f64() / bare.as_secs_f64()),
            );
        }
        figure(
            "API requests per ticket (operator start → converged)",
            format!("{:.2} ({total:.0} requests)", total / n as f64),
        );
        for (k, v) in by {
            figure(&format!("  {k}"), v);
        }
        figure(
            "operator peak RSS after convergence",
            format!("{:.1} MiB", peak_rss_mib(pid)),
        );

        if a.routing {
            say("routing: waiting for every workspace's slice");
            loop {
                let done = published(&client).await?;
                if done >= a.workspaces {
                    break;
                }
                if started.elapsed() > Duration::from_secs(1800) {
                    return Err(format!("only {done}/{} slices published", a.workspaces).into());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            figure(
                "routing: every slice published (from start)",
                format!("{:.1}s", started.elapsed().as_secs_f64()),
            );
        }

        // 4. Idle.
        say(format!("idle for {} s", a.idle));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let writes_before = operator_writes(&health);
        let before = requests(&client).await?;
        tokio::time::sleep(Duration::from_secs(a.idle)).await;
        let after = requests(&client).await?;
        let (writes, by) = delta(&before, &after, true);
        figure(
            &format!("idle {} s: API writes (ours)", a.idle),
            format!("{writes:.0} {by:?}"),
        );
        figure(
            &format!("idle {} s: operator writes", a.idle),
            operator_writes(&health) - writes_before,
        );

        if a.routing {
            let (count, data, whole, largest) = routing_objects(&client).await?;
            figure("routing objects (ConfigMaps)", count);
            figure(
                "routing objects: total bytes",
                format!(
                    "{:.2} MB of data, {:.2} MB as whole objects",
                    data as f64 / 1e6,
                    whole as f64 / 1e6
                ),
            );
            figure(
                "routing objects: largest",
                format!("{} ({:.1} KiB)", largest.0, largest.1 as f64 / 1024.0),
            );

            // A tier change: the chain's first queue of one tier.
            let tier = if a.tiers > 0 {
                tier_name(0)
            } else {
                "critical".to_string()
            };
            let affected: Vec<String> = Api::<Workspace>::all(client.clone())
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter(|w| {
                    w.spec.tier == tier || w.spec.allowed_tiers.iter().flatten().any(|t| *t == tier)
                })
                .map(|w| w.spec.namespace)
                .collect();
            let queue = format!("changed-{}", Timestamp::now().as_second());
            let tiers_api = Api::<SupportTier>::all(client.clone());
            let mut escalation =
                serde_json::to_value(&tiers_api.get(&tier).await?.spec.escalation)?;
            escalation[0]["queue"] = json!(queue);
            let routing_before = writes_of(&health, "routing");
            let all_before = operator_writes(&health);
            let before = requests(&client).await?;
            let started = Instant::now();
            tiers_api
                .patch(
                    &tier,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"spec": {"escalation": escalation}})),
                )
                .await?;
            loop {
                let mut done = table_contains(&client, &tier, &queue).await?;
                for ns in &affected {
                    if !done {
                        break;
                    }
                    done = Api::<ConfigMap>::namespaced(client.clone(), ns)
                        .get_opt("support-policy")
                        .await?
                        .and_then(|c| c.data)
                        .and_then(|mut d| d.remove("routes.json"))
                        .is_some_and(|doc| doc.contains(&queue));
                }
                if done {
                    break;
                }
                if started.elapsed() > Duration::from_secs(300) {
                    return Err("the tier change did not reach every slice in 300 s".into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            figure(
                "tier change: table and every affected slice updated",
                format!(
                    "{:.2}s ({} slices affected)",
                    started.elapsed().as_secs_f64(),
                    affected.len()
                ),
            );
            tokio::time::sleep(Duration::from_secs(5)).await;
            let after = requests(&client).await?;
            let (_, by) = delta(&before, &after, true);
            figure(
                "tier change: routing writes (ConfigMaps, conditions)",
                writes_of(&health, "routing") - routing_before,
            );
            figure(
                "tier change: all operator writes (incl. tickets)",
                operator_writes(&health) - all_before,
            );
            figure("tier change: API writes (ours)", format!("{by:?}"));
        }

        // 5. One policy change under every ticket: targets doubled.
        if !a.policy_change {
            return Res::Ok(None);
        }
        let before = requests(&client).await?;
        let started = Instant::now();
        let expected = Arc::new(change_policies(&client, &tickets, 2).await?);
        let change = converge(&client, n, started, |t| due_matches(&expected, t)).await?;
        let after = requests(&client).await?;
        let (total, _) = delta(&before, &after, false);
        figure(
            "policy change: every due time updated",
            format!("{:.1}s", change.as_secs_f64()),
        );
        figure(
            "policy change: API requests per ticket",
            format!("{:.2}", total / n as f64),
        );
        figure(
            "operator peak RSS (whole run)",
            format!("{:.1} MiB", peak_rss_mib(pid)),
        );
        Res::Ok(Some(change))
    }
    .await;
    let peak = peak_rss_mib(pid);
    if result.is_err() || !a.routing {
        let _ = operator.kill();
        let _ = operator.wait();
    }
    let change = result?;

    if a.routing {
        figure(
            "operator peak RSS (cold start to here)",
            format!("{peak:.1} MiB"),
        );
        // SIGTERM under load: a policy change under every ticket is being
        // written (and the routing table with it) when the signal comes.
        say("SIGTERM under load");
        let expected = Arc::new(change_policies(&client, &tickets, 2).await?);
        tokio::time::sleep(Duration::from_secs(3)).await;
        // The whole run's peak: the policy change in flight is its busiest
        // moment (read just before the signal; the process is gone after).
        figure(
            "operator peak RSS (whole run, at SIGTERM under load)",
            format!("{:.1} MiB", peak_rss_mib(operator.id())),
        );
        let took = terminate(&mut operator, Duration::from_secs(60)).await?;
        figure(
            "SIGTERM under load: process exited",
            format!("{:.2}s", took.as_secs_f64()),
        );
        let holder = Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(
            client.clone(),
            "support-operator",
        )
        .get("support-operator")
        .await?
        .spec
        .and_then(|s| s.holder_identity);
        figure(
            "SIGTERM: lease holder after exit",
            holder.unwrap_or_else(|| "none (released)".into()),
        );

        // Back up: it finishes the interrupted change.
        let started = Instant::now();
        let mut operator = start_operator(
            &a.operator,
            &health,
            a.concurrency,
            &format!("{log}.2"),
            true,
        )?;
        let resumed = converge(&client, n, started, |t| due_matches(&expected, t)).await;
        let resumed = match resumed {
            Ok(d) => d,
            Err(e) => {
                let _ = operator.kill();
                return Err(e);
            }
        };
        figure(
            "restart mid-change: every due time updated",
            format!("{:.1}s", resumed.as_secs_f64()),
        );
        tokio::time::sleep(Duration::from_secs(10)).await;
        let quiet = terminate(&mut operator, Duration::from_secs(60)).await?;
        figure(
            "SIGTERM when idle: process exited",
            format!("{:.2}s", quiet.as_secs_f64()),
        );

        // Restart with every ticket converged: nothing to write.
        let before = requests(&client).await?;
        let started = Instant::now();
        let log3 = format!("{log}.3");
        let mut operator = start_operator(&a.operator, &health, a.concurrency, &log3, true)?;
        let ready = running(&log3, started, Duration::from_secs(300)).await;
        let ready = match ready {
            Ok(d) => d,
            Err(e) => {
                let _ = operator.kill();
                return Err(e);
            }
        };
        figure(
            "restart at scale: lease taken, caches synced, running",
            format!("{:.1}s", ready.as_secs_f64()),
        );
        tokio::time::sleep(Duration::from_secs(a.idle)).await;
        let after = requests(&client).await?;
        let (writes, by) = delta(&before, &after, true);
        figure(
            &format!("restart + {} s: operator status writes", a.idle),
            operator_writes(&health) - writes_of(&health, "routing"),
        );
        figure(
            &format!("restart + {} s: routing writes", a.idle),
            writes_of(&health, "routing"),
        );
        figure(
            &format!("restart + {} s: API writes (ours)", a.idle),
            format!("{writes:.0} {by:?}"),
        );
        figure(
            "restarted operator peak RSS",
            format!("{:.1} MiB", peak_rss_mib(operator.id())),
        );

        // Leader failover, twice: the leader killed (its lease must expire),
        // then the new leader stopped with SIGTERM (it releases the lease).
        let (mut second, _) = failover(
            &client,
            &a,
            &mut operator,
            "scale-operator-b",
            &format!("{log}.4"),
            true,
        )
        .await?;
        let (mut third, _) = failover(
            &client,
            &a,
            &mut second,
            "scale-operator-c",
            &format!("{log}.5"),
            false,
        )
        .await?;
        let _ = terminate(&mut third, Duration::from_secs(60)).await;
    }

    // The bare client makes the same change's status writes.
    if let Some(change) = change {
        let catalog = world(&client).await?;
        let now = Timestamp::now();
        let bare_change = bare_writes(&client, &tickets, a.concurrency, |t| {
            status_of(&catalog, t, now)
        })
        .await?;
        figure(
            "bare client: the change's status writes",
            format!("{n} in {:.1}s", bare_change.as_secs_f64()),
        );
        figure(
            "policy change: operator / bare client",
            format!("{:.2}x", change.as_secs_f64() / bare_change.as_secs_f64()),
        );
    }
    tickets.clear();
    Ok(())
}
