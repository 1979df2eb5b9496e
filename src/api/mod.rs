//! The five resources of `supportpolicy.dev/v1alpha1`, with the CEL rules that
//! let the API server refuse what one object can check on its own.
//!
//! What needs other objects (a tier's policy exists, windows do not overlap, a
//! zone is known) is checked by the deadline rules and reported as conditions.

pub mod common;
pub mod condition;
pub mod pattern;
pub mod publisher;
pub mod quantity;
pub mod reference;
pub mod sla_policy;
pub mod support_tier;
pub mod ticket;
pub mod workspace;

pub use common::{Category, Contact, Coverage, Subject, SubjectKind};
pub use publisher::{Publisher, PublisherSpec, PublisherStatus};
pub use sla_policy::{SlaPolicy, SlaPolicySpec, SlaPolicyStatus};
pub use support_tier::{SupportTier, SupportTierSpec, SupportTierStatus, SupportType};
pub use ticket::{Phase, Ticket, TicketSpec, TicketStatus};
pub use workspace::{Workspace, WorkspaceSpec, WorkspaceStatus};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// API group of every resource here.
pub const GROUP: &str = "supportpolicy.dev";
/// `apiVersion` of every resource here.
pub const API_VERSION: &str = "supportpolicy.dev/v1alpha1";

/// The CustomResourceDefinitions, in a stable order, as `kubectl explain`
/// and the API server should see them (see [`tidy`]).
pub fn crds() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        SlaPolicy::crd(),
        SupportTier::crd(),
        Workspace::crd(),
        Ticket::crd(),
        Publisher::crd(),
    ];
    for crd in &mut crds {
        for version in &mut crd.spec.versions {
            if let Some(schema) = version
                .schema
                .as_mut()
                .and_then(|s| s.open_api_v3_schema.as_mut())
                && let Ok(mut value) = serde_json::to_value(&*schema)
            {
                tidy(&mut value);
                if let Ok(tidied) = serde_json::from_value(value) {
                    *schema = tidied;
                }
            }
        }
    }
    crds
}

/// What schemars writes for Rust types but a CRD should not say, fixed
/// everywhere in a schema:
///
/// * `Option<Enum>` lists `null` among the enum's values: `kubectl explain`
///   then shows `null` as a choice, and tools that read the enum offer it.
///   The property is `nullable: true` instead (an explicit `null` is still
///   accepted and means "absent", as serde reads it).
pub fn tidy(schema: &mut serde_json::Value) {
    use serde_json::Value;
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(values)) = map.get_mut("enum")
                && values.iter().any(Value::is_null)
            {
                values.retain(|v| !v.is_null());
                map.insert("nullable".into(), Value::Bool(true));
            }
            for value in map.values_mut() {
                tidy(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// The CRDs as one multi-document YAML stream, as `support-operator crds` prints it.
pub fn crds_yaml() -> Result<String, serde_saphyr::ser_error::Error> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}

/// File name of a CRD in `crds/`: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}
