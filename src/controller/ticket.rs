//! The Ticket controller: evaluates the deadline rules for one ticket,
//! writes its status when it changed, emits Events on transitions, and asks
//! to be woken exactly when the status will next change (rule 10).

use std::sync::Arc;

use jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};

use super::{Context, Error, requeue_at};
use crate::api::{API_VERSION, Phase, Ticket, TicketStatus};
use crate::deadline::plan::Plan;
use crate::deadline::{TicketInput, evaluate};
use crate::metrics::{TicketLabels, WorkspaceLabels};

/// Field manager of ticket status writes.
pub const FIELD_MANAGER: &str = "support-operator";
pub const CONTROLLER: &str = "ticket";

pub async fn reconcile(ticket: Arc<Ticket>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let namespace = ticket
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let name = ticket.name_any();
    let catalog = ctx.world.catalog();
    let now = Timestamp::now();
    let created = ticket
        .meta()
        .creation_timestamp
        .as_ref()
        .map_or(now, |t| t.0);
    let input = TicketInput {
        namespace: &namespace,
        spec: &ticket.spec,
        created,
        generation: ticket.meta().generation,
    };
    let previous = ticket.status.as_ref();
    let eval = evaluate(&catalog, input, previous, now);
    if previous != Some(&eval.status) {
        let api: Api<Ticket> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": "Ticket",
            "status": eval.status,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
        .map_err(Error::Kube)?;
        ctx.metrics.wrote(CONTROLLER);
        announce(&ticket, previous, &eval.status, &eval.plan, &ctx).await;
    }
    ctx.metrics.set_ticket(
        (namespace.clone(), name.clone()),
        Some(TicketLabels {
            workspace: eval.status.workspace.clone().unwrap_or_default(),
            severity: eval.status.severity.clone().unwrap_or_default(),
            phase: eval.status.phase.map_or("", Phase::as_str).to_string(),
        }),
    );
    Ok(requeue_at(eval.next_change, now))
}

/// Events for the transitions a person would want to hear about, once each:
/// they compare with the status the cluster held, so a restart repeats none.
async fn announce(
    ticket: &Ticket,
    before: Option<&TicketStatus>,
    after: &TicketStatus,
    plan: &Plan,
    ctx: &Context,
) {
    let was = |f: &dyn Fn(&TicketStatus) -> bool| before.is_some_and(f);
    let condition = |s: &TicketStatus, t: &str| {
        s.conditions
            .iter()
            .any(|c| c.type_ == t && c.status == "True")
    };
    let message_of = |t: &str| {
        after
            .conditions
            .iter()
            .find(|c| c.type_ == t)
            .map(|c| c.message.clone())
            .unwrap_or_default()
    };
    let mut events: Vec<(EventType, &str, String)> = Vec::new();
    if after.phase == Some(Phase::Rejected) && !was(&|s| s.phase == Some(Phase::Rejected)) {
        events.push((EventType::Warning, "Rejected", message_of("Accepted")));
    }
    if after.downgrade.is_some() && !was(&|s| s.downgrade.is_some()) {
        let from = after
            .downgrade
            .as_ref()
            .map(|d| d.from.clone())
            .unwrap_or_default();
        events.push((
            EventType::Normal,
            "Downgraded",
            format!(
                "severity {} downgraded to {}: the customer is not available 24x7",
                from,
                after.severity.clone().unwrap_or_default()
            ),
        ));
    }
    if after.phase == Some(Phase::AtRisk) && !was(&|s| s.phase == Some(Phase::AtRisk)) {
        events.push((EventType::Warning, "AtRisk", message_of("AtRisk")));
    }
    if condition(after, "Breached") && !was(&|s| condition(s, "Breached")) {
        events.push((EventType::Warning, "Breached", message_of("Breached")));
        let workspace = after.workspace.clone().unwrap_or_default();
        ctx.metrics
            .breaches
            .get_or_create(&WorkspaceLabels { workspace })
            .inc();
    }
    let level = |s: &TicketStatus| s.escalation.as_ref().map_or(0, |e| e.level);
    if let Some(e) = &after.escalation
        && e.level > before.map_or(0, level)
        && e.level > 1
    {
        events.push((
            EventType::Normal,
            "Escalated",
            format!(
                "escalated to level {} ({:?}, queue {})",
                e.level, e.support_type, e.queue
            ),
        ));
    }
    if condition(after, "Responded")
        && !was(&|s| condition(s, "Responded"))
        && let Some(seconds) = plan.business_seconds_to_response()
    {
        let workspace = after.workspace.clone().unwrap_or_default();
        ctx.metrics
            .first_response
            .get_or_create(&WorkspaceLabels { workspace })
            .observe(seconds as f64);
    }
    let reference = ticket.object_ref(&());
    for (type_, reason, note) in events {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note.chars().take(1000).collect()),
            action: "Evaluate".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &reference).await {
            tracing::warn!(ticket = %ticket.name_any(), error = %e, "could not publish event");
        }
    }
}
