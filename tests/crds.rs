//! The checked-in CRDs are exactly what `support-operator crds` prints, and
//! carry what `kubectl` users rely on: printer columns, short names, category,
//! status subresource.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;
use support_operator::api::{crd_file_name, crds, crds_yaml};

#[test]
fn checked_in_crds_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    let mut stale = Vec::new();
    for crd in crds() {
        let name = crd_file_name(&crd);
        let expected = serde_saphyr::to_string(&crd).unwrap();
        let actual = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        if actual != expected {
            stale.push(name);
        }
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(
        files,
        crds().len(),
        "crds/ holds files that are not CRDs of this operator"
    );
    assert!(
        stale.is_empty(),
        "crds/ is out of date for {stale:?}: run `cargo run -- crds --out-dir crds`"
    );
}

#[test]
fn printed_crds_are_the_five_resources() {
    let yaml = crds_yaml().unwrap();
    assert_eq!(yaml.matches("kind: CustomResourceDefinition").count(), 5);
    for name in [
        "slapolicies.supportpolicy.dev",
        "supporttiers.supportpolicy.dev",
        "workspaces.supportpolicy.dev",
        "tickets.supportpolicy.dev",
        "publishers.supportpolicy.dev",
    ] {
        assert!(yaml.contains(&format!("name: {name}")), "{name} missing");
    }
}

#[test]
fn crds_have_kubectl_affordances() {
    for crd in crds() {
        let names = &crd.spec.names;
        assert_eq!(
            names.categories.as_deref(),
            Some(&["support".to_string()][..]),
            "{}",
            names.kind
        );
        assert!(
            names.short_names.as_ref().is_some_and(|s| !s.is_empty()),
            "{}",
            names.kind
        );
        let version = &crd.spec.versions[0];
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some()
        );
        let columns: Vec<&str> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        let expected: &[&str] = match names.kind.as_str() {
            "Ticket" => &["Workspace", "Severity", "Phase", "Due", "Age"],
            "Workspace" => &["Ready", "Open", "At Risk", "Breached", "Age"],
            _ => &["Ready", "Age"],
        };
        for column in expected {
            assert!(
                columns.contains(column),
                "{} lacks column {column}: {columns:?}",
                names.kind
            );
        }
    }
}

#[test]
fn conditions_merge_by_type_under_server_side_apply() {
    let yaml = crds_yaml().unwrap();
    let count = yaml.matches("x-kubernetes-list-type: map").count();
    assert!(
        count >= 5,
        "every status.conditions must be a map list keyed by type"
    );
}

/// `kubectl get -o wide` shows why an object is not Ready (Accepted for a
/// Ticket): the condition's reason and message, in wide output only.
#[test]
fn wide_columns_show_the_readiness_reason_and_message() {
    for crd in crds() {
        let kind = &crd.spec.names.kind;
        let condition = if kind == "Ticket" {
            "Accepted"
        } else {
            "Ready"
        };
        let columns = crd.spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap_or_default();
        for field in ["reason", "message"] {
            let path = format!(".status.conditions[?(@.type==\"{condition}\")].{field}");
            let column = columns
                .iter()
                .find(|c| c.json_path == path)
                .unwrap_or_else(|| panic!("{kind} has no column for {path}"));
            assert_eq!(column.priority, Some(1), "{kind} {path} is wide only");
        }
    }
}

/// Every property of every schema, with its path.
fn properties(path: &str, schema: &Value, out: &mut Vec<(String, Value)>) {
    for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
        let here = format!("{path}.{name}");
        out.push((here.clone(), sub.clone()));
        properties(&here, sub, out);
    }
    if schema["items"].is_object() {
        properties(&format!("{path}[]"), &schema["items"], out);
    }
}

fn schema_of(crd: &CustomResourceDefinition) -> Value {
    serde_json::to_value(
        crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .expect("a schema"),
    )
    .unwrap()
}

