//! What every fault test needs: one test at a time on the control plane, a
//! support model of its own, tickets made concurrently, the comparison of
//! every ticket's status with what `evaluate` prints for the same objects,
//! Events counted per ticket and reason, and the operator's metrics.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};
use support_operator::api::{SlaPolicy, SupportTier, Ticket, Workspace};

use super::operator::Operator;
pub use super::support::eventually;
use super::support::{ControlPlane, repo_root, strip_times};

/// Namespace of the operator (its routing ConfigMap, its lease).
pub const OPERATOR_NS: &str = "support-operator";

/// The tests of this binary stop, freeze and kill things the others use
/// (the operator, kube-apiserver, etcd), and two operators must never run at
/// once: one test at a time, whatever `--test-threads` says.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The control plane with the CRDs, the ticket roles and the operator's
/// namespace.
pub fn setup() -> &'static ControlPlane {
    static DONE: OnceLock<()> = OnceLock::new();
    let cp = ControlPlane::shared();
    DONE.get_or_init(|| {
        cp.install_crds_and_roles();
        let _ = cp.kubectl(&["create", "namespace", OPERATOR_NS]);
    });
    cp
}

/// A fault test's turn on the control plane: [`SERIAL`] held until it is
/// dropped, the control plane set up ([`setup`]), a client.
pub struct Turn {
    pub cp: &'static ControlPlane,
    pub client: Client,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl Turn {
    /// Waits for the other fault tests to finish.
    pub async fn take() -> Turn {
        let serial = SERIAL.lock().await;
        let cp = setup();
        let client = cp.client().await;
        Turn {
            cp,
            client,
            _serial: serial,
        }
    }

    /// A [`Model`] of its own, once the running operator has made every
    /// workspace's namespace.
    pub async fn model(&self, prefix: &str, levels: &[(&str, &str)], workspaces: usize) -> Model {
        let model = Model::create(&self.client, prefix, levels, workspaces).await;
        model
            .wait_namespaces(&self.client, Duration::from_secs(30))
            .await;
        model
    }
}

/// What most fault tests start from: their [`Turn`], one operator without
/// leader election (ready), and a [`Model`] whose namespaces exist.
pub struct Scenario {
    pub cp: &'static ControlPlane,
    pub client: Client,
    pub op: Operator,
    /// The operator's process, as started.
    pub pid: u32,
    pub model: Model,
    pub namespaces: Vec<String>,
    /// Last, so dropped last: the turn ends after the operator is stopped.
    _turn: Turn,
}

impl Scenario {
    /// Takes the turn and starts the operator `operator` with [`solo_args`],
    /// then makes the model (`prefix`, `levels`, `workspaces` as for
    /// [`Model::create`]).
    pub async fn start(
        operator: &str,
        prefix: &str,
        levels: &[(&str, &str)],
        workspaces: usize,
    ) -> Scenario {
        let turn = Turn::take().await;
        let op = Operator::start(turn.cp, operator, &solo_args());
        Scenario::with(turn, op, prefix, levels, workspaces).await
    }

    /// [`Scenario::start`] with an operator the test started itself during
    /// `turn` (other credentials, another log filter).
    pub async fn with(
        turn: Turn,
        op: Operator,
        prefix: &str,
        levels: &[(&str, &str)],
        workspaces: usize,
    ) -> Scenario {
        let pid = op.pid().expect("the operator's pid");
        let model = turn.model(prefix, levels, workspaces).await;
        Scenario {
            cp: turn.cp,
            client: turn.client.clone(),
            op,
            pid,
            namespaces: model.namespaces(),
            model,
            _turn: turn,
        }
    }

    /// Whether the operator started with the scenario still runs (not
    /// restarted, not a zombie).
    pub fn same_process(&self) -> bool {
        self.op.pid() == Some(self.pid) && process_alive(self.pid)
    }

    /// Waits (up to `timeout`) until the model's namespaces hold `tickets`
    /// tickets, each with a status.
    pub async fn wait_statuses(&self, tickets: usize, timeout: Duration) {
        eventually(timeout, "a status on every ticket", async || {
            let all = list_tickets(&self.client, &self.namespaces).await.ok()?;
            (all.len() == tickets && all.values().all(|t| t.status.is_some())).then_some(())
        })
        .await;
    }

