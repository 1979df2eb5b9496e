//! What the operator keeps of each ticket between reconciles: a
//! [`CachedTicket`], not the [`Ticket`] the API server sends.
//!
//! Tickets outnumber every other object, and resolved ones pile up for
//! ever, so the ticket cache is most of the operator's memory (issue 11:
//! peak RSS ≤ 200 MiB at 50,000 tickets). A `Ticket` is 1,152 bytes before
//! any string, and its status alone 400 plus eight conditions of 128 bytes
//! with two strings each. The ticket watch therefore deserialises straight
//! into this type (kube-runtime's reflector store and `Controller` take any
//! `Resource`): the full ticket lives only while one watch event is read.
//!
//! Kept: the metadata the controller and Events read (name, namespace,
//! uid as 16 bytes, generation, creationTimestamp; the resourceVersion
//! only until the watcher has read it; no rule reads a ticket's labels or
//! annotations, and nothing selects tickets by them), the spec without its
//! title (no rule reads it; a resolved ticket's pause reasons go too,
//! shown only while paused), and of the status only what is read from a
//! previous status: each condition's type, whether it is True and since
//! when (rule 8 keeps a transition time while the status holds), the
//! phase, the redirect, the escalation level and whether a downgrade
//! exists (the Events compare them), and a digest of the status as it
//! came, which decides whether a write is due. Everything else of a status
//! is only ever written, never read back.
//!
//! tests/cache_memory.rs measures what a ticket costs here.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use jiff::Timestamp;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta, Time};
use kube::Resource;
use serde::Deserialize;

use crate::api::ticket::{Downgrade, Escalation, Redirect};
use crate::api::{Phase, SupportType, Ticket, TicketSpec, TicketStatus};

/// A ticket as the ticket cache holds it (see the module doc).
#[derive(Clone, Debug, Deserialize)]
#[serde(from = "Ticket")]
pub struct CachedTicket {
    pub metadata: ObjectMeta,
    pub spec: TicketSpec,
    status: Option<CachedStatus>,
    /// `metadata.uid` as 16 bytes, when it is a UUID as the API server
    /// writes it (it is then not in `metadata`): the store keeps every
    /// string of the metadata twice, once more in its key.
    /// (Bytes, not a `u128`: an `Option<u128>` is 32 bytes, aligned to 16.)
    uid: Option<[u8; 16]>,
}

#[derive(Clone, Debug, PartialEq)]
struct CachedStatus {
    /// Of the status as it serialises (what a write would send).
    digest: u64,
    phase: Option<Phase>,
    conditions: Box<[CachedCondition]>,
    escalation: Option<(u32, SupportType)>,
    downgraded: bool,
    redirect: Option<Box<Redirect>>,
}

/// 24 bytes where a `Condition` is 128 and two strings. Only conditions
/// of the types the rules write, True or False, are kept: no rule and no
/// Event looks up any other (rule 8 keeps the transition time of the
/// condition it writes; the Events ask whether one of them was True).
#[derive(Clone, Debug, PartialEq)]
struct CachedCondition {
    since: Timestamp,
    /// Its position in [`CONDITION_TYPES`].
    type_: u8,
    status: bool,
}

/// The condition types the deadline rules write (and kstatus' Stalled).
const CONDITION_TYPES: [&str; 9] = [
    "Accepted",
    "Responded",
    "Breached",
    "AtRisk",
    "Paused",
    "Resolved",
    "ResolutionBreached",
    "EffortCapReached",
    crate::api::condition::STALLED,
];

impl From<Ticket> for CachedTicket {
    fn from(ticket: Ticket) -> Self {
        let Ticket {
            mut metadata,
            mut spec,
            status,
        } = ticket;
        metadata.managed_fields = None;
        metadata.labels = None;
        metadata.annotations = None;
        spec.title = String::new();
        // Resolved by its own spec (not by a status that may be stale):
        // from here on no instant is in a pause as far as the phase is
        // concerned, so the words on its pauses are never shown again.
        if spec
            .resolved_at
            .as_ref()
            .is_some_and(|r| r.0 <= Timestamp::now())
        {
            for pause in &mut spec.pauses {
                pause.reason = None;
            }
            spec.pauses.shrink_to_fit();
        }
        let uid = metadata
            .uid
            .as_deref()
            .and_then(uid_number)
            .map(u128::to_be_bytes);
        if uid.is_some() {
            metadata.uid = None;
        }
        CachedTicket {
            metadata,
            spec,
            status: status.as_ref().map(CachedStatus::of),
            uid,
        }
    }
}

/// A UUID in the API server's spelling (lower-case, hyphens at 8-4-4-4-12)
/// as a number; None for anything that would not read back the same.
fn uid_number(uid: &str) -> Option<u128> {
    let hex: String = uid.chars().filter(|c| *c != '-').collect();
    let n = u128::from_str_radix(&hex, 16).ok()?;
    (hex.len() == 32 && uid_text(n) == uid).then_some(n)
}

