//! What the operator's ticket cache costs per resolved ticket, measured with
//! a counting allocator: resolved tickets as the API server sends them
//! (kubectl's `last-applied-configuration`, two managers' managedFields, the
//! status the operator wrote) go through the same reflector store the
//! operator keeps, once as they come and once in the form the operator's
//! ticket watch reads them into (`controller::ticket_cache::CachedTicket`:
//! no managedFields, annotations, labels or title, and of the status only
//! what is read back). The figures are printed
//! (`cargo test --test cache_memory -- --nocapture`) and the README quotes them.
//!
//! One test in this binary, so no other test allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use jiff::Timestamp;
use kube::runtime::reflector::store;
use kube::runtime::watcher::Event;
use serde_json::json;
use support_operator::api::Ticket;
use support_operator::controller::ticket_cache::CachedTicket;
use support_operator::deadline::{TicketInput, evaluate};
use support_operator::manifests::Manifests;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TICKETS: usize = 2_000;
/// Bytes a cached resolved ticket may cost the store (measured: see the test).
const CACHED_BOUND: isize = 1_450;

/// One resolved ticket as a watch delivers it.
fn resolved_ticket(i: usize, manifests: &Manifests) -> Ticket {
    let spec = json!({
        "title": format!("Invoice export leaves out credit notes, case {i}"),
        "severity": "B",
        "openedAt": "2026-11-24T09:00:00Z",
        "firstResponseAt": "2026-11-24T10:00:00Z",
        "resolvedAt": "2026-11-25T15:00:00Z",
        "pauses": [{"from": "2026-11-24T11:00:00Z", "to": "2026-11-24T12:00:00Z", "reason": "AwaitingCustomer"}],
        "investigation": "Performance",
        "effort": "2h30m",
    });
    let name = format!("invoice-export-{i:05}");
    let last_applied = json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Ticket",
        "metadata": {"annotations": {}, "name": name, "namespace": "finance-support"},
        "spec": spec,
    })
    .to_string();
    let mut ticket: Ticket = serde_json::from_value(json!({
        "apiVersion": "supportpolicy.dev/v1alpha1",
        "kind": "Ticket",
        "metadata": {
            "name": name,
            "namespace": "finance-support",
            "uid": format!("6f1c2b1e-8d1a-4c3e-9f7a-{i:012}"),
            "resourceVersion": format!("{}", 100_000 + i),
            "generation": 1,
            "creationTimestamp": "2026-11-24T09:00:05Z",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied},
            "managedFields": [
                {"manager": "kubectl-client-side-apply", "operation": "Update",
                 "apiVersion": "supportpolicy.dev/v1alpha1", "time": "2026-11-25T15:00:01Z",
                 "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                              "f:spec": {".": {}, "f:effort": {}, "f:firstResponseAt": {}, "f:investigation": {},
                                         "f:openedAt": {}, "f:pauses": {}, "f:resolvedAt": {}, "f:severity": {}, "f:title": {}}}},
                {"manager": "support-operator", "operation": "Apply",
                 "apiVersion": "supportpolicy.dev/v1alpha1", "time": "2026-11-25T15:00:02Z",
                 "fieldsType": "FieldsV1", "subresource": "status",
                 "fieldsV1": {"f:status": {"f:atRiskAt": {}, "f:calendar": {}, "f:conditions": {
                     "k:{\"type\":\"Accepted\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"AtRisk\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"Breached\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"Responded\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"Paused\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"Resolved\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"ResolutionBreached\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}},
                     "k:{\"type\":\"EffortCapReached\"}": {".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}}},
                     "f:coverage": {}, "f:escalation": {}, "f:observedGeneration": {}, "f:phase": {}, "f:resolutionDueAt": {},
                     "f:responseDueAt": {}, "f:severity": {}, "f:tier": {}, "f:workspace": {}}}}
            ]
        },
        "spec": spec,
    }))
    .expect("a ticket");
    ticket.metadata.labels = Some(
        [
            ("app.kubernetes.io/part-of", "invoicing"),
            ("team", "finance-platform"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    );
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    let catalog = manifests.catalog();
    let status = evaluate(&catalog, TicketInput::of(&ticket, now), None, now).status;
    assert_eq!(status.phase, Some(support_operator::api::Phase::Resolved));
    ticket.status = Some(status);
    ticket
}

/// Live heap bytes per ticket that a reflector store holds once `make`'s
/// tickets went through it as `K` (and everything else made on the way is gone).
fn store_cost<K>(make: &dyn Fn() -> Vec<Ticket>, convert: fn(Ticket) -> K) -> isize
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    let before = LIVE.load(Ordering::SeqCst);
    let (reader, mut writer) = store::<K>();
    for t in make() {
        writer.apply_watcher_event(&Event::Apply(convert(t)));
    }
    let held = LIVE.load(Ordering::SeqCst) - before;
    assert_eq!(reader.state().len(), TICKETS);
    drop((reader, writer));
    held / TICKETS as isize
}

#[test]
fn a_resolved_ticket_costs_the_cache_less_in_its_cached_form() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let manifests = Manifests::load(&[dir]).expect("examples load");
    let make = || {
        (0..TICKETS)
            .map(|i| resolved_ticket(i, &manifests))
            .collect::<Vec<_>>()
    };
    let sample = resolved_ticket(0, &manifests);
    let json_bytes = serde_json::to_vec(&sample).unwrap().len();
    let as_sent = store_cost(&make, |t| t);
    let managed = store_cost(&make, |mut t| {
        use kube::ResourceExt;
        t.managed_fields_mut().clear();
        t
    });
    // As the operator's watch does: read into the cached form, then the
    // resourceVersion dropped once the watcher has read it.
    let cached = store_cost(&make, |t| {
        let mut c = CachedTicket::from(t);
        c.forget_version();
        c
    });
    eprintln!(
        "per resolved ticket in the reflector store (live heap bytes, {TICKETS} tickets): \
         as sent {as_sent} B (JSON {json_bytes} B); managedFields dropped {managed} B; \
         cached form (now) {cached} B"
    );
    assert!(
        as_sent > managed && managed > cached,
        "{as_sent} > {managed} > {cached}"
    );
    // What docs/performance.md quotes, with a little room for a toolchain's
    // layout: a field kept again by mistake shows here.
    assert!(
        cached <= CACHED_BOUND,
        "a cached resolved ticket costs {cached} B, more than {CACHED_BOUND} B"
    );
    // The cached form keeps everything the rules read: the same status
    // comes out, and it is known to be the one the cluster holds.
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    let catalog = manifests.catalog();
    let full = evaluate(
        &catalog,
        TicketInput::of(&sample, now),
        sample.status.as_ref(),
        now,
    );
    let form = CachedTicket::from(sample.clone());
    let previous = form.previous_status();
    let lean = evaluate(
        &catalog,
        TicketInput::new(&form.metadata, &form.spec, now),
        previous.as_ref(),
        now,
    );
    assert_eq!(full.status, lean.status);
    assert!(form.status_unchanged(&lean.status), "no write follows");
    // A status that differs (here only by a message) is still written.
    let mut changed = lean.status.clone();
    changed.conditions[0].message.push_str(" (edited)");
    assert!(
        !form.status_unchanged(&changed),
        "a changed message is written"
    );
}
