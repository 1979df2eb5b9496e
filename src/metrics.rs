//! Prometheus metrics, served on `/metrics`.
//!
//! Ticket gauges are kept by difference (each ticket's last labels are
//! remembered) so a scrape never walks the ticket cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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

/// Every metric the operator exports.
pub struct Metrics {
    pub registry: Registry,
    pub reconciles: Family<ControllerLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub duration: Family<ControllerLabels, Histogram>,
    pub tickets: Family<TicketLabels, Gauge>,
    pub breaches: Family<WorkspaceLabels, Counter>,
    pub first_response: Family<WorkspaceLabels, Histogram>,
    pub status_writes: Family<ControllerLabels, Counter>,
    last_labels: Mutex<HashMap<(String, String), TicketLabels>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("support_operator");
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
            registry,
            reconciles,
            errors,
            duration,
            tickets,
            breaches,
            first_response,
            status_writes,
            last_labels: Mutex::new(HashMap::new()),
        }
    }
}

impl Metrics {
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
    pub fn set_ticket(&self, key: (String, String), labels: Option<TicketLabels>) {
        let Ok(mut last) = self.last_labels.lock() else {
            return;
        };
        let previous = match &labels {
            Some(l) => last.insert(key, l.clone()),
            None => last.remove(&key),
        };
        if previous == labels {
            return;
        }
        if let Some(p) = previous {
            self.tickets.get_or_create(&p).dec();
        }
        if let Some(l) = labels {
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
