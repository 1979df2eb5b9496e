//! What a release promises besides behaviour: `--version` names the commit
//! and build date, and the dependency tree is under licenses the project
//! accepts and comes from crates.io only (hack/licenses.toml). Offline: it
//! reads `cargo metadata --locked --offline`, nothing is downloaded.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

#[test]
fn version_names_the_commit_and_build_date() {
    let out = Command::new(env!("CARGO_BIN_EXE_support-operator"))
        .arg("--version")
        .output()
        .expect("running support-operator --version");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = format!(
        "support-operator {} (commit {}, built {})\n",
        env!("CARGO_PKG_VERSION"),
        support_operator::version::COMMIT,
        support_operator::version::BUILD_DATE
    );
    assert_eq!(text, want);
    let commit = support_operator::version::COMMIT;
    assert!(
        commit == "unknown"
            || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()))
            || std::env::var_os("SUPPORT_OPERATOR_COMMIT").is_some(),
        "commit {commit:?}"
    );
    let date = support_operator::version::BUILD_DATE;
    assert!(
        date.parse::<jiff::Timestamp>().is_ok() && date.ends_with('Z') && date.len() == 20,
        "build date {date:?}"
    );
    // In a git checkout (not an exported tarball), the commit is HEAD's.
    if std::env::var_os("SUPPORT_OPERATOR_COMMIT").is_none()
        && let Ok(head) = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
        && head.status.success()
    {
        // build.rs runs again whenever HEAD moves, so the binary built for
        // this test has HEAD's commit.
        let head = String::from_utf8(head.stdout).unwrap();
        assert_eq!(
            commit,
            head.trim(),
            "the commit of a build in a git checkout"
        );
    }
}

/// The quoted strings of `key = [ ... ]` in the (TOML subset) allow list.
fn list(text: &str, key: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if !inside {
            if let Some(rest) = line.strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                inside = true;
            } else {
                continue;
            }
        }
        for (i, part) in line.split('"').enumerate() {
            if i % 2 == 1 {
                out.insert(part.to_string());
            }
        }
        if line.ends_with(']') {
            break;
        }
    }
    out
}

/// Whether an SPDX license expression can be met with `allow`ed licenses
/// and `exceptions` (OR: either side; AND: both; WITH: the license and the
/// exception; `/` is the old spelling of OR).
fn satisfiable(expr: &str, allow: &BTreeSet<String>, exceptions: &BTreeSet<String>) -> bool {
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let ok = or(&tokens, &mut pos, allow, exceptions);
    ok == Some(true) && pos == tokens.len()
}

type Sets<'a> = (&'a BTreeSet<String>, &'a BTreeSet<String>);

fn or(
    t: &[&str],
    pos: &mut usize,
    allow: &BTreeSet<String>,
    ex: &BTreeSet<String>,
) -> Option<bool> {
    let mut value = and(t, pos, (allow, ex))?;
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        value |= and(t, pos, (allow, ex))?;
    }
    Some(value)
}

fn and(t: &[&str], pos: &mut usize, sets: Sets) -> Option<bool> {
    let mut value = atom(t, pos, sets)?;
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        value &= atom(t, pos, sets)?;
    }
    Some(value)
}

fn atom(t: &[&str], pos: &mut usize, (allow, ex): Sets) -> Option<bool> {
    let token = *t.get(*pos)?;
    *pos += 1;
    if token == "(" {
        let value = or(t, pos, allow, ex)?;
        (t.get(*pos) == Some(&")")).then_some(())?;
        *pos += 1;
        return Some(value);
    }
    let mut value = allow.contains(token);
    if t.get(*pos) == Some(&"WITH") {
        let exception = *t.get(*pos + 1)?;
        *pos += 2;
        value &= ex.contains(exception);
    }
    Some(value)
}

#[test]
fn license_expressions_are_evaluated_as_spdx_says() {
    let allow: BTreeSet<String> = ["MIT", "Apache-2.0"].map(String::from).into();
    let ex: BTreeSet<String> = ["LLVM-exception"].map(String::from).into();
    let yes = |e| satisfiable(e, &allow, &ex);
    assert!(yes("MIT"));
    assert!(yes("MIT OR GPL-3.0"));
    assert!(yes("MIT/Apache-2.0"));
    assert!(yes("Apache-2.0 WITH LLVM-exception OR GPL-2.0"));
    assert!(yes("(MIT OR GPL-3.0) AND Apache-2.0"));
    assert!(!yes("GPL-3.0"));
    assert!(!yes("MIT AND GPL-3.0"));
    assert!(!yes("(MIT OR Apache-2.0) AND LGPL-2.1-or-later"));
    assert!(!yes("GPL-2.0 WITH LLVM-exception"));
    assert!(!yes("Apache-2.0 WITH Classpath-exception-2.0"));
    assert!(!yes("MIT OR"), "malformed");
    assert!(!yes("(MIT"), "malformed");
}

#[test]
fn dependencies_are_under_accepted_licenses_and_from_crates_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = std::fs::read_to_string(root.join("hack/licenses.toml")).unwrap();
    let (allow, exceptions, sources) = (
        list(&policy, "allow"),
        list(&policy, "exceptions"),
        list(&policy, "sources"),
    );
    assert!(
        allow.contains("MIT") && sources.len() == 1,
        "{allow:?} {sources:?}"
    );
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .current_dir(root)
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata --locked --offline failed (is Cargo.lock up to date?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    assert!(packages.len() > 100, "the whole tree: {}", packages.len());
    let mut problems = Vec::new();
    for p in packages {
        let name = format!(
            "{} {}",
            p["name"].as_str().unwrap(),
            p["version"].as_str().unwrap()
        );
        let local = p["source"].is_null();
        if local {
            if p["name"] != "support-operator" {
                problems.push(format!("{name}: a path dependency"));
            }
        } else {
            let source = p["source"].as_str().unwrap_or_default();
            if !sources.contains(source) {
                problems.push(format!("{name}: from {source}, not crates.io"));
            }
        }
        match p["license"].as_str() {
            Some(expr) if satisfiable(expr, &allow, &exceptions) => {}
            Some(expr) => problems.push(format!("{name}: license {expr:?} is not accepted")),
            None => problems.push(format!(
                "{name}: no SPDX license (license-file {:?})",
                p["license_file"]
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} packages break hack/licenses.toml:\n{}",
        problems.len(),
        packages.len(),
        problems.join("\n")
    );
}
