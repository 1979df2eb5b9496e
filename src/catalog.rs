//! The objects a ticket is judged against, checked and compiled once.
//!
//! Policies, tiers and workspaces change rarely and tickets are many, so their
//! parsing (durations, percentages, zones, calendars) happens here, once per
//! snapshot, and every problem is kept as a [`Problem`] that names the field.
//! The controllers report those problems as `Ready=False`; tickets that depend
//! on a broken object are rejected with the same message.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jiff::tz::TimeZone;

use crate::api::common::primary_language;
use crate::api::quantity::{After, Percent, parse_duration, parse_target};
use crate::api::sla_policy::CalendarDef;
use crate::api::support_tier::EscalationLevel;
use crate::api::ticket::Investigation;
use crate::api::workspace::{Agreement, DelegatedAdmin, Provider, SUPPORT_ADMIN_ROLE};
use crate::api::{
    Category, Coverage, Publisher, SlaPolicy, SlaPolicySpec, SupportTier, SupportTierSpec,
    Workspace, WorkspaceSpec,
};
use crate::calendar::{Calendar, CalendarSpec, Holiday, Window};

/// Something wrong with one object, for a `Ready=False` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// CamelCase reason for the condition.
    pub reason: &'static str,
    /// Path of the offending field, e.g. `spec.calendars[1].timeZone`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// One severity level, parsed.
#[derive(Debug, Clone)]
pub struct Level {
    pub name: String,
    pub target: i64,
    /// Resolution target, business seconds on the same clock (rule 7).
    pub resolution: Option<i64>,
    pub coverage: Coverage,
    pub requires_customer: bool,
    pub allow_on_request: bool,
}

/// A policy calendar, compiled.
#[derive(Debug)]
pub struct PolicyCalendar {
    pub name: String,
    pub zone_name: String,
    spec: CalendarSpec,
    pub compiled: Arc<Calendar>,
    /// The `default` calendar again in the zones tickets asked for.
    in_zones: Mutex<HashMap<String, (String, Arc<Calendar>)>>,
}

impl PolicyCalendar {
    /// This calendar in another zone (rule 5: a ticket's `timeZone` moves
    /// `default`'s windows and holidays into its local time), with the
    /// zone's canonical name.
    pub fn in_zone(&self, zone_name: &str) -> Result<(String, Arc<Calendar>), String> {
        if zone_name == self.zone_name {
            return Ok((self.zone_name.clone(), self.compiled.clone()));
        }
        if let Some(found) = self
            .in_zones
            .lock()
            .ok()
            .and_then(|m| m.get(zone_name).cloned())
        {
            return Ok(found);
        }
        let zone =
            TimeZone::get(zone_name).map_err(|_| format!("unknown time zone {zone_name:?}"))?;
        let canonical = canonical_zone(&zone, zone_name);
        let spec = CalendarSpec {
            zone,
            ..self.spec.clone()
        };
        let cal = Arc::new(Calendar::new(&spec).map_err(|e| e.to_string())?);
        let found = (canonical, cal);
        if let Ok(mut m) = self.in_zones.lock() {
            m.insert(zone_name.to_string(), found.clone());
        }
        Ok(found)
    }
}

/// An SlaPolicy, checked and compiled.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub levels: Vec<Level>,
    /// Primary subtags, lower case.
    pub round_the_clock_languages: Vec<String>,
    pub at_risk: Option<Percent>,
    pub preview_languages: Vec<String>,
    pub preview_categories: Vec<Category>,
    pub calendars: Vec<PolicyCalendar>,
    /// Rule 11: capped break-fix effort.
    pub effort_cap: Option<EffortCap>,
}

/// `spec.effortCap`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffortCap {
    /// Seconds of logged effort.
    pub limit: i64,
    pub investigations: Vec<Investigation>,
}

