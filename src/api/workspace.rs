//! Workspace: one segment of a support agreement, with its namespace and access.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;

use super::pattern;
use serde::{Deserialize, Serialize};

use super::common::{Contact, Subject, conditions_schema};

/// A segment of a support agreement: its tickets live in `namespace`, visible to its members.
// Several printer columns repeat `type_`, which clippy reads as a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "supportpolicy.dev",
    version = "v1alpha1",
    kind = "Workspace",
    shortname = "sws",
    category = "support",
    status = "WorkspaceStatus",
    doc = "A segment of a support agreement: namespace, default tier and who may see its tickets.",
    printcolumn(name = "Namespace", type_ = "string", json_path = ".spec.namespace"),
    printcolumn(name = "Tier", type_ = "string", json_path = ".spec.tier"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Open", type_ = "integer", json_path = ".status.openTickets"),
    printcolumn(
        name = "At Risk",
        type_ = "integer",
        json_path = ".status.atRiskTickets"
    ),
    printcolumn(
        name = "Breached",
        type_ = "integer",
        json_path = ".status.breachedTickets"
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
pub struct WorkspaceSpec {
    /// Namespace of this workspace's tickets; created if missing.
    #[schemars(length(min = 1, max = 63))]
    #[x_kube(
        validation = pattern::matches(pattern::DNS_LABEL).message("namespace must be a DNS label: lower-case letters, digits and '-'"),
        validation = Rule::new("self == oldSelf").message("namespace is immutable: create a new workspace instead")
    )]
    pub namespace: String,
    /// Default tier for its tickets.
    #[schemars(length(min = 1, max = 253))]
    pub tier: String,
    /// Tiers its tickets may name; absent or empty: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub allowed_tiers: Option<Vec<String>>,
    /// Unified, Premier or Standard; sets the personal-account default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
    /// Default: false for Unified, true otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_personal_accounts: Option<bool>,
    /// Users and groups bound to the workspace-admin role in its namespace:
    /// they manage its tickets, including deleting them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub admins: Vec<Subject>,
    /// Users and groups bound to the ticket-editor role in its namespace:
    /// they file and edit its tickets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000))]
    pub members: Vec<Subject>,
    /// Partners acting for the customer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub delegated_admins: Vec<DelegatedAdmin>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Agreement {
    Unified,
    Premier,
    Standard,
}

/// A partner's delegated-admin relationship.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DelegatedAdmin {
    /// The partner's name, as tickets name it in `spec.onBehalfOf.partner`.
    #[schemars(length(min = 1, max = 253))]
    pub partner: String,
    /// Group bound while the delegation is active.
    #[schemars(length(min = 1, max = 253))]
    pub group: String,
    /// DirectProvider or IndirectProvider may act for the customer; an
    /// IndirectReseller may not.
    pub provider: Provider,
    /// Roles the relationship grants; ServiceSupportAdministrator lets the
    /// partner open tickets for the customer.
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub roles: Vec<String>,
    /// Absent: never expires.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::common::instant::optional"
    )]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub expires_at: Option<Time>,
    /// Where trial customers this partner supports are sent (rule 1), and routing lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Provider {
    DirectProvider,
    IndirectProvider,
    IndirectReseller,
}

/// The role a partner needs to open tickets for the customer.
pub const SUPPORT_ADMIN_ROLE: &str = "ServiceSupportAdministrator";

/// Observed state of a Workspace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceStatus {
    /// The `metadata.generation` the operator last acted on; while it differs
    /// from `metadata.generation`, the status describes an older spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Tickets not yet responded to (nor resolved, rejected or redirected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_tickets: Option<u32>,
    /// Open tickets in phase AtRisk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk_tickets: Option<u32>,
    /// Open tickets in phase Breached: their response is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_tickets: Option<u32>,
    /// Admins, members or partners the operator refused to bind, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_subjects: Vec<RejectedSubject>,
    /// `Ready` says whether the object is valid and in use (reason and message say why not); `Stalled` repeats a False `Ready` for kstatus (docs/field-reference.md). `GraduationRecommended` when open tickets exceed the tier's graduation threshold; `RoutingPublished` when its routing slice is written.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
}

/// A subject left out of the workspace's RBAC.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectedSubject {
    /// `User` or `Group`.
    pub kind: super::common::SubjectKind,
    /// The user or group name as the spec gives it.
    pub name: String,
    /// PersonalAccount, SystemIdentity, PartnerNotAuthorized or DelegationExpired.
    pub reason: String,
}
