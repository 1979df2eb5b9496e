//! Vocabulary shared by more than one resource.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a ticket is about; a tier's `entitlements` list which it covers.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum Category {
    Technical,
    Billing,
    Subscription,
    Advisory,
    EscalationManagement,
    AccountManagement,
}

impl Category {
    /// Entitlements of a tier that lists none (DESIGN.md rule 1).
    pub const DEFAULT_ENTITLEMENTS: [Category; 3] = [
        Category::Technical,
        Category::Billing,
        Category::Subscription,
    ];
}

/// Hours during which a clock runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Coverage {
    #[serde(rename = "24x7")]
    RoundTheClock,
    BusinessHours,
}

impl Coverage {
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::RoundTheClock => "24x7",
            Coverage::BusinessHours => "BusinessHours",
        }
    }
}

/// A user or group, as RBAC names them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub struct Subject {
    pub kind: SubjectKind,
    /// User name or group name as the cluster's authenticator reports it.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum SubjectKind {
    User,
    Group,
}

/// The condition list every resource carries, keyed by `type`.
pub type Conditions = Vec<Condition>;

/// Schema marker for `conditions`: a map list keyed by type, so server-side
/// apply merges conditions from different writers instead of replacing them.
pub(crate) fn conditions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = <Vec<Condition>>::json_schema(generator);
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

/// Languages compare by primary subtag, case-insensitively (`en-US` is `en`).
pub fn primary_language(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// CEL: a BCP 47 tag, loosely (primary subtag of letters, then subtags).
pub const LANGUAGE_RE: &str = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$";
/// CEL: a Kubernetes object name (DNS subdomain).
pub const NAME_RE: &str = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";
/// CEL: a namespace name (DNS label).
pub const NAMESPACE_RE: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// Instants the operator can compute with: RFC 3339, at most nine
/// fractional digits, a year before 9999. The API server's `date-time`
/// accepts more (`9999-12-31T23:59:59Z`, twelve fractional digits), and one
/// such object would make every list of its kind fail to decode in the
/// operator, stalling all tickets: it is refused at the door instead.
pub const INSTANT_PATTERN: &str = r"^([0-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

/// Where a customer reaches whoever supports them instead of this desk: a
/// Publisher for its marketplace products, a partner for its trial
/// customers. Shown as given, so it is checked only for shape.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.url) || has(self.email) || has(self.phone)").message("a contact needs at least one of url, email or phone"))]
pub struct Contact {
    /// A support page, `https://` or `http://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^\\\\s]+$')").message("url must be a web address starting with https:// or http://"))]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 254))]
    #[x_kube(validation = Rule::new("self.matches('^[^@\\\\s]+@[^@\\\\s]+$')").message("email must be an address such as help@contoso.example"))]
    pub email: Option<String>,
    /// As dialled, e.g. `+1 555 0100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^\\\\+?[0-9][-0-9 ().]*$')").message("phone must be digits, spaces, '-', '.', parentheses and an optional leading +, such as +1 555 0100"))]
    pub phone: Option<String>,
}
