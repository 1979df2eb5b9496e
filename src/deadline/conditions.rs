//! The status document: fields from the plan, conditions from the snapshot,
//! and transition times that survive re-evaluation.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::phase::Snapshot;
use super::plan::{Accepted, NoDue, Plan, ts};
use crate::api::condition::condition;
use crate::api::ticket::{Downgrade, Escalation};
use crate::api::{Phase, TicketStatus};

/// One condition before its transition time is settled.
struct Draft {
    type_: &'static str,
    status: bool,
    reason: String,
    message: String,
    /// When the rules know the instant it became so (e.g. Breached at the due time).
    since: Option<i64>,
}

fn draft(
    type_: &'static str,
    status: bool,
    reason: impl Into<String>,
    message: impl Into<String>,
) -> Draft {
    Draft {
        type_,
        status,
        reason: reason.into(),
        message: message.into(),
        since: None,
    }
}

/// RFC 3339, UTC, whole seconds: how the operator writes every timestamp.
pub fn rfc3339(seconds: i64) -> String {
    ts(seconds).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Plan {
    /// The status of rule 8 at `now`. Conditions whose status is unchanged
    /// from `previous` keep their transition time; new ones take the instant
    /// the rules know, else `now`.
    pub fn status(
        &self,
        snapshot: &Snapshot,
        generation: Option<i64>,
        previous: Option<&TicketStatus>,
        now: Timestamp,
    ) -> TicketStatus {
        let mut status = TicketStatus {
            observed_generation: generation,
            phase: Some(snapshot.phase),
            ..TicketStatus::default()
        };
        let drafts = match self {
            Plan::Rejected {
                rejection,
                workspace,
            } => {
                status.workspace = workspace.clone();
                status.redirect = rejection.redirect.as_deref().cloned();
                let mut drafts = vec![draft(
                    "Accepted",
                    false,
                    rejection.reason,
                    &rejection.message,
                )];
                // kstatus reads Stalled, not Accepted (api::condition::stalled):
                // a rejected ticket needs a person; a redirected one is done here.
                if snapshot.phase == Phase::Rejected {
                    drafts.push(draft(
                        crate::api::condition::STALLED,
                        true,
                        rejection.reason,
                        &rejection.message,
                    ));
                }
                drafts
            }
            Plan::Accepted(a) => {
                fill(&mut status, a, snapshot);
                a.drafts(snapshot, now.as_second())
            }
        };
        status.conditions = drafts
            .into_iter()
            .map(|d| settle(d, generation, previous, now))
            .collect();
        status
    }
}

fn fill(status: &mut TicketStatus, a: &Accepted, snapshot: &Snapshot) {
    status.workspace = Some(a.workspace.clone());
    status.tier = Some(a.tier.clone());
    if let Some(sla) = &a.sla {
        status.severity = Some(sla.severity.clone());
        status.downgrade = sla.downgraded_from.as_ref().map(|from| Downgrade {
            from: from.clone(),
            reason: super::coverage::CUSTOMER_NOT_24X7.to_string(),
        });
        status.coverage = Some(sla.coverage);
        status.calendar = Some(sla.calendar.clone());
        status.response_due_at = sla.due.map(|d| Time(ts(d)));
        status.at_risk_at = sla.at_risk.map(|d| Time(ts(d)));
        status.resolution_due_at = sla.resolution_due.map(|d| Time(ts(d)));
    }
    status.next_step = snapshot.next_step;
    status.escalation = snapshot.escalation.map(|i| {
        let (level, _) = &a.escalation[i];
        Escalation {
            level: i as u32 + 1,
            support_type: level.support_type,
            queue: level.queue.clone(),
        }
    });
}

impl Accepted {
    fn drafts(&self, s: &Snapshot, now: i64) -> Vec<Draft> {
        let phase = s.phase;
        let accepted = match &self.sla {
            Some(sla) => {
                let mut m = format!("severity {}", sla.severity);
                if let Some(from) = &sla.downgraded_from {
                    m += &format!(" (downgraded from {from}: the customer is not available 24x7)");
                }
                m += &format!(
                    ", {} coverage on calendar {}",
                    sla.coverage.as_str(),
                    sla.calendar
                );
                match (sla.due, sla.no_due) {
                    (Some(d), _) => m += &format!(", response due {}", rfc3339(d)),
                    (None, Some(NoDue::Paused) | None) => {
                        m += ", no due time while the clock is paused"
                    }
                    (None, Some(NoDue::Horizon)) => {
                        m += &format!(
                            ", no due time: the calendar does not cover the target within {} years of the clock start",
                            crate::calendar::HORIZON_YEARS
                        )
                    }
                    (None, Some(NoDue::Unwritable)) => {
                        m += ", no due time: it would fall after the year 9998, past the last instant the operator writes"
                    }
                }
                draft("Accepted", true, "Accepted", m)
            }
            None => draft(
                "Accepted",
                true,
                "BestEffort",
                format!(
                    "tier {} has no SLA policy: best effort, no deadlines",
                    self.tier
                ),
            ),
        };
        let due = self.sla.as_ref().and_then(|s| s.due);
        // Rule 8: the response instant has come exactly in these two phases.
        let response = self
            .response()
            .filter(|_| matches!(phase, Phase::Responded | Phase::Resolved));
        let mut responded = match response {
            Some(r) if Some(r) == self.first_response => draft(
                "Responded",
                true,
                "Responded",
                format!("first response at {}", rfc3339(r)),
            ),
            Some(r) => draft(
                "Responded",
                true,
                "AnsweredByResolution",
                format!("resolved at {} before any recorded response", rfc3339(r)),
            ),
            None => draft(
                "Responded",
                false,
                "AwaitingResponse",
                "no first response yet",
            ),
        };
        if responded.status {
            responded.since = response;
        }
        let mut breached = if s.responded_late {
            draft(
                "Breached",
                true,
                "RespondedLate",
                format!(
                    "the response at {} came at or after the due time {}",
                    self.response().map(rfc3339).unwrap_or_default(),
                    due.map(rfc3339).unwrap_or_default()
                ),
            )
        } else if phase == Phase::Breached {
            draft(
                "Breached",
                true,
                "ResponseOverdue",
                format!(
                    "no response by the due time {}",
                    due.map(rfc3339).unwrap_or_default()
                ),
            )
        } else if self.sla.is_none() {
            draft(
                "Breached",
                false,
                "BestEffort",
                "no SLA: nothing can breach",
            )
        } else {
            draft(
                "Breached",
                false,
                "WithinTarget",
                "the response target has not been missed",
            )
        };
        if breached.status {
            breached.since = due;
        }
        let at_risk_at = self.sla.as_ref().and_then(|s| s.at_risk);
        let mut at_risk = if phase == Phase::AtRisk {
            draft(
                "AtRisk",
                true,
                "AtRisk",
                format!(
                    "at risk since {}; response due {}",
                    at_risk_at.map(rfc3339).unwrap_or_default(),
                    due.map(rfc3339).unwrap_or_default()
                ),
            )
        } else {
            draft(
                "AtRisk",
                false,
                phase.as_str(),
                format!("phase is {}", phase.as_str()),
            )
        };
        if at_risk.status {
            at_risk.since = at_risk_at;
        }
        let mut paused = draft("Paused", false, "ClockRunning", "the clock is running");
        if phase == Phase::Paused {
            let reason = s
                .pause_reason
                .clone()
                .unwrap_or_else(|| self.pause_reason_at(now));
            paused = draft(
                "Paused",
                true,
                sanitize_reason(&reason),
                format!("clock stopped: {reason}"),
            );
            paused.since = self.pauses.containing(now).map(|(from, _)| from);
        }
        let (resolved, resolution_breached) = self.resolution_drafts(s);
        let effort = self.effort_draft(s);
        vec![
            accepted,
            at_risk,
            breached,
            responded,
            paused,
            resolved,
            resolution_breached,
            effort,
        ]
    }

    /// Rules 7–8: `Resolved` and `ResolutionBreached`.
    fn resolution_drafts(&self, s: &Snapshot) -> (Draft, Draft) {
        let mut resolved = match self.resolved {
            Some(r) if s.phase == Phase::Resolved => {
                let mut d = draft(
                    "Resolved",
                    true,
                    "Resolved",
                    format!("resolved at {}", rfc3339(r)),
                );
                d.since = Some(r);
                d
            }
            Some(r) => draft(
                "Resolved",
                false,
                "ResolutionScheduled",
                format!("resolvedAt {} is still to come", rfc3339(r)),
            ),
            None => draft("Resolved", false, "Open", "not resolved yet"),
        };
        if !resolved.status {
            resolved.since = None;
        }
        let target = self
            .sla
            .as_ref()
            .and_then(|sla| sla.resolution.map(|_| sla.resolution_due));
        let mut breached = match target {
            None => draft(
                "ResolutionBreached",
                false,
                "NoResolutionTarget",
                match &self.sla {
                    Some(sla) => format!("severity {} has no resolution target", sla.severity),
                    None => "no SLA: no resolution target".to_string(),
                },
            ),
            Some(None) => draft(
                "ResolutionBreached",
                false,
                "WithinResolutionTarget",
                "no resolution due time while the clock is paused",
            ),
            Some(Some(due)) if s.resolution_breached => {
                let mut d = if self.resolved.is_some_and(|r| r >= due) {
                    draft(
                        "ResolutionBreached",
                        true,
                        "ResolvedLate",
                        format!(
                            "resolved at {}, at or after the resolution due time {}",
                            self.resolved.map(rfc3339).unwrap_or_default(),
                            rfc3339(due)
                        ),
                    )
                } else {
                    draft(
                        "ResolutionBreached",
                        true,
                        "ResolutionOverdue",
                        format!("not resolved by the resolution due time {}", rfc3339(due)),
                    )
                };
                d.since = Some(due);
                d
            }
            Some(Some(due)) => draft(
                "ResolutionBreached",
                false,
                "WithinResolutionTarget",
                format!("resolution due {}", rfc3339(due)),
            ),
        };
        if !breached.status {
            breached.since = None;
        }
        (resolved, breached)
    }

    /// Rule 11: `EffortCapReached`.
    fn effort_draft(&self, s: &Snapshot) -> Draft {
        let Some(cap) = &self.effort_cap else {
            return draft(
                "EffortCapReached",
                false,
                "NoEffortCap",
                "no effort cap applies to this ticket",
            );
        };
        let logged = format!(
            "{} of {:?} work logged, cap {}",
            hours(cap.effort),
            cap.investigation,
            hours(cap.limit)
        );
        match s.next_step {
            Some(step) => draft(
                "EffortCapReached",
                true,
                "EffortCapReached",
                format!(
                    "{logged}: the capped break-fix work is done; next step {}",
                    step.as_str()
                ),
            ),
            None if cap.reached() => draft(
                "EffortCapReached",
                false,
                "Resolved",
                format!("{logged}, but the ticket is resolved"),
            ),
            None => draft("EffortCapReached", false, "WithinEffortCap", logged),
        }
    }
}

/// Seconds as `3h30m`, `45m` or `0s`, as a person writes effort.
fn hours(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 || out.is_empty() {
        out += &format!("{s}s");
    }
    out
}

/// A condition reason must be CamelCase letters; user text is folded into one.
fn sanitize_reason(text: &str) -> String {
    let out: String = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect();
    match out.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => out.chars().take(64).collect(),
        _ => "Paused".into(),
    }
}

fn settle(
    d: Draft,
    generation: Option<i64>,
    previous: Option<&TicketStatus>,
    now: Timestamp,
) -> Condition {
    let previous = previous.map_or(&[][..], |p| p.conditions.as_slice());
    let since = d.since.map_or(now, ts);
    condition(
        previous, d.type_, d.status, &d.reason, d.message, generation, since,
    )
}