    /// [`converge`] on this scenario's model, the operator's log shown on failure.
    pub async fn converge(
        &self,
        expected_tickets: usize,
        timeout: Duration,
    ) -> BTreeMap<(String, String), Ticket> {
        converge(
            self.cp,
            &self.client,
            &self.model,
            expected_tickets,
            timeout,
            Some(&self.op),
        )
        .await
    }
}

/// `support-operator run` flags for a single operator without leader election.
pub fn solo_args() -> Vec<&'static str> {
    vec![
        "--namespace",
        OPERATOR_NS,
        "--leader-election=false",
        "--default-workspace",
        "",
        "--routing-debounce",
        "200ms",
    ]
}

/// An instant as the operator writes it: RFC 3339, UTC, whole seconds.
pub fn rfc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `t` without its fraction of a second (the API keeps whole seconds).
pub fn whole(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).expect("a valid instant")
}

pub fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

/// Seconds from `from` to `to`, for printing.
pub fn span(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64()
}

/// Waits until `t` (a scenario's timing, never an assertion).
pub async fn sleep_until(t: Timestamp) {
    let d = t.duration_since(Timestamp::now());
    if d > SignedDuration::ZERO {
        tokio::time::sleep(Duration::try_from(d).unwrap_or_default()).await;
    }
}

/// A 24x7 policy (so due = start + target, whatever the day), a tier on it
/// with a two-level chain (HelpDesk at once, Vendor at 50%), and workspaces
/// on that tier. The manifests are kept, as written, for `evaluate`.
pub struct Model {
    pub policy: String,
    /// (workspace name, namespace)
    pub workspaces: Vec<(String, String)>,
    policy_doc: Value,
    other_docs: Vec<Value>,
}

/// Severities of a 24x7 policy: `(name, initialResponse)`.
pub fn severities(levels: &[(&str, &str)]) -> Value {
    Value::Array(
        levels
            .iter()
            .map(|(name, target)| json!({"name": name, "initialResponse": target, "coverage": "24x7"}))
            .collect(),
    )
}

impl Model {
    pub async fn create(client: &Client, prefix: &str, levels: &[(&str, &str)], n: usize) -> Model {
        let policy = ControlPlane::unique_name(&format!("{prefix}-p"));
        let tier = ControlPlane::unique_name(&format!("{prefix}-t"));
        let workspaces: Vec<(String, String)> = (0..n)
            .map(|_| {
                (
                    ControlPlane::unique_name(&format!("{prefix}-w")),
                    ControlPlane::unique_name(&format!("{prefix}-ns")),
                )
            })
            .collect();
        let policy_doc = json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "SlaPolicy",
            "metadata": {"name": policy},
            "spec": {
                "severities": severities(levels),
                "atRiskAt": "75%",
                "calendars": [{"name": "default", "timeZone": "UTC",
                    "hours": [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "09:00", "end": "17:00"}]}]
            }
        });
        let mut other_docs = vec![json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "SupportTier",
            "metadata": {"name": tier},
            "spec": {
                "supportModel": "Formal",
                "slaPolicy": policy,
                "escalation": [
                    {"supportType": "HelpDesk", "queue": "helpdesk"},
                    {"supportType": "Vendor", "queue": "vendor", "after": "50%"}
                ]
            }
        })];
        for (w, ns) in &workspaces {
            other_docs.push(json!({
                "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
                "metadata": {"name": w},
                "spec": {"namespace": ns, "tier": tier}
            }));
        }
        let pp = PostParams::default();
        Api::<SlaPolicy>::all(client.clone())
            .create(&pp, &serde_json::from_value(policy_doc.clone()).unwrap())
            .await
            .expect("creating the policy");
        Api::<SupportTier>::all(client.clone())
            .create(&pp, &serde_json::from_value(other_docs[0].clone()).unwrap())
            .await
            .expect("creating the tier");
        for doc in &other_docs[1..] {
            Api::<Workspace>::all(client.clone())
                .create(&pp, &serde_json::from_value(doc.clone()).unwrap())
                .await
                .expect("creating a workspace");
        }
        Model {
            policy,
            workspaces,
            policy_doc,
            other_docs,
        }
    }

    pub fn namespaces(&self) -> Vec<String> {
        self.workspaces.iter().map(|(_, ns)| ns.clone()).collect()
    }

    /// Waits for the operator to make every workspace's namespace.
    pub async fn wait_namespaces(&self, client: &Client, timeout: Duration) {
        let api: Api<Namespace> = Api::all(client.clone());
        for ns in self.namespaces() {
            eventually(timeout, &format!("namespace {ns}"), async || {
                api.get_opt(&ns).await.ok().flatten().map(|_| ())
            })
            .await;
        }
    }

    /// Replaces the policy's severities, in the cluster and in the manifests
    /// (retried for a while: the control plane may be disturbed).
    pub async fn set_severities(&mut self, client: &Client, levels: &[(&str, &str)]) {
        let patch = json!({"spec": {"severities": severities(levels)}});
        let api = Api::<SlaPolicy>::all(client.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match api
                .patch(&self.policy, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => break,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("  (retrying the policy change: {e})");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("patching the policy: {e}"),
            }
        }
        self.policy_doc["spec"]["severities"] = severities(levels);
    }

    /// A folder for `evaluate`: these manifests and `tickets` as they are in
    /// the cluster (creationTimestamp and generation kept; status and
    /// managedFields dropped, so that `evaluate` starts from nothing).
    fn evaluate_dir(&self, cp: &ControlPlane, tickets: &[Ticket]) -> PathBuf {
        let dir = cp.dir().join(ControlPlane::unique_name("evaluate"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut docs = vec![self.policy_doc.clone()];
        docs.extend(self.other_docs.iter().cloned());
        write_list(&dir.join("model.json"), docs);
        let items = tickets
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.status = None;
                t.metadata.managed_fields = None;
                serde_json::to_value(&t).unwrap()
            })
            .collect();
        write_list(&dir.join("tickets.json"), items);
        dir
    }
}

