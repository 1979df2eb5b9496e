//! What `evaluate` finds beyond what the API server refuses: references
//! that dangle and objects the operator would not make Ready (errors), and
//! what is valid but probably not meant (warnings), each with a "did you
//! mean" where a name nearly matches one that exists.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::quantity::After;
use crate::catalog::{Catalog, Lookup};
use crate::manifests::{Check, Finding, Manifests, display_name, suggestion};

/// Collects findings about objects of `manifests`, each placed at the first
/// line of its object's document.
struct Out<'m> {
    manifests: &'m Manifests,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn push(&mut self, check: Check, kind: &str, meta: &ObjectMeta, field: &str, message: String) {
        let origin = self.manifests.origin(kind, meta);
        let path = origin.map_or("?", |o| o.path.as_str());
        let finding = if check == Check::Suspicious {
            Finding::warning(path, kind, &display_name(meta))
        } else {
            Finding::error(check, path, kind, &display_name(meta))
        };
        self.findings.push(
            finding
                .at(origin.and_then(|o| o.line))
                .field(field)
                .message(message),
        );
    }
}

/// Every dangling reference, not-Ready object and suspicious value, by
/// kind then input order. `operator_namespace` is where the operator runs:
/// no workspace may hold it. `now` is the evaluation instant.
pub fn findings(
    manifests: &Manifests,
    catalog: &Catalog,
    operator_namespace: &str,
    now: Timestamp,
) -> Vec<Finding> {
    let mut out = Out {
        manifests,
        findings: Vec::new(),
    };
    let policy_names = || catalog.policies.keys().map(String::as_str);
    let tier_names = || catalog.tiers.keys().map(String::as_str);
    for p in &manifests.policies {
        if let Lookup::Invalid(problem) =
            catalog.policy(p.metadata.name.as_deref().unwrap_or_default())
        {
            out.push(
                Check::Readiness,
                "SlaPolicy",
                &p.metadata,
                &problem.field,
                problem.message.clone(),
            );
        }
    }
    for t in &manifests.tiers {
        if let Lookup::Invalid(problem) =
            catalog.tier(t.metadata.name.as_deref().unwrap_or_default())
        {
            out.push(
                Check::Readiness,
                "SupportTier",
                &t.metadata,
                &problem.field,
                problem.message.clone(),
            );
        }
        if let Some(policy) = &t.spec.sla_policy
            && !catalog.policies.contains_key(policy)
        {
            out.push(
                Check::Reference,
                "SupportTier",
                &t.metadata,
                "spec.slaPolicy",
                format!(
                    "no SlaPolicy named {policy:?}{}",
                    suggestion(policy, policy_names())
                ),
            );
        }
        if let Some(g) = &t.spec.graduation
            && !catalog.tiers.contains_key(&g.to)
        {
            out.push(
                Check::Reference,
                "SupportTier",
                &t.metadata,
                "spec.graduation.to",
                format!(
                    "no SupportTier named {:?}{}",
                    g.to,
                    suggestion(&g.to, tier_names())
                ),
            );
        }
        escalation_order(&mut out, catalog, t);
    }
    for w in &manifests.workspaces {
        let named = std::iter::once(("spec.tier".to_string(), &w.spec.tier)).chain(
            w.spec
                .allowed_tiers
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, t)| (format!("spec.allowedTiers[{i}]"), t)),
        );
        for (field, tier) in named {
            if !catalog.tiers.contains_key(tier) {
                out.push(
                    Check::Reference,
                    "Workspace",
                    &w.metadata,
                    &field,
                    format!(
                        "no SupportTier named {tier:?}{}",
                        suggestion(tier, tier_names())
                    ),
                );
            }
        }
        if Catalog::namespace_protected(&w.spec.namespace, operator_namespace) {
            out.push(
                Check::Readiness,
                "Workspace",
                &w.metadata,
                "spec.namespace",
                format!("namespace {:?} cannot hold a workspace", w.spec.namespace),
            );
        }
        if let Some(owner) = catalog.namespace_taken_by(w) {
            // Where the holder is declared: offline the holder is the
            // first by name (no namespace labels), often in another file.
            let from = catalog
                .workspaces
                .get(owner)
                .and_then(|o| manifests.origin("Workspace", &o.metadata))
                .map_or("?".to_string(), |o| o.path.clone());
            out.push(
                Check::Readiness,
                "Workspace",
                &w.metadata,
                "spec.namespace",
                format!(
                    "namespace {:?} already belongs to workspace {owner:?} (declared in {from})",
                    w.spec.namespace
                ),
            );
        }
    }
    for t in &manifests.tickets {
        ticket(&mut out, catalog, t, now);
    }
    out.findings
}

