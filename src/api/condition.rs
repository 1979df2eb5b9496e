//! metav1.Condition as every resource here writes it, and the one rule for
//! its transition time: it moves only when the status does. The deadline
//! rules (Ticket) and the controllers (SlaPolicy, SupportTier, Workspace)
//! both settle their conditions here.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// The condition `type_` as it should be now, keeping the previous
/// transition time when its status is unchanged; otherwise the transition
/// happened at `since` (`now` for the controllers, the instant a deadline
/// was crossed for tickets).
pub fn condition(
    previous: &[Condition],
    type_: &str,
    status: bool,
    reason: &str,
    message: impl Into<String>,
    generation: Option<i64>,
    since: Timestamp,
) -> Condition {
    let status = if status { "True" } else { "False" };
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(
            || Time(whole_second(since)),
            |c| c.last_transition_time.clone(),
        );
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// Timestamps are written in whole seconds; comparing in whole seconds keeps
/// a rewritten condition equal to what the API server stored.
fn whole_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}