fn write_list(path: &Path, items: Vec<Value>) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    std::fs::write(path, serde_json::to_vec(&list).unwrap()).unwrap();
}

/// Creates the tickets `make` builds from `items`, with `concurrency`
/// requests in flight. `make` runs just before each request (so a ticket may
/// depend on when it is made); `after_each` gets the number created so far.
pub async fn create_tickets<I>(
    client: &Client,
    items: impl IntoIterator<Item = I>,
    concurrency: usize,
    make: impl Fn(I) -> Ticket,
    after_each: impl Fn(usize),
) {
    let created = std::sync::atomic::AtomicUsize::new(0);
    futures::stream::iter(items)
        .map(|item| {
            let t = make(item);
            let api: Api<Ticket> =
                Api::namespaced(client.clone(), t.metadata.namespace.as_deref().unwrap());
            async move { create_retrying(&api, &t).await }
        })
        .buffer_unordered(concurrency)
        .for_each(|()| {
            let n = created.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            after_each(n);
            async {}
        })
        .await;
}

/// Creates a ticket; a failure that may be transient (the control plane
/// being disturbed) is retried for a while, an existing ticket is fine (a
/// retried create whose first answer was lost).
pub async fn create_retrying(api: &Api<Ticket>, t: &Ticket) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match api.create(&PostParams::default(), t).await {
            Ok(_) => return,
            Err(kube::Error::Api(e)) if e.code == 409 => return,
            Err(e) if Instant::now() < deadline => {
                eprintln!("  (retrying the creation of {}: {e})", t.name_any());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("creating ticket {}: {e}", t.name_any()),
        }
    }
}

/// A ticket from its spec (JSON).
pub fn ticket(namespace: &str, name: &str, spec: Value) -> Ticket {
    serde_json::from_value(json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }))
    .expect("a valid ticket")
}

/// Every ticket of `namespaces`, keyed by (namespace, name).
pub async fn list_tickets(
    client: &Client,
    namespaces: &[String],
) -> Result<BTreeMap<(String, String), Ticket>, kube::Error> {
    let mut all = BTreeMap::new();
    for ns in namespaces {
        let api: Api<Ticket> = Api::namespaced(client.clone(), ns);
        for t in api.list(&ListParams::default()).await?.items {
            all.insert((ns.clone(), t.name_any()), t);
        }
    }
    Ok(all)
}

/// Runs the `support-operator evaluate` binary over `dir` at `now`:
/// (namespace, name) → status.
pub fn evaluate(dir: &Path, now: Timestamp) -> HashMap<(String, String), Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_support-operator"))
        .arg("evaluate")
        .arg("-f")
        .arg(dir)
        .arg("--now")
        .arg(rfc(now))
        .arg("-o")
        .arg("json")
        .output()
        .expect("running support-operator evaluate");
    assert!(
        out.status.success(),
        "evaluate -f {} failed ({}): {}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("evaluate prints JSON");
    report["tickets"]
        .as_array()
        .expect("a tickets array")
        .iter()
        .map(|t| {
            (
                (
                    t["namespace"].as_str().unwrap().to_string(),
                    t["name"].as_str().unwrap().to_string(),
                ),
                t["status"].clone(),
            )
        })
        .collect()
}