impl Policy {
    pub fn level(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name == name)
    }

    /// The calendar a region picks; `default` for an absent or unknown region.
    pub fn calendar(&self, region: Option<&str>) -> Option<&PolicyCalendar> {
        region
            .and_then(|r| self.calendars.iter().find(|c| c.name == r))
            .or_else(|| self.calendars.iter().find(|c| c.name == DEFAULT_CALENDAR))
    }

    /// Checks and compiles a policy spec, or gives the first problem found.
    pub fn compile(name: &str, spec: &SlaPolicySpec) -> Result<Policy, Problem> {
        let problem = |reason, field: String, message: String| Problem {
            reason,
            field,
            message,
        };
        if spec.severities.is_empty() {
            return Err(problem(
                "InvalidSeverities",
                "spec.severities".into(),
                "at least one severity is required".into(),
            ));
        }
        let mut levels = Vec::with_capacity(spec.severities.len());
        for (i, s) in spec.severities.iter().enumerate() {
            if spec.severities[..i].iter().any(|o| o.name == s.name) {
                return Err(problem(
                    "InvalidSeverities",
                    format!("spec.severities[{i}].name"),
                    format!("severity {:?} is listed twice", s.name),
                ));
            }
            let target = parse_target(&s.initial_response).map_err(|e| {
                problem(
                    "InvalidDuration",
                    format!("spec.severities[{i}].initialResponse"),
                    e.to_string(),
                )
            })?;
            let resolution = s
                .resolution
                .as_deref()
                .map(parse_target)
                .transpose()
                .map_err(|e| {
                    problem(
                        "InvalidDuration",
                        format!("spec.severities[{i}].resolution"),
                        e.to_string(),
                    )
                })?;
            levels.push(Level {
                name: s.name.clone(),
                target,
                resolution,
                coverage: s.coverage,
                requires_customer: s.requires_customer24x7.unwrap_or(false),
                allow_on_request: s.allow24x7_on_request.unwrap_or(false),
            });
        }
        let at_risk = spec
            .at_risk_at
            .as_deref()
            .map(Percent::parse)
            .transpose()
            .map_err(|e| problem("InvalidPercentage", "spec.atRiskAt".into(), e.to_string()))?;
        let languages = |list: &Option<Vec<String>>| -> Vec<String> {
            list.as_ref()
                .map(|l| l.iter().map(|t| primary_language(t)).collect())
                .unwrap_or_else(|| vec!["en".to_string()])
        };
        let preview = spec.preview.as_ref();
        let calendars = compile_calendars(spec)?;
        let effort_cap = spec
            .effort_cap
            .as_ref()
            .map(|cap| {
                parse_duration(&cap.limit)
                    .map(|limit| EffortCap {
                        limit,
                        investigations: cap.investigations.clone(),
                    })
                    .map_err(|e| {
                        problem(
                            "InvalidDuration",
                            "spec.effortCap.limit".into(),
                            e.to_string(),
                        )
                    })
            })
            .transpose()?;
        Ok(Policy {
            name: name.to_string(),
            levels,
            round_the_clock_languages: languages(&spec.round_the_clock_languages),
            at_risk,
            preview_languages: languages(&preview.and_then(|p| p.languages.clone())),
            preview_categories: preview
                .and_then(|p| p.categories.clone())
                .unwrap_or_else(|| vec![Category::Technical]),
            calendars,
            effort_cap,
        })
    }
}

/// Name of the calendar every policy has.
pub const DEFAULT_CALENDAR: &str = "default";

fn compile_calendars(spec: &SlaPolicySpec) -> Result<Vec<PolicyCalendar>, Problem> {
    let invalid = |field: String, message: String| Problem {
        reason: "InvalidCalendar",
        field,
        message,
    };
    if !spec.calendars.iter().any(|c| c.name == DEFAULT_CALENDAR) {
        return Err(invalid(
            "spec.calendars".into(),
            "one calendar must be named default".into(),
        ));
    }
    let mut holidays: Vec<(Holiday, Option<&Vec<String>>)> = Vec::new();
    for (i, h) in spec.holidays.iter().enumerate() {
        let parsed = Holiday::parse(&h.date).ok_or_else(|| Problem {
            reason: "InvalidHoliday",
            field: format!("spec.holidays[{i}].date"),
            message: format!("{:?} is not a date YYYY-MM-DD or MM-DD", h.date),
        })?;
        if let Some(names) = &h.calendars
            && let Some(unknown) = names
                .iter()
                .find(|n| !spec.calendars.iter().any(|c| &c.name == *n))
        {
            return Err(Problem {
                reason: "InvalidHoliday",
                field: format!("spec.holidays[{i}].calendars"),
                message: format!("no calendar named {unknown:?} in this policy"),
            });
        }
        holidays.push((parsed, h.calendars.as_ref().filter(|c| !c.is_empty())));
    }
    let mut out: Vec<PolicyCalendar> = Vec::with_capacity(spec.calendars.len());
    for (i, def) in spec.calendars.iter().enumerate() {
        if out.iter().any(|c| c.name == def.name) {
            return Err(invalid(
                format!("spec.calendars[{i}].name"),
                format!("calendar {:?} is listed twice", def.name),
            ));
        }
        let spec_for = calendar_spec(i, def)?;
        let spec_for = CalendarSpec {
            holidays: holidays
                .iter()
                .filter(|(_, only)| only.is_none_or(|names| names.contains(&def.name)))
                .map(|(h, _)| *h)
                .collect(),
            ..spec_for
        };
        let compiled = Calendar::new(&spec_for)
            .map_err(|e| invalid(format!("spec.calendars[{i}].hours"), e.to_string()))?;
        out.push(PolicyCalendar {
            name: def.name.clone(),
            zone_name: canonical_zone(&spec_for.zone, &def.time_zone),
            spec: spec_for,
            compiled: Arc::new(compiled),
            in_zones: Mutex::new(HashMap::new()),
        });
    }
    Ok(out)
}

