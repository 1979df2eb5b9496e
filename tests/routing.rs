//! Routing compilation, schema version 2: a normalised document (tiers,
//! policies, workspaces, publishers) whose size grows with the sum of what
//! was declared, byte-for-byte determinism, workspace slices, sharding, and
//! the JSON Schema in docs/routes.schema.json.

use std::collections::BTreeSet;
use std::path::Path;

use support_operator::api::{SupportTier, Workspace};
use support_operator::manifests::Manifests;
use support_operator::routing::{self, RoutingTable, SHARD_LIMIT_BYTES, ShardIndex};

fn examples() -> Manifests {
    Manifests::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")]).unwrap()
}

fn compile(m: &Manifests) -> RoutingTable {
    routing::compile(&m.catalog(), &m.policies)
}

/// The schema, compiled; `def` picks a `$defs` entry (`None`: the document).
fn validator(def: Option<&str>) -> (boon::Schemas, boon::SchemaIndex) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/routes.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource("routes.schema.json", schema).unwrap();
    let location = match def {
        Some(d) => format!("routes.schema.json#/$defs/{d}"),
        None => "routes.schema.json".to_string(),
    };
    let index = compiler.compile(&location, &mut schemas).unwrap();
    (schemas, index)
}

fn assert_valid(what: &str, doc: &str, def: Option<&str>) {
    let (schemas, index) = validator(def);
    let value: serde_json::Value = serde_json::from_str(doc).unwrap();
    if let Err(e) = schemas.validate(&value, index) {
        panic!("{what} does not validate against docs/routes.schema.json: {e:#}");
    }
}

/// `workspaces` copies of a workspace without allowedTiers and `tiers`
/// copies of the `critical` tier, on top of the examples.
fn grown(workspaces: usize, tiers: usize) -> Manifests {
    let mut m = examples();
    let ws: Workspace = m
        .workspaces
        .iter()
        .find(|w| w.metadata.name.as_deref() == Some("marketing"))
        .unwrap()
        .clone();
    let tier: SupportTier = m
        .tiers
        .iter()
        .find(|t| t.metadata.name.as_deref() == Some("critical"))
        .unwrap()
        .clone();
    for i in 0..workspaces {
        let mut w = ws.clone();
        w.metadata.name = Some(format!("ws-{i:05}"));
        w.spec.namespace = format!("ns-{i:05}");
        m.workspaces.push(w);
    }
    for i in 0..tiers {
        let mut t = tier.clone();
        t.metadata.name = Some(format!("tier-{i:05}"));
        m.tiers.push(t);
    }
    m
}

#[test]
fn tiers_policies_and_workspaces_each_appear_once() {
    let table = compile(&examples());
    assert_eq!(table.schema_version, 2);
    assert_eq!(
        table.tiers.keys().collect::<Vec<_>>(),
        ["critical", "important", "productivity"]
    );
    assert_eq!(
        table.workspaces.keys().collect::<Vec<_>>(),
        ["default", "finance", "marketing"]
    );
    assert!(table.skipped.is_empty(), "{:?}", table.skipped);

    let finance = &table.workspaces["finance"];
    assert_eq!(finance.namespace, "finance-support");
    assert_eq!(finance.tier, "critical");
    assert_eq!(
        finance.allowed_tiers.as_deref(),
        Some(&["critical".to_string(), "important".to_string()][..])
    );
    assert!(!finance.any_tier);
    assert!(
        !finance.allow_personal_accounts,
        "Unified refuses personal accounts"
    );
    let partners: Vec<(&str, bool, bool)> = finance
        .partners
        .iter()
        .map(|p| (p.partner.as_str(), p.may_file_tickets, p.supports_trials))
        .collect();
    assert_eq!(
        partners,
        [("fabrikam", true, true), ("northwind", false, false)]
    );
    assert!(table.workspaces["marketing"].any_tier);
    assert!(table.workspaces["marketing"].allowed_tiers.is_none());

    // Join workspace -> tier -> severity.
    let critical = &table.tiers[&finance.tier];
    assert_eq!(critical.sla_policy.as_deref(), Some("unified"));
    let a = critical.severities.iter().find(|s| s.name == "A").unwrap();
    assert_eq!(a.initial_response_seconds, 3600);
    assert_eq!(a.initial_response, "1h");
    assert_eq!(a.at_risk_seconds, Some(2700));
    assert_eq!(a.downgrades_to.as_deref(), Some("B"));
    assert_eq!(a.calendars[0], "default");
    // Chain: HelpDesk at once, Dedicated at 50% of 1h, Partner after 90m, Vendor at 100%.
    let queues: Vec<&str> = critical
        .escalation
        .iter()
        .map(|l| l.queue.as_str())
        .collect();
    assert_eq!(
        queues,
        [
            "it-helpdesk",
            "platform-team",
            "fabrikam-support",
            "vendor-support"
        ]
    );
    assert_eq!(a.escalation_seconds, [0, 1800, 5400, 3600]);
    // A best-effort tier has a chain and no severities.
    let productivity = &table.tiers["productivity"];
    assert!(productivity.sla_policy.is_none());
    assert!(productivity.severities.is_empty());
    assert!(!productivity.escalation.is_empty());

    // Calendars live once, in their policy.
    let unified = &table.policies["unified"];
    let na = &unified.calendars["north-america"];
    assert_eq!(na.time_zone, "America/Los_Angeles");
    assert!(na.holidays.contains(&"2026-11-26".to_string()));
    assert!(
        !unified.calendars["default"]
            .holidays
            .contains(&"2026-11-26".to_string())
    );
    // Publishers, once each: the examples declare one.
    assert_eq!(
        table
            .publishers
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["contoso"]
    );
}

