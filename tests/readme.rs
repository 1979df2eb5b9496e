//! The README's field reference is the one generated from the types.

#[test]
fn readme_field_reference_matches_the_crds() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let begin = "<!-- BEGIN FIELD REFERENCE -->\n";
    let end = "<!-- END FIELD REFERENCE -->";
    let start = readme
        .find(begin)
        .expect("README has the reference markers")
        + begin.len();
    let stop = readme[start..]
        .find(end)
        .expect("README has the end marker")
        + start;
    let expected = support_operator::api::reference::markdown();
    assert!(
        readme[start..stop] == expected,
        "README field reference is stale: regenerate it with `cargo run -- crds --markdown`"
    );
}

#[test]
fn readme_quick_start_names_the_test_command_ci_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        readme.contains("\nhack/test "),
        "README quick start runs hack/test"
    );
    assert!(
        ci.contains("exec hack/test"),
        ".ci/run runs the README's test command"
    );
}
