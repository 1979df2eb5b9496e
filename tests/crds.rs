//! The checked-in CRDs are exactly what `support-operator crds` prints, and
//! carry what `kubectl` users rely on: printer columns, short names, category,
//! status subresource.

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
        let expected: &[&str] = if names.kind == "Ticket" {
            &["Workspace", "Severity", "Phase", "Due", "Age"]
        } else {
            &["Ready", "Age"]
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
