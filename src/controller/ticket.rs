//! The Ticket controller: evaluates the deadline rules for one ticket,
//! writes its status when it changed, emits Events on transitions, and asks
//! to be woken exactly when the status will next change (rule 10): a
//! resolved ticket has no next change, so it is never woken again.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::events::v1 as events;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;

use super::context::{Context, Error};
use super::status::{self, FIELD_MANAGER};
use super::ticket_cache::CachedTicket;
use crate::api::{Phase, Ticket, TicketStatus};
use crate::deadline::plan::Plan;
use crate::deadline::{TicketInput, evaluate};
use crate::metrics::TicketLabels;

pub const CONTROLLER: &str = "ticket";

pub async fn reconcile(ticket: Arc<CachedTicket>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let namespace = ticket
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let name = ticket.name_any();
    // Before the world is read: a change after this point wakes it again.
    ctx.world.wakeups.begin(&namespace, &name);
    let catalog = ctx.world.catalog();
    let now = Timestamp::now();
    let input = TicketInput::new(&ticket.metadata, &ticket.spec, now);
    let previous = ticket.previous_status();
    let previous = previous.as_ref();
    let eval = evaluate(&catalog, input, previous, now);
    if !ticket.status_unchanged(&eval.status) {
        // Events first: were the process to die between the status write
        // and its Events, the restarted operator would find the transition
        // already in the cluster and never announce it. Announced first
        // under names derived from the transition, a repeat is refused by
        // the API server as AlreadyExists, so each is published once.
        announce(&ticket, previous, &eval.status, &ctx).await;
        status::apply::<Ticket>(&ctx, Some(&namespace), &name, FIELD_MANAGER, &eval.status).await?;
        ctx.metrics.wrote(CONTROLLER);
        observe_first_response(previous, &eval.status, &eval.plan, &ctx);
    }
    ctx.metrics.set_ticket(
        (namespace.clone(), name.clone()),
        Some(TicketLabels {
            workspace: eval.status.workspace.clone().unwrap_or_default(),
            severity: eval.status.severity.clone().unwrap_or_default(),
            phase: eval.status.phase.map_or("", Phase::as_str).to_string(),
        }),
    );
    // The next look is kept by the world's wake-ups, not kube-runtime's
    // scheduler (see controller::wakeup: a tenth of the memory per ticket).
    ctx.world
        .wakeups
        .finish(&namespace, &name, eval.next_change);
    Ok(Action::await_change())
}

/// The business seconds to the first response, once, when it is recorded.
fn observe_first_response(
    before: Option<&TicketStatus>,
    after: &TicketStatus,
    plan: &Plan,
    ctx: &Context,
) {
    let responded = |s: &TicketStatus| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Responded" && c.status == "True")
    };
    if responded(after)
        && !before.is_some_and(responded)
        && let Some(seconds) = plan.business_seconds_to_response()
    {
        ctx.metrics.first_response(
            after.workspace.as_deref().unwrap_or_default(),
            seconds as f64,
        );
    }
}

/// A transition worth an Event: its type, reason, note, and what identifies
/// it (the instant or level it is about), from which the Event's name is
/// derived.
struct Transition {
    type_: &'static str,
    reason: &'static str,
    note: String,
    identity: String,
}

/// Events for the transitions a person would want to hear about, once each:
/// they compare with the status the cluster held (so a restart repeats
/// none), and each has a name derived from the ticket and the transition (so
/// a repeat after a crash is refused as AlreadyExists).
async fn announce(
    ticket: &CachedTicket,
    before: Option<&TicketStatus>,
    after: &TicketStatus,
    ctx: &Context,
) {
    let transitions = transitions(before, after);
    if transitions.is_empty() {
        return;
    }
    let namespace = ticket.namespace().unwrap_or_default();
    let api: Api<events::Event> = Api::namespaced(ctx.client.clone(), &namespace);
    let uid = ticket.uid_text().unwrap_or_default();
    let now = Timestamp::now();
    for t in transitions {
        let event = events::Event {
            metadata: ObjectMeta {
                name: Some(event_name(&ticket.name_any(), &uid, t.reason, &t.identity)),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            action: Some("Evaluate".into()),
            reason: Some(t.reason.into()),
            note: Some(t.note.chars().take(1000).collect()),
            type_: Some(t.type_.into()),
            regarding: Some(ticket.reference()),
            reporting_controller: Some(REPORTING_CONTROLLER.into()),
            reporting_instance: Some(ctx.settings.identity.clone()),
            ..events::Event::default()
        };
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                if t.reason == "Breached" {
                    ctx.metrics
                        .breached(after.workspace.as_deref().unwrap_or_default());
                }
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => {
                tracing::warn!(ticket = %ticket.name_any(), reason = t.reason, error = %e, "could not publish event");
            }
        }
    }
}

