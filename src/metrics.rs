//! Prometheus metrics, served on `/metrics` by every replica (a standby
//! too: build, leader, process and API-client metrics).
//!
//! Ticket gauges are kept by difference (each ticket's last labels are
//! remembered) so a scrape never walks the ticket cache; a series that
//! counts no ticket any more is removed, and a deleted workspace's series go
//! with it ([`Metrics::retain_workspaces`]). At thousands of workspaces the
//! `workspace` label can be dropped ([`WorkspaceLabel::None`]).
//!
//! The operator's own metrics are prefixed `support_operator_`; the process
//! metrics have the names every Prometheus client uses (`process_…`), so
//! that standard dashboards and alerts work.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// What the `workspace` label of the ticket metrics holds.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WorkspaceLabel {
    /// The workspace's name: one series per workspace (and severity, phase).
    #[default]
    Full,
    /// Empty (which Prometheus reads as no label): one series per severity
    /// and phase for all workspaces, for 1,000 workspaces and more.
    None,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
    pub commit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method; `WATCH` for a GET that opens a watch.
    pub method: String,
    /// HTTP status code, or `error` when no response came (connection refused, timeout).
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TicketLabels {
    pub workspace: String,
    pub severity: String,
    pub phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkspaceLabels {
    pub workspace: String,
}

/// Each ticket's last gauge labels, compactly: at 50,000 tickets a map
/// from `(namespace, name)` to three label strings held about 400 bytes per
/// ticket. Here a ticket is one `namespace/name` key (a namespace holds no
/// `/`) and a 4-byte index into the few distinct label sets (workspaces ×
/// severities × phases), which are counted as they are used so the gauges
/// can be rebuilt without a walk over every ticket.
#[derive(Default)]
struct LastLabels {
    by_ticket: HashMap<Box<str>, u32>,
    sets: Vec<TicketLabels>,
    ids: HashMap<TicketLabels, u32>,
    /// Tickets per label set, by index.
    counts: Vec<i64>,
}

impl LastLabels {
    fn key(namespace: &str, name: &str) -> Box<str> {
        format!("{namespace}/{name}").into_boxed_str()
    }

    fn id(&mut self, labels: &TicketLabels) -> u32 {
        if let Some(id) = self.ids.get(labels) {
            return *id;
        }
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        self.sets.push(labels.clone());
        self.counts.push(0);
        self.ids.insert(labels.clone(), id);
        id
    }

    fn count(&mut self, id: u32, by: i64) {
        if let Some(c) = self.counts.get_mut(id as usize) {
            *c += by;
        }
    }

    /// Records the ticket's labels; the labels it had before, if any.
    fn insert(
        &mut self,
        namespace: &str,
        name: &str,
        labels: &TicketLabels,
    ) -> Option<TicketLabels> {
        let id = self.id(labels);
        self.count(id, 1);
        let previous = self.by_ticket.insert(Self::key(namespace, name), id)?;
        self.count(previous, -1);
        self.sets.get(previous as usize).cloned()
    }

    /// Forgets the ticket; the labels it had, if any.
    fn remove(&mut self, namespace: &str, name: &str) -> Option<TicketLabels> {
        let previous = self.by_ticket.remove(&*Self::key(namespace, name))?;
        self.count(previous, -1);
        self.sets.get(previous as usize).cloned()
    }

    /// Forgets every ticket counted under this workspace label.
    fn forget_workspace(&mut self, workspace: &str) {
        let gone: HashSet<u32> = self
            .ids
            .iter()
            .filter(|(l, _)| l.workspace == workspace)
            .map(|(_, id)| *id)
            .collect();
        if gone.is_empty() {
            return;
        }
        self.by_ticket.retain(|_, id| !gone.contains(id));
        for id in gone {
            if let Some(c) = self.counts.get_mut(id as usize) {
                *c = 0;
            }
        }
    }

    /// Each label set that counts at least one ticket, with its count.
    fn counts(&self) -> impl Iterator<Item = (&TicketLabels, i64)> {
        self.sets
            .iter()
            .zip(self.counts.iter().copied())
            .filter(|(_, c)| *c > 0)
    }
}

/// Every metric the operator exports.
pub struct Metrics {
    pub registry: Registry,
    /// 1 while this replica holds the lease (or runs without election).
    pub leader: Gauge,
    pub api_requests: Family<RequestLabels, Counter>,
    pub api_request_duration: Family<MethodLabels, Histogram>,
    workspace_label: WorkspaceLabel,
    pub reconciles: Family<ControllerLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub duration: Family<ControllerLabels, Histogram>,
    pub tickets: Family<TicketLabels, Gauge>,
    pub breaches: Family<WorkspaceLabels, Counter>,
    pub first_response: Family<WorkspaceLabels, Histogram>,
    pub status_writes: Family<ControllerLabels, Counter>,
    /// Each ticket's last labels, kept compactly ([`LastLabels`]).
    last_labels: Mutex<LastLabels>,
    /// Workspace label values in use, for [`Metrics::retain_workspaces`].
    workspaces: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(WorkspaceLabel::Full)
    }
}

