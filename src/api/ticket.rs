//! Ticket: the thing with deadlines.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;

use super::pattern;
use serde::{Deserialize, Serialize};

use super::common::{Category, Contact, Coverage, conditions_schema};
use super::support_tier::SupportType;

/// A support case whose response deadline the operator keeps.
// Several printer columns repeat `type_`, which clippy reads as a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "supportpolicy.dev",
    version = "v1alpha1",
    kind = "Ticket",
    namespaced,
    shortname = "tkt",
    category = "support",
    status = "TicketStatus",
    doc = "A support case in a workspace's namespace; the operator keeps its response deadline.",
    printcolumn(name = "Workspace", type_ = "string", json_path = ".status.workspace"),
    printcolumn(name = "Severity", type_ = "string", json_path = ".status.severity"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Due",
        type_ = "string",
        format = "date-time",
        json_path = ".status.responseDueAt"
    ),
    printcolumn(
        name = "Resolution Due",
        type_ = "string",
        format = "date-time",
        json_path = ".status.resolutionDueAt",
        priority = 1
    ),
    printcolumn(
        name = "Redirect",
        type_ = "string",
        json_path = ".status.redirect.name",
        priority = 1
    ),
    printcolumn(
        name = "Next Step",
        type_ = "string",
        json_path = ".status.nextStep",
        priority = 1
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Accepted\")].reason",
        priority = 1
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Accepted\")].message",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(oldSelf.openedAt) || (has(self.openedAt) && self.openedAt == oldSelf.openedAt)").message("openedAt is immutable once set"),
    validation = Rule::new("!has(self.resolvedAt) || !has(self.openedAt) || self.resolvedAt >= self.openedAt").message("resolvedAt cannot be before openedAt")
)]
pub struct TicketSpec {
    /// What the case is about, in a line.
    #[schemars(length(min = 1, max = 256))]
    pub title: String,
    /// Requested severity, one of the policy's.
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("severity is immutable: open a new ticket for a different severity"))]
    pub severity: String,
    /// Tier; the workspace's tier if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub tier: Option<String>,
    /// What the case is about; the tier must be entitled to it. Default Technical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Technical"))]
    pub category: Option<Category>,
    /// The case's language, a BCP 47 tag; default en.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 35), extend("default" = "en"))]
    #[x_kube(validation = pattern::matches(pattern::LANGUAGE).message("language must be a BCP 47 tag such as en, de or pt-BR"))]
    pub language: Option<String>,
    /// Picks the policy calendar; unknown or absent: `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub region: Option<String>,
    /// IANA zone for the `default` calendar only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub time_zone: Option<String>,
    /// The customer's commitment; default BusinessHours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "BusinessHours"))]
    pub customer_availability: Option<Coverage>,
    /// Coverage the customer asks for; default BusinessHours; meaningful where the level allows 24x7 on request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "BusinessHours"))]
    pub coverage_requested: Option<Coverage>,
    /// Release stage of the product concerned; preview stages are never
    /// supported round the clock. Default GA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "GA"))]
    pub product_stage: Option<ProductStage>,
    /// Clock start; creationTimestamp if absent (imports, migrations).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::common::instant::optional"
    )]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub opened_at: Option<Time>,
    /// Set by the help desk when it first responds: stops the response clock.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::common::instant::optional"
    )]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub first_response_at: Option<Time>,
    /// Clock stopped, e.g. awaiting the customer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub pauses: Vec<Pause>,
    /// Filed by a partner for the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<OnBehalfOf>,
    /// Reopens a closed ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopen_of: Option<ReopenOf>,
    /// Paid (default) or Trial: a trial is supported by its partner, not by this desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Paid"))]
    pub subscription: Option<Subscription>,
    /// The product concerned; a marketplace product (with a publisher) is supported by its publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Product>,
    /// What kind of break-fix work this is; default BreakFix. The policy's effortCap may cap some kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "BreakFix"))]
    pub investigation: Option<Investigation>,
    /// Work logged so far (set by the help desk), a duration such as 3h30m; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), extend("default" = "0s"))]
    #[x_kube(validation = pattern::matches(pattern::DURATION).message("effort must be a duration such as 45m or 3h30m"))]
    pub effort: Option<String>,
    /// Set when the ticket is resolved: its clocks end there.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::common::instant::optional"
    )]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub resolved_at: Option<Time>,
}

/// Whose subscription the customer holds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Subscription {
    Paid,
    // Supported through the workspace's partner (DESIGN.md rule 1).
    Trial,
}

/// What a ticket is about, product-wise.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// The product's name, as the customer knows it.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Name of a Publisher: the product is a marketplace product, supported by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = pattern::matches(pattern::NAME).message("publisher must be the name of a Publisher: lower-case letters, digits, '-' and '.'"))]
    pub publisher: Option<String>,
}

/// Kinds of break-fix work; an SlaPolicy's `effortCap` caps some of them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Investigation {
    BreakFix,
    Performance,
    NotReproducible,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ProductStage {
    #[serde(rename = "GA")]
    Ga,
    PublicPreview,
    PrivatePreview,
}

