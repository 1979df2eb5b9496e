//! Rule 1: resolve the ticket's workspace, tier and policy, and check that the
//! ticket may be accepted. The first failure wins.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use crate::api::common::primary_language;
use crate::api::ticket::ProductStage;
use crate::api::workspace::{Provider, SUPPORT_ADMIN_ROLE};
use crate::api::{Category, TicketSpec, Workspace};
use crate::catalog::{Catalog, Lookup, Policy, Tier};

/// Why a ticket is not accepted: the reason of `Accepted=False`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: &'static str,
    pub message: String,
}

impl Rejection {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// The objects a ticket resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub workspace: Arc<Workspace>,
    pub tier: Arc<Tier>,
    /// `None` for a tier without SLA (rule 9).
    pub policy: Option<Arc<Policy>>,
    /// Index of the requested severity in the policy.
    pub requested: usize,
}

pub(crate) fn resolve(
    catalog: &Catalog,
    namespace: &str,
    spec: &TicketSpec,
    start: Timestamp,
) -> Result<Resolved, Rejection> {
    let workspace = catalog.workspace_for_namespace(namespace).ok_or_else(|| {
        Rejection::new(
            "NoWorkspace",
            format!("no Workspace has spec.namespace {namespace:?}"),
        )
    })?;
    let ws = &workspace.spec;
    let tier_name = spec.tier.as_deref().unwrap_or(&ws.tier);
    let tier_field = if spec.tier.is_some() {
        "spec.tier"
    } else {
        "the workspace's spec.tier"
    };
    let tier = match catalog.tier(tier_name) {
        Lookup::Missing => {
            return Err(Rejection::new(
                "UnknownTier",
                format!("{tier_field}: no SupportTier named {tier_name:?}"),
            ));
        }
        Lookup::Invalid(problem) => {
            return Err(Rejection::new(
                "InvalidSupportTier",
                format!("SupportTier {tier_name:?} is not ready: {problem}"),
            ));
        }
        Lookup::Found(tier) => tier.clone(),
    };
    if let Some(allowed) = ws.allowed_tiers.as_ref().filter(|a| !a.is_empty())
        && !allowed.iter().any(|t| t == tier_name)
    {
        return Err(Rejection::new(
            "TierNotAllowed",
            format!(
                "{tier_field}: tier {tier_name:?} is not in the workspace's allowedTiers [{}]",
                allowed.join(", ")
            ),
        ));
    }
    let policy = match tier.spec.sla_policy.as_deref() {
        None => None,
        Some(name) => match catalog.policy(name) {
            Lookup::Missing => {
                return Err(Rejection::new(
                    "NoSlaPolicy",
                    format!("tier {tier_name:?} names SlaPolicy {name:?}, which does not exist"),
                ));
            }
            Lookup::Invalid(problem) => {
                return Err(Rejection::new(
                    "InvalidSlaPolicy",
                    format!("SlaPolicy {name:?} is not ready: {problem}"),
                ));
            }
            Lookup::Found(policy) => Some(policy.clone()),
        },
    };
    let mut requested = 0;
    if let Some(policy) = &policy {
        requested = policy.level(&spec.severity).ok_or_else(|| {
            let known: Vec<&str> = policy.levels.iter().map(|l| l.name.as_str()).collect();
            Rejection::new(
                "UnknownSeverity",
                format!(
                    "spec.severity: {:?} is not a severity of SlaPolicy {:?} ({})",
                    spec.severity,
                    policy.name,
                    known.join(", ")
                ),
            )
        })?;
    }
    let category = spec.category.unwrap_or(Category::Technical);
    if !tier.entitles(category) {
        return Err(Rejection::new(
            "NotEntitled",
            format!("spec.category: tier {tier_name:?} does not cover {category:?}"),
        ));
    }
    let stage = spec.product_stage.unwrap_or(ProductStage::Ga);
    if let (Some(policy), true) = (&policy, stage != ProductStage::Ga) {
        let language = primary_language(spec.language.as_deref().unwrap_or("en"));
        if !policy.preview_languages.contains(&language) {
            return Err(Rejection::new(
                "PreviewNotSupported",
                format!(
                    "spec.language: preview products are supported in [{}] only",
                    policy.preview_languages.join(", ")
                ),
            ));
        }
        if !policy.preview_categories.contains(&category) {
            return Err(Rejection::new(
                "PreviewNotSupported",
                format!(
                    "spec.category: preview products are supported for {:?} only",
                    policy.preview_categories
                ),
            ));
        }
    }
    if let Some(on_behalf) = &spec.on_behalf_of {
        let authorized = ws.delegated_admins.iter().any(|d| {
            d.partner == on_behalf.partner
                && d.provider != Provider::IndirectReseller
                && d.roles.iter().any(|r| r == SUPPORT_ADMIN_ROLE)
                && d.expires_at.as_ref().is_none_or(|e| e.0 > start)
        });
        if !authorized {
            return Err(Rejection::new(
                "PartnerNotAuthorized",
                format!(
                    "spec.onBehalfOf.partner: {:?} has no active delegated-admin relationship with role {SUPPORT_ADMIN_ROLE} as a direct or indirect provider",
                    on_behalf.partner
                ),
            ));
        }
    }
    if let Some(reopen) = &spec.reopen_of {
        if !(reopen.same_environment && reopen.same_version) {
            return Err(Rejection::new(
                "ReopenNotAllowed",
                "spec.reopenOf: only the same error on the same environment and product version may be reopened; open a new ticket",
            ));
        }
        let limit = reopen_limit(reopen.closed_at.0);
        if limit.is_none_or(|limit| start >= limit) {
            return Err(Rejection::new(
                "ReopenNotAllowed",
                format!(
                    "spec.reopenOf.closedAt: {:?} was closed more than 3 months before the ticket opened; open a new ticket",
                    reopen.name
                ),
            ));
        }
    }
    Ok(Resolved {
        workspace: workspace.clone(),
        tier,
        policy,
        requested,
    })
}

/// `closedAt` + 3 calendar months in UTC, a missing day clamped to the month's last.
pub fn reopen_limit(closed_at: Timestamp) -> Option<Timestamp> {
    closed_at
        .to_zoned(TimeZone::UTC)
        .checked_add(Span::new().months(3))
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_window_clamps_to_month_end() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            reopen_limit(t("2026-11-30T10:00:00Z")),
            Some(t("2027-02-28T10:00:00Z"))
        );
        assert_eq!(
            reopen_limit(t("2027-11-30T10:00:00Z")),
            Some(t("2028-02-29T10:00:00Z"))
        );
        assert_eq!(
            reopen_limit(t("2026-10-01T00:00:00Z")),
            Some(t("2027-01-01T00:00:00Z"))
        );
    }
}