#[test]
fn publishers_and_partner_contacts_are_routed() {
    let mut m = examples();
    let publisher: support_operator::api::Publisher = serde_json::from_value(serde_json::json!({
        "apiVersion": "supportpolicy.dev/v1alpha1", "kind": "Publisher",
        "metadata": {"name": "contoso"},
        "spec": {"displayName": "Contoso Ltd.",
                 "contact": {"url": "https://support.contoso.example", "phone": "+1 555 0100"}}
    }))
    .unwrap();
    m.publishers.push(publisher);
    let finance = m
        .workspaces
        .iter_mut()
        .find(|w| w.metadata.name.as_deref() == Some("finance"))
        .unwrap();
    finance.spec.delegated_admins[0].contact = Some(support_operator::api::Contact {
        email: Some("help@fabrikam.example".into()),
        ..Default::default()
    });
    let table = compile(&m);
    let contoso = &table.publishers["contoso"];
    assert_eq!(contoso.display_name.as_deref(), Some("Contoso Ltd."));
    assert_eq!(
        contoso.contact.url.as_deref(),
        Some("https://support.contoso.example")
    );
    assert_eq!(contoso.contact.phone.as_deref(), Some("+1 555 0100"));
    assert!(contoso.contact.email.is_none());
    let fabrikam = &table.workspaces["finance"].partners[0];
    assert_eq!(fabrikam.partner, "fabrikam");
    assert_eq!(
        fabrikam.contact.as_ref().and_then(|c| c.email.as_deref()),
        Some("help@fabrikam.example")
    );
    // The slice carries its partners' contacts with its entry.
    let slice = table.for_workspace("finance").unwrap();
    assert_eq!(slice.workspaces["finance"].partners[0], *fabrikam);
    assert_valid(
        "a table with a publisher and contacts",
        &table.to_json(),
        None,
    );
}