impl Metrics {
    pub fn new(workspace_label: WorkspaceLabel) -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(ProcessCollector));
        let registry = root.sub_registry_with_prefix("support_operator");
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: crate::version::VERSION.into(),
                commit: crate::version::COMMIT.into(),
            })
            .set(1);
        registry.register(
            "build_info",
            "The version and commit this binary was built from (always 1)",
            build_info,
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 if this replica holds the leader lease and runs the controllers, 0 if it is a standby",
            leader.clone(),
        );
        let api_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "kube_requests",
            "Requests to the Kubernetes API, by method (WATCH for watches) and status code",
            api_requests.clone(),
        );
        // 1 ms to ~16 s.
        let api_request_duration = Family::<MethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "kube_request_duration_seconds",
            "Time to the response headers of a Kubernetes API request (for a watch: until it is open), by method",
            api_request_duration.clone(),
        );
        let reconciles = Family::<ControllerLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let tickets = Family::<TicketLabels, Gauge>::default();
        let breaches = Family::<WorkspaceLabels, Counter>::default();
        // 1 minute to ~2 weeks of business time.
        let first_response = Family::<WorkspaceLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(60.0, 2.0, 15))
        });
        let status_writes = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciliations, by controller",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciliations, by controller and reason",
            errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconciliation, by controller",
            duration.clone(),
        );
        registry.register(
            "tickets",
            "Tickets by workspace, effective severity and phase",
            tickets.clone(),
        );
        registry.register(
            "breaches",
            "Tickets that breached their response target",
            breaches.clone(),
        );
        registry.register(
            "first_response_business_seconds",
            "Business time from clock start to first response",
            first_response.clone(),
        );
        registry.register(
            "status_writes",
            "Status or object writes, by controller",
            status_writes.clone(),
        );
        Self {
            registry: root,
            leader,
            api_requests,
            api_request_duration,
            workspace_label,
            reconciles,
            errors,
            duration,
            tickets,
            breaches,
            first_response,
            status_writes,
            last_labels: Mutex::new(LastLabels::default()),
            workspaces: Mutex::new(HashSet::new()),
        }
    }

    /// The `workspace` label's value for a workspace, as the flag says.
    pub fn workspace_label(&self, workspace: &str) -> String {
        match self.workspace_label {
            WorkspaceLabel::Full => workspace.to_string(),
            WorkspaceLabel::None => String::new(),
        }
    }

    /// A ticket of `workspace` turned Breached.
    pub fn breached(&self, workspace: &str) {
        let workspace = self.workspace_label(workspace);
        self.saw(&workspace);
        self.breaches
            .get_or_create(&WorkspaceLabels { workspace })
            .inc();
    }

    /// A ticket of `workspace` got its first response after `seconds` of business time.
    pub fn first_response(&self, workspace: &str, seconds: f64) {
        let workspace = self.workspace_label(workspace);
        self.saw(&workspace);
        self.first_response
            .get_or_create(&WorkspaceLabels { workspace })
            .observe(seconds);
    }

    /// Removes every series of the workspaces `live` says are gone (their
    /// tickets' too: a ticket reconciled again starts a new series).
    pub fn retain_workspaces(&self, live: impl Fn(&str) -> bool) {
        let Ok(mut last) = self.last_labels.lock() else {
            return;
        };
        let Ok(mut seen) = self.workspaces.lock() else {
            return;
        };
        let gone: Vec<String> = seen
            .iter()
            .filter(|w| !w.is_empty() && !live(w))
            .cloned()
            .collect();
        for workspace in gone {
            seen.remove(&workspace);
            last.forget_workspace(&workspace);
            let labels = WorkspaceLabels { workspace };
            self.breaches.remove(&labels);
            self.first_response.remove(&labels);
        }
        // Ticket series whose workspace went: gauges are rebuilt from what
        // remains, so a count never goes stale.
        self.tickets.clear();
        for (labels, count) in last.counts() {
            self.tickets.get_or_create(labels).set(count);
        }
    }

    /// Remembers that a series carries this workspace label.
    fn saw(&self, workspace: &str) {
        if let Ok(mut seen) = self.workspaces.lock()
            && !seen.contains(workspace)
        {
            seen.insert(workspace.to_string());
        }
    }

    /// A tower layer for the kube client: counts and times every request.
    pub fn api_client_layer(&self) -> ApiClientLayer {
        ApiClientLayer {
            requests: self.api_requests.clone(),
            duration: self.api_request_duration.clone(),
        }
    }

    /// Starts timing one reconciliation; the time is recorded on drop.
    pub fn reconcile(&self, controller: &str) -> ReconcileTimer<'_> {
        let labels = ControllerLabels {
            controller: controller.to_string(),
        };
        self.reconciles.get_or_create(&labels).inc();
        ReconcileTimer {
            metrics: self,
            labels,
            start: Instant::now(),
        }
    }

    pub fn error(&self, controller: &str, reason: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                controller: controller.into(),
                reason: reason.into(),
            })
            .inc();
    }

    pub fn wrote(&self, controller: &str) {
        self.status_writes
            .get_or_create(&ControllerLabels {
                controller: controller.into(),
            })
            .inc();
    }

    /// Moves one ticket between gauge series; `None` removes it (deleted).
    /// A series that counts no ticket any more is removed.
    pub fn set_ticket(&self, key: (String, String), labels: Option<TicketLabels>) {
        let labels = labels.map(|mut l| {
            l.workspace = self.workspace_label(&l.workspace);
            l
        });
        let Ok(mut last) = self.last_labels.lock() else {
            return;
        };
        let previous = match &labels {
            Some(l) => last.insert(&key.0, &key.1, l),
            None => last.remove(&key.0, &key.1),
        };
        if previous == labels {
            return;
        }
        if let Some(p) = previous
            && self.tickets.get_or_create(&p).dec() <= 1
        {
            self.tickets.remove(&p);
        }
        if let Some(l) = labels {
            self.saw(&l.workspace);
            self.tickets.get_or_create(&l).inc();
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    labels: ControllerLabels,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .duration
            .get_or_create(&self.labels)
            .observe(self.start.elapsed().as_secs_f64());
    }
}

