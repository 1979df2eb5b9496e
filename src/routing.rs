//! Routing compilation: the `routes.json` document that help desks, bots and
//! contact forms read (DESIGN.md, "What the operator produces").
//!
//! Schema version 2 is **normalised**: every tier, policy, workspace and
//! publisher appears once, and a consumer joins workspace → tier → severity
//! (→ the tier's policy for calendars). Version 1 had one route per
//! workspace × tier × severity, which reached hundreds of megabytes at a
//! large organisation's size (issue 11); this document grows with the sum of
//! what was declared, never with its product. `docs/routes.schema.json` is
//! its JSON Schema and `docs/routing.md` shows how to read it.
//!
//! Deterministic by construction: everything is walked in name order and
//! serialized from structs and `BTreeMap`s, so the same objects always give
//! byte-identical output and the controller can skip writes that change
//! nothing. Pure: catalog in, documents out; no kube client.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::api::sla_policy::{Day, SlaPolicySpec};
use crate::api::support_tier::{SupportModel, SupportType};
use crate::api::workspace::{Agreement, Provider, SUPPORT_ADMIN_ROLE};
use crate::api::{Category, Contact, Coverage, SlaPolicy, Workspace};
use crate::catalog::{Catalog, DEFAULT_CALENDAR, Lookup, Policy, Tier, allows_personal_accounts};

/// Version of the document's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;
/// Name of the cluster-wide table (and of the index when sharded).
pub const ROUTING_CONFIGMAP: &str = "support-routing";
/// Name of each workspace's slice, in the workspace's namespace.
pub const POLICY_CONFIGMAP: &str = "support-policy";
/// Key of the document in each ConfigMap.
pub const ROUTES_KEY: &str = "routes.json";
/// Key of the shard index in `support-routing` when the table is sharded.
pub const INDEX_KEY: &str = "index.json";
/// Largest document kept in one ConfigMap: well under the 1 MiB object
/// limit, leaving room for metadata and managedFields.
pub const SHARD_LIMIT_BYTES: usize = 900 * 1024;
/// Most shards the table is split into; far beyond any declared catalog
/// (every single entry is bounded by the CRDs' list limits to a few hundred
/// KiB at most), it only stops the doubling in [`RoutingTable::shard`].
pub const MAX_SHARDS: usize = 4096;

