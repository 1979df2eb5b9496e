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
