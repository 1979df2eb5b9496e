//! What a failed reconcile leaves for people to see: a Warning Event with
//! the error's reason and a `Reconciled=False` condition, written by a field
//! manager of its own so that the controllers' status writes neither own nor
//! remove it; and, after the next success, the condition taken away again.
//!
//! Both are best effort: when the API server is what failed, they fail too,
//! and the log and `support_operator_reconcile_errors_total` remain.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::context::{Context, Error};
use super::status;
use super::ticket_cache::CachedTicket;
use crate::api::condition::condition;
use crate::api::{Publisher, SlaPolicy, SupportTier, Workspace};

/// Field manager of the `Reconciled` condition.
pub const FIELD_MANAGER: &str = "support-operator-errors";
pub const CONDITION: &str = "Reconciled";

/// What an error Event is `regarding`. `kubectl describe` finds an
/// object's Events by its uid, so the reference must carry it; a cached
/// ticket keeps its uid outside its metadata
/// ([`CachedTicket::reference`]).
pub trait Regarding: Resource<DynamicType = ()> {
    fn regarding(&self) -> ObjectReference {
        self.object_ref(&())
    }
}

impl Regarding for SlaPolicy {}
impl Regarding for SupportTier {}
impl Regarding for Publisher {}
impl Regarding for Workspace {}
impl Regarding for CachedTicket {
    fn regarding(&self) -> ObjectReference {
        self.reference()
    }
}

/// Publishes the Event and sets the condition for a failed reconcile.
pub async fn surface<K: Regarding>(
    ctx: Arc<Context>,
    obj: Arc<K>,
    error_reason: &'static str,
    message: String,
) {
    let message: String = message.chars().take(1000).collect();
    let event = Event {
        type_: EventType::Warning,
        reason: error_reason.into(),
        note: Some(message.clone()),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &obj.regarding()).await {
        tracing::debug!(error = %e, "could not publish the error event");
    }
    let now = Timestamp::now();
    let condition = condition(
        &[],
        CONDITION,
        false,
        error_reason,
        message,
        obj.meta().generation,
        now,
    );
    let name = obj.name_any();
    let result = status::apply::<K>(
        &ctx,
        obj.meta().namespace.as_deref(),
        &name,
        FIELD_MANAGER,
        &json!({"conditions": [condition]}),
    )
    .await;
    if let Err(e) = result {
        tracing::debug!(object = %name, error = %e, "could not set the Reconciled condition");
    }
}

/// After a success that followed failures: the condition goes (applying an
/// empty status releases, and so removes, what this manager set).
pub async fn clear<K: Resource<DynamicType = ()>>(ctx: Arc<Context>, obj: ObjectRef<K>) {
    let result = status::apply::<K>(
        &ctx,
        obj.namespace.as_deref(),
        &obj.name,
        FIELD_MANAGER,
        &json!({}),
    )
    .await;
    match result {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => {
            tracing::debug!(object = %obj, error = %e, "could not clear the Reconciled condition")
        }
    }
}

/// The end of every reconcile, success or failure, for the backoff and the
/// condition: the controllers' `for_each`.
pub async fn settle<K: Resource<DynamicType = ()> + Clone + 'static>(
    ctx: Arc<Context>,
    controller: &'static str,
    result: Result<
        (ObjectRef<K>, kube::runtime::controller::Action),
        kube::runtime::controller::Error<Error, kube::runtime::watcher::Error>,
    >,
) {
    if let Ok((obj, _)) = result
        && ctx.succeeded(&format!("{controller}/{obj}"))
    {
        clear(ctx, obj).await;
    }
}
