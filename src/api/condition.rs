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

/// kstatus (Flux, `kpt live status`, cli-utils) reads `Stalled` and
/// `Reconciling`, never `Ready`: without `Stalled` an object that is not
/// Ready for a reason only a person can fix (an unknown tier, a taken
/// namespace, a rejected ticket) would be reported `Current`. So while the
/// readiness condition (`Ready`, `Accepted` for a Ticket) is False for such
/// a reason, `Stalled` is True with the same reason and message, and kstatus
/// reports `Failed`; otherwise it is absent (server-side apply removes it
/// when its writer stops listing it). `Reconciling` is not needed: status is
/// written in the reconcile that sees a change, and `observedGeneration`
/// lagging `metadata.generation` already reads as `InProgress`.
pub fn stalled(previous: &[Condition], readiness: &Condition) -> Option<Condition> {
    (readiness.status == "False").then(|| {
        condition(
            previous,
            STALLED,
            true,
            &readiness.reason,
            readiness.message.clone(),
            readiness.observed_generation,
            readiness.last_transition_time.0,
        )
    })
}

/// The kstatus condition type (see [`stalled`]).
pub const STALLED: &str = "Stalled";

/// Timestamps are written in whole seconds; comparing in whole seconds keeps
/// a rewritten condition equal to what the API server stored.
fn whole_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}