/// `process_…` metrics of this process, read from `/proc/self` at each
/// scrape (Linux; elsewhere none): CPU time, resident and virtual memory,
/// open and maximum file descriptors, threads, start time.
#[derive(Debug)]
struct ProcessCollector;

/// Clock ticks per second of `/proc/self/stat`'s times: `USER_HZ`, 100 on
/// every Linux architecture the operator's image is built for.
const USER_HZ: f64 = 100.0;

/// What `/proc/self` says now; `None` for what could not be read.
#[derive(Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub threads: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub start_time_seconds: Option<f64>,
}

impl ProcessStats {
    pub fn read() -> ProcessStats {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let boot = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let mut stats = ProcessStats::parse(&stat, &status, &limits, &boot);
        stats.open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|d| d.count() as u64);
        stats
    }

    /// From the texts of `/proc/self/stat`, `/proc/self/status`,
    /// `/proc/self/limits` and `/proc/stat`.
    pub fn parse(stat: &str, status: &str, limits: &str, boot: &str) -> ProcessStats {
        // Fields after the command name (which may hold spaces and parens):
        // state is field 3, utime 14, stime 15, starttime 22.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let boot_time = boot
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<u64>().ok());
        ProcessStats {
            cpu_seconds: field(14)
                .zip(field(15))
                .map(|(u, s)| (u + s) as f64 / USER_HZ),
            resident_bytes: kib("VmRSS:").map(|k| k * 1024),
            virtual_bytes: kib("VmSize:").map(|k| k * 1024),
            threads: kib("Threads:"),
            open_fds: None,
            max_fds: limits
                .lines()
                .find_map(|l| l.strip_prefix("Max open files"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok()),
            start_time_seconds: boot_time
                .zip(field(22))
                .map(|(b, ticks)| b as f64 + ticks as f64 / USER_HZ),
        }
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = ProcessStats::read();
        if let Some(v) = stats.cpu_seconds {
            let counter = ConstCounter::new(v);
            counter.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                counter.metric_type(),
            )?)?;
        }
        let gauges: [(&str, &str, Option<f64>); 6] = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                stats.resident_bytes.map(|v| v as f64),
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                stats.virtual_bytes.map(|v| v as f64),
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                stats.open_fds.map(|v| v as f64),
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                stats.max_fds.map(|v| v as f64),
            ),
            (
                "process_threads",
                "Number of OS threads in the process",
                stats.threads.map(|v| v as f64),
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                stats.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let gauge = ConstGauge::new(v);
                gauge.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    gauge.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}