/// Differences between the cluster's statuses and `evaluate`'s at one
/// instant, with the tickets as read.
pub struct Comparison {
    pub diffs: Vec<String>,
    pub tickets: BTreeMap<(String, String), Ticket>,
}

/// Reads every ticket of the model, runs `evaluate` over the same objects at
/// the instant of the read, and compares: status without transition times
/// and generations (as tests/e2e does), and `status.observedGeneration ==
/// metadata.generation`.
pub async fn compare(cp: &ControlPlane, client: &Client, model: &Model) -> Comparison {
    let now = whole(Timestamp::now());
    let tickets = match list_tickets(client, &model.namespaces()).await {
        Ok(t) => t,
        Err(e) => {
            return Comparison {
                diffs: vec![format!("cannot list tickets: {e}")],
                tickets: BTreeMap::new(),
            };
        }
    };
    let ticket_list: Vec<Ticket> = tickets.values().cloned().collect();
    let dir = model.evaluate_dir(cp, &ticket_list);
    let expected = evaluate(&dir, now);
    let _ = std::fs::remove_dir_all(&dir);
    let mut diffs = Vec::new();
    if expected.len() != tickets.len() {
        diffs.push(format!(
            "evaluate printed {} tickets, the cluster has {}",
            expected.len(),
            tickets.len()
        ));
    }
    for (key, t) in &tickets {
        let got = t.status.as_ref().map(|s| serde_json::to_value(s).unwrap());
        let want = expected.get(key).cloned();
        let same = match (&got, &want) {
            (Some(g), Some(w)) => strip_times(g.clone()) == strip_times(w.clone()),
            _ => false,
        };
        if !same {
            diffs.push(format!(
                "{}/{} at {}:\n  cluster:  {}\n  evaluate: {}",
                key.0,
                key.1,
                rfc(now),
                got.map(strip_times).unwrap_or(Value::Null),
                want.map(strip_times).unwrap_or(Value::Null)
            ));
            continue;
        }
        let observed = t.status.as_ref().and_then(|s| s.observed_generation);
        if observed != t.metadata.generation {
            diffs.push(format!(
                "{}/{}: status.observedGeneration {:?} != metadata.generation {:?}",
                key.0, key.1, observed, t.metadata.generation
            ));
        }
    }
    Comparison { diffs, tickets }
}

/// Retries [`compare`] until the cluster agrees with `evaluate` on every
/// ticket; panics with the differences (and the operator's log) after
/// `timeout`. Gives the tickets as last read.
pub async fn converge(
    cp: &ControlPlane,
    client: &Client,
    model: &Model,
    expected_tickets: usize,
    timeout: Duration,
    op: Option<&Operator>,
) -> BTreeMap<(String, String), Ticket> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut c = compare(cp, client, model).await;
        if c.tickets.len() != expected_tickets {
            c.diffs.push(format!(
                "{} tickets in the cluster, {expected_tickets} expected",
                c.tickets.len()
            ));
        }
        if c.diffs.is_empty() {
            return c.tickets;
        }
        if Instant::now() > deadline {
            let n = c.diffs.len();
            c.diffs.truncate(10);
            panic!(
                "after {timeout:?}, {n} tickets differ from evaluate; the first:\n{}\n---- operator log:\n{}",
                c.diffs.join("\n"),
                op.map(|o| o.log_tail(40)).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A condition of a ticket's status: (status, lastTransitionTime).
pub fn condition(t: &Ticket, type_: &str) -> Option<(String, Timestamp)> {
    t.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.last_transition_time.0))
}

/// Occurrences of Events about tickets in `namespaces`, by (ticket name,
/// reason); an Event with a series counts `series.count` times.
pub async fn ticket_events(
    client: &Client,
    namespaces: &[String],
) -> HashMap<(String, String), i32> {
    let mut counts = HashMap::new();
    for ns in namespaces {
        let api: Api<Event> = Api::namespaced(client.clone(), ns);
        let events: Vec<Event> = api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        for e in events {
            let Some(regarding) = &e.regarding else {
                continue;
            };
            if regarding.kind.as_deref() != Some("Ticket") {
                continue;
            }
            let n = e.series.as_ref().map_or(1, |s| s.count);
            *counts
                .entry((
                    regarding.name.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                ))
                .or_insert(0) += n;
        }
    }
    counts
}