/// A zone's name as the time zone database spells it (`europe/WARSAW` is
/// found, case-insensitively, and published as `Europe/Warsaw`), else as given.
pub fn canonical_zone(zone: &TimeZone, typed: &str) -> String {
    zone.iana_name().unwrap_or(typed).to_string()
}

fn calendar_spec(i: usize, def: &CalendarDef) -> Result<CalendarSpec, Problem> {
    let zone = TimeZone::get(&def.time_zone).map_err(|_| Problem {
        reason: "UnknownTimeZone",
        field: format!("spec.calendars[{i}].timeZone"),
        message: format!(
            "{:?} is not an IANA time zone such as Europe/Warsaw",
            def.time_zone
        ),
    })?;
    let mut spec = CalendarSpec::new(zone);
    for (j, hours) in def.hours.iter().enumerate() {
        let field = |f: &str| format!("spec.calendars[{i}].hours[{j}].{f}");
        let bad = |f: &str, v: &str| Problem {
            reason: "InvalidCalendar",
            field: field(f),
            message: format!("{v:?} is not a time HH:MM"),
        };
        let start = Window::parse_clock(&hours.start).ok_or_else(|| bad("start", &hours.start))?;
        let end = Window::parse_clock(&hours.end).ok_or_else(|| bad("end", &hours.end))?;
        if start >= end || start == 86_400 {
            return Err(Problem {
                reason: "InvalidCalendar",
                field: field("end"),
                message: format!(
                    "window {}–{} must start before it ends",
                    hours.start, hours.end
                ),
            });
        }
        let days: Vec<_> = hours.days.iter().map(|d| d.weekday()).collect();
        spec = spec.with_window(&days, Window { start, end });
    }
    Ok(spec)
}

/// A SupportTier, checked.
#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub spec: SupportTierSpec,
    /// When each escalation level begins, in order.
    pub escalation: Vec<(EscalationLevel, After)>,
}

impl Tier {
    pub fn compile(name: &str, spec: &SupportTierSpec) -> Result<Tier, Problem> {
        let mut escalation = Vec::with_capacity(spec.escalation.len());
        for (i, level) in spec.escalation.iter().enumerate() {
            let after = match level.after.as_deref() {
                None => After::Elapsed(0),
                Some(text) => After::parse(text).map_err(|e| Problem {
                    reason: "InvalidEscalation",
                    field: format!("spec.escalation[{i}].after"),
                    message: e.to_string(),
                })?,
            };
            escalation.push((level.clone(), after));
        }
        Ok(Tier {
            name: name.to_string(),
            spec: spec.clone(),
            escalation,
        })
    }

    /// Categories this tier covers (rule 1: absent means the default three).
    pub fn entitles(&self, category: Category) -> bool {
        match &self.spec.entitlements {
            Some(list) => list.contains(&category),
            None => Category::DEFAULT_ENTITLEMENTS.contains(&category),
        }
    }
}

/// Whether a workspace admits personal (consumer) accounts.
pub fn allows_personal_accounts(spec: &WorkspaceSpec) -> bool {
    spec.allow_personal_accounts
        .unwrap_or(spec.agreement != Some(Agreement::Unified))
}

