//! The offline engine behind `evaluate`: manifests in, the statuses and
//! ConfigMaps the operator would write out, through the same core calls the
//! controllers make ([`crate::deadline::evaluate`], [`crate::routing`]).
//! Printing (table, YAML, exit codes) stays in [`crate::cli`].

use jiff::Timestamp;
use serde::Serialize;

use crate::api::{Ticket, TicketStatus};
use crate::catalog::Catalog;
use crate::deadline::{Evaluation, TicketInput, evaluate};
use crate::manifests::Manifests;
use crate::routing;

/// The JSON/YAML document `evaluate` prints.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tickets: Vec<TicketReport>,
    pub config_maps: Vec<k8s_openapi::api::core::v1::ConfigMap>,
}

#[derive(Serialize, Debug)]
pub struct TicketReport {
    pub namespace: String,
    pub name: String,
    pub status: TicketStatus,
}

/// What `evaluate` computes, before it is printed.
pub struct Evaluated {
    pub report: Report,
    pub evaluations: Vec<Evaluation>,
    pub findings: Vec<crate::manifests::Finding>,
}

/// Tickets in output order: by namespace, then name.
pub fn sorted_tickets(manifests: &Manifests) -> Vec<&Ticket> {
    let mut tickets: Vec<&Ticket> = manifests.tickets.iter().collect();
    tickets.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    tickets
}

/// One ticket through the rules: the same core call the controller makes.
fn evaluate_one(catalog: &Catalog, ticket: &Ticket, now: Timestamp) -> Evaluation {
    evaluate(
        catalog,
        TicketInput::of(ticket, now),
        ticket.status.as_ref(),
        now,
    )
}

pub fn report_of(ticket: &Ticket, status: TicketStatus) -> TicketReport {
    TicketReport {
        namespace: ticket.metadata.namespace.clone().unwrap_or_default(),
        name: ticket.metadata.name.clone().unwrap_or_default(),
        status,
    }
}

/// The ConfigMaps the operator would write for these manifests.
pub fn config_maps_of(
    manifests: &Manifests,
    catalog: &Catalog,
    operator_namespace: &str,
) -> Vec<k8s_openapi::api::core::v1::ConfigMap> {
    let table = routing::compile(catalog, &manifests.policies);
    routing::config_maps(&table, catalog, operator_namespace)
}

/// `evaluate` without the printing: the same core the controller calls.
pub fn evaluate_manifests(
    manifests: &Manifests,
    now: Timestamp,
    operator_namespace: &str,
) -> Evaluated {
    let catalog = manifests.catalog();
    let tickets = sorted_tickets(manifests);
    let mut reports = Vec::with_capacity(tickets.len());
    let mut evaluations = Vec::with_capacity(tickets.len());
    for t in tickets {
        let eval = evaluate_one(&catalog, t, now);
        reports.push(report_of(t, eval.status.clone()));
        evaluations.push(eval);
    }
    let config_maps = config_maps_of(manifests, &catalog, operator_namespace);
    Evaluated {
        findings: manifests.findings(&catalog, operator_namespace),
        report: Report {
            tickets: reports,
            config_maps,
        },
        evaluations,
    }
}

/// The [`Report`] written as it is computed: each ticket is evaluated while
/// it is serialized and dropped after, so `-o json` holds no status beyond
/// the one being written (at 100,000 tickets, keeping them all took
/// hundreds of MiB).
pub struct StreamedReport<'a> {
    catalog: &'a Catalog,
    tickets: Vec<&'a Ticket>,
    now: Timestamp,
    config_maps: Vec<k8s_openapi::api::core::v1::ConfigMap>,
}

impl<'a> StreamedReport<'a> {
    /// The report of `manifests`, to be serialized once.
    pub fn new(
        manifests: &'a Manifests,
        catalog: &'a Catalog,
        now: Timestamp,
        operator_namespace: &str,
    ) -> Self {
        StreamedReport {
            catalog,
            tickets: sorted_tickets(manifests),
            now,
            config_maps: config_maps_of(manifests, catalog, operator_namespace),
        }
    }
}

impl Serialize for StreamedReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut report = serializer.serialize_struct("Report", 2)?;
        report.serialize_field("tickets", &StreamedTickets(self))?;
        report.serialize_field("configMaps", &self.config_maps)?;
        report.end()
    }
}

struct StreamedTickets<'r, 'a>(&'r StreamedReport<'a>);

impl Serialize for StreamedTickets<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let mut seq = serializer.serialize_seq(Some(self.0.tickets.len()))?;
        // A chunk at a time, its tickets evaluated on every core, then
        // written in order: the rules are independent per ticket.
        for chunk in self.0.tickets.chunks(1024 * threads) {
            let reports = evaluate_chunk(self.0.catalog, chunk, self.0.now, threads);
            for report in &reports {
                seq.serialize_element(report)?;
            }
        }
        seq.end()
    }
}

/// Reports for `tickets`, in order, computed on up to `threads` threads.
fn evaluate_chunk(
    catalog: &Catalog,
    tickets: &[&Ticket],
    now: Timestamp,
    threads: usize,
) -> Vec<TicketReport> {
    let one = |t: &&Ticket| report_of(t, evaluate_one(catalog, t, now).status);
    if threads <= 1 || tickets.len() < 64 {
        return tickets.iter().map(one).collect();
    }
    let per = tickets.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = tickets
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}