/// The routing table (`support-routing`), one of its shards, or a
/// workspace's slice (`support-policy`): one shape, so one schema and one
/// reader serve all three.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RoutingTable {
    pub schema_version: u32,
    /// A slice only: the workspace it is for (its entry is in `workspaces`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// A slice only: the workspace lists no `allowedTiers`, so it may use
    /// any tier; `tierNames` lists them, and `tiers` holds only its default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_tier: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier_names: Vec<String>,
    /// Tiers by name: support model, entitlements, chain, and per severity
    /// the effective targets, coverage and calendars.
    #[serde(default)]
    pub tiers: BTreeMap<String, RouteTier>,
    /// SLA policies by name: what all their severities share (languages
    /// served round the clock, preview support, calendars).
    #[serde(default)]
    pub policies: BTreeMap<String, RoutePolicy>,
    /// Workspaces by name: namespace, default and allowed tiers, agreement,
    /// partners.
    #[serde(default)]
    pub workspaces: BTreeMap<String, RouteWorkspace>,
    /// Publishers of marketplace products by name: who supports them.
    #[serde(default)]
    pub publishers: BTreeMap<String, RoutePublisher>,
    /// What could not be routed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// Present on shards only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteTier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub support_model: SupportModel,
    /// Categories the tier covers, in the API's category order (absent in the spec: the default three).
    pub entitlements: Vec<Category>,
    /// Key into `policies`; absent for a tier without SLA (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_policy: Option<String>,
    /// The chain, first level first.
    pub escalation: Vec<RouteLevel>,
    /// The policy's severities, most severe first; empty without SLA.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<RouteSeverity>,
    /// Where graduation recommends moving to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graduates_to: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteLevel {
    pub level: u32,
    pub support_type: SupportType,
    pub queue: String,
    /// As declared: a share of the response target or a duration; absent = at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteSeverity {
    pub name: String,
    pub initial_response: String,
    pub initial_response_seconds: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk_seconds: Option<i64>,
    /// The level's coverage; tickets get 24x7 only as rules 2–4 allow.
    pub coverage: Coverage,
    pub requires_customer24x7: bool,
    pub allow24x7_on_request: bool,
    /// Where a ticket goes without the customer's 24x7 commitment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downgrades_to: Option<String>,
    /// Business seconds after the clock start at which each level of the
    /// tier's `escalation` begins, in the same order.
    pub escalation_seconds: Vec<i64>,
    /// Names of the policy's calendars (keys into its `calendars`),
    /// `default` first; a ticket's `region` picks one.
    pub calendars: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutePolicy {
    /// Primary subtags, lower case.
    pub round_the_clock_languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk_at: Option<String>,
    pub preview: RoutePreview,
    pub calendars: BTreeMap<String, RouteCalendar>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutePreview {
    pub languages: Vec<String>,
    pub categories: Vec<Category>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteCalendar {
    pub time_zone: String,
    pub hours: Vec<RouteHours>,
    /// Local dates off: `YYYY-MM-DD`, or `MM-DD` every year.
    pub holidays: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RouteHours {
    pub days: Vec<Day>,
    pub start: String,
    pub end: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteWorkspace {
    pub namespace: String,
    /// The default tier of its tickets.
    pub tier: String,
    /// The tiers its tickets may name, sorted; absent when any tier goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tiers: Option<Vec<String>>,
    /// True when the workspace lists no `allowedTiers`: every tier is allowed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_tier: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
    pub allow_personal_accounts: bool,
    /// Partners acting for the customer, by partner name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<RoutePartner>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutePartner {
    pub partner: String,
    pub provider: Provider,
    /// Not a reseller and holds `ServiceSupportAdministrator`: may file
    /// tickets for the customer until `expiresAt` (rule 1, `onBehalfOf`).
    pub may_file_tickets: bool,
    /// Direct or indirect provider: supports the workspace's trials until `expiresAt`.
    pub supports_trials: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<RouteContact>,
}

/// How to reach a publisher or a partner: at least one of the three.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RouteContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl From<&Contact> for RouteContact {
    fn from(c: &Contact) -> Self {
        RouteContact {
            url: c.url.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutePublisher {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub contact: RouteContact,
}

/// Something left out of the document, and why: a workspace whose
/// namespace another holds, a tier that does not compile or whose policy is
/// missing, a tier a workspace names that does not exist.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub reason: String,
    pub message: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShardInfo {
    pub index: usize,
    pub of: usize,
}

/// The index `support-routing` holds when the table is sharded: the shard
/// names, and for every entry the shard (position in `shards`) that holds it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ShardIndex {
    pub schema_version: u32,
    pub shards: Vec<String>,
    pub tiers: BTreeMap<String, usize>,
    pub policies: BTreeMap<String, usize>,
    pub workspaces: BTreeMap<String, usize>,
    pub publishers: BTreeMap<String, usize>,
}

/// Compiles the whole table from the catalog. `policies` supplies only the
/// calendars' declared hours and holidays (kept as written, for people);
/// everything else comes from the catalog's compiled model.
pub fn compile(catalog: &Catalog, policies: &[SlaPolicy]) -> RoutingTable {
    let specs: BTreeMap<&str, &SlaPolicySpec> = policies
        .iter()
        .filter_map(|p| Some((p.metadata.name.as_deref()?, &p.spec)))
        .collect();
    let mut table = RoutingTable {
        schema_version: SCHEMA_VERSION,
        ..RoutingTable::default()
    };
    for name in catalog.policies.keys() {
        if let Lookup::Found(policy) = catalog.policy(name) {
            table
                .policies
                .insert(name.clone(), route_policy(policy, specs.get(name.as_str())));
        }
    }
    for name in catalog.tiers.keys() {
        let skip = |reason: &str, message: String| Skipped {
            workspace: None,
            tier: Some(name.clone()),
            reason: reason.into(),
            message,
        };
        let tier = match catalog.tier(name) {
            Lookup::Found(t) => t,
            Lookup::Invalid(p) => {
                table
                    .skipped
                    .push(skip("InvalidSupportTier", p.to_string()));
                continue;
            }
            Lookup::Missing => continue,
        };
        let policy = match tier
            .spec
            .sla_policy
            .as_deref()
            .map(|p| (p, catalog.policy(p)))
        {
            None => None,
            Some((_, Lookup::Found(p))) => Some(p),
            Some((p, Lookup::Missing)) => {
                table
                    .skipped
                    .push(skip("NoSlaPolicy", format!("no SlaPolicy named {p:?}")));
                continue;
            }
            Some((_, Lookup::Invalid(problem))) => {
                table
                    .skipped
                    .push(skip("InvalidSlaPolicy", problem.to_string()));
                continue;
            }
        };
        table.tiers.insert(name.clone(), route_tier(tier, policy));
    }
    for (name, publisher) in &catalog.publishers {
        table.publishers.insert(
            name.clone(),
            RoutePublisher {
                display_name: publisher.spec.display_name.clone(),
                contact: RouteContact::from(&publisher.spec.contact),
            },
        );
    }
    for (name, ws) in &catalog.workspaces {
        if let Some(owner) = catalog.namespace_taken_by(ws) {
            table.skipped.push(Skipped {
                workspace: Some(name.clone()),
                tier: None,
                reason: "NamespaceTaken".into(),
                message: format!(
                    "namespace {:?} belongs to workspace {owner:?}",
                    ws.spec.namespace
                ),
            });
            continue;
        }
        for (_, message) in catalog.missing_tiers(ws) {
            let tier = message
                .strip_prefix("no SupportTier named ")
                .map(|t| t.trim_matches('"').to_string());
            table.skipped.push(Skipped {
                workspace: Some(name.clone()),
                tier,
                reason: "UnknownTier".into(),
                message,
            });
        }
        table.workspaces.insert(name.clone(), route_workspace(ws));
    }
    table.skipped.sort();
    table.skipped.dedup();
    table
}

fn route_policy(policy: &Policy, spec: Option<&&SlaPolicySpec>) -> RoutePolicy {
    let mut calendars = BTreeMap::new();
    for cal in &policy.calendars {
        let declared = spec.and_then(|s| s.calendars.iter().find(|c| c.name == cal.name));
        let mut holidays: Vec<String> = spec
            .map(|s| {
                s.holidays
                    .iter()
                    .filter(|h| {
                        h.calendars
                            .as_ref()
                            .is_none_or(|names| names.is_empty() || names.contains(&cal.name))
                    })
                    .map(|h| h.date.clone())
                    .collect()
            })
            .unwrap_or_default();
        holidays.sort();
        holidays.dedup();
        calendars.insert(
            cal.name.clone(),
            RouteCalendar {
                time_zone: cal.zone_name.clone(),
                hours: declared
                    .map(|d| {
                        d.hours
                            .iter()
                            .map(|h| RouteHours {
                                days: h.days.clone(),
                                start: h.start.clone(),
                                end: h.end.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                holidays,
            },
        );
    }
    let mut preview_categories = policy.preview_categories.clone();
    preview_categories.sort();
    preview_categories.dedup();
    RoutePolicy {
        round_the_clock_languages: policy.round_the_clock_languages.clone(),
        at_risk_at: spec.and_then(|s| s.at_risk_at.clone()),
        preview: RoutePreview {
            languages: policy.preview_languages.clone(),
            categories: preview_categories,
        },
        calendars,
    }
}

fn route_tier(tier: &Tier, policy: Option<&std::sync::Arc<Policy>>) -> RouteTier {
    let mut entitlements = tier
        .spec
        .entitlements
        .clone()
        .unwrap_or_else(|| Category::DEFAULT_ENTITLEMENTS.to_vec());
    entitlements.sort();
    entitlements.dedup();
    let escalation = tier
        .escalation
        .iter()
        .enumerate()
        .map(|(i, (level, _))| RouteLevel {
            level: i as u32 + 1,
            support_type: level.support_type,
            queue: level.queue.clone(),
            after: level.after.clone(),
        })
        .collect();
    let severities = policy
        .map(|policy| {
            let mut calendars: Vec<&str> =
                policy.calendars.iter().map(|c| c.name.as_str()).collect();
            calendars.sort_by_key(|n| (*n != DEFAULT_CALENDAR, *n));
            let calendars: Vec<String> = calendars.into_iter().map(String::from).collect();
            policy
                .levels
                .iter()
                .enumerate()
                .map(|(i, level)| RouteSeverity {
                    name: level.name.clone(),
                    initial_response: format_duration(level.target),
                    initial_response_seconds: level.target,
                    at_risk_seconds: policy.at_risk.map(|p| p.of(level.target)),
                    coverage: level.coverage,
                    requires_customer24x7: level.requires_customer,
                    allow24x7_on_request: level.allow_on_request,
                    downgrades_to: (level.requires_customer || level.allow_on_request)
                        .then(|| policy.levels.get(i + 1).map(|l| l.name.clone()))
                        .flatten(),
                    escalation_seconds: tier
                        .escalation
                        .iter()
                        .map(|(_, after)| after.seconds(level.target))
                        .collect(),
                    calendars: calendars.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    RouteTier {
        display_name: tier.spec.display_name.clone(),
        support_model: tier.spec.support_model,
        entitlements,
        sla_policy: policy.map(|p| p.name.clone()),
        escalation,
        severities,
        graduates_to: tier.spec.graduation.as_ref().map(|g| g.to.clone()),
    }
}

/// Seconds as a Go-style duration (`1h30m`, `45s`): the target as the
/// operator understood it, whatever spelling the policy used.
fn format_duration(seconds: i64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

fn route_workspace(ws: &Workspace) -> RouteWorkspace {
    let spec = &ws.spec;
    let allowed = spec
        .allowed_tiers
        .as_ref()
        .filter(|a| !a.is_empty())
        .map(|a| {
            let set: BTreeSet<&String> = a.iter().collect();
            set.into_iter().cloned().collect::<Vec<_>>()
        });
    let mut partners: Vec<RoutePartner> = spec
        .delegated_admins
        .iter()
        .map(|d| RoutePartner {
            partner: d.partner.clone(),
            provider: d.provider,
            may_file_tickets: d.provider != Provider::IndirectReseller
                && d.roles.iter().any(|r| r == SUPPORT_ADMIN_ROLE),
            supports_trials: matches!(
                d.provider,
                Provider::DirectProvider | Provider::IndirectProvider
            ),
            expires_at: d.expires_at.as_ref().map(|t| {
                let ts = jiff::Timestamp::from_second(t.0.as_second()).unwrap_or(t.0);
                ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            }),
            contact: d.contact.as_ref().map(RouteContact::from),
        })
        .collect();
    // Stable: entries of one partner keep their declared order.
    partners.sort_by(|a, b| a.partner.cmp(&b.partner));
    RouteWorkspace {
        namespace: spec.namespace.clone(),
        tier: spec.tier.clone(),
        any_tier: allowed.is_none(),
        allowed_tiers: allowed,
        agreement: spec.agreement,
        allow_personal_accounts: allows_personal_accounts(spec),
        partners,
    }
}

impl RoutingTable {
    /// The slice for one workspace: its entry, its default tier and its
    /// `allowedTiers` in full with their policies; for a workspace that may
    /// use any tier, `anyTier` and the tier names instead of every tier.
    /// `None` when the table does not route the workspace.
    pub fn for_workspace(&self, workspace: &str) -> Option<RoutingTable> {
        let entry = self.workspaces.get(workspace)?;
        let wanted: BTreeSet<&String> = std::iter::once(&entry.tier)
            .chain(entry.allowed_tiers.iter().flatten())
            .collect();
        let tiers: BTreeMap<String, RouteTier> = wanted
            .iter()
            .filter_map(|t| Some(((*t).clone(), self.tiers.get(*t)?.clone())))
            .collect();
        let policies = tiers
            .values()
            .filter_map(|t| t.sla_policy.as_ref())
            .filter_map(|p| Some((p.clone(), self.policies.get(p)?.clone())))
            .collect();
        Some(RoutingTable {
            schema_version: self.schema_version,
            workspace: Some(workspace.to_string()),
            any_tier: entry.any_tier,
            tier_names: if entry.any_tier {
                self.tiers.keys().cloned().collect()
            } else {
                Vec::new()
            },
            tiers,
            policies,
            workspaces: BTreeMap::from([(workspace.to_string(), entry.clone())]),
            publishers: BTreeMap::new(),
            skipped: self
                .skipped
                .iter()
                .filter(|s| s.workspace.as_deref() == Some(workspace))
                .cloned()
                .collect(),
            shard: None,
        })
    }

    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The table as ConfigMap data: one `routes.json`, or, past `limit`
    /// bytes, an index plus shards named `support-routing-N`.
    ///
    /// Entries go to shards by a stable hash of their name, and the number
    /// of shards is the smallest power of two at which every shard fits: a
    /// change to one tier rewrites the one shard that holds it, not every
    /// shard after it, and the count changes only when the table doubles or
    /// halves.
    pub fn shard(&self, limit: usize) -> Sharded {
        let whole = self.to_json();
        if whole.len() <= limit {
            return Sharded {
                index: None,
                shards: vec![whole],
            };
        }
        let mut of = 2;
        loop {
            let parts = self.split(of);
            let fits = parts.iter().all(|p| p.len() <= limit);
            if fits || of >= MAX_SHARDS {
                let index = self.index(of);
                return Sharded {
                    index: Some(serde_json::to_string_pretty(&index).unwrap_or_default() + "\n"),
                    shards: parts,
                };
            }
            of *= 2;
        }
    }

    fn split(&self, of: usize) -> Vec<String> {
        let mut parts: Vec<RoutingTable> = (0..of)
            .map(|index| RoutingTable {
                schema_version: self.schema_version,
                shard: Some(ShardInfo { index, of }),
                ..RoutingTable::default()
            })
            .collect();
        for (k, v) in &self.tiers {
            parts[bucket("tier", k, of)]
                .tiers
                .insert(k.clone(), v.clone());
        }
        for (k, v) in &self.policies {
            parts[bucket("policy", k, of)]
                .policies
                .insert(k.clone(), v.clone());
        }
        for (k, v) in &self.workspaces {
            parts[bucket("workspace", k, of)]
                .workspaces
                .insert(k.clone(), v.clone());
        }
        for (k, v) in &self.publishers {
            parts[bucket("publisher", k, of)]
                .publishers
                .insert(k.clone(), v.clone());
        }
        for s in &self.skipped {
            let key = s.workspace.as_deref().or(s.tier.as_deref()).unwrap_or("");
            parts[bucket("skipped", key, of)].skipped.push(s.clone());
        }
        parts.iter().map(RoutingTable::to_json).collect()
    }

    fn index(&self, of: usize) -> ShardIndex {
        let place = |kind: &str, keys: Vec<&String>| -> BTreeMap<String, usize> {
            keys.into_iter()
                .map(|k| (k.clone(), bucket(kind, k, of)))
                .collect()
        };
        ShardIndex {
            schema_version: self.schema_version,
            shards: (0..of).map(shard_name).collect(),
            tiers: place("tier", self.tiers.keys().collect()),
            policies: place("policy", self.policies.keys().collect()),
            workspaces: place("workspace", self.workspaces.keys().collect()),
            publishers: place("publisher", self.publishers.keys().collect()),
        }
    }
}

/// Name of shard `i`.
pub fn shard_name(i: usize) -> String {
    format!("{ROUTING_CONFIGMAP}-{i}")
}

/// FNV-1a of `kind/name`, modulo `of`: the same on every platform and
/// release (std's hasher is neither).
fn bucket(kind: &str, name: &str, of: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind
        .bytes()
        .chain(std::iter::once(b'/'))
        .chain(name.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % of as u64) as usize
}

/// ConfigMap payloads for the cluster-wide table.
#[derive(Debug, Clone, PartialEq)]
pub struct Sharded {
    /// `index.json` for `support-routing` when sharded.
    pub index: Option<String>,
    /// One document (unsharded: `routes.json` of `support-routing`), or one per shard.
    pub shards: Vec<String>,
}

/// Label on every ConfigMap the operator writes, so it never touches others.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "support-operator");

/// One workspace's `support-policy`, as it should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub workspace: String,
    pub namespace: String,
    /// The `routes.json` document.
    pub document: String,
}

impl Slice {
    /// Whether it fits in one ConfigMap; one that does not is refused
    /// (`RoutingTooLarge`), never published cut short.
    pub fn fits(&self) -> bool {
        self.document.len() <= SHARD_LIMIT_BYTES
    }
}

/// The slice of every workspace that gets one: not one whose namespace
/// another workspace holds, nor one in a protected namespace.
pub fn slices(table: &RoutingTable, catalog: &Catalog, operator_namespace: &str) -> Vec<Slice> {
    catalog
        .workspaces
        .iter()
        .filter(|(_, ws)| {
            catalog.namespace_taken_by(ws).is_none()
                && !Catalog::namespace_protected(&ws.spec.namespace, operator_namespace)
        })
        .filter_map(|(name, ws)| {
            Some(Slice {
                workspace: name.clone(),
                namespace: ws.spec.namespace.clone(),
                document: table.for_workspace(name)?.to_json(),
            })
        })
        .collect()
}

/// A ConfigMap the operator publishes, labelled as its own.
pub fn config_map(name: &str, namespace: &str, data: Vec<(&str, String)>) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_string(),
                MANAGED_BY.1.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(data.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        ..ConfigMap::default()
    }
}

/// `support-routing` (and its shards) in `operator_namespace`.
pub fn table_config_maps(table: &RoutingTable, operator_namespace: &str) -> Vec<ConfigMap> {
    let sharded = table.shard(SHARD_LIMIT_BYTES);
    match sharded.index {
        None => sharded
            .shards
            .into_iter()
            .map(|doc| {
                config_map(
                    ROUTING_CONFIGMAP,
                    operator_namespace,
                    vec![(ROUTES_KEY, doc)],
                )
            })
            .collect(),
        Some(index) => std::iter::once(config_map(
            ROUTING_CONFIGMAP,
            operator_namespace,
            vec![(INDEX_KEY, index)],
        ))
        .chain(sharded.shards.into_iter().enumerate().map(|(i, doc)| {
            config_map(&shard_name(i), operator_namespace, vec![(ROUTES_KEY, doc)])
        }))
        .collect(),
    }
}

/// Every ConfigMap the table gives: `support-routing` (and its shards) in
/// `operator_namespace`, and each routable workspace's `support-policy`
/// that fits. Owner references are the controller's business, not the
/// compiler's.
pub fn config_maps(
    table: &RoutingTable,
    catalog: &Catalog,
    operator_namespace: &str,
) -> Vec<ConfigMap> {
    let mut out = table_config_maps(table, operator_namespace);
    for slice in slices(table, catalog, operator_namespace) {
        if slice.fits() {
            out.push(config_map(
                POLICY_CONFIGMAP,
                &slice.namespace,
                vec![(ROUTES_KEY, slice.document)],
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(45), "45s");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(90061), "25h1m1s");
    }

    #[test]
    fn buckets_are_stable_across_releases() {
        // FNV-1a of "tier/critical" is 0x290448435a2b0b8f: pinned, so that
        // a release never moves entries between shards by itself.
        assert_eq!(
            bucket("tier", "critical", usize::MAX),
            0x2904_4843_5a2b_0b8f % usize::MAX
        );
        assert_eq!(bucket("tier", "critical", 1024), 911);
        let spread: BTreeSet<usize> = (0..64)
            .map(|i| bucket("workspace", &format!("ws-{i}"), 8))
            .collect();
        assert_eq!(spread.len(), 8, "64 names fill all 8 buckets");
    }
}
