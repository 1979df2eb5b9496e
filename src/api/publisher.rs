//! Publisher: who supports a marketplace product instead of this desk.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Contact, conditions_schema};

/// A marketplace publisher: tickets about its products (`spec.product.publisher`)
/// are redirected to it with this contact (DESIGN.md rule 1).
// Several printer columns repeat `type_`, which clippy reads as a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "supportpolicy.dev",
    version = "v1alpha1",
    kind = "Publisher",
    shortname = "pub",
    category = "support",
    status = "PublisherStatus",
    doc = "Who supports a marketplace product: tickets naming it are redirected to its contact.",
    printcolumn(
        name = "Display Name",
        type_ = "string",
        json_path = ".spec.displayName"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct PublisherSpec {
    /// The name customers know, e.g. Contoso Ltd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub display_name: Option<String>,
    /// Where the customer is sent; copied as given into a redirected ticket's `status.redirect.contact`.
    pub contact: Contact,
}

/// Observed state of a Publisher.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublisherStatus {
    /// The `metadata.generation` the operator last acted on; while it differs
    /// from `metadata.generation`, the status describes an older spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` says whether the object is valid and in use (reason and message say why not); `Stalled` repeats a False `Ready` for kstatus (docs/field-reference.md).
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
}