/// Counts and times the kube client's requests (see [`Metrics::api_client_layer`]).
#[derive(Clone)]
pub struct ApiClientLayer {
    requests: Family<RequestLabels, Counter>,
    duration: Family<MethodLabels, Histogram>,
}

impl<S> tower_layer::Layer<S> for ApiClientLayer {
    type Service = ApiClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiClientService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ApiClientService<S> {
    inner: S,
    layer: ApiClientLayer,
}

/// `WATCH` for a GET with `watch=true` (or `1`), else the HTTP method.
fn method_of<B>(request: &http::Request<B>) -> String {
    let watch = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    if watch && request.method() == http::Method::GET {
        "WATCH".into()
    } else {
        request.method().as_str().into()
    }
}

impl<S, B, RB> tower_service::Service<http::Request<B>> for ApiClientService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = method_of(&request);
        let layer = self.layer.clone();
        let start = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            let code = match &result {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "error".to_string(),
            };
            layer
                .duration
                .get_or_create(&MethodLabels {
                    method: method.clone(),
                })
                .observe(start.elapsed().as_secs_f64());
            layer
                .requests
                .get_or_create(&RequestLabels { method, code })
                .inc();
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(workspace: &str, phase: &str) -> Option<TicketLabels> {
        Some(TicketLabels {
            workspace: workspace.into(),
            severity: "A".into(),
            phase: phase.into(),
        })
    }

    fn key(name: &str) -> (String, String) {
        ("ns".into(), name.into())
    }

