//! Routing compilation: entries per workspace × tier × severity, byte-for-byte
//! determinism, workspace slices and sharding.

use std::path::Path;

use support_operator::manifests::Manifests;
use support_operator::routing::{self, RoutingTable, SHARD_LIMIT_BYTES, ShardIndex};

fn examples() -> Manifests {
    Manifests::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")]).unwrap()
}

fn compile(m: &Manifests) -> RoutingTable {
    routing::compile(&m.catalog(), &m.policies)
}

#[test]
fn one_entry_per_workspace_tier_and_severity() {
    let table = compile(&examples());
    let keys: Vec<(String, String, Option<String>)> = table
        .routes
        .iter()
        .map(|r| {
            (
                r.workspace.clone(),
                r.tier.clone(),
                r.severity.as_ref().map(|s| s.name.clone()),
            )
        })
        .collect();
    // finance allows [important, critical]: 3 + 3 severities.
    assert_eq!(keys.iter().filter(|k| k.0 == "finance").count(), 6);
    // marketing lists no allowedTiers: every tier (productivity has no SLA: one entry).
    assert_eq!(keys.iter().filter(|k| k.0 == "marketing").count(), 7);
    assert!(keys.contains(&("default".into(), "productivity".into(), None)));
    assert!(table.skipped.is_empty(), "{:?}", table.skipped);

    let critical_a = table
        .routes
        .iter()
        .find(|r| {
            r.workspace == "finance"
                && r.tier == "critical"
                && r.severity.as_ref().is_some_and(|s| s.name == "A")
        })
        .unwrap();
    assert!(critical_a.default_tier);
    assert_eq!(critical_a.namespace, "finance-support");
    let sev = critical_a.severity.as_ref().unwrap();
    assert_eq!(sev.initial_response_seconds, 3600);
    assert_eq!(sev.at_risk_seconds, Some(2700));
    assert_eq!(sev.downgrades_to.as_deref(), Some("B"));
    assert_eq!(sev.calendars[0], "unified/default");
    // Chain: HelpDesk at once, Dedicated at 50% of 1h, Partner after 90m, Vendor at 100%.
    let chain: Vec<(String, i64)> = critical_a
        .escalation
        .iter()
        .map(|l| (l.queue.clone(), l.after_seconds))
        .collect();
    assert_eq!(
        chain,
        vec![
            ("it-helpdesk".into(), 0),
            ("platform-team".into(), 1800),
            ("fabrikam-support".into(), 5400),
            ("vendor-support".into(), 3600),
        ]
    );
    let cal = &table.calendars["unified/north-america"];
    assert_eq!(cal.time_zone, "America/Los_Angeles");
    assert!(cal.holidays.contains(&"2026-11-26".to_string()));
    assert!(
        !table.calendars["unified/default"]
            .holidays
            .contains(&"2026-11-26".to_string())
    );
}

#[test]
fn same_objects_in_any_order_give_identical_bytes() {
    let m = examples();
    let a = compile(&m).to_json();
    let mut shuffled = m.clone();
    shuffled.policies.reverse();
    shuffled.tiers.reverse();
    shuffled.workspaces.reverse();
    shuffled.tiers.rotate_left(1);
    let b = compile(&shuffled).to_json();
    assert_eq!(a, b);
    assert_eq!(a, compile(&m).to_json());
}

#[test]
fn workspace_slice_holds_only_its_routes_and_calendars() {
    let table = compile(&examples());
    for ws in ["default", "finance", "marketing"] {
        let slice = table.for_workspace(ws);
        assert!(!slice.routes.is_empty());
        assert!(slice.routes.iter().all(|r| r.workspace == ws));
        assert_eq!(
            slice.routes.len(),
            table.routes.iter().filter(|r| r.workspace == ws).count()
        );
        // Exactly the calendars its routes name.
        let named: std::collections::BTreeSet<&String> = slice
            .routes
            .iter()
            .flat_map(|r| r.severity.iter().flat_map(|s| s.calendars.iter()))
            .collect();
        assert_eq!(
            slice
                .calendars
                .keys()
                .collect::<std::collections::BTreeSet<_>>(),
            named
        );
    }
    // finance may use important (professional-direct) and critical (unified) only.
    let finance = table.for_workspace("finance");
    assert!(
        finance
            .calendars
            .keys()
            .all(|k| k.starts_with("unified/") || k.starts_with("professional-direct/"))
    );
    assert!(finance.routes.iter().all(|r| r.tier != "productivity"));
}

#[test]
fn a_namespace_claimed_twice_routes_only_the_first_claimant() {
    let mut m = examples();
    let mut copy = m
        .workspaces
        .iter()
        .find(|w| w.metadata.name.as_deref() == Some("finance"))
        .unwrap()
        .clone();
    copy.metadata.name = Some("zz-finance-copy".into());
    m.workspaces.push(copy);
    let table = compile(&m);
    assert!(
        table
            .routes
            .iter()
            .all(|r| r.workspace != "zz-finance-copy")
    );
    let skipped = table
        .skipped
        .iter()
        .find(|s| s.workspace == "zz-finance-copy")
        .unwrap();
    assert_eq!(skipped.reason, "NamespaceTaken");
}

#[test]
fn large_tables_shard_under_the_limit_with_an_index() {
    let mut m = examples();
    let template = m.workspaces[0].clone();
    for i in 0..2500 {
        let mut w = template.clone();
        w.metadata.name = Some(format!("ws-{i:05}"));
        w.spec.namespace = format!("ns-{i:05}");
        m.workspaces.push(w);
    }
    let table = compile(&m);
    let whole = table.to_json();
    assert!(
        whole.len() > SHARD_LIMIT_BYTES,
        "the test needs a table past the limit: {}",
        whole.len()
    );
    let sharded = table.shard(SHARD_LIMIT_BYTES);
    let index: ShardIndex = serde_json::from_str(sharded.index.as_ref().unwrap()).unwrap();
    assert_eq!(index.shards.len(), sharded.shards.len());
    assert!(index.shards.len() >= 2);
    assert_eq!(index.routes, table.routes.len());
    let mut rejoined = Vec::new();
    for (i, doc) in sharded.shards.iter().enumerate() {
        assert!(
            doc.len() <= SHARD_LIMIT_BYTES,
            "shard {i} is {} bytes",
            doc.len()
        );
        assert_eq!(index.shards[i], format!("support-routing-{i}"));
        let part: RoutingTable = serde_json::from_str(doc).unwrap();
        assert_eq!(part.schema_version, table.schema_version);
        assert_eq!(
            part.shard.as_ref().map(|s| (s.index, s.of)),
            Some((i, sharded.shards.len()))
        );
        rejoined.extend(part.routes);
    }
    assert_eq!(rejoined, table.routes);
    let maps = routing::config_maps(&table, &m.catalog(), "support-operator");
    let index_map = maps
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some("support-routing"))
        .unwrap();
    assert!(index_map.data.as_ref().unwrap().contains_key("index.json"));
}

#[test]
fn small_tables_stay_in_one_config_map() {
    let m = examples();
    let table = compile(&m);
    let maps = routing::config_maps(&table, &m.catalog(), "ops");
    let routing_maps: Vec<_> = maps
        .iter()
        .filter(|c| {
            c.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("support-routing"))
        })
        .collect();
    assert_eq!(routing_maps.len(), 1);
    assert_eq!(routing_maps[0].metadata.namespace.as_deref(), Some("ops"));
    assert_eq!(
        routing_maps[0].data.as_ref().unwrap()["routes.json"],
        table.to_json()
    );
    assert_eq!(maps.len(), 1 + m.workspaces.len());
}
