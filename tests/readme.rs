//! The README and docs/ stay true: the field reference is the one generated
//! from the types, the README names the test command CI runs, stays short
//! enough to read in five minutes (everything else lives under docs/), and no
//! relative link in them points at a file that is not there.

use std::path::{Component, Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    let full = Path::new(ROOT).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The README holds the overview; what does not fit in this many lines
/// belongs in a file under docs/ (issue 13: "README at most ~200 lines").
const README_MAX_LINES: usize = 200;

#[test]
fn field_reference_matches_the_crds() {
    let doc = read("docs/field-reference.md");
    let begin = "<!-- BEGIN FIELD REFERENCE -->\n";
    let end = "<!-- END FIELD REFERENCE -->";
    let start = doc
        .find(begin)
        .expect("docs/field-reference.md has the begin marker")
        + begin.len();
    let stop = doc[start..]
        .find(end)
        .expect("docs/field-reference.md has the end marker")
        + start;
    let expected = support_operator::api::reference::markdown();
    assert!(
        doc[start..stop] == expected,
        "docs/field-reference.md is stale: put the output of `cargo run -- crds --markdown` \
         between its markers"
    );
}

#[test]
fn readme_quick_start_names_the_test_command_ci_runs() {
    let readme = read("README.md");
    let ci = read(".ci/run");
    assert!(
        readme.contains("\nhack/test "),
        "README quick start runs hack/test"
    );
    assert!(
        ci.contains("exec hack/test"),
        ".ci/run runs the README's test command"
    );
}

#[test]
fn readme_is_at_most_200_lines() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move the detail to a file \
         under docs/ and link it"
    );
}

/// The targets of inline Markdown links `[text](target)` outside code:
/// fenced blocks are skipped and inline code spans removed first, so a jq
/// filter or a JSON example is never taken for a link.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop `code spans`: every other backtick-separated piece.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(close) = after.find(')') else { break };
            // `[text](target "title")`: the target is the first word.
            let target = after[..close].split_whitespace().next().unwrap_or("");
            targets.push(target.trim_matches(['<', '>']).to_string());
            rest = &after[close..];
        }
    }
    targets
}

/// `path` with `.` and `..` resolved lexically; `None` if it climbs above
/// the repository (a clone would not have what lies there).
fn inside_repo(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<Component> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.iter().collect())
}

#[test]
fn every_relative_link_of_the_readme_and_docs_points_at_a_file() {
    let mut files = vec![
        PathBuf::from("README.md"),
        PathBuf::from("CONTRIBUTING.md"),
        PathBuf::from("CHANGELOG.md"),
        PathBuf::from("SECURITY.md"),
    ];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter_map(|p| p.strip_prefix(ROOT).ok().map(Path::to_path_buf))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "docs/ holds Markdown files");
    files.extend(docs);

    let mut checked = 0;
    let mut broken = Vec::new();
    for file in &files {
        let text = read(&file.to_string_lossy());
        for target in link_targets(&text) {
            let is_external = target.contains("://") || target.starts_with("mailto:");
            let path = target.split('#').next().unwrap_or("");
            if is_external || path.is_empty() {
                continue;
            }
            checked += 1;
            let base = file.parent().unwrap_or(Path::new(""));
            match inside_repo(&base.join(path)) {
                Some(resolved) if Path::new(ROOT).join(&resolved).exists() => {}
                Some(_) => broken.push(format!("{}: {target} does not exist", file.display())),
                None => broken.push(format!(
                    "{}: {target} points outside the repository",
                    file.display()
                )),
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // The README alone links a dozen docs: finding none means the parser broke.
    assert!(checked >= 20, "only {checked} relative links found");
}

#[test]
fn the_link_reader_finds_links_and_ignores_code() {
    let md = "See [a](docs/a.md) and [b](../b.md#x \"title\").\n\
              `[not](a-link.md)` here\n\
              ```\n[nor](this.md)\n```\n\
              [web](https://example.com) [anchor](#top)\n";
    assert_eq!(
        link_targets(md),
        ["docs/a.md", "../b.md#x", "https://example.com", "#top"]
    );
    assert_eq!(
        inside_repo(Path::new("docs/../README.md")),
        Some(PathBuf::from("README.md"))
    );
    assert_eq!(inside_repo(Path::new("../shared/DESIGN.md")), None);
}