#[test]
fn size_grows_with_the_sum_of_workspaces_and_tiers_never_their_product() {
    let size = |w: usize, t: usize| compile(&grown(w, t)).to_json().len() as i64;
    // What 200 more workspaces add is the same with 10 tiers or with 200.
    let few_tiers = size(400, 10) - size(200, 10);
    let many_tiers = size(400, 200) - size(200, 200);
    assert_eq!(few_tiers, many_tiers);
    // And what 190 more tiers add is the same with 200 workspaces or 400.
    assert_eq!(
        size(200, 200) - size(200, 10),
        size(400, 200) - size(400, 10)
    );
    // A workspace without allowedTiers costs a few hundred bytes, not a copy of every tier.
    assert!(
        many_tiers / 200 < 400,
        "{} bytes per workspace",
        many_tiers / 200
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
fn a_slice_holds_its_entry_default_and_allowed_tiers_or_says_any_tier() {
    let table = compile(&examples());
    // finance allows [important, critical]: both in full, with their policies.
    let finance = table.for_workspace("finance").unwrap();
    assert_eq!(finance.workspace.as_deref(), Some("finance"));
    assert_eq!(finance.workspaces.keys().collect::<Vec<_>>(), ["finance"]);
    assert_eq!(
        finance.tiers.keys().collect::<Vec<_>>(),
        ["critical", "important"]
    );
    assert_eq!(finance.tiers["critical"], table.tiers["critical"]);
    assert_eq!(
        finance.policies.keys().collect::<Vec<_>>(),
        ["professional-direct", "unified"]
    );
    assert!(!finance.any_tier);
    assert!(finance.tier_names.is_empty());
    // marketing lists no allowedTiers: its default tier in full, the others by name.
    let marketing = table.for_workspace("marketing").unwrap();
    assert!(marketing.any_tier);
    assert_eq!(marketing.tiers.keys().collect::<Vec<_>>(), ["important"]);
    assert_eq!(
        marketing.tier_names,
        ["critical", "important", "productivity"]
    );
    assert_eq!(
        marketing.policies.keys().collect::<Vec<_>>(),
        ["professional-direct"]
    );
    assert!(table.for_workspace("nobody").is_none());
    // A slice of a workspace without allowedTiers stays small however many tiers there are.
    let big = compile(&grown(1, 300));
    let slice = big.for_workspace("ws-00000").unwrap().to_json();
    assert!(slice.len() < 20_000, "{} bytes", slice.len());
    assert_eq!(big.for_workspace("ws-00000").unwrap().tier_names.len(), 303);
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
    assert!(!table.workspaces.contains_key("zz-finance-copy"));
    let skipped = table
        .skipped
        .iter()
        .find(|s| s.workspace.as_deref() == Some("zz-finance-copy"))
        .unwrap();
    assert_eq!(skipped.reason, "NamespaceTaken");
    let slices = routing::slices(&table, &m.catalog(), "support-operator");
    assert!(slices.iter().all(|s| s.workspace != "zz-finance-copy"));
}

#[test]
fn unknown_tiers_and_missing_policies_are_listed_as_skipped() {
    let mut m = examples();
    m.workspaces[0].spec.allowed_tiers = Some(vec!["nope".into()]);
    let name = m.workspaces[0].metadata.name.clone();
    let mut orphan = m.tiers[0].clone();
    orphan.metadata.name = Some("orphan".into());
    orphan.spec.sla_policy = Some("missing-policy".into());
    m.tiers.push(orphan);
    let table = compile(&m);
    assert!(!table.tiers.contains_key("orphan"));
    let reasons: BTreeSet<(Option<String>, Option<String>, String)> = table
        .skipped
        .iter()
        .map(|s| (s.workspace.clone(), s.tier.clone(), s.reason.clone()))
        .collect();
    assert!(reasons.contains(&(None, Some("orphan".into()), "NoSlaPolicy".into())));
    assert!(reasons.contains(&(name, Some("nope".into()), "UnknownTier".into())));
    assert_valid("a table with skipped entries", &table.to_json(), None);
}

#[test]
fn large_tables_shard_under_the_limit_with_an_index() {
    let m = grown(5000, 300);
    let table = compile(&m);
    let whole = table.to_json();
    assert!(
        whole.len() > SHARD_LIMIT_BYTES,
        "the test needs a table past the limit: {}",
        whole.len()
    );
    let sharded = table.shard(SHARD_LIMIT_BYTES);
    let index_text = sharded.index.as_ref().unwrap();
    assert_valid("the shard index", index_text, Some("shardIndex"));
    let index: ShardIndex = serde_json::from_str(index_text).unwrap();
    assert_eq!(index.shards.len(), sharded.shards.len());
    assert!(index.shards.len() >= 2);
    assert!(index.shards.len().is_power_of_two());
    let mut rejoined = RoutingTable {
        schema_version: 2,
        ..RoutingTable::default()
    };
    for (i, doc) in sharded.shards.iter().enumerate() {
        assert!(
            doc.len() <= SHARD_LIMIT_BYTES,
            "shard {i} is {} bytes",
            doc.len()
        );
        assert_eq!(index.shards[i], format!("support-routing-{i}"));
        assert_valid(&format!("shard {i}"), doc, None);
        let part: RoutingTable = serde_json::from_str(doc).unwrap();
        assert_eq!(
            part.shard.as_ref().map(|s| (s.index, s.of)),
            Some((i, sharded.shards.len()))
        );
        // The index names the shard that holds each entry.
        for name in part.workspaces.keys() {
            assert_eq!(index.workspaces[name], i);
        }
        for name in part.tiers.keys() {
            assert_eq!(index.tiers[name], i);
        }
        rejoined.tiers.extend(part.tiers);
        rejoined.policies.extend(part.policies);
        rejoined.workspaces.extend(part.workspaces);
        rejoined.publishers.extend(part.publishers);
        rejoined.skipped.extend(part.skipped);
    }
    rejoined.skipped.sort();
    assert_eq!(rejoined, table);
    assert_eq!(index.workspaces.len(), table.workspaces.len());

    // A change to one tier rewrites the one shard that holds it.
    let mut changed = m.clone();
    let t = changed
        .tiers
        .iter_mut()
        .find(|t| t.metadata.name.as_deref() == Some("tier-00042"))
        .unwrap();
    t.spec.escalation[0].queue = "another-queue".into();
    let after = compile(&changed).shard(SHARD_LIMIT_BYTES);
    assert_eq!(after.index, sharded.index);
    let differing: Vec<usize> = (0..sharded.shards.len())
        .filter(|&i| sharded.shards[i] != after.shards[i])
        .collect();
    assert_eq!(differing, [index.tiers["tier-00042"]]);

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

#[test]
fn the_table_and_every_slice_validate_against_the_published_schema() {
    let m = examples();
    let table = compile(&m);
    assert_valid("the examples' table", &table.to_json(), None);
    for cm in routing::config_maps(&table, &m.catalog(), "support-operator") {
        let doc = &cm.data.as_ref().unwrap()["routes.json"];
        let name = format!(
            "{}/{}",
            cm.metadata.namespace.unwrap(),
            cm.metadata.name.unwrap()
        );
        assert_valid(&name, doc, None);
    }
    // The schema is strict enough to refuse what it should: a version 1
    // route list, and a workspace that neither lists tiers nor says anyTier.
    let (schemas, index) = validator(None);
    let v1 = serde_json::json!({"schemaVersion": 1, "routes": [], "calendars": {}});
    assert!(schemas.validate(&v1, index).is_err());
    let mut doc: serde_json::Value = serde_json::from_str(&table.to_json()).unwrap();
    doc["workspaces"]["marketing"]
        .as_object_mut()
        .unwrap()
        .remove("anyTier");
    assert!(schemas.validate(&doc, index).is_err());
}
