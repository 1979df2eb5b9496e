//! Rules 2–4: who may have round-the-clock coverage, the effective severity,
//! and the coverage the ticket gets.

use crate::api::Coverage;
use crate::api::TicketSpec;
use crate::api::common::primary_language;
use crate::api::ticket::ProductStage;
use crate::catalog::{Level, Policy};

/// The outcome of rules 2–4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// Index of the effective level in the policy.
    pub level: usize,
    /// The requested level's name when a downgrade happened.
    pub downgraded_from: Option<String>,
    pub coverage: Coverage,
}

/// Reason recorded for the one downgrade rule 3 knows.
pub const CUSTOMER_NOT_24X7: &str = "CustomerNot24x7";

pub(crate) fn effective(policy: &Policy, requested: usize, spec: &TicketSpec) -> Effective {
    let language = primary_language(spec.language.as_deref().unwrap_or("en"));
    let stage = spec.product_stage.unwrap_or(ProductStage::Ga);
    // Rule 2: round the clock is possible at all.
    let possible =
        stage == ProductStage::Ga && policy.round_the_clock_languages.contains(&language);
    let requested_24x7 = spec.coverage_requested == Some(Coverage::RoundTheClock);
    let customer_24x7 = spec.customer_availability == Some(Coverage::RoundTheClock);
    let wants =
        |l: &Level| l.coverage == Coverage::RoundTheClock || (requested_24x7 && l.allow_on_request);
    let needs_customer = |l: &Level| {
        l.requires_customer
            || (l.coverage != Coverage::RoundTheClock && requested_24x7 && l.allow_on_request)
    };
    // Rule 3: at most one downgrade; the last level never downgrades.
    let asked = &policy.levels[requested];
    let downgrade = possible
        && wants(asked)
        && needs_customer(asked)
        && !customer_24x7
        && requested + 1 < policy.levels.len();
    let level = if downgrade { requested + 1 } else { requested };
    // Rule 4.
    let eff = &policy.levels[level];
    let coverage = if possible && wants(eff) && (!needs_customer(eff) || customer_24x7) {
        Coverage::RoundTheClock
    } else {
        Coverage::BusinessHours
    };
    Effective {
        level,
        downgraded_from: downgrade.then(|| asked.name.clone()),
        coverage,
    }
}
