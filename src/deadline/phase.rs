//! Rules 8–10 (and the instant-dependent half of 7 and 11): where a ticket
//! stands at an instant, and the next instant at which that would change.

use jiff::Timestamp;

use super::plan::{Accepted, Plan};
use crate::api::Phase;
use crate::api::ticket::NextStep;

/// Everything in a status that depends on the instant it is taken at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub phase: Phase,
    /// Index of the highest escalation level begun.
    pub escalation: Option<usize>,
    /// The response came at or after the due time.
    pub responded_late: bool,
    /// While paused: the reason of the pause as written (the `Paused`
    /// condition shows it, so a change of reason is a change of status).
    pub pause_reason: Option<String>,
    /// Rule 7: the resolution target was reached before resolution (or now).
    pub resolution_breached: bool,
    /// Rule 11: set exactly while the effort cap is reached.
    pub next_step: Option<NextStep>,
}

impl Snapshot {
    /// Rule 8: `Breached` is true exactly when the phase is Breached or the response was late.
    pub fn breached(&self) -> bool {
        self.phase == Phase::Breached || self.responded_late
    }
}

impl Plan {
    /// Rules 8 and 9 at instant `t`.
    pub fn at(&self, t: Timestamp) -> Snapshot {
        match self {
            Plan::Rejected { rejection, .. } => Snapshot {
                phase: rejection.phase(),
                escalation: None,
                responded_late: false,
                pause_reason: None,
                resolution_breached: false,
                next_step: None,
            },
            Plan::Accepted(a) => a.at(t.as_second()),
        }
    }

    /// Rule 10: the first instant after `now` whose snapshot differs from
    /// `current`. A snapshot only changes where one of the plan's instants is
    /// crossed, so only those are tried.
    pub fn next_change(&self, now: Timestamp, current: &Snapshot) -> Option<Timestamp> {
        let Plan::Accepted(a) = self else {
            return None;
        };
        let now = now.as_second();
        let mut candidates: Vec<i64> = a.instants().filter(|&c| c > now && c != i64::MAX).collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .find(|&c| a.at(c) != *current)
            .map(super::plan::ts)
    }
}

impl Accepted {
    fn at(&self, t: i64) -> Snapshot {
        let response = self.response().filter(|&r| r <= t);
        let resolved = self.resolved.is_some_and(|r| r <= t);
        let due = self.sla.as_ref().and_then(|s| s.due);
        let phase = if resolved {
            Phase::Resolved
        } else if response.is_some() {
            Phase::Responded
        } else if t < self.start {
            Phase::Pending
        } else if self.sla.is_some() && due.is_some_and(|d| t >= d) {
            Phase::Breached
        } else if self.pauses.containing(t).is_some() {
            Phase::Paused
        } else if let Some(sla) = &self.sla {
            if sla.at_risk.is_some_and(|r| t >= r) {
                Phase::AtRisk
            } else {
                Phase::OnTrack
            }
        } else {
            Phase::BestEffort
        };
        let clock_at = response.map_or(t, |r| r.min(t));
        let escalation = self
            .escalation
            .iter()
            .rposition(|(_, begins)| begins.is_some_and(|b| b <= clock_at));
        let pause_reason = (phase == Phase::Paused).then(|| self.pause_reason_at(t));
        // Rule 7: consumed(min(now, resolvedAt)) reaches the resolution target.
        let resolution_at = self.resolved.map_or(t, |r| r.min(t));
        let resolution_breached = self
            .sla
            .as_ref()
            .and_then(|s| s.resolution_due)
            .is_some_and(|d| resolution_at >= d);
        Snapshot {
            phase,
            escalation,
            responded_late: response.is_some_and(|r| due.is_some_and(|d| r >= d)),
            pause_reason,
            resolution_breached,
            next_step: self
                .effort_cap
                .as_ref()
                .and_then(|cap| cap.next_step(t, self.resolved)),
        }
    }

    /// The reason of the first pause, as written, that holds `t`.
    pub(crate) fn pause_reason_at(&self, t: i64) -> String {
        self.pause_reasons
            .iter()
            .find(|(from, to, _)| *from <= t && t < *to)
            .and_then(|p| p.2.clone())
            .unwrap_or_else(|| "Paused".into())
    }

    /// Every instant at which rules 8–9 compare differently, and the edges
    /// of each pause as written (where the reason shown may change).
    fn instants(&self) -> impl Iterator<Item = i64> + '_ {
        let sla = self
            .sla
            .iter()
            .flat_map(|s| [s.due, s.at_risk, s.resolution_due])
            .flatten();
        let pauses = self
            .pause_reasons
            .iter()
            .flat_map(|&(from, to, _)| [from, to]);
        let levels = self.escalation.iter().filter_map(|(_, b)| *b);
        let partners = self.effort_cap.iter().flat_map(|c| c.instants());
        [Some(self.start), self.first_response, self.resolved]
            .into_iter()
            .flatten()
            .chain(sla)
            .chain(pauses)
            .chain(levels)
            .chain(partners)
    }
}
