//! Rules 5–7: the calendar, the clock and the instants that matter, computed
//! once per evaluation. Everything after this is comparison with `now`.

use std::sync::{Arc, LazyLock};

use jiff::Timestamp;

use super::TicketInput;
use super::coverage::effective;
use super::effort::EffortCap;
use super::resolve::{Rejection, resolve};
use crate::api::Coverage;
use crate::api::support_tier::EscalationLevel;
use crate::calendar::{Calendar, Pauses};
use crate::catalog::{Catalog, DEFAULT_CALENDAR};

static ROUND_THE_CLOCK: LazyLock<Arc<Calendar>> = LazyLock::new(|| Arc::new(Calendar::always()));

/// What the rules decided for one ticket, independent of `now`.
#[derive(Debug, Clone)]
pub enum Plan {
    Rejected {
        rejection: Rejection,
        workspace: Option<String>,
    },
    Accepted(Box<Accepted>),
}

/// An accepted ticket: its clock and, with an SLA, its deadlines.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub workspace: String,
    pub tier: String,
    /// `None`: a tier without SLA (rule 9).
    pub sla: Option<Sla>,
    /// Clock start, Unix seconds.
    pub start: i64,
    pub first_response: Option<i64>,
    /// `spec.resolvedAt`: the clocks end there (rule 6).
    pub resolved: Option<i64>,
    /// Rule 11, when the policy caps this ticket's investigation.
    pub effort_cap: Option<EffortCap>,
    pub pauses: Pauses,
    /// Pauses as written, for their reasons.
    pub pause_reasons: Vec<(i64, i64, Option<String>)>,
    /// Each level of the chain and the instant it begins (`None`: never).
    pub escalation: Vec<(EscalationLevel, Option<i64>)>,
}

/// Deadlines of a ticket under an SLA.
#[derive(Debug, Clone)]
pub struct Sla {
    pub severity: String,
    pub downgraded_from: Option<String>,
    pub coverage: Coverage,
    pub calendar: String,
    /// IANA zone of that calendar (after a ticket's `timeZone`), for display.
    pub zone: String,
    /// Response target, business seconds.
    pub target: i64,
    pub due: Option<i64>,
    /// Why `due` is `None`, for the `Accepted` message.
    pub no_due: Option<NoDue>,
    pub at_risk: Option<i64>,
    /// The level's resolution target, business seconds, if it has one.
    pub resolution: Option<i64>,
    /// The instant of that target (rule 7); `None` also when an open pause
    /// keeps it from coming.
    pub resolution_due: Option<i64>,
    pub clock: Arc<Calendar>,
}

/// Why a ticket under an SLA has no due time (rule 7: the instant never comes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDue {
    /// An open pause stops the clock before the target is reached.
    Paused,
    /// The calendar does not cover the target within
    /// [`crate::calendar::HORIZON_YEARS`] of the clock start.
    Horizon,
    /// It would come after the last instant the operator writes.
    Unwritable,
}

/// 9999-01-01T00:00:00Z: the first instant the operator does not write.
/// Spec instants stop before it (`api::pattern::INSTANT`), jiff stops a day later
/// (and a due time there was written as jiff's maximum, a time that never
/// comes); an instant from here on is omitted, as one that never comes.
pub const UNWRITABLE_FROM: i64 = 253_370_764_800;

/// An instant of rule 7, if it comes before [`UNWRITABLE_FROM`].
fn writable(at: Option<i64>) -> Option<i64> {
    at.filter(|&s| s < UNWRITABLE_FROM)
}

/// Why the target's instant never comes: the open pauses stop it, or not
/// even a clock without them reaches it in writable time.
fn no_due(clock: &Calendar, start: i64, target: i64, spec: &crate::api::TicketSpec) -> NoDue {
    let closed = Pauses::new(
        spec.pauses
            .iter()
            .filter_map(|p| Some((p.from.0, Some(p.to.as_ref()?.0)))),
    );
    // Calendars are not compiled past 9997, so near the end of time "not
    // within the horizon" is really "not before the last writable year".
    let horizon_end =
        start.saturating_add(i64::from(crate::calendar::HORIZON_YEARS) * 366 * 86_400);
    match clock.add_secs(start, target, &closed) {
        Some(at) if at < UNWRITABLE_FROM => NoDue::Paused,
        Some(_) => NoDue::Unwritable,
        None if horizon_end >= UNWRITABLE_FROM => NoDue::Unwritable,
        None => NoDue::Horizon,
    }
}