fn ticket(out: &mut Out, catalog: &Catalog, t: &crate::api::Ticket, now: Timestamp) {
    let ns = t.metadata.namespace.as_deref().unwrap_or_default();
    let workspace = catalog.workspace_for_namespace(ns);
    if workspace.is_none() {
        let namespaces = catalog
            .workspaces
            .values()
            .map(|w| w.spec.namespace.as_str());
        out.push(
            Check::Reference,
            "Ticket",
            &t.metadata,
            "metadata.namespace",
            format!(
                "no Workspace has spec.namespace {ns:?}{}",
                suggestion(ns, namespaces)
            ),
        );
    }
    if let Some(tier) = &t.spec.tier
        && !catalog.tiers.contains_key(tier)
    {
        out.push(
            Check::Reference,
            "Ticket",
            &t.metadata,
            "spec.tier",
            format!(
                "no SupportTier named {tier:?}{}",
                suggestion(tier, catalog.tiers.keys().map(String::as_str))
            ),
        );
    }
    if let Some(publisher) = t.spec.product.as_ref().and_then(|p| p.publisher.as_ref())
        && catalog.publisher(publisher).is_none()
    {
        out.push(
            Check::Reference,
            "Ticket",
            &t.metadata,
            "spec.product.publisher",
            format!(
                "no Publisher named {publisher:?}{}",
                suggestion(publisher, catalog.publishers.keys().map(String::as_str))
            ),
        );
    }
    if let Some(opened) = &t.spec.opened_at
        && opened.0 > now
    {
        out.push(
            Check::Suspicious,
            "Ticket",
            &t.metadata,
            "spec.openedAt",
            format!(
                "{} is in the future (now is {}): the ticket stays Pending until then",
                opened.0.strftime("%Y-%m-%dT%H:%M:%SZ"),
                now.strftime("%Y-%m-%dT%H:%M:%SZ")
            ),
        );
    }
    // The policy the ticket would be judged by, when everything resolves.
    let tier_name = t
        .spec
        .tier
        .as_deref()
        .or(workspace.map(|w| w.spec.tier.as_str()));
    let Some(tier) = tier_name.and_then(|n| catalog.tier(n).found()) else {
        return;
    };
    let Some(policy_name) = tier.spec.sla_policy.as_deref() else {
        out.push(
            Check::Suspicious,
            "Ticket",
            &t.metadata,
            if t.spec.tier.is_some() { "spec.tier" } else { "metadata.namespace" },
            format!(
                "tier {:?} has no slaPolicy: the ticket gets no severity, coverage or due time (best effort)",
                tier.name
            ),
        );
        return;
    };
    let Some(policy) = catalog.policy(policy_name).found() else {
        return;
    };
    if let Some(region) = t.spec.region.as_deref()
        && !policy.calendars.iter().any(|c| c.name == region)
    {
        let fallback = policy
            .calendar(None)
            .map_or(String::new(), |c| format!(" ({})", c.zone_name));
        out.push(
            Check::Suspicious,
            "Ticket",
            &t.metadata,
            "spec.region",
            format!(
                "region {region:?} names no calendar of SlaPolicy {:?}: the default calendar{fallback} is used{}",
                policy.name,
                suggestion(region, policy.calendars.iter().map(|c| c.name.as_str()))
            ),
        );
    }
}

/// A chain whose later level begins before an earlier one: checked against
/// every severity of the tier's policy (a share and a duration compare only
/// for a given target), or, without a policy, between levels of one unit.
fn escalation_order(out: &mut Out, catalog: &Catalog, t: &crate::api::SupportTier) {
    let Some(tier) = catalog
        .tier(t.metadata.name.as_deref().unwrap_or_default())
        .found()
    else {
        return;
    };
    let policy = tier
        .spec
        .sla_policy
        .as_deref()
        .and_then(|p| catalog.policy(p).found());
    let targets: Vec<(String, i64)> = match policy {
        Some(p) => p
            .levels
            .iter()
            .map(|l| (l.name.clone(), l.target))
            .collect(),
        None => Vec::new(),
    };
    for k in 1..tier.escalation.len() {
        let (_, later) = tier.escalation[k];
        let earlier = tier.escalation[..k].iter().map(|(_, a)| *a);
        let mut why = None;
        for (j, before) in earlier.enumerate() {
            let comparable = matches!(
                (before, later),
                (After::Share(_), After::Share(_)) | (After::Elapsed(_), After::Elapsed(_))
            );
            if targets.is_empty() || comparable {
                if comparable && later.seconds(3600) < before.seconds(3600) {
                    why = Some(format!("level {} begins before level {}", k + 1, j + 1));
                    break;
                }
                if targets.is_empty() {
                    continue;
                }
            }
            if let Some((severity, _)) = targets
                .iter()
                .find(|(_, target)| later.seconds(*target) < before.seconds(*target))
            {
                why = Some(format!(
                    "level {} begins before level {} for severity {severity}",
                    k + 1,
                    j + 1
                ));
                break;
            }
        }
        if let Some(why) = why {
            out.push(
                Check::Suspicious,
                "SupportTier",
                &t.metadata,
                &format!("spec.escalation[{k}].after"),
                format!("{why}: a chain normally goes up in order"),
            );
        }
    }
}
