//! Rule 11: the effort cap. A policy may cap break-fix effort for some kinds
//! of investigation (performance work, problems nobody can reproduce); once a
//! ticket's logged `effort` reaches the `limit`, and while it is not
//! resolved, `EffortCapReached` is true and `status.nextStep` says what
//! follows. The phase is not changed: closing the case is the help desk's call.

use crate::api::quantity::{MAX_DURATION_SECONDS, QuantityError, parse_duration};
use crate::api::ticket::{Investigation, NextStep};
use crate::api::{Category, TicketSpec, WorkspaceSpec};
use crate::catalog::{Policy, Tier, partner_may_file};

/// What rule 11 needs of a ticket, decided once; only `now` and
/// `resolvedAt` remain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffortCap {
    /// Logged effort, seconds.
    pub effort: i64,
    /// The policy's limit, seconds.
    pub limit: i64,
    pub investigation: Investigation,
    /// The tier entitles Advisory: `ContinueAsAdvisory`.
    pub advisory: bool,
    /// Expiry of each workspace partner that may file tickets (`None`: never
    /// expires), for `ReferToPartner` at an instant.
    pub partners: Vec<Option<i64>>,
}

impl EffortCap {
    /// The cap that applies to this ticket, if any: the policy has one and
    /// names the ticket's investigation (default BreakFix).
    pub(crate) fn of(
        policy: &Policy,
        tier: &Tier,
        workspace: &WorkspaceSpec,
        spec: &TicketSpec,
    ) -> Option<EffortCap> {
        let cap = policy.effort_cap.as_ref()?;
        let investigation = spec.investigation.unwrap_or(Investigation::BreakFix);
        if !cap.investigations.contains(&investigation) {
            return None;
        }
        Some(EffortCap {
            effort: spec.effort.as_deref().map_or(0, effort_seconds),
            limit: cap.limit,
            investigation,
            advisory: tier.entitles(Category::Advisory),
            partners: workspace
                .delegated_admins
                .iter()
                // Expiry aside, may this partner file tickets? (rule 1's test)
                .filter(|d| partner_may_file(d, jiff::Timestamp::MIN))
                .map(|d| d.expires_at.as_ref().map(|e| e.0.as_second()))
                .collect(),
        })
    }

    /// Whether the cap is reached (by effort alone; see [`EffortCap::next_step`]).
    pub fn reached(&self) -> bool {
        self.effort >= self.limit
    }

    /// `status.nextStep` at `t` for a ticket resolved at `resolved`: `None`
    /// below the cap or once resolved.
    pub fn next_step(&self, t: i64, resolved: Option<i64>) -> Option<NextStep> {
        if !self.reached() || resolved.is_some_and(|r| r <= t) {
            return None;
        }
        Some(if self.advisory {
            NextStep::ContinueAsAdvisory
        } else if self.partners.iter().any(|e| e.is_none_or(|e| e > t)) {
            NextStep::ReferToPartner
        } else {
            NextStep::Community
        })
    }

    /// Instants at which [`EffortCap::next_step`] may change besides `resolvedAt`.
    pub fn instants(&self) -> impl Iterator<Item = i64> + '_ {
        self.partners.iter().flatten().copied()
    }
}

/// Logged effort in seconds. Rule 1 refused a malformed one; one longer
/// than the longest duration is counted as that (it is past any cap).
fn effort_seconds(text: &str) -> i64 {
    match parse_duration(text) {
        Ok(s) => s,
        Err(QuantityError::DurationTooLong(_)) => MAX_DURATION_SECONDS,
        Err(_) => 0,
    }
}
