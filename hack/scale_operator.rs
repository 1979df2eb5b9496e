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
//! Figures only; nothing here is a pass/fail test.

use std::collections::BTreeMap;
use std::error::Error;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use support_operator::api::{API_VERSION, SlaPolicy, SupportTier, Ticket, Workspace};
use support_operator::catalog::Catalog;
use support_operator::deadline::{TicketInput, evaluate};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

struct Args {
    tickets: usize,
    workspaces: usize,
    concurrency: usize,
    idle: u64,
    operator: String,
}

fn args() -> Res<Args> {
    let mut a = Args {
        tickets: 10_000,
        workspaces: 50,
        concurrency: 16,
        idle: 60,
        operator: "target/release/support-operator".into(),
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
        Api::<Ticket>::all(client.clone()),
        watcher::Config::default(),
    )
    .boxed();
    let mut last_report = Instant::now();
    while let Some(event) = events.try_next().await? {
        let tickets = match event {
            watcher::Event::Apply(t) | watcher::Event::InitApply(t) => vec![t],
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
    let Ok(out) = Command::new("curl")
        .args(["-sf", &format!("http://{health}/metrics")])
        .output()
    else {
        return f64::NAN;
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("support_operator_status_writes_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn start_operator(path: &str, health: &str, concurrency: usize, log: &str) -> Res<Child> {
    let log = std::fs::File::create(log)?;
    Ok(Command::new(path)
        .args([
            "run",
            "--leader-election=false",
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
    println!("{name:<48} {value}");
}

#[tokio::main]
async fn main() -> Res<()> {
    let a = args()?;
    let client = Client::try_default().await?;
    let tiers = ["important", "critical"];
    let severities = ["B", "C"];

    say(format!("creating {} workspaces", a.workspaces));
    for w in 0..a.workspaces {
        let name = format!("scale-{w:03}");
        let ns = format!("scale-{w:03}-support");
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let namespace: Namespace = serde_json::from_value(json!({
            "metadata": {"name": ns, "labels": {"supportpolicy.dev/workspace": name}}
        }))?;
        let _ = namespaces.create(&PostParams::default(), &namespace).await;
        let workspace: Workspace = serde_json::from_value(json!({
            "apiVersion": API_VERSION, "kind": "Workspace",
            "metadata": {"name": name},
            "spec": {"namespace": ns, "tier": tiers[w % 2], "agreement": "Unified",
                     "allowedTiers": tiers,
                     "members": [{"kind": "Group", "name": format!("scale-{w:03}-members")}]}
        }))?;
        Api::<Workspace>::all(client.clone())
            .patch(
                &name,
                &PatchParams::apply("scale-setup").force(),
                &Patch::Apply(&workspace),
            )
            .await?;
    }

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

    // 3. The operator from cold: every ticket gets its status.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let health = format!("127.0.0.1:{port}");
    let log = std::env::var("OPERATOR_LOG").unwrap_or_else(|_| "/tmp/scale-operator.log".into());
    let before = requests(&client).await?;
    let started = Instant::now();
    let mut operator = start_operator(&a.operator, &health, a.concurrency, &log)?;
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
        figure(
            "operator / bare client",
            format!("{:.2}x", cold.as_secs_f64() / bare.as_secs_f64()),
        );
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
            &format!("idle {} s: operator status writes", a.idle),
            operator_writes(&health) - writes_before,
        );

        // 5. One policy change under every ticket: targets doubled.
        let policies = Api::<SlaPolicy>::all(client.clone());
        let mut changed = Vec::new();
        for p in policies.list(&ListParams::default()).await?.items {
            let mut spec = serde_json::to_value(&p.spec)?;
            if let Some(sevs) = spec.get_mut("severities").and_then(|s| s.as_array_mut()) {
                for s in sevs {
                    if let Some(t) = s.get("initialResponse").and_then(|t| t.as_str()) {
                        let secs = support_operator::api::quantity::parse_duration(t)? * 2;
                        s["initialResponse"] = json!(format!("{}s", secs));
                    }
                }
            }
            changed.push((p.name_any(), spec));
        }
        let mut new_policies = Vec::new();
        for (name, spec) in &changed {
            let mut p = policies.get(name).await?;
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
        let expected: std::collections::HashMap<(String, String), Option<String>> = tickets
            .iter()
            .map(|t| {
                let s = status_of(&new_catalog, t, Timestamp::now());
                (
                    (t.namespace().unwrap_or_default(), t.name_any()),
                    s.get("responseDueAt")
                        .and_then(|d| d.as_str())
                        .map(str::to_string),
                )
            })
            .collect();
        let before = requests(&client).await?;
        let started = Instant::now();
        for (name, spec) in &changed {
            policies
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"spec": spec})),
                )
                .await?;
        }
        let expected = Arc::new(expected);
        let change = converge(&client, n, started, |t| {
            let key = (t.namespace().unwrap_or_default(), t.name_any());
            let due = t
                .status
                .as_ref()
                .and_then(|s| s.response_due_at.as_ref())
                .map(|d| d.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
            expected.get(&key).is_some_and(|e| *e == due)
        })
        .await?;
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
        Res::Ok(change)
    }
    .await;
    let _ = operator.kill();
    let _ = operator.wait();
    let change = result?;

    // The bare client makes the same change's status writes.
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
    tickets.clear();
    Ok(())
}
