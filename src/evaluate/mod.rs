//! The offline engine behind `evaluate`: manifests in, the statuses and
//! ConfigMaps the operator would write out, through the same core calls the
//! controllers make ([`crate::deadline::evaluate`], [`crate::routing`]).
//! Printing (table, YAML, exit codes) stays in [`crate::cli`].
//!
//! Besides the statuses it gathers every finding ([`checks`], and what
//! reading found, [`crate::manifests`]), and compares two evaluations for
//! the impact of a change ([`impact`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

pub mod checks;
pub mod impact;
pub mod sarif;

use crate::api::{Ticket, TicketStatus};
use crate::catalog::Catalog;
use crate::deadline::{Evaluation, TicketInput, evaluate};
use crate::manifests::{Check, Finding, Manifests};
use crate::routing;

/// The JSON/YAML document `evaluate` prints.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tickets: Vec<TicketReport>,
    pub config_maps: Vec<k8s_openapi::api::core::v1::ConfigMap>,
    pub findings: Vec<Finding>,
    /// Objects of other kinds passed over, by `apiVersion/kind`.
    pub skipped: BTreeMap<String, usize>,
}

/// How strict the gate is about what it reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct GateOptions {
    /// Refuse objects of other kinds instead of skipping them.
    pub strict_kinds: bool,
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
    pub findings: Vec<Finding>,
}

/// Every finding, in file and line order: what reading found, objects of
/// other kinds under `--strict-kinds`, then references, readiness and
/// warnings ([`checks::findings`]).
pub fn findings_of(
    manifests: &Manifests,
    catalog: &Catalog,
    operator_namespace: &str,
    now: Timestamp,
    options: GateOptions,
) -> Vec<Finding> {
    let mut found = checks::findings(manifests, catalog, operator_namespace, now);
    if options.strict_kinds {
        found.extend(manifests.skipped.iter().map(|s| {
            Finding::error(Check::ForeignKind, &s.path, &s.kind, &s.name)
                .at(s.line)
                .message(format!(
                    "is of kind {} ({}), not one this tool reads (--strict-kinds)",
                    s.kind, s.api_version
                ))
        }));
    }
    // An object the API server would refuse is reported once, by the check
    // that refuses it, not again as not Ready for the same cause.
    let refused: std::collections::BTreeSet<(&str, &str)> = manifests
        .findings
        .iter()
        .filter(|f| f.check.refused_by_api_server())
        .map(|f| (f.kind.as_str(), f.name.as_str()))
        .collect();
    found.retain(|f| {
        f.check != Check::Readiness || !refused.contains(&(f.kind.as_str(), f.name.as_str()))
    });
    manifests.locate_fields(&mut found);
    let mut all = manifests.findings.clone();
    all.extend(found);
    all.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    all
}

/// Objects passed over, counted by `apiVersion/kind`.
pub fn skipped_of(manifests: &Manifests) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in &manifests.skipped {
        *out.entry(format!("{}/{}", s.api_version, s.kind))
            .or_default() += 1;
    }
    out
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
    evaluate_with(manifests, now, operator_namespace, GateOptions::default())
}

/// [`evaluate_manifests`] with the gate's options.
pub fn evaluate_with(
    manifests: &Manifests,
    now: Timestamp,
    operator_namespace: &str,
    options: GateOptions,
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
    let findings = findings_of(manifests, &catalog, operator_namespace, now, options);
    Evaluated {
        findings: findings.clone(),
        report: Report {
            tickets: reports,
            config_maps,
            findings,
            skipped: skipped_of(manifests),
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
    pub findings: Vec<Finding>,
    skipped: BTreeMap<String, usize>,
}

impl<'a> StreamedReport<'a> {
    /// The report of `manifests`, to be serialized once.
    pub fn new(
        manifests: &'a Manifests,
        catalog: &'a Catalog,
        now: Timestamp,
        operator_namespace: &str,
        options: GateOptions,
    ) -> Self {
        StreamedReport {
            catalog,
            tickets: sorted_tickets(manifests),
            now,
            config_maps: config_maps_of(manifests, catalog, operator_namespace),
            findings: findings_of(manifests, catalog, operator_namespace, now, options),
            skipped: skipped_of(manifests),
        }
    }
}

impl Serialize for StreamedReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut report = serializer.serialize_struct("Report", 4)?;
        report.serialize_field("tickets", &StreamedTickets(self))?;
        report.serialize_field("configMaps", &self.config_maps)?;
        report.serialize_field("findings", &self.findings)?;
        report.serialize_field("skipped", &self.skipped)?;
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
pub(crate) fn evaluate_chunk(
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
