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

/// The CustomResourceDefinitions, in a stable order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        SlaPolicy::crd(),
        SupportTier::crd(),
        Workspace::crd(),
        Ticket::crd(),
        Publisher::crd(),
    ]
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