/// Whether a delegated admin may file tickets for the customer at `at`
/// (rule 1's `onBehalfOf` test, reused by rule 11's `ReferToPartner`): not a
/// reseller, holds `ServiceSupportAdministrator`, not expired.
pub fn partner_may_file(d: &DelegatedAdmin, at: jiff::Timestamp) -> bool {
    d.provider != Provider::IndirectReseller
        && d.roles.iter().any(|r| r == SUPPORT_ADMIN_ROLE)
        && d.expires_at.as_ref().is_none_or(|e| e.0 > at)
}

/// The partner that supports a workspace's trial customers at `at` (rule
/// 1): the first by partner name of its `delegatedAdmins` that is a direct
/// or indirect provider and not expired. Routing lists the same one.
pub fn supporting_partner(spec: &WorkspaceSpec, at: jiff::Timestamp) -> Option<&DelegatedAdmin> {
    spec.delegated_admins
        .iter()
        .filter(|d| {
            matches!(
                d.provider,
                Provider::DirectProvider | Provider::IndirectProvider
            ) && d.expires_at.as_ref().is_none_or(|e| e.0 > at)
        })
        .min_by(|a, b| a.partner.cmp(&b.partner))
}

/// Namespaces no workspace may take: granting or publishing there would
/// reach into the cluster's own machinery.
pub const PROTECTED_NAMESPACES: [&str; 4] =
    ["kube-system", "kube-public", "kube-node-lease", "default"];

/// A name looked up in the catalog: the one three-way answer every reader
/// (the rules, routing, readiness, `evaluate`'s findings) matches on, so
/// "missing" and "declared but broken" are never confused.
#[derive(Debug)]
pub enum Lookup<'a, T> {
    Found(&'a Arc<T>),
    /// No object of that name.
    Missing,
    /// The object exists but does not compile.
    Invalid(&'a Problem),
}

impl<'a, T> Lookup<'a, T> {
    fn of(entry: Option<&'a Result<Arc<T>, Problem>>) -> Self {
        match entry {
            None => Lookup::Missing,
            Some(Err(problem)) => Lookup::Invalid(problem),
            Some(Ok(found)) => Lookup::Found(found),
        }
    }

    /// The compiled object, if it exists and compiles.
    pub fn found(self) -> Option<&'a Arc<T>> {
        match self {
            Lookup::Found(found) => Some(found),
            _ => None,
        }
    }
}

/// Namespace name → the value of its `supportpolicy.dev/workspace` label:
/// plain data the controllers copy from their Namespace cache (offline
/// there are none), so that this module needs no client.
pub type NamespaceLabels = BTreeMap<String, String>;

/// Everything tickets are judged against: one consistent snapshot.
#[derive(Debug, Default)]
pub struct Catalog {
    pub policies: BTreeMap<String, Result<Arc<Policy>, Problem>>,
    pub tiers: BTreeMap<String, Result<Arc<Tier>, Problem>>,
    pub workspaces: BTreeMap<String, Arc<Workspace>>,
    /// Publishers by name, for rule 1's redirect and routing's contacts.
    pub publishers: BTreeMap<String, Arc<Publisher>>,
    /// namespace → the workspace that holds it (rule 1, [`holder`]).
    by_namespace: BTreeMap<String, String>,
}

/// Rule 1: which of the workspaces claiming `namespace` holds it. The
/// namespace's label decides when it names one of them: the operator labels
/// the namespaces it creates or adopts, so once a workspace holds a
/// namespace a newcomer cannot take it (nor its tickets, nor its slice),
/// whatever its name or its creationTimestamp says. Where no label decides
/// (offline, a namespace not made yet, a label naming a workspace that is
/// gone), the earliest creationTimestamp wins — one without ranks after
/// those with one, as manifests never carry it — then the first by name.
pub fn holder<'a>(
    namespace: &str,
    claimants: impl IntoIterator<Item = &'a Workspace>,
    labels: &NamespaceLabels,
) -> Option<&'a Workspace> {
    let claimants: Vec<&Workspace> = claimants
        .into_iter()
        .filter(|w| w.spec.namespace == namespace)
        .collect();
    if let Some(label) = labels.get(namespace)
        && let Some(named) = claimants
            .iter()
            .find(|w| w.metadata.name.as_deref() == Some(label.as_str()))
    {
        return Some(*named);
    }
    claimants.into_iter().min_by(|a, b| {
        let created = |w: &Workspace| w.metadata.creation_timestamp.as_ref().map(|t| t.0);
        let rank = |w: &Workspace| (created(w).is_none(), created(w));
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    })
}

