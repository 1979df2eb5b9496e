//! The one way the operator writes a status: server-side apply of the
//! `status` subresource, under a field manager named for what it owns.
//!
//! Each write site owns different fields, so each has its own manager:
//! [`FIELD_MANAGER`] for the status a controller computes, and the managers
//! of single conditions (the `Reconciled` error condition) apart from it, so
//! that applying one never removes the other.

use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde::Serialize;

use super::context::Context;

/// Field manager of the statuses the controllers compute (tickets,
/// policies, tiers, workspaces).
pub const FIELD_MANAGER: &str = "support-operator";

/// Applies `status` to the object `name` (in `namespace`, for a namespaced
/// kind) as `manager`, taking over fields another manager held.
pub async fn apply<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    namespace: Option<&str>,
    name: &str,
    manager: &str,
    status: &impl Serialize,
) -> Result<(), kube::Error> {
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api::<K>(ctx, namespace)
        .patch_status(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(&patch),
        )
        .await
        .map(drop)
}

/// The status subresource of kind `K`, without needing `K`'s own traits.
fn api<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let resource = ApiResource::erase::<K>(&());
    match namespace {
        Some(ns) => Api::namespaced_with(ctx.client.clone(), ns, &resource),
        None => Api::all_with(ctx.client.clone(), &resource),
    }
}
