//! The impact of a change: the tickets of the new manifests judged against
//! the tickets of the old ones, both sides by the same core ([`statuses`]),
//! compared by a pure function ([`compare`]). What a reviewer wants to see
//! before a policy change merges: which due times move and by how much,
//! which tickets change phase, severity, coverage or escalation level.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::{TicketReport, evaluate_chunk, sorted_tickets};
use crate::api::{Phase, TicketStatus};
use crate::catalog::Catalog;
use crate::manifests::Manifests;

/// Every ticket's status at `now`, in output order (namespace, name),
/// evaluated on every core as `evaluate -o json` does.
pub fn statuses(manifests: &Manifests, catalog: &Catalog, now: Timestamp) -> Vec<TicketReport> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    evaluate_chunk(catalog, &sorted_tickets(manifests), now, threads)
}

/// A value before and after the change.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Change<T> {
    pub before: Option<T>,
    pub after: Option<T>,
}

impl<T: PartialEq> Change<T> {
    fn of(before: Option<T>, after: Option<T>) -> Option<Self> {
        (before != after).then_some(Change { before, after })
    }
}

/// A due time before and after, and how far it moved (after − before, in
/// seconds; absent when one side has none).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DueChange {
    pub before: Option<Timestamp>,
    pub after: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_seconds: Option<i64>,
}

impl DueChange {
    fn of(before: Option<Timestamp>, after: Option<Timestamp>) -> Option<Self> {
        (before != after).then(|| DueChange {
            before,
            after,
            moved_seconds: before
                .zip(after)
                .map(|(b, a)| a.duration_since(b).as_secs()),
        })
    }
}

/// What the change does to one ticket; only what differs is present.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TicketImpact {
    pub namespace: String,
    pub name: String,
    /// `Added` (only in the new manifests), `Removed` (only in the old) or
    /// `Changed`.
    pub change: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_due: Option<DueChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution_due: Option<DueChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Change<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Change<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Change<String>>,
    /// `level supportType queue`, e.g. `2 Dedicated platform-team`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Change<String>>,
}

/// Counts over every ticket compared.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Tickets on either side.
    pub tickets: usize,
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    pub due_time_changed: usize,
    pub due_earlier: usize,
    pub due_later: usize,
    pub phase_changed: usize,
    pub severity_changed: usize,
    pub coverage_changed: usize,
    pub escalation_changed: usize,
    /// Tickets that enter a phase they were not in, by phase.
    pub becomes: BTreeMap<String, usize>,
}

impl Summary {
    /// "312 tickets change due time, 4 become Breached, 0 become Rejected".
    pub fn line(&self) -> String {
        let count = |phase: &str| self.becomes.get(phase).copied().unwrap_or(0);
        let mut line = format!(
            "{} tickets change due time ({} earlier, {} later), {} become Breached, {} become Rejected",
            self.due_time_changed,
            self.due_earlier,
            self.due_later,
            count("Breached"),
            count("Rejected")
        );
        let others: Vec<String> = self
            .becomes
            .iter()
            .filter(|(p, _)| !matches!(p.as_str(), "Breached" | "Rejected"))
            .map(|(p, n)| format!("{n} become {p}"))
            .collect();
        if !others.is_empty() {
            line.push_str(&format!(", {}", others.join(", ")));
        }
        line.push_str(&format!(
            "; {} change phase, {} severity, {} coverage, {} escalation; {} added, {} removed; {} of {} tickets change",
            self.phase_changed,
            self.severity_changed,
            self.coverage_changed,
            self.escalation_changed,
            self.added,
            self.removed,
            self.changed,
            self.tickets
        ));
        line
    }
}

/// The impact document `evaluate --baseline` prints.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    pub summary: Summary,
    pub tickets: Vec<TicketImpact>,
}

fn text<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn phase(s: &TicketStatus) -> Option<String> {
    s.phase.map(|p: Phase| p.as_str().to_string())
}

fn escalation(s: &TicketStatus) -> Option<String> {
    s.escalation.as_ref().map(|e| {
        format!(
            "{} {} {}",
            e.level,
            text(&e.support_type).unwrap_or_default(),
            e.queue
        )
    })
}