impl Catalog {
    pub fn new(policies: &[SlaPolicy], tiers: &[SupportTier], workspaces: &[Workspace]) -> Self {
        Self::from_objects(policies, tiers, workspaces.iter().cloned().map(Arc::new))
    }

    /// Builds from any collection of objects, e.g. a controller's caches,
    /// with no namespace labels (as offline).
    pub fn from_objects<'a>(
        policies: impl IntoIterator<Item = &'a SlaPolicy>,
        tiers: impl IntoIterator<Item = &'a SupportTier>,
        workspaces: impl IntoIterator<Item = Arc<Workspace>>,
    ) -> Self {
        Self::with_namespace_labels(policies, tiers, workspaces, &NamespaceLabels::new())
    }

    /// Builds from objects and the namespaces' `supportpolicy.dev/workspace`
    /// labels, which decide who holds a namespace claimed twice (rule 1).
    pub fn with_namespace_labels<'a>(
        policies: impl IntoIterator<Item = &'a SlaPolicy>,
        tiers: impl IntoIterator<Item = &'a SupportTier>,
        workspaces: impl IntoIterator<Item = Arc<Workspace>>,
        labels: &NamespaceLabels,
    ) -> Self {
        let mut catalog = Catalog::default();
        for p in policies {
            let name = p.metadata.name.clone().unwrap_or_default();
            let compiled = Policy::compile(&name, &p.spec).map(Arc::new);
            catalog.policies.insert(name, compiled);
        }
        for t in tiers {
            let name = t.metadata.name.clone().unwrap_or_default();
            let compiled = Tier::compile(&name, &t.spec).map(Arc::new);
            catalog.tiers.insert(name, compiled);
        }
        for w in workspaces {
            let name = w.metadata.name.clone().unwrap_or_default();
            catalog.workspaces.insert(name, w);
        }
        let mut claims: BTreeMap<&str, Vec<&Workspace>> = BTreeMap::new();
        for w in catalog.workspaces.values() {
            claims.entry(&w.spec.namespace).or_default().push(w);
        }
        let by_namespace = claims
            .into_iter()
            .filter_map(|(ns, claimants)| {
                let held = holder(ns, claimants, labels)?;
                Some((
                    ns.to_string(),
                    held.metadata.name.clone().unwrap_or_default(),
                ))
            })
            .collect();
        catalog.by_namespace = by_namespace;
        catalog
    }

    /// Adds the Publishers (kept apart from [`Catalog::new`] so that callers
    /// that judge no redirected ticket need not list them).
    pub fn with_publishers(mut self, publishers: impl IntoIterator<Item = Arc<Publisher>>) -> Self {
        for p in publishers {
            let name = p.metadata.name.clone().unwrap_or_default();
            self.publishers.insert(name, p);
        }
        self
    }

    /// The Publisher named `name` (one CEL-checked contact is all it holds,
    /// so it is found or missing, never invalid).
    pub fn publisher(&self, name: &str) -> Option<&Arc<Publisher>> {
        self.publishers.get(name)
    }

    /// The SupportTier named `name`.
    pub fn tier(&self, name: &str) -> Lookup<'_, Tier> {
        Lookup::of(self.tiers.get(name))
    }

    /// The SlaPolicy named `name`.
    pub fn policy(&self, name: &str) -> Lookup<'_, Policy> {
        Lookup::of(self.policies.get(name))
    }

    /// The workspace whose namespace holds a ticket (rule 1).
    pub fn workspace_for_namespace(&self, namespace: &str) -> Option<&Arc<Workspace>> {
        self.by_namespace
            .get(namespace)
            .and_then(|name| self.workspaces.get(name))
    }

    /// `(field, message)` for each tier a workspace names that does not
    /// exist: `spec.tier`, then `spec.allowedTiers[i]`. The operator's
    /// `UnknownTier` condition and `evaluate`'s findings both read this.
    pub fn missing_tiers(&self, workspace: &Workspace) -> Vec<(String, String)> {
        let named = std::iter::once(("spec.tier".to_string(), &workspace.spec.tier)).chain(
            workspace
                .spec
                .allowed_tiers
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, t)| (format!("spec.allowedTiers[{i}]"), t)),
        );
        named
            .filter(|(_, tier)| !self.tiers.contains_key(*tier))
            .map(|(field, tier)| (field, format!("no SupportTier named {tier:?}")))
            .collect()
    }

    /// Whether a workspace may hold this namespace at all: never the
    /// cluster's own namespaces, nor the operator's.
    pub fn namespace_protected(namespace: &str, operator_namespace: &str) -> bool {
        PROTECTED_NAMESPACES.contains(&namespace) || namespace == operator_namespace
    }

    /// The workspace that holds this one's namespace, when it is another one.
    pub fn namespace_taken_by(&self, workspace: &Workspace) -> Option<&str> {
        let owner = self.by_namespace.get(&workspace.spec.namespace)?;
        (Some(owner) != workspace.metadata.name.as_ref()).then_some(owner.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ws(name: &str, namespace: &str, created: Option<&str>) -> Workspace {
        let mut w: Workspace = serde_json::from_value(serde_json::json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Workspace",
            "metadata": {"name": name},
            "spec": {"namespace": namespace, "tier": "t"},
        }))
        .expect("a workspace");
        w.metadata.creation_timestamp = created.map(|t| Time(t.parse().expect("an instant")));
        w
    }

    fn holder_of(workspaces: &[Workspace], labels: &[(&str, &str)]) -> Option<String> {
        let labels: NamespaceLabels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let catalog = Catalog::with_namespace_labels(
            &[] as &[crate::api::SlaPolicy],
            &[] as &[crate::api::SupportTier],
            workspaces.iter().cloned().map(Arc::new),
            &labels,
        );
        catalog
            .workspace_for_namespace("shared")
            .and_then(|w| w.metadata.name.clone())
    }

    /// Rule 1: the label decides; then creation time (none ranks last); then name.
    #[test]
    fn a_namespace_is_held_by_its_label_then_the_oldest_then_the_first_by_name() {
        let old = ws("zeta", "shared", Some("2026-01-01T00:00:00Z"));
        let new = ws("alpha", "shared", Some("2026-06-01T00:00:00Z"));
        let offline = ws("aaa", "shared", None);
        // A newcomer that sorts first does not take the namespace.
        assert_eq!(
            holder_of(&[old.clone(), new.clone()], &[]).as_deref(),
            Some("zeta")
        );
        // Nor one without a creation time (offline it ranks after).
        assert_eq!(
            holder_of(&[old.clone(), new.clone(), offline.clone()], &[]).as_deref(),
            Some("zeta")
        );
        // The label decides over creation time...
        assert_eq!(
            holder_of(&[old.clone(), new.clone()], &[("shared", "alpha")]).as_deref(),
            Some("alpha")
        );
        // ... unless it names no claimant.
        assert_eq!(
            holder_of(&[old.clone(), new.clone()], &[("shared", "gone")]).as_deref(),
            Some("zeta")
        );
        // Equal or no creation times: first by name.
        let same = ws("beta", "shared", Some("2026-01-01T00:00:00Z"));
        assert_eq!(
            holder_of(&[old.clone(), same], &[]).as_deref(),
            Some("beta")
        );
        assert_eq!(
            holder_of(&[offline, ws("bbb", "shared", None)], &[]).as_deref(),
            Some("aaa")
        );
        // The other one is told who holds it.
        let catalog = Catalog::from_objects(
            &[] as &[crate::api::SlaPolicy],
            &[] as &[crate::api::SupportTier],
            [old.clone(), new.clone()].map(Arc::new),
        );
        assert_eq!(catalog.namespace_taken_by(&new), Some("zeta"));
        assert_eq!(catalog.namespace_taken_by(&old), None);
    }

    #[test]
    fn zone_names_are_published_as_the_database_spells_them() {
        let zone = TimeZone::get("europe/WARSAW").expect("found case-insensitively");
        assert_eq!(canonical_zone(&zone, "europe/WARSAW"), "Europe/Warsaw");
    }
}