impl Plan {
    pub fn new(catalog: &Catalog, ticket: TicketInput<'_>) -> Plan {
        let start = ticket.start();
        let resolved = match resolve(catalog, ticket.namespace, ticket.spec, start) {
            Ok(r) => r,
            Err(rejection) => {
                return Plan::Rejected {
                    workspace: catalog
                        .workspace_for_namespace(ticket.namespace)
                        .and_then(|w| w.metadata.name.clone()),
                    rejection,
                };
            }
        };
        let workspace = resolved.workspace.metadata.name.clone().unwrap_or_default();
        let spec = ticket.spec;
        let pause_reasons: Vec<(i64, i64, Option<String>)> = spec
            .pauses
            .iter()
            .map(|p| {
                (
                    p.from.0.as_second(),
                    p.to.as_ref().map_or(i64::MAX, |t| t.0.as_second()),
                    p.reason.clone(),
                )
            })
            .collect();
        let pauses = Pauses::new(
            spec.pauses
                .iter()
                .map(|p| (p.from.0, p.to.as_ref().map(|t| t.0))),
        );
        let start_s = start.as_second();
        let sla = match &resolved.policy {
            None => None,
            Some(policy) => {
                let eff = effective(policy, resolved.requested, spec);
                // Rule 5: every compiled policy has a default calendar.
                let Some(cal) = policy.calendar(spec.region.as_deref()) else {
                    return Plan::Rejected {
                        workspace: Some(workspace),
                        rejection: Rejection::new(
                            "InvalidSlaPolicy",
                            format!("SlaPolicy {:?} has no default calendar", policy.name),
                        ),
                    };
                };
                let (zone, business) = match (&spec.time_zone, cal.name == DEFAULT_CALENDAR) {
                    (Some(zone), true) => match cal.in_zone(zone) {
                        Ok(found) => found,
                        Err(message) => {
                            return Plan::Rejected {
                                workspace: Some(workspace),
                                rejection: Rejection::new(
                                    "UnknownTimeZone",
                                    format!("spec.timeZone: {message}"),
                                ),
                            };
                        }
                    },
                    _ => (cal.zone_name.clone(), cal.compiled.clone()),
                };
                let clock = match eff.coverage {
                    Coverage::RoundTheClock => ROUND_THE_CLOCK.clone(),
                    Coverage::BusinessHours => business,
                };
                let level = &policy.levels[eff.level];
                let target = level.target;
                let at = |x: i64| writable(clock.add_secs(start_s, x, &pauses));
                let due = at(target);
                Some(Sla {
                    severity: level.name.clone(),
                    downgraded_from: eff.downgraded_from,
                    coverage: eff.coverage,
                    calendar: cal.name.clone(),
                    zone,
                    target,
                    due,
                    no_due: due.is_none().then(|| no_due(&clock, start_s, target, spec)),
                    at_risk: policy.at_risk.and_then(|p| at(p.of(target))),
                    resolution: level.resolution,
                    resolution_due: level.resolution.and_then(at),
                    clock,
                })
            }
        };
        let escalation = match &sla {
            Some(sla) => resolved
                .tier
                .escalation
                .iter()
                .map(|(level, after)| {
                    (
                        level.clone(),
                        writable(
                            sla.clock
                                .add_secs(start_s, after.seconds(sla.target), &pauses),
                        ),
                    )
                })
                .collect(),
            // Rule 9: without an SLA only the first level, from the start.
            None => resolved
                .tier
                .escalation
                .first()
                .map(|(level, _)| (level.clone(), Some(start_s)))
                .into_iter()
                .collect(),
        };
        let effort_cap = resolved.policy.as_ref().and_then(|policy| {
            EffortCap::of(policy, &resolved.tier, &resolved.workspace.spec, spec)
        });
        Plan::Accepted(Box::new(Accepted {
            workspace,
            tier: resolved.tier.name.clone(),
            sla,
            start: start_s,
            first_response: spec.first_response_at.as_ref().map(|t| t.0.as_second()),
            resolved: spec.resolved_at.as_ref().map(|t| t.0.as_second()),
            effort_cap,
            pauses,
            pause_reasons,
            escalation,
        }))
    }
}

impl Accepted {
    /// Rule 6: the response instant, the earlier of `firstResponseAt` and
    /// `resolvedAt` (a ticket resolved without a recorded response was
    /// answered when it was resolved).
    pub fn response(&self) -> Option<i64> {
        match (self.first_response, self.resolved) {
            (Some(r), Some(s)) => Some(r.min(s)),
            (r, s) => r.or(s),
        }
    }
}

pub(crate) fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::MAX)
}

impl Plan {
    /// Business seconds from the clock start to the first response, for the
    /// time-to-first-response histogram; `None` without an SLA or response.
    pub fn business_seconds_to_response(&self) -> Option<i64> {
        let Plan::Accepted(a) = self else {
            return None;
        };
        let sla = a.sla.as_ref()?;
        let response = a.response()?;
        Some(sla.clock.measure_secs(a.start, response, &a.pauses))
    }
}
