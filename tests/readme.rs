//! The README's quick start runs what CI runs. (The field reference lives
//! in docs/reference.md; tests/crds.rs keeps it generated.)

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
