//! The deadline rules of DESIGN.md (1–11) as pure functions: from a ticket,
//! the objects it refers to and `now`, the status the operator writes and the
//! next instant at which that status would change.
//!
//! | rule | where |
//! |---|---|
//! | 1 resolve and check | [`resolve`]; its "belongs elsewhere" step (`Redirected`): [`elsewhere`] |
//! | 2–4 round the clock, effective severity, coverage | [`coverage`] |
//! | 5 calendar, 6 clock (response instant: [`plan::Accepted::response`]), 7 instants (due, at risk, resolution due, escalation) | [`plan`] (business time itself: [`crate::calendar`]) |
//! | 8 phase (`Resolved` first), 9 no SLA, 10 next change; 7's `ResolutionBreached` at an instant | [`phase`] |
//! | 11 effort cap (`EffortCapReached`, `nextStep`) | [`effort`] |
//! | conditions and their transition times | [`conditions`] |

pub mod conditions;
pub mod coverage;
pub mod effort;
pub mod elsewhere;
pub mod phase;
pub mod plan;
pub mod resolve;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub use phase::Snapshot;
pub use plan::Plan;
pub use resolve::Rejection;

use crate::api::{Ticket, TicketSpec, TicketStatus};
use crate::catalog::Catalog;

/// A ticket as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct TicketInput<'a> {
    pub namespace: &'a str,
    pub spec: &'a TicketSpec,
    /// `metadata.creationTimestamp`: the clock start when `spec.openedAt` is absent.
    pub created: Timestamp,
    pub generation: Option<i64>,
}

impl<'a> TicketInput<'a> {
    /// The input for a stored ticket: its namespace, spec and generation,
    /// created at its `creationTimestamp` (`now` for one not yet stored,
    /// as offline). The controller and `evaluate` both build it here.
    pub fn of(ticket: &'a Ticket, now: Timestamp) -> Self {
        Self::new(&ticket.metadata, &ticket.spec, now)
    }

    /// The same from a ticket's parts (the controller's cache keeps no
    /// whole `Ticket`).
    pub fn new(metadata: &'a ObjectMeta, spec: &'a TicketSpec, now: Timestamp) -> Self {
        TicketInput {
            namespace: metadata.namespace.as_deref().unwrap_or_default(),
            spec,
            created: metadata.creation_timestamp.as_ref().map_or(now, |t| t.0),
            generation: metadata.generation,
        }
    }

    /// Rule 6: the clock starts at `openedAt`, else at creation.
    pub fn start(&self) -> Timestamp {
        self.spec.opened_at.as_ref().map_or(self.created, |t| t.0)
    }
}

/// The status to write, and when to look again (rule 10).
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub status: TicketStatus,
    pub next_change: Option<Timestamp>,
    /// Where the ticket stands at `now`.
    pub snapshot: Snapshot,
    /// The decisions behind the status (calendar zone, instants), for display.
    pub plan: Plan,
}

/// Applies rules 1–11. `previous` keeps the transition times of conditions
/// whose status did not change (none offline).
pub fn evaluate(
    catalog: &Catalog,
    ticket: TicketInput<'_>,
    previous: Option<&TicketStatus>,
    now: Timestamp,
) -> Evaluation {
    let plan = Plan::new(catalog, ticket);
    let snapshot = plan.at(now);
    let next_change = plan.next_change(now, &snapshot);
    let status = plan.status(&snapshot, ticket.generation, previous, now);
    Evaluation {
        status,
        next_change,
        snapshot,
        plan,
    }
}