/// One ticket's impact, `None` when nothing differs.
fn one(before: Option<&TicketReport>, after: Option<&TicketReport>) -> Option<TicketImpact> {
    let (b, a) = (before.map(|r| &r.status), after.map(|r| &r.status));
    let due = |s: Option<&TicketStatus>| s.and_then(|s| s.response_due_at.as_ref()).map(|t| t.0);
    let resolution =
        |s: Option<&TicketStatus>| s.and_then(|s| s.resolution_due_at.as_ref()).map(|t| t.0);
    let field = |f: fn(&TicketStatus) -> Option<String>| Change::of(b.and_then(f), a.and_then(f));
    let out = TicketImpact {
        namespace: before.or(after)?.namespace.clone(),
        name: before.or(after)?.name.clone(),
        change: match (before, after) {
            (None, _) => "Added",
            (_, None) => "Removed",
            _ => "Changed",
        },
        response_due: DueChange::of(due(b), due(a)),
        resolution_due: DueChange::of(resolution(b), resolution(a)),
        phase: field(phase),
        severity: field(|s| s.severity.clone()),
        coverage: field(|s| s.coverage.as_ref().and_then(text)),
        escalation: field(escalation),
    };
    let differs = out.change != "Changed"
        || out.response_due.is_some()
        || out.resolution_due.is_some()
        || out.phase.is_some()
        || out.severity.is_some()
        || out.coverage.is_some()
        || out.escalation.is_some();
    differs.then_some(out)
}

/// What changes from `before` to `after`: both in output order (namespace,
/// name), as [`statuses`] gives them. Pure: no clock, no I/O.
pub fn compare(before: &[TicketReport], after: &[TicketReport]) -> Impact {
    let mut summary = Summary::default();
    let mut tickets = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        let order = match (before.get(i), after.get(j)) {
            (Some(b), Some(a)) => (&b.namespace, &b.name).cmp(&(&a.namespace, &a.name)),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (b, a) = match order {
            Ordering::Less => (before.get(i), None),
            Ordering::Greater => (None, after.get(j)),
            Ordering::Equal => (before.get(i), after.get(j)),
        };
        i += usize::from(b.is_some());
        j += usize::from(a.is_some());
        summary.tickets += 1;
        let Some(t) = one(b, a) else { continue };
        summary.changed += 1;
        match t.change {
            "Added" => summary.added += 1,
            "Removed" => summary.removed += 1,
            _ => {}
        }
        if let Some(d) = &t.response_due {
            summary.due_time_changed += 1;
            match d.moved_seconds {
                Some(s) if s < 0 => summary.due_earlier += 1,
                Some(s) if s > 0 => summary.due_later += 1,
                _ => {}
            }
        }
        if let Some(p) = &t.phase {
            summary.phase_changed += 1;
            if let (Some(after), "Changed") = (&p.after, t.change) {
                *summary.becomes.entry(after.clone()).or_default() += 1;
            }
        }
        summary.severity_changed += usize::from(t.severity.is_some());
        summary.coverage_changed += usize::from(t.coverage.is_some());
        summary.escalation_changed += usize::from(t.escalation.is_some());
        tickets.push(t);
    }
    Impact { summary, tickets }
}

/// `+2h`, `-1h30m`, `+45s`: how far a due time moved.
pub fn moved(seconds: i64) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let d = SignedDuration::from_secs(seconds.abs());
    let (h, m, s) = (d.as_hours(), (d.as_secs() / 60) % 60, d.as_secs() % 60);
    let mut out = format!("{sign}");
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, status: serde_json::Value) -> TicketReport {
        TicketReport {
            namespace: "ns".into(),
            name: name.into(),
            status: serde_json::from_value(status).expect("a status"),
        }
    }

    #[test]
    fn due_moves_phases_and_additions_are_counted() {
        let before = vec![
            report(
                "a",
                serde_json::json!({"phase": "OnTrack", "responseDueAt": "2026-11-23T12:00:00Z", "severity": "B"}),
            ),
            report("b", serde_json::json!({"phase": "OnTrack"})),
            report("c", serde_json::json!({"phase": "Pending"})),
        ];
        let after = vec![
            report(
                "a",
                serde_json::json!({"phase": "Breached", "responseDueAt": "2026-11-23T10:00:00Z", "severity": "B"}),
            ),
            report("b", serde_json::json!({"phase": "OnTrack"})),
            report("d", serde_json::json!({"phase": "Pending"})),
        ];
        let impact = compare(&before, &after);
        assert_eq!(impact.tickets.len(), 3, "{impact:#?}");
        let a = &impact.tickets[0];
        assert_eq!(
            a.response_due.as_ref().and_then(|d| d.moved_seconds),
            Some(-7200)
        );
        assert!(a.severity.is_none());
        assert_eq!(impact.summary.due_time_changed, 1);
        assert_eq!(impact.summary.due_earlier, 1);
        assert_eq!(impact.summary.becomes.get("Breached"), Some(&1));
        assert_eq!((impact.summary.added, impact.summary.removed), (1, 1));
        assert_eq!(impact.summary.tickets, 4);
        assert!(impact.summary.line().starts_with(
            "1 tickets change due time (1 earlier, 0 later), 1 become Breached, 0 become Rejected"
        ));
        assert_eq!(moved(-5400), "-1h30m");
        assert_eq!(moved(7200), "+2h");
    }
}
