//! Routing compilation: the `routes.json` document that help desks, bots and
//! contact forms read, one entry per workspace × tier × severity.
//!
//! Deterministic by construction: everything is walked in name order and
//! serialized from structs and `BTreeMap`s, so the same objects always give
//! byte-identical output and the controller can skip writes that change
//! nothing.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::api::quantity::After;
use crate::api::sla_policy::{Day, SlaPolicySpec};
use crate::api::support_tier::{SupportModel, SupportType};
use crate::api::{Category, Coverage, SlaPolicy};
use crate::catalog::{Catalog, Tier};

/// Version of the document's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
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

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutingTable {
    pub schema_version: u32,
    pub routes: Vec<Route>,
    /// Calendars by `policy/calendar`, so routes can name them without repeating them.
    pub calendars: BTreeMap<String, RouteCalendar>,
    /// Workspace × tier pairs that could not be routed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// Present on shards only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub workspace: String,
    pub namespace: String,
    pub tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The workspace's default tier.
    pub default_tier: bool,
    pub support_model: SupportModel,
    pub entitlements: Vec<Category>,
    /// Absent for a tier without SLA (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<RouteSeverity>,
    pub escalation: Vec<RouteLevel>,
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
    pub round_the_clock_languages: Vec<String>,
    /// `policy/calendar` keys into the table's `calendars`; the first is `default`.
    pub calendars: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteLevel {
    pub level: u32,
    pub support_type: SupportType,
    pub queue: String,
    /// Business seconds after the clock start at which this level begins.
    pub after_seconds: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteCalendar {
    pub time_zone: String,
    pub hours: Vec<RouteHours>,
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
pub struct Skipped {
    pub workspace: String,
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

/// The index `support-routing` holds when the table is sharded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShardIndex {
    pub schema_version: u32,
    pub shards: Vec<String>,
    pub routes: usize,
}

/// Compiles the whole table. `policies` supplies calendar details by name.
pub fn compile(catalog: &Catalog, policies: &[SlaPolicy]) -> RoutingTable {
    let specs: BTreeMap<&str, &SlaPolicySpec> = policies
        .iter()
        .filter_map(|p| Some((p.metadata.name.as_deref()?, &p.spec)))
        .collect();
    let mut table = RoutingTable {
        schema_version: SCHEMA_VERSION,
        routes: Vec::new(),
        calendars: BTreeMap::new(),
        skipped: Vec::new(),
        shard: None,
    };
    for (ws_name, ws) in &catalog.workspaces {
        if let Some(owner) = catalog.namespace_taken_by(ws) {
            table.skipped.push(Skipped {
                workspace: ws_name.clone(),
                tier: None,
                reason: "NamespaceTaken".into(),
                message: format!(
                    "namespace {:?} belongs to workspace {owner:?}",
                    ws.spec.namespace
                ),
            });
            continue;
        }
        let mut tiers: Vec<&String> = match ws.spec.allowed_tiers.as_ref().filter(|a| !a.is_empty())
        {
            Some(allowed) => allowed
                .iter()
                .chain(std::iter::once(&ws.spec.tier))
                .collect(),
            None => catalog
                .tiers
                .keys()
                .chain(std::iter::once(&ws.spec.tier))
                .collect(),
        };
        tiers.sort();
        tiers.dedup();
        for tier_name in tiers {
            let skip = |reason: &str, message: String| Skipped {
                workspace: ws_name.clone(),
                tier: Some(tier_name.clone()),
                reason: reason.into(),
                message,
            };
            let tier = match catalog.tiers.get(tier_name) {
                None => {
                    table.skipped.push(skip(
                        "UnknownTier",
                        format!("no SupportTier named {tier_name:?}"),
                    ));
                    continue;
                }
                Some(Err(p)) => {
                    table
                        .skipped
                        .push(skip("InvalidSupportTier", p.to_string()));
                    continue;
                }
                Some(Ok(t)) => t,
            };
            let base = Route {
                workspace: ws_name.clone(),
                namespace: ws.spec.namespace.clone(),
                tier: tier_name.clone(),
                display_name: tier.spec.display_name.clone(),
                default_tier: *tier_name == ws.spec.tier,
                support_model: tier.spec.support_model,
                entitlements: entitlements(tier),
                sla_policy: tier.spec.sla_policy.clone(),
                severity: None,
                escalation: Vec::new(),
            };
            let Some(policy_name) = &tier.spec.sla_policy else {
                table.routes.push(Route {
                    escalation: levels(tier, 0),
                    ..base
                });
                continue;
            };
            let policy = match catalog.policies.get(policy_name) {
                None => {
                    table.skipped.push(skip(
                        "NoSlaPolicy",
                        format!("no SlaPolicy named {policy_name:?}"),
                    ));
                    continue;
                }
                Some(Err(p)) => {
                    table.skipped.push(skip("InvalidSlaPolicy", p.to_string()));
                    continue;
                }
                Some(Ok(p)) => p,
            };
            let calendar_keys: Vec<String> = {
                let mut names: Vec<&str> =
                    policy.calendars.iter().map(|c| c.name.as_str()).collect();
                names.sort_by_key(|n| (*n != "default", *n));
                names.iter().map(|n| format!("{policy_name}/{n}")).collect()
            };
            if let Some(spec) = specs.get(policy_name.as_str()) {
                add_calendars(&mut table.calendars, policy_name, spec);
            }
            for (i, level) in policy.levels.iter().enumerate() {
                let spec_level = specs
                    .get(policy_name.as_str())
                    .and_then(|s| s.severities.get(i));
                table.routes.push(Route {
                    severity: Some(RouteSeverity {
                        name: level.name.clone(),
                        initial_response: spec_level
                            .map(|s| s.initial_response.clone())
                            .unwrap_or_default(),
                        initial_response_seconds: level.target,
                        at_risk_seconds: policy.at_risk.map(|p| p.of(level.target)),
                        coverage: level.coverage,
                        requires_customer24x7: level.requires_customer,
                        allow24x7_on_request: level.allow_on_request,
                        downgrades_to: (level.requires_customer || level.allow_on_request)
                            .then(|| policy.levels.get(i + 1).map(|l| l.name.clone()))
                            .flatten(),
                        round_the_clock_languages: policy.round_the_clock_languages.clone(),
                        calendars: calendar_keys.clone(),
                    }),
                    escalation: levels(tier, level.target),
                    ..base.clone()
                });
            }
        }
    }
    table
}

fn entitlements(tier: &Tier) -> Vec<Category> {
    let mut list = tier
        .spec
        .entitlements
        .clone()
        .unwrap_or_else(|| Category::DEFAULT_ENTITLEMENTS.to_vec());
    list.sort();
    list.dedup();
    list
}

fn levels(tier: &Tier, target: i64) -> Vec<RouteLevel> {
    tier.escalation
        .iter()
        .enumerate()
        .map(|(i, (level, after)): (usize, &(_, After))| RouteLevel {
            level: i as u32 + 1,
            support_type: level.support_type,
            queue: level.queue.clone(),
            after_seconds: after.seconds(target),
        })
        .collect()
}

fn add_calendars(into: &mut BTreeMap<String, RouteCalendar>, policy: &str, spec: &SlaPolicySpec) {
    for cal in &spec.calendars {
        let mut holidays: Vec<String> = spec
            .holidays
            .iter()
            .filter(|h| {
                h.calendars
                    .as_ref()
                    .is_none_or(|names| names.is_empty() || names.contains(&cal.name))
            })
            .map(|h| h.date.clone())
            .collect();
        holidays.sort();
        holidays.dedup();
        into.insert(
            format!("{policy}/{}", cal.name),
            RouteCalendar {
                time_zone: cal.time_zone.clone(),
                hours: cal
                    .hours
                    .iter()
                    .map(|h| RouteHours {
                        days: h.days.clone(),
                        start: h.start.clone(),
                        end: h.end.clone(),
                    })
                    .collect(),
                holidays,
            },
        );
    }
}

impl RoutingTable {
    /// The slice for one workspace: its routes and the calendars they name.
    pub fn for_workspace(&self, workspace: &str) -> RoutingTable {
        let routes = self
            .routes
            .iter()
            .filter(|r| r.workspace == workspace)
            .cloned()
            .collect();
        let skipped = self
            .skipped
            .iter()
            .filter(|s| s.workspace == workspace)
            .cloned()
            .collect();
        self.subset(routes, skipped, None)
    }

    fn subset(
        &self,
        routes: Vec<Route>,
        skipped: Vec<Skipped>,
        shard: Option<ShardInfo>,
    ) -> RoutingTable {
        let calendars = self
            .calendars
            .iter()
            .filter(|(key, _)| {
                routes.iter().any(|r| {
                    r.severity
                        .as_ref()
                        .is_some_and(|s| s.calendars.contains(key))
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        RoutingTable {
            schema_version: self.schema_version,
            calendars,
            skipped,
            routes,
            shard,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The table as ConfigMap data: one `routes.json`, or, past `limit` bytes,
    /// an index plus shards named `support-routing-N`.
    pub fn shard(&self, limit: usize) -> Sharded {
        let whole = self.to_json();
        if whole.len() <= limit {
            return Sharded {
                index: None,
                shards: vec![whole],
            };
        }
        // Greedy split on route boundaries, each shard a valid document; a
        // route's size in the document is its own pretty form, indented once
        // more, and every shard may repeat all calendars.
        let calendars = serde_json::to_string_pretty(&self.calendars).map_or(0, |s| s.len() * 2);
        let skipped = serde_json::to_string_pretty(&self.skipped).map_or(0, |s| s.len() * 2);
        let budget = limit.saturating_sub(calendars + skipped + 256).max(1);
        let mut groups: Vec<Vec<Route>> = vec![Vec::new()];
        let mut size = 0usize;
        for route in &self.routes {
            let pretty = serde_json::to_string_pretty(route).unwrap_or_default();
            let len = pretty.len() + 4 * pretty.lines().count() + 8;
            if size + len > budget && groups.last().is_some_and(|g| !g.is_empty()) {
                groups.push(Vec::new());
                size = 0;
            }
            size += len;
            if let Some(g) = groups.last_mut() {
                g.push(route.clone());
            }
        }
        let of = groups.len();
        let shards: Vec<String> = groups
            .into_iter()
            .enumerate()
            .map(|(index, routes)| {
                // Shard 0 carries what could not be routed, once.
                let skipped = if index == 0 {
                    self.skipped.clone()
                } else {
                    Vec::new()
                };
                self.subset(routes, skipped, Some(ShardInfo { index, of }))
                    .to_json()
            })
            .collect();
        let index = ShardIndex {
            schema_version: self.schema_version,
            shards: (0..of)
                .map(|i| format!("{ROUTING_CONFIGMAP}-{i}"))
                .collect(),
            routes: self.routes.len(),
        };
        Sharded {
            index: Some(serde_json::to_string_pretty(&index).unwrap_or_default() + "\n"),
            shards,
        }
    }
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

/// Every ConfigMap the table gives: `support-routing` (and its shards) in
/// `operator_namespace`, and each routable workspace's `support-policy`.
/// Owner references are the controller's business, not the compiler's.
pub fn config_maps(
    table: &RoutingTable,
    catalog: &Catalog,
    operator_namespace: &str,
) -> Vec<ConfigMap> {
    let make = |name: String, namespace: &str, data: Vec<(&str, String)>| ConfigMap {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_string(),
                MANAGED_BY.1.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(data.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        ..ConfigMap::default()
    };
    let mut out = Vec::new();
    let sharded = table.shard(SHARD_LIMIT_BYTES);
    match sharded.index {
        None => {
            for doc in sharded.shards {
                out.push(make(
                    ROUTING_CONFIGMAP.into(),
                    operator_namespace,
                    vec![(ROUTES_KEY, doc)],
                ));
            }
        }
        Some(index) => {
            out.push(make(
                ROUTING_CONFIGMAP.into(),
                operator_namespace,
                vec![(INDEX_KEY, index)],
            ));
            for (i, doc) in sharded.shards.into_iter().enumerate() {
                out.push(make(
                    format!("{ROUTING_CONFIGMAP}-{i}"),
                    operator_namespace,
                    vec![(ROUTES_KEY, doc)],
                ));
            }
        }
    }
    for (name, ws) in &catalog.workspaces {
        if catalog.namespace_taken_by(ws).is_some()
            || Catalog::namespace_protected(&ws.spec.namespace, operator_namespace)
        {
            continue;
        }
        let slice = table.for_workspace(name);
        out.push(make(
            POLICY_CONFIGMAP.into(),
            &ws.spec.namespace,
            vec![(ROUTES_KEY, slice.to_json())],
        ));
    }
    out
}