    fn lines_of(text: &str, family: &str) -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(family))
            .map(String::from)
            .collect()
    }

    #[test]
    fn build_info_leader_and_process_metrics_are_there_before_any_controller_runs() {
        let m = Metrics::default();
        let text = m.encode();
        let build = format!(
            "support_operator_build_info{{version=\"{}\",commit=\"{}\"}} 1",
            crate::version::VERSION,
            crate::version::COMMIT
        );
        assert!(text.contains(&build), "{text}");
        assert!(text.contains("\nsupport_operator_leader 0\n"), "{text}");
        m.leader.set(1);
        assert!(m.encode().contains("\nsupport_operator_leader 1\n"));
        for family in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_start_time_seconds ",
        ] {
            let line = lines_of(&text, family);
            assert_eq!(line.len(), 1, "{family}: {text}");
            let value: f64 = line[0][family.len()..].parse().unwrap();
            assert!(value >= 0.0);
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn process_stats_are_read_from_proc_texts() {
        let stat = "4242 (support (op)) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 130 0 0 20 0 9 0 123456 104857600 5000 18446744073709551615";
        let status =
            "Name:\tsupport-operator\nVmSize:\t  102400 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1048576              1048576              files\n";
        let boot = "cpu  1 2 3\nbtime 1764633600\n";
        let s = ProcessStats::parse(stat, status, limits, boot);
        assert_eq!(
            s,
            ProcessStats {
                cpu_seconds: Some(3.8),
                resident_bytes: Some(20480 * 1024),
                virtual_bytes: Some(102400 * 1024),
                threads: Some(9),
                open_fds: None,
                max_fds: Some(1048576),
                start_time_seconds: Some(1764633600.0 + 1234.56),
            }
        );
        assert_eq!(ProcessStats::parse("", "", "", ""), ProcessStats::default());
    }

    #[test]
    fn a_ticket_series_goes_when_it_counts_no_ticket() {
        let m = Metrics::default();
        m.set_ticket(key("one"), ticket("finance", "OnTrack"));
        m.set_ticket(key("two"), ticket("finance", "OnTrack"));
        let series =
            r#"support_operator_tickets{workspace="finance",severity="A",phase="OnTrack"}"#;
        assert!(m.encode().contains(&format!("{series} 2")));
        m.set_ticket(key("one"), ticket("finance", "Breached"));
        m.set_ticket(key("two"), None);
        let text = m.encode();
        assert!(!text.contains(series), "{text}");
        assert!(text.contains(
            r#"support_operator_tickets{workspace="finance",severity="A",phase="Breached"} 1"#
        ));
    }

    #[test]
    fn a_deleted_workspace_takes_its_series_with_it() {
        let m = Metrics::default();
        m.set_ticket(key("one"), ticket("finance", "Breached"));
        m.set_ticket(key("two"), ticket("hr", "OnTrack"));
        m.breached("finance");
        m.breached("hr");
        m.first_response("finance", 60.0);
        let text = m.encode();
        for line in [
            r#"support_operator_tickets{workspace="finance",severity="A",phase="Breached"} 1"#,
            r#"support_operator_breaches_total{workspace="finance"} 1"#,
            r#"support_operator_first_response_business_seconds_count{workspace="finance"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
        m.retain_workspaces(|w| w == "hr");
        let text = m.encode();
        assert!(!text.contains("workspace=\"finance\""), "{text}");
        assert!(text.contains(
            r#"support_operator_tickets{workspace="hr",severity="A",phase="OnTrack"} 1"#
        ));
        assert!(text.contains(r#"support_operator_breaches_total{workspace="hr"} 1"#));
        // A ticket of the deleted workspace reconciled again (now without
        // a workspace) counts once, in its new series.
        m.set_ticket(key("one"), ticket("", "Rejected"));
        assert!(
            m.encode().contains(
                r#"support_operator_tickets{workspace="",severity="A",phase="Rejected"} 1"#
            )
        );
    }

    #[test]
    fn the_workspace_label_can_be_dropped() {
        let m = Metrics::new(WorkspaceLabel::None);
        for (i, ws) in ["a", "b", "c"].iter().enumerate() {
            m.set_ticket(key(&i.to_string()), ticket(ws, "OnTrack"));
            m.breached(ws);
        }
        let text = m.encode();
        assert!(
            text.contains(
                r#"support_operator_tickets{workspace="",severity="A",phase="OnTrack"} 3"#
            )
        );
        assert!(text.contains(r#"support_operator_breaches_total{workspace=""} 3"#));
        assert!(!text.contains("workspace=\"a\""));
    }

    /// A stand-in for the HTTP client under the layer: answers with `code`,
    /// or fails.
    struct Answer(Option<u16>);

    impl tower_service::Service<http::Request<()>> for Answer {
        type Response = http::Response<()>;
        type Error = &'static str;
        type Future = std::future::Ready<Result<http::Response<()>, &'static str>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            std::future::ready(match self.0 {
                Some(code) => Ok(http::Response::builder().status(code).body(()).unwrap()),
                None => Err("connection refused"),
            })
        }
    }

    #[tokio::test]
    async fn kube_requests_are_counted_by_method_and_code_and_timed() {
        use tower_layer::Layer;
        use tower_service::Service;
        let m = Metrics::default();
        let layer = m.api_client_layer();
        let request = |method: &str, uri: &str| {
            http::Request::builder()
                .method(method)
                .uri(uri)
                .body(())
                .unwrap()
        };
        let mut ok = layer.layer(Answer(Some(200)));
        ok.call(request(
            "GET",
            "/apis/supportpolicy.dev/v1alpha1/tickets?watch=true&resourceVersion=1",
        ))
        .await
        .unwrap();
        ok.call(request("GET", "/api/v1/namespaces")).await.unwrap();
        let mut conflict = layer.layer(Answer(Some(409)));
        conflict.call(request("PATCH", "/api/v1/x")).await.unwrap();
        conflict.call(request("PATCH", "/api/v1/x")).await.unwrap();
        let mut down = layer.layer(Answer(None));
        assert!(
            down.call(request("GET", "/api/v1/namespaces"))
                .await
                .is_err()
        );
        let text = m.encode();
        for line in [
            r#"support_operator_kube_requests_total{method="WATCH",code="200"} 1"#,
            r#"support_operator_kube_requests_total{method="GET",code="200"} 1"#,
            r#"support_operator_kube_requests_total{method="PATCH",code="409"} 2"#,
            r#"support_operator_kube_requests_total{method="GET",code="error"} 1"#,
            r#"support_operator_kube_request_duration_seconds_count{method="GET"} 2"#,
            r#"support_operator_kube_request_duration_seconds_count{method="PATCH"} 2"#,
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
    }
}