fn uid_text(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl CachedStatus {
    fn of(status: &TicketStatus) -> Self {
        let conditions = status
            .conditions
            .iter()
            .filter_map(|c| {
                Some(CachedCondition {
                    since: c.last_transition_time.0,
                    type_: CONDITION_TYPES.iter().position(|t| *t == c.type_)? as u8,
                    status: match c.status.as_str() {
                        "True" => true,
                        "False" => false,
                        _ => return None,
                    },
                })
            })
            .collect();
        CachedStatus {
            digest: digest(status),
            phase: status.phase,
            conditions,
            escalation: status
                .escalation
                .as_ref()
                .map(|e| (e.level, e.support_type)),
            downgraded: status.downgrade.is_some(),
            redirect: status.redirect.clone().map(Box::new),
        }
    }

    /// The status as the rules and the Events read a previous one; the
    /// fields nothing reads back are left empty.
    fn expand(&self) -> TicketStatus {
        TicketStatus {
            phase: self.phase,
            conditions: self.conditions.iter().map(Self::expand_condition).collect(),
            escalation: self.escalation.map(|(level, support_type)| Escalation {
                level,
                support_type,
                queue: String::new(),
            }),
            downgrade: self.downgraded.then(|| Downgrade {
                from: String::new(),
                reason: String::new(),
            }),
            redirect: self.redirect.as_deref().cloned(),
            ..TicketStatus::default()
        }
    }

    fn expand_condition(c: &CachedCondition) -> Condition {
        Condition {
            type_: CONDITION_TYPES
                .get(usize::from(c.type_))
                .map_or_else(String::new, |t| (*t).to_string()),
            status: if c.status { "True" } else { "False" }.into(),
            last_transition_time: Time(c.since),
            reason: String::new(),
            message: String::new(),
            observed_generation: None,
        }
    }
}

/// A digest of a status as it serialises (what a write would send).
fn digest(status: &TicketStatus) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(status)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

impl CachedTicket {
    /// `metadata.uid`, wherever it is kept.
    pub fn uid_text(&self) -> Option<String> {
        self.uid
            .map(|b| uid_text(u128::from_be_bytes(b)))
            .or_else(|| self.metadata.uid.clone())
    }

    /// What an Event is `regarding`: the ticket with its uid.
    pub fn reference(&self) -> ObjectReference {
        ObjectReference {
            uid: self.uid_text(),
            ..self.object_ref(&())
        }
    }

    /// Drops the resourceVersion once the watcher has read it (to resume
    /// from): nothing after it reads a cached ticket's, and the store would
    /// keep it twice.
    pub fn forget_version(&mut self) {
        self.metadata.resource_version = None;
    }

    /// The status the cluster holds, as far as anything reads it back.
    pub fn previous_status(&self) -> Option<TicketStatus> {
        self.status.as_ref().map(CachedStatus::expand)
    }

    pub fn phase(&self) -> Option<Phase> {
        self.status.as_ref().and_then(|s| s.phase)
    }

    /// Whether `status` is what the cluster already holds.
    pub fn status_unchanged(&self, status: &TicketStatus) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| s.digest == digest(status))
    }
}