/// The `reportingController` of Events (as the kube Recorder's elsewhere).
const REPORTING_CONTROLLER: &str = "support-operator";

/// `<ticket>.<16 hex digits>`: FNV-1a over uid, reason and identity, so the
/// same transition of the same ticket always has the same name.
fn event_name(ticket: &str, uid: &str, reason: &str, identity: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [uid, reason, identity].join("\0").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let prefix: String = ticket.chars().take(200).collect();
    format!("{prefix}.{hash:016x}")
}

fn transitions(before: Option<&TicketStatus>, after: &TicketStatus) -> Vec<Transition> {
    let was = |f: &dyn Fn(&TicketStatus) -> bool| before.is_some_and(f);
    let condition = |s: &TicketStatus, t: &str| {
        s.conditions
            .iter()
            .any(|c| c.type_ == t && c.status == "True")
    };
    let of = |t: &str| after.conditions.iter().find(|c| c.type_ == t);
    let message_of = |t: &str| of(t).map(|c| c.message.clone()).unwrap_or_default();
    let instant = |time: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        time.as_ref().map(|t| t.0.to_string()).unwrap_or_default()
    };
    // A condition that has just become True, announced with its own message.
    let became = |out: &mut Vec<Transition>, type_, reason: &'static str, identity: String| {
        if condition(after, reason) && !was(&|s| condition(s, reason)) {
            let note = message_of(reason);
            out.push(Transition {
                type_,
                reason,
                note,
                identity,
            });
        }
    };
    let mut out = Vec::new();
    if after.phase == Some(Phase::Rejected) && !was(&|s| s.phase == Some(Phase::Rejected)) {
        out.push(Transition {
            type_: "Warning",
            reason: "Rejected",
            note: message_of("Accepted"),
            identity: of("Accepted").map(|c| c.reason.clone()).unwrap_or_default(),
        });
    }
    if let Some(d) = &after.downgrade
        && !was(&|s| s.downgrade.is_some())
    {
        out.push(Transition {
            type_: "Normal",
            reason: "Downgraded",
            note: format!(
                "severity {} downgraded to {}: the customer is not available 24x7",
                d.from,
                after.severity.clone().unwrap_or_default()
            ),
            identity: d.from.clone(),
        });
    }
    if after.phase == Some(Phase::AtRisk) && !was(&|s| s.phase == Some(Phase::AtRisk)) {
        out.push(Transition {
            type_: "Warning",
            reason: "AtRisk",
            note: message_of("AtRisk"),
            identity: instant(&after.at_risk_at),
        });
    }
    became(
        &mut out,
        "Warning",
        "Breached",
        instant(&after.response_due_at),
    );
    if let Some(r) = &after.redirect
        && after.phase == Some(Phase::Redirected)
        && !was(&|s| s.phase == Some(Phase::Redirected) && s.redirect.as_ref() == Some(r))
    {
        out.push(Transition {
            type_: "Normal",
            reason: "Redirected",
            note: message_of("Accepted"),
            identity: format!("{:?}/{}", r.to, r.name),
        });
    }
    became(
        &mut out,
        "Warning",
        "ResolutionBreached",
        instant(&after.resolution_due_at),
    );
    // Rule 11: once per ticket. The identity is fixed, so a cap reached
    // again (effort corrected down, then up) is not announced twice.
    became(&mut out, "Normal", "EffortCapReached", "effort-cap".into());
    let level = |s: &TicketStatus| s.escalation.as_ref().map_or(0, |e| e.level);
    if let Some(e) = &after.escalation
        && e.level > before.map_or(0, level)
        && e.level > 1
    {
        out.push(Transition {
            type_: "Normal",
            reason: "Escalated",
            note: format!(
                "escalated to level {} ({:?}, queue {})",
                e.level, e.support_type, e.queue
            ),
            identity: e.level.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::event_name;

    #[test]
    fn an_event_name_is_the_same_for_the_same_transition_and_only_for_it() {
        let a = event_name("t", "uid-1", "Escalated", "2");
        assert_eq!(a, event_name("t", "uid-1", "Escalated", "2"));
        assert_ne!(a, event_name("t", "uid-1", "Escalated", "3"));
        assert_ne!(a, event_name("t", "uid-2", "Escalated", "2"));
        assert_ne!(a, event_name("t", "uid-1", "Breached", "2"));
        let long = event_name(&"x".repeat(253), "uid", "Breached", "2026-11-23T11:00:00Z");
        assert!(long.len() <= 253, "{}", long.len());
        assert!(long.starts_with(&"x".repeat(200)));
    }
}