/// Totals by reason of [`ticket_events`].
pub fn by_reason(counts: &HashMap<(String, String), i32>) -> BTreeMap<String, i32> {
    let mut out = BTreeMap::new();
    for ((_, reason), n) in counts {
        *out.entry(reason.clone()).or_insert(0) += n;
    }
    out
}

/// Sum of a metric family's samples on the operator's `/metrics`, and its
/// lines (for printing).
pub fn metric(op: &Operator, family: &str) -> (f64, Vec<String>) {
    let text = op.get("/metrics").unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(family) && l[family.len()..].starts_with(['{', ' ']))
        .map(String::from)
        .collect();
    let sum = lines
        .iter()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |a, b| a + b);
    (sum, lines)
}

/// Whether a process exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
            .is_some_and(|state| state != 'Z')
    })
}

/// Runs `hack/control-plane ACTION DIR NAME [extra]` on the running control plane.
pub fn control_plane(cp: &ControlPlane, action: &str, name: &str, extra: &[&str]) {
    let out = Command::new(repo_root().join("hack/control-plane"))
        .arg(action)
        .arg(cp.dir())
        .arg(name)
        .args(extra)
        .output()
        .expect("running hack/control-plane");
    assert!(
        out.status.success(),
        "hack/control-plane {action} {name} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        cp.log_tails()
    );
}

/// The pid of a control-plane component (DIR/pids/NAME).
pub fn component_pid(cp: &ControlPlane, name: &str) -> u32 {
    std::fs::read_to_string(cp.dir().join("pids").join(name))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid for {name} in {}", cp.dir().display()))
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid} failed");
}

/// Sends SIGCONT when dropped: a frozen etcd never outlives a failed test.
pub struct Thaw(pub u32);

impl Drop for Thaw {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-CONT")
            .arg(self.0.to_string())
            .status();
    }
}

/// A TCP proxy on loopback in front of kube-apiserver that counts the
/// connections made through it: while kube-apiserver is down, each request
/// of a client is a new connection (nothing is pooled), accepted here and
/// closed at once, so the count is the client's request attempts. TLS passes
/// through untouched (the serving certificate is for 127.0.0.1).
pub struct CountingProxy {
    pub port: u16,
    connections: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CountingProxy {
    pub fn start(upstream: std::net::SocketAddr) -> CountingProxy {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("a proxy port");
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(AtomicU64::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let Ok(server) = TcpStream::connect(upstream) else {
                        return; // dropped: the client sees the connection closed
                    };
                    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
                        return;
                    };
                    let (mut c, mut s) = (client, server);
                    let up = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut c2, &mut s2);
                        let _ = s2.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut s, &mut c);
                    let _ = c.shutdown(std::net::Shutdown::Write);
                    let _ = up.join();
                });
            }
        });
        CountingProxy { port, connections }
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The admin kubeconfig with its server replaced by this proxy, written
    /// into the control plane's folder.
    pub fn kubeconfig(&self, cp: &ControlPlane, file: &str) -> PathBuf {
        let mut kubeconfig = kube::config::Kubeconfig::read_from(cp.kubeconfig_path()).unwrap();
        for named in &mut kubeconfig.clusters {
            if let Some(cluster) = named.cluster.as_mut() {
                cluster.server = Some(format!("https://127.0.0.1:{}", self.port));
            }
        }
        let path = cp.dir().join(file);
        // JSON is YAML.
        std::fs::write(&path, serde_json::to_vec(&kubeconfig).unwrap()).unwrap();
        path
    }
}

/// kube-apiserver's address, from the admin kubeconfig.
pub fn apiserver_addr(cp: &ControlPlane) -> std::net::SocketAddr {
    let kubeconfig = kube::config::Kubeconfig::read_from(cp.kubeconfig_path()).unwrap();
    let server = kubeconfig.clusters[0]
        .cluster
        .as_ref()
        .and_then(|c| c.server.clone())
        .expect("a server in the kubeconfig");
    let host = server
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    host.parse().unwrap_or_else(|e| panic!("{host}: {e}"))
}

/// Lines of a file (the operator's log).
pub fn log_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}