impl Resource for CachedTicket {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        Ticket::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        Ticket::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        Ticket::version(dt)
    }
    fn api_version(dt: &()) -> Cow<'_, str> {
        Ticket::api_version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        Ticket::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::{TicketInput, evaluate};
    use crate::manifests::Manifests;
    use serde_json::json;

    fn examples() -> Manifests {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        Manifests::load(&[dir]).expect("the examples load")
    }

    /// Tickets of the examples in several states, each with the status
    /// the rules give it, as the API server would send them back.
    fn judged() -> Vec<Ticket> {
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let manifests = examples();
        let catalog = manifests.catalog();
        manifests
            .tickets
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.status = Some(evaluate(&catalog, TicketInput::of(&t, now), None, now).status);
                t
            })
            .collect()
    }

    #[test]
    fn a_cached_ticket_reads_back_as_the_rules_read_the_ticket() {
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-12-03T12:00:00Z".parse().unwrap();
        let manifests = examples();
        let catalog = manifests.catalog();
        let tickets = judged();
        assert!(tickets.len() > 3, "the examples hold tickets");
        for ticket in tickets {
            let cached = CachedTicket::from(ticket.clone());
            let status = ticket.status.clone().unwrap();
            assert!(
                cached.status_unchanged(&status),
                "{:?}",
                ticket.metadata.name
            );
            assert_eq!(cached.phase(), status.phase);
            // Judged again later from the cached form, the ticket gets the
            // status it would get from the whole ticket: same transition
            // times, same everything.
            for at in [now, later] {
                let whole = evaluate(&catalog, TicketInput::of(&ticket, at), Some(&status), at);
                let previous = cached.previous_status();
                let lean = evaluate(
                    &catalog,
                    TicketInput::new(&cached.metadata, &cached.spec, at),
                    previous.as_ref(),
                    at,
                );
                assert_eq!(whole.status, lean.status, "{:?}", ticket.metadata.name);
                assert_eq!(whole.next_change, lean.next_change);
                assert_eq!(
                    cached.status_unchanged(&lean.status),
                    whole.status == status
                );
            }
        }
    }

    #[test]
    fn every_condition_the_rules_write_is_kept() {
        for ticket in judged() {
            let written = ticket.status.clone().unwrap().conditions;
            let kept = CachedTicket::from(ticket)
                .previous_status()
                .unwrap()
                .conditions;
            let key = |c: &Condition| {
                (
                    c.type_.clone(),
                    c.status.clone(),
                    c.last_transition_time.clone(),
                )
            };
            assert_eq!(
                written.iter().map(key).collect::<Vec<_>>(),
                kept.iter().map(key).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_status_written_by_someone_else_is_kept_as_far_as_it_is_read() {
        let ticket: Ticket = serde_json::from_value(json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
            "metadata": {"name": "t", "namespace": "n", "labels": {"a": "b"},
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"title": "x", "severity": "A"},
            "status": {"phase": "Redirected",
                       "redirect": {"to": "Partner", "name": "contoso"},
                       "escalation": {"level": 2, "supportType": "Vendor", "queue": "q"},
                       "downgrade": {"from": "A", "reason": "CustomerNot24x7"},
                       "conditions": [
                           {"type": "Custom", "status": "True", "reason": "R", "message": "m",
                            "lastTransitionTime": "2026-11-01T00:00:00Z"},
                           {"type": "Breached", "status": "True", "reason": "R", "message": "m",
                            "lastTransitionTime": "2026-11-02T00:00:00Z"},
                           {"type": "AtRisk", "status": "Unknown", "reason": "R", "message": "m",
                            "lastTransitionTime": "2026-11-03T00:00:00Z"}]}
        }))
        .unwrap();
        let cached = CachedTicket::from(ticket.clone());
        assert_eq!(cached.metadata.labels, None);
        assert_eq!(cached.metadata.annotations, None);
        assert_eq!(cached.spec.title, "");
        let back = cached.previous_status().unwrap();
        let status = ticket.status.unwrap();
        assert_eq!(back.phase, status.phase);
        assert_eq!(back.redirect, status.redirect);
        assert_eq!(
            back.escalation.as_ref().map(|e| (e.level, e.support_type)),
            Some((2, SupportType::Vendor))
        );
        assert!(back.downgrade.is_some());
        // Kept: Breached, True, and since when. Not kept: a type no rule
        // writes, and a status that is neither True nor False.
        let c = &back.conditions;
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(
            (c[0].type_.as_str(), c[0].status.as_str()),
            ("Breached", "True")
        );
        assert_eq!(
            c[0].last_transition_time,
            status.conditions[1].last_transition_time
        );
        assert!(cached.status_unchanged(&status));
        assert!(!cached.status_unchanged(&back));
    }

    #[test]
    fn the_watch_reads_a_ticket_straight_into_its_cached_form() {
        let cached: CachedTicket = serde_json::from_value(json!({
            "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
            "metadata": {"name": "t", "namespace": "n", "uid": "u", "resourceVersion": "7",
                         "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"title": "x", "severity": "A"}
        }))
        .unwrap();
        assert_eq!(cached.metadata.managed_fields, None);
        assert_eq!(cached.spec.severity, "A");
        assert_eq!(cached.previous_status(), None);
        assert!(!cached.status_unchanged(&TicketStatus::default()));
        let reference = cached.reference();
        assert_eq!(
            reference.api_version.as_deref(),
            Some("supportpolicy.dev/v1alpha1")
        );
        assert_eq!(reference.kind.as_deref(), Some("Ticket"));
        assert_eq!(reference.uid.as_deref(), Some("u"));
        assert_eq!(cached.uid_text().as_deref(), Some("u"));
    }

    #[test]
    fn a_uid_reads_back_as_it_came() {
        for uid in [
            "6f1c2b1e-8d1a-4c3e-9f7a-000000000042",
            "00000000-0000-0000-0000-000000000000",
            "6F1C2B1E-8D1A-4C3E-9F7A-000000000042",
            "6f1c2b1e8d1a4c3e9f7a000000000042",
            "6f1c2b1e-8d1a-4c3e-9f7a-00000000004",
            "not-a-uid",
            "",
        ] {
            let ticket: Ticket = serde_json::from_value(json!({
                "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
                "metadata": {"name": "t", "namespace": "n", "uid": uid},
                "spec": {"title": "x", "severity": "A"}
            }))
            .unwrap();
            let cached = CachedTicket::from(ticket);
            assert_eq!(cached.uid_text().as_deref(), Some(uid));
            assert_eq!(cached.reference().uid.as_deref(), Some(uid));
        }
        assert!(uid_number("6f1c2b1e-8d1a-4c3e-9f7a-000000000042").is_some());
        assert!(uid_number("6F1C2B1E-8D1A-4C3E-9F7A-000000000042").is_none());
    }
}