/// The clock stopped over `[from, to)`; `to` absent: paused now.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.to) || self.to > self.from").message("a pause's to must be after its from"))]
pub struct Pause {
    /// When the clock stopped (RFC 3339).
    #[serde(deserialize_with = "super::common::instant::required")]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub from: Time,
    /// When the clock ran again (RFC 3339); absent: it is stopped now.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::common::instant::optional"
    )]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub to: Option<Time>,
    /// Why the clock stopped, e.g. AwaitingCustomer; shown only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub reason: Option<String>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OnBehalfOf {
    /// A partner of the workspace's `delegatedAdmins` that may open tickets
    /// for the customer (not an IndirectReseller, holds ServiceSupportAdministrator, not expired).
    #[schemars(length(min = 1, max = 253))]
    pub partner: String,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReopenOf {
    /// The closed ticket's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// When it was closed (RFC 3339): a reopen is allowed within 3 calendar months.
    #[serde(deserialize_with = "super::common::instant::required")]
    #[schemars(pattern(super::pattern::INSTANT))]
    pub closed_at: Time,
    /// The same error occurs on the same environment; required to reopen.
    #[serde(default)]
    pub same_environment: bool,
    /// The same error occurs on the same product version; required to reopen.
    #[serde(default)]
    pub same_version: bool,
}

/// Where a ticket stands (DESIGN.md rule 8).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Phase {
    Pending,
    OnTrack,
    AtRisk,
    Breached,
    Responded,
    Paused,
    BestEffort,
    Rejected,
    // `resolvedAt` has passed: the clocks have ended.
    Resolved,
    // The ticket belongs elsewhere (a publisher, a trial's partner): see `status.redirect`.
    Redirected,
}

impl Phase {
    pub const ALL: [Phase; 10] = [
        Phase::Pending,
        Phase::OnTrack,
        Phase::AtRisk,
        Phase::Breached,
        Phase::Responded,
        Phase::Paused,
        Phase::BestEffort,
        Phase::Rejected,
        Phase::Resolved,
        Phase::Redirected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::OnTrack => "OnTrack",
            Phase::AtRisk => "AtRisk",
            Phase::Breached => "Breached",
            Phase::Responded => "Responded",
            Phase::Paused => "Paused",
            Phase::BestEffort => "BestEffort",
            Phase::Rejected => "Rejected",
            Phase::Resolved => "Resolved",
            Phase::Redirected => "Redirected",
        }
    }
}

/// Observed state of a Ticket, as the deadline rules compute it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketStatus {
    /// The `metadata.generation` the operator last judged; while it differs
    /// from `metadata.generation`, the status describes an older spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Workspace whose namespace holds the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The tier applied: spec.tier, else the workspace's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Effective severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Present when the severity was lowered one level: from what, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downgrade: Option<Downgrade>,
    /// The hours the response clock runs: 24x7 or BusinessHours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// The policy calendar applied (set under 24x7 too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// When the initial response is due; absent when no deadline applies or
    /// an open pause means it never comes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_due_at: Option<Time>,
    /// When the ticket becomes AtRisk (the policy's atRiskAt share of the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk_at: Option<Time>,
    /// When the effective level has a `resolution` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_due_at: Option<Time>,
    /// Where the ticket stands now: Pending, OnTrack, AtRisk, Breached,
    /// Responded, Paused, BestEffort, Resolved, Redirected or Rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Where the ticket belongs instead (phase Redirected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Redirect>,
    /// What follows the capped break-fix work, once the effort cap is reached (rule 11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
    /// The highest level of the tier's escalation chain begun so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// `Accepted` says whether the ticket is handled here (reason and
    /// message say why not); also AtRisk, Breached, Responded, Paused,
    /// Resolved, ResolutionBreached, EffortCapReached and, for kstatus, Stalled.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Downgrade {
    /// The requested severity.
    pub from: String,
    /// Why it was lowered: CustomerNot24x7.
    pub reason: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Escalation {
    /// 1-based position in the tier's chain.
    pub level: u32,
    /// Who works the ticket at this level.
    pub support_type: SupportType,
    /// The level's queue, as the tier names it.
    pub queue: String,
}

/// Where a ticket that belongs elsewhere is sent (DESIGN.md rule 1).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    /// Publisher or Partner.
    pub to: RedirectTarget,
    /// The Publisher object's name, or the partner's.
    pub name: String,
    /// As the Publisher or the partner's delegatedAdmins entry gives it; absent when the entry has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum RedirectTarget {
    Publisher,
    Partner,
}

/// What follows capped break-fix work (DESIGN.md rule 11).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum NextStep {
    // The tier entitles Advisory: the work goes on as advisory.
    ContinueAsAdvisory,
    // A partner of the workspace may take it on.
    ReferToPartner,
    // Neither: community forums and self-help.
    Community,
}

impl NextStep {
    pub fn as_str(self) -> &'static str {
        match self {
            NextStep::ContinueAsAdvisory => "ContinueAsAdvisory",
            NextStep::ReferToPartner => "ReferToPartner",
            NextStep::Community => "Community",
        }
    }
}