/// `kubectl explain` has something to say about every field, in this
/// project's words: no property without a description, none with the Go
/// library's boilerplate, and no enum that offers `null` as a value.
#[test]
fn kubectl_explain_describes_every_property() {
    let mut problems = Vec::new();
    for crd in crds() {
        let kind = &crd.spec.names.kind;
        let mut all = Vec::new();
        properties(kind, &schema_of(&crd), &mut all);
        let top = ["apiVersion", "kind", "metadata"].map(|p| format!("{kind}.{p}"));
        for (path, schema) in all {
            if top.contains(&path) {
                continue;
            }
            let description = schema["description"].as_str().unwrap_or_default().trim();
            if description.is_empty() {
                problems.push(format!("{path}: no description"));
            }
            for boilerplate in ["time.Time", "Wrappers are provided", "marshaling"] {
                if description.contains(boilerplate) {
                    problems.push(format!("{path}: Go boilerplate {description:?}"));
                }
            }
            if schema["enum"]
                .as_array()
                .is_some_and(|e| e.iter().any(Value::is_null))
            {
                problems.push(format!("{path}: null among the enum's values"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} properties kubectl explain cannot explain:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A test of the test: the walk reaches nested and array-item properties.
#[test]
fn the_description_walk_reaches_nested_properties() {
    let crd = crds()
        .into_iter()
        .find(|c| c.spec.names.kind == "Ticket")
        .unwrap();
    let mut all = Vec::new();
    properties("Ticket", &schema_of(&crd), &mut all);
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "Ticket.spec.pauses[].from",
        "Ticket.spec.reopenOf.closedAt",
        "Ticket.status.redirect.contact.email",
        "Ticket.status.conditions[].reason",
    ] {
        assert!(paths.contains(&want), "{want} not walked: {paths:?}");
    }
}

/// The defaults DESIGN.md gives are OpenAPI defaults, each one of the
/// field's allowed values (nullable enums stay nullable: an explicit null
/// means absent).
#[test]
fn design_defaults_are_openapi_defaults() {
    let mut defaults = std::collections::BTreeMap::new();
    for crd in crds() {
        let mut all = Vec::new();
        properties(&crd.spec.names.kind, &schema_of(&crd), &mut all);
        for (path, schema) in all {
            let Some(default) = schema.get("default") else {
                continue;
            };
            let allowed = |v: &Value| {
                schema["enum"]
                    .as_array()
                    .or(schema["items"]["enum"].as_array())
                    .is_none_or(|e| e.contains(v))
            };
            match default {
                Value::Array(items) => assert!(items.iter().all(allowed), "{path}: {default}"),
                one => assert!(allowed(one), "{path}: {default}"),
            }
            if schema["enum"].is_array() {
                assert_eq!(schema["nullable"], true, "{path}");
            }
            defaults.insert(path, default.clone());
        }
    }
    for (path, want) in [
        (
            "SlaPolicy.spec.roundTheClockLanguages",
            serde_json::json!(["en"]),
        ),
        (
            "SlaPolicy.spec.preview.languages",
            serde_json::json!(["en"]),
        ),
        (
            "SlaPolicy.spec.preview.categories",
            serde_json::json!(["Technical"]),
        ),
        (
            "SupportTier.spec.entitlements",
            serde_json::json!(["Technical", "Billing", "Subscription"]),
        ),
        ("Ticket.spec.category", serde_json::json!("Technical")),
        ("Ticket.spec.language", serde_json::json!("en")),
        (
            "Ticket.spec.customerAvailability",
            serde_json::json!("BusinessHours"),
        ),
        (
            "Ticket.spec.coverageRequested",
            serde_json::json!("BusinessHours"),
        ),
        ("Ticket.spec.productStage", serde_json::json!("GA")),
        ("Ticket.spec.subscription", serde_json::json!("Paid")),
        ("Ticket.spec.investigation", serde_json::json!("BreakFix")),
        ("Ticket.spec.effort", serde_json::json!("0s")),
    ] {
        assert_eq!(defaults.get(path), Some(&want), "default of {path}");
    }
    // Not defaulted: it depends on `agreement` (false for Unified, true otherwise).
    assert!(!defaults.contains_key("Workspace.spec.allowPersonalAccounts"));
}

/// The API server fills in the defaults; the operator must judge the
/// defaulted object exactly as the one without them. Every example, with
/// every schema default filled in where the field is absent, evaluates to
/// the same statuses and ConfigMaps.
#[test]
fn defaults_mean_what_the_operator_assumes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = root.join("examples");
    let schemas: std::collections::BTreeMap<String, Value> = crds()
        .iter()
        .map(|c| (c.spec.names.kind.clone(), schema_of(c)))
        .collect();
    let dir = std::env::temp_dir().join(format!("crds-defaults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut filled = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        let mut out = String::new();
        for mut doc in docs.into_iter().filter(|d| !d.is_null()) {
            if let Some(schema) = doc["kind"].as_str().and_then(|k| schemas.get(k)) {
                filled += fill_defaults(&mut doc, schema);
            }
            out.push_str("---\n");
            out.push_str(&serde_json::to_string(&doc).unwrap());
            out.push('\n');
        }
        std::fs::write(dir.join(path.file_name().unwrap()), out).unwrap();
    }
    assert!(
        filled > 10,
        "the examples leave defaults to fill ({filled})"
    );
    let now: jiff::Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
    let evaluate = |path: &std::path::Path| {
        let manifests =
            support_operator::manifests::Manifests::load(&[path.to_path_buf()]).unwrap();
        let report =
            support_operator::evaluate::evaluate_manifests(&manifests, now, "support-operator")
                .report;
        serde_json::to_value((&report.tickets, &report.config_maps)).unwrap()
    };
    let plain = evaluate(&examples);
    let defaulted = evaluate(&dir);
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        plain == defaulted,
        "defaults change what the operator computes"
    );
}

/// Fills absent fields with their schema `default`, as the API server does
/// (recursively, in objects that are present). Returns how many it filled.
fn fill_defaults(value: &mut Value, schema: &Value) -> usize {
    let mut filled = 0;
    match value {
        Value::Object(map) => {
            for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
                match map.get_mut(name) {
                    Some(present) if !present.is_null() => filled += fill_defaults(present, sub),
                    _ => {
                        if let Some(default) = sub.get("default") {
                            map.insert(name.clone(), default.clone());
                            filled += 1;
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                filled += fill_defaults(item, &schema["items"]);
            }
        }
        _ => {}
    }
    filled
}

/// Every regular expression the CRDs carry (CEL `matches()` and OpenAPI
/// `pattern`) is one of `api::pattern`'s constants: the grammar is written
/// once, so the offline parsers and the docs cannot quote another one.
#[test]
fn every_pattern_in_the_crds_comes_from_one_source() {
    use support_operator::api::pattern;
    let known = [
        pattern::DURATION,
        pattern::CEL_SAFE_DURATION,
        pattern::PERCENT,
        pattern::AFTER_PERCENT,
        pattern::LANGUAGE,
        pattern::NAME,
        pattern::DNS_LABEL,
        pattern::SEVERITY_NAME,
        pattern::CLOCK_START,
        pattern::CLOCK_END,
        pattern::HOLIDAY_DATE,
        pattern::URL,
        pattern::EMAIL,
        pattern::PHONE,
        pattern::INSTANT,
    ];
    let mut found = Vec::new();
    for crd in crds() {
        let json = serde_json::to_value(&crd).unwrap();
        collect_patterns(&json, &mut found);
    }
    assert!(found.len() > 20, "too few patterns found: {found:?}");
    let strangers: Vec<&String> = found
        .iter()
        .filter(|p| !known.contains(&p.as_str()))
        .collect();
    assert!(
        strangers.is_empty(),
        "patterns written outside api::pattern: {strangers:?}"
    );
}

fn collect_patterns(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("pattern", serde_json::Value::String(p)) => out.push(p.clone()),
                    ("rule", serde_json::Value::String(rule)) => cel_patterns(rule, out),
                    _ => collect_patterns(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_patterns(v, out)),
        _ => {}
    }
}

/// The regexes of a CEL rule's `matches('...')` calls, unescaped.
fn cel_patterns(rule: &str, out: &mut Vec<String>) {
    for part in rule.split("matches('").skip(1) {
        let mut pattern = String::new();
        let mut chars = part.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => pattern.extend(chars.next()),
                '\'' => break,
                c => pattern.push(c),
            }
        }
        out.push(pattern);
    }
}
