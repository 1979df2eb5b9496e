//! SupportTier: a support model, its escalation chain and its entitlements.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;

use super::pattern;
use serde::{Deserialize, Serialize};

use super::common::{Category, conditions_schema};

/// How an application tier is supported and where its tickets escalate.
// Several printer columns repeat `type_`, which clippy reads as a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "supportpolicy.dev",
    version = "v1alpha1",
    kind = "SupportTier",
    shortname = "tier",
    category = "support",
    status = "SupportTierStatus",
    doc = "An application tier: support model, SLA policy, entitlements and escalation chain.",
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.supportModel"),
    printcolumn(name = "Policy", type_ = "string", json_path = ".spec.slaPolicy"),
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
pub struct SupportTierSpec {
    /// The name people know the tier by, e.g. Critical; shown only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub display_name: Option<String>,
    /// Self, TeamAssisted or Formal.
    pub support_model: SupportModel,
    /// Name of an SlaPolicy; a tier without one has no deadlines (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub sla_policy: Option<String>,
    /// Categories covered; absent: [Technical, Billing, Subscription]; empty: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 6), extend("default" = ["Technical", "Billing", "Subscription"]))]
    pub entitlements: Option<Vec<Category>>,
    /// The chain, first level first.
    #[serde(default)]
    #[schemars(length(max = 10))]
    pub escalation: Vec<EscalationLevel>,
    /// Reactive governance: recommend a higher tier when it is outgrown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graduation: Option<Graduation>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum SupportModel {
    // The maker supports the solution.
    #[serde(rename = "Self")]
    SelfSupport,
    TeamAssisted,
    Formal,
}

/// Support types along an escalation path.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum SupportType {
    Maker,
    Team,
    HelpDesk,
    Dedicated,
    Partner,
    Vendor,
}

/// One level of the escalation chain.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EscalationLevel {
    /// Who works the ticket at this level: Maker, Team, HelpDesk, Dedicated, Partner or Vendor.
    pub support_type: SupportType,
    /// Queue that help desks and bots route to.
    #[schemars(length(min = 1, max = 253))]
    pub queue: String,
    /// When the level begins: a share of the response target ("50%"; up to 1000%, so "150%" is half a target overdue) or a duration ("90m", may exceed the target); absent: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = pattern::matches_any(&[pattern::AFTER_PERCENT, pattern::DURATION]).message("after must be a percentage of the response target from 0% to 1000% (150% is half a target overdue) or a duration (90m)"))]
    pub after: Option<String>,
}

/// When to recommend moving to a higher tier.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Graduation {
    /// The tier to recommend.
    #[schemars(length(min = 1, max = 253))]
    pub to: String,
    /// Open tickets (not yet responded to) in one workspace above which
    /// the workspace is advised to move to `to` (its `GraduationRecommended` condition).
    #[schemars(range(min = 0, max = 1_000_000))]
    pub when_open_tickets_exceed: u32,
}

/// Observed state of a SupportTier.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupportTierStatus {
    /// The `metadata.generation` the operator last acted on; while it differs
    /// from `metadata.generation`, the status describes an older spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` says whether the object is valid and in use (reason and message say why not); `Stalled` repeats a False `Ready` for kstatus (docs/field-reference.md).
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
}
