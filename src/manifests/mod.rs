//! Reading manifests (YAML or JSON, multi-document, files, folders or
//! standard input) into the five resources, and checking each object as the
//! API server would before it stores it: the CRD's schema and CEL rules
//! ([`validate`]) and the object's metadata. Every problem becomes a
//! [`Finding`] naming file, line, object and field; reading goes on past it,
//! so that one run reports them all. Only input that cannot be read at all
//! (a missing file, broken YAML, a budget exceeded) stops it.
//!
//! YAML is read with `serde-saphyr`: maintained, pure Rust, built to never
//! panic on hostile input, and its errors carry line, column and a snippet.
//! (`serde_yaml` is archived; its forks either wrap the same unmaintained
//! libyaml port or are one person's unreviewed rewrite.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::api::{API_VERSION, Publisher, SlaPolicy, SupportTier, Ticket, Workspace};
use crate::catalog::Catalog;

mod cel;
mod doc;
mod finding;
pub mod lines;
pub mod schema;
pub mod validate;

use doc::Doc;
pub use finding::{Check, Finding, Severity, did_you_mean, edit_distance, suggestion};

/// Largest manifest file read; a support model is kilobytes, not this.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The name `-f -` (standard input) is reported under.
pub const STDIN: &str = "-";

/// The API group of our resources: another version of it is refused, not
/// skipped as a foreign kind.
const GROUP: &str = "supportpolicy.dev";

/// The namespace kubectl files a namespaced object without one in (its
/// context's namespace, `default` unless configured).
pub const DEFAULT_NAMESPACE: &str = "default";

/// Where an object was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: String,
    /// The first line of its document.
    pub line: Option<usize>,
}

/// An object of another kind than ours, passed over (a Namespace, a
/// ConfigMap, a `kustomization.yaml`): `kustomize build | evaluate -f -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub line: Option<usize>,
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// The resources found in a set of manifests, each with where it came from,
/// and what reading them found.
#[derive(Debug, Default, Clone)]
pub struct Manifests {
    pub policies: Vec<SlaPolicy>,
    pub tiers: Vec<SupportTier>,
    pub workspaces: Vec<Workspace>,
    pub tickets: Vec<Ticket>,
    pub publishers: Vec<Publisher>,
    /// `Kind namespace/name` → where it was read, for messages about it.
    pub origins: BTreeMap<String, Origin>,
    /// Objects of other kinds, not evaluated.
    pub skipped: Vec<Skipped>,
    /// What the API server would refuse, and objects defined twice, in
    /// input order. Refused documents are left out of the evaluation when
    /// their types cannot hold them, kept when only a check failed.
    pub findings: Vec<Finding>,
    /// The text read from standard input, to locate findings in it.
    stdin_text: Option<String>,
}

/// Why manifests could not be read at all (exit 2). Everything less is a
/// [`Finding`].
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { path: String },
    #[error("{path}: not valid YAML: {message}")]
    Syntax { path: String, message: String },
    #[error("{0}: no manifests found (looked for *.yaml, *.yml, *.json)")]
    Empty(String),
}

/// One file's documents, typed where they could be, with what was found.
struct ParsedFile {
    name: String,
    docs: Vec<(Option<usize>, Doc)>,
    findings: Vec<Finding>,
}

impl Manifests {
    /// Reads files and folders (recursively, in name order); `-` reads
    /// `stdin` (the caller reads standard input: this layer does not).
    pub fn load(paths: &[PathBuf]) -> Result<Self, ManifestError> {
        Self::load_with_stdin(paths, None)
    }

    /// [`Manifests::load`], with the text of standard input for `-`.
    pub fn load_with_stdin(paths: &[PathBuf], stdin: Option<&str>) -> Result<Self, ManifestError> {
        let mut out = Manifests::default();
        for path in paths {
            if path.as_os_str() == STDIN {
                let text = stdin.unwrap_or_default();
                out.add_str(STDIN, text)?;
                out.stdin_text = Some(text.to_string());
                continue;
            }
            let files = expand(path)?;
            if files.is_empty() {
                return Err(ManifestError::Empty(path.display().to_string()));
            }
            // Files are parsed a few at a time on their own threads (YAML
            // parsing is most of the cost of loading), then added in order,
            // so findings come in file order and at most `threads` parsed
            // files are held at once.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
            for batch in files.chunks(threads) {
                let parsed: Vec<Result<ParsedFile, ManifestError>> = if batch.len() == 1 {
                    vec![parse_file(&batch[0])]
                } else {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = batch
                            .iter()
                            .map(|file| scope.spawn(move || parse_file(file)))
                            .collect();
                        handles
                            .into_iter()
                            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                            .collect()
                    })
                };
                for result in parsed {
                    out.add_parsed(result?);
                }
            }
        }
        Ok(out)
    }

    /// Adds every document of one YAML (or JSON) stream. Errs only when the
    /// stream cannot be read; refused documents become [`Manifests::findings`].
    pub fn add_str(&mut self, path: &str, text: &str) -> Result<(), ManifestError> {
        let parsed = parse_text(path, text)?;
        self.add_parsed(parsed);
        Ok(())
    }

    fn add_parsed(&mut self, parsed: ParsedFile) {
        self.findings.extend(parsed.findings);
        for (line, doc) in parsed.docs {
            self.add_doc(&parsed.name, line, doc);
        }
    }

    /// Records the object, refusing a second definition of it.
    fn add_doc(&mut self, path: &str, line: Option<usize>, parsed: Doc) {
        match parsed {
            Doc::List(items) => {
                for item in items {
                    self.add_doc(path, line, item);
                }
            }
            // Only the slow path yields documents with a verdict; a refused
            // one from the fast path made the caller take the slow path.
            Doc::Refused => {}
            Doc::Foreign {
                api_version,
                kind,
                name,
            } => self.skipped.push(Skipped {
                path: path.to_string(),
                line,
                api_version,
                kind,
                name,
            }),
            Doc::Policy(obj) => {
                if self.record(path, line, "SlaPolicy", &obj.metadata) {
                    self.policies.push(*obj);
                }
            }
            Doc::Tier(obj) => {
                if self.record(path, line, "SupportTier", &obj.metadata) {
                    self.tiers.push(*obj);
                }
            }
            Doc::Workspace(obj) => {
                if self.record(path, line, "Workspace", &obj.metadata) {
                    self.workspaces.push(*obj);
                }
            }
            Doc::Publisher(obj) => {
                if self.record(path, line, "Publisher", &obj.metadata) {
                    self.publishers.push(*obj);
                }
            }
            Doc::Ticket(mut obj) => {
                // As kubectl does: no namespace is its context's namespace.
                if obj
                    .metadata
                    .namespace
                    .as_deref()
                    .unwrap_or_default()
                    .is_empty()
                {
                    obj.metadata.namespace = Some(DEFAULT_NAMESPACE.to_string());
                }
                if self.record(path, line, "Ticket", &obj.metadata) {
                    self.tickets.push(*obj);
                }
            }
        }
    }

    /// Whether the object is new; a second definition is a finding.
    fn record(&mut self, path: &str, line: Option<usize>, kind: &str, meta: &ObjectMeta) -> bool {
        let key = object_key(kind, meta);
        if let Some(first) = self.origins.get(&key) {
            let first = match first.line {
                Some(l) => format!("{}:{l}", first.path),
                None => first.path.clone(),
            };
            self.findings.push(
                Finding::error(Check::Duplicate, path, kind, &display_name(meta))
                    .at(line)
                    .message(format!(
                        "is defined twice: first in {first}; this one is ignored"
                    )),
            );
            return false;
        }
        self.origins.insert(
            key,
            Origin {
                path: path.to_string(),
                line,
            },
        );
        true
    }

    /// Where an object was read from.
    pub fn origin(&self, kind: &str, meta: &ObjectMeta) -> Option<&Origin> {
        self.origins.get(&object_key(kind, meta))
    }

    /// The snapshot the rules judge tickets against.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(&self.policies, &self.tiers, &self.workspaces)
            .with_publishers(self.publishers.iter().cloned().map(std::sync::Arc::new))
    }

    /// Sharpens the lines of `findings` that name a field: the line where
    /// that field's keys appear below the object's first line. Reads the
    /// files again (findings are few; the text is not kept).
    pub fn locate_fields(&self, findings: &mut [Finding]) {
        // Each file read and split into lines once, however many findings
        // it has.
        let mut by_path: BTreeMap<String, Vec<&mut Finding>> = BTreeMap::new();
        for f in findings.iter_mut() {
            if f.line.is_some() && !f.field.is_empty() {
                by_path.entry(f.path.clone()).or_default().push(f);
            }
        }
        for (path, findings) in by_path {
            let text = if path == STDIN {
                self.stdin_text.clone()
            } else {
                std::fs::read_to_string(&path).ok()
            };
            let Some(text) = text else { continue };
            let lines: Vec<&str> = text.lines().collect();
            for f in findings {
                if let Some(line) = f.line {
                    f.line = Some(lines::locate(&lines, line, &f.field));
                }
            }
        }
    }
}

/// `namespace/name` or `name`.
pub fn display_name(meta: &ObjectMeta) -> String {
    match &meta.namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{}", meta.name.as_deref().unwrap_or_default()),
        _ => meta.name.clone().unwrap_or_default(),
    }
}

/// `Kind namespace/name` or `Kind name`.
pub fn object_key(kind: &str, meta: &ObjectMeta) -> String {
    format!("{kind} {}", display_name(meta))
}

/// Reads and parses one file into its documents, refusing oversized files.
fn parse_file(file: &Path) -> Result<ParsedFile, ManifestError> {
    let name = file.display().to_string();
    let len = std::fs::metadata(file)
        .map_err(|source| ManifestError::Io {
            path: name.clone(),
            source,
        })?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(ManifestError::TooLarge { path: name });
    }
    let text = std::fs::read_to_string(file).map_err(|source| ManifestError::Io {
        path: name.clone(),
        source,
    })?;
    if is_kustomization(file) {
        // kustomize's own file: often without apiVersion and kind.
        return Ok(ParsedFile {
            docs: vec![(
                Some(1),
                Doc::Foreign {
                    api_version: "kustomize.config.k8s.io/v1beta1".into(),
                    kind: "Kustomization".into(),
                    name: String::new(),
                },
            )],
            name,
            findings: Vec::new(),
        });
    }
    parse_text(&name, &text)
}

fn is_kustomization(file: &Path) -> bool {
    file.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        matches!(
            n,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        )
    })
}

/// YAML budgets for `evaluate`, counted by the parser as it reads (so a
/// hostile stream is stopped part-way, not after it was expanded). A
/// generated folder may hold 1,000 tickets a file, so the stream limits on
/// documents, nodes and events are raised; what aliases may cost is cut far
/// below serde-saphyr's defaults (a million replayed or recorded events let
/// a 1.3 KB bomb take seconds and ~200 MiB): manifests use anchors, if at
/// all, for a shared block or two, never thousands of events' worth.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 50_000_000,
            max_events: 100_000_000,
            max_recorded_anchor_events: ALIAS_EVENTS,
            max_recorded_anchor_bytes: 4 * 1024 * 1024,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: ALIAS_EVENTS,
        },
    }
}

/// Events all anchors of a stream may record, and all aliases replay.
pub const ALIAS_EVENTS: usize = 20_000;

/// A parser limit (a budget, the alias limits): the slow path would only
/// hit it again, at the same cost.
fn over_budget(e: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error as E;
    let mut e = e;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = e {
        e = error;
    }
    matches!(
        e,
        E::Budget { .. }
            | E::AliasReplayLimitExceeded { .. }
            | E::AliasReplayCounterOverflow { .. }
            | E::AliasReplayStackDepthExceeded { .. }
    )
}

/// The documents of one stream, parsed straight into the resources; on any
/// problem, parsed again the slow way for findings naming object and field.
fn parse_text(path: &str, text: &str) -> Result<ParsedFile, ManifestError> {
    // Spec instants as strictly as the API server reads them (see
    // `api::common::instant`): only manifests, never the cluster's objects.
    crate::api::common::instant::strictly(|| parse_strictly(path, text))
}

fn parse_strictly(path: &str, text: &str) -> Result<ParsedFile, ManifestError> {
    // `no_schema`: an unquoted `75` or `no` is a number or a boolean, as it
    // is to kubectl; the fast path must not take it for a string field.
    let mut strict = yaml_options();
    strict.no_schema = true;
    match serde_saphyr::from_multiple_with_options::<Doc>(text, strict) {
        Ok(docs) if docs.iter().all(validate::passes) => {
            let starts = lines::document_starts(text);
            Ok(ParsedFile {
                name: path.to_string(),
                docs: docs
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| (starts.get(i).copied(), d))
                    .collect(),
                findings: Vec::new(),
            })
        }
        Err(e) if over_budget(&e) => Err(ManifestError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        }),
        _ => slow_docs(path, text),
    }
}

/// Every document as a `serde_json::Value`, checked as the API server
/// checks it, then typed with `serde_path_to_error` so that an error names
/// the field.
fn slow_docs(path: &str, text: &str) -> Result<ParsedFile, ManifestError> {
    let values: Vec<Value> = serde_saphyr::from_multiple_with_options(text, yaml_options())
        .map_err(|e| ManifestError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        })?;
    let starts = lines::document_starts(text);
    let text: Vec<&str> = text.lines().collect();
    let mut out = ParsedFile {
        name: path.to_string(),
        docs: Vec::new(),
        findings: Vec::new(),
    };
    for (i, value) in values.into_iter().enumerate() {
        let line = starts.get(i).copied();
        let doc = value_doc(path, &text, line, value, &mut out.findings);
        out.docs.push((line, doc));
    }
    Ok(out)
}

/// One document: skipped, refused (with findings), or typed.
fn value_doc(
    path: &str,
    text: &[&str],
    line: Option<usize>,
    value: Value,
    findings: &mut Vec<Finding>,
) -> Doc {
    let Value::Object(map) = &value else {
        if value.is_null() {
            return Doc::List(Vec::new());
        }
        findings.push(
            Finding::error(Check::Kind, path, "", "")
                .at(line)
                .message("is not a mapping (an object with apiVersion and kind)"),
        );
        return Doc::Refused;
    };
    let text_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = text_of(map.get("kind"));
    let api_version = text_of(map.get("apiVersion"));
    let meta = map.get("metadata");
    let name = text_of(meta.and_then(|m| m.get("name")));
    let namespace = text_of(meta.and_then(|m| m.get("namespace")));
    if kind == "List" && api_version == "v1" {
        let items = map
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        return Doc::List(
            items
                .into_iter()
                .map(|item| value_doc(path, text, line, item, findings))
                .collect(),
        );
    }
    let shown = if namespace.is_empty() || kind != "Ticket" {
        name.clone()
    } else {
        format!("{namespace}/{name}")
    };
    let refuse = |findings: &mut Vec<Finding>, message: String| {
        findings.push(
            Finding::error(Check::Kind, path, &kind, &shown)
                .at(line)
                .message(message),
        );
        Doc::Refused
    };
    if kind.is_empty() {
        return refuse(
            findings,
            "has no kind: every object needs apiVersion and kind".into(),
        );
    }
    if api_version.is_empty() {
        return refuse(findings, "has no apiVersion".into());
    }
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    if group != GROUP {
        return Doc::Foreign {
            api_version,
            kind,
            name: shown,
        };
    }
    if api_version != API_VERSION {
        return refuse(
            findings,
            format!("apiVersion {api_version:?} is not served: use {API_VERSION:?}"),
        );
    }
    const KINDS: [&str; 5] = [
        "SlaPolicy",
        "SupportTier",
        "Workspace",
        "Ticket",
        "Publisher",
    ];
    if !KINDS.contains(&kind.as_str()) {
        return refuse(
            findings,
            format!(
                "unknown kind {kind:?}{}: expected SlaPolicy, SupportTier, Workspace, Ticket or Publisher",
                suggestion(&kind, KINDS)
            ),
        );
    }
    let problems = validate::value(&kind, &value);
    let refused = !problems.is_empty();
    // Without a usable name the object cannot be stored, nor referred to.
    let nameless = problems.iter().any(|p| p.check == Check::Metadata);
    for p in problems {
        let at = line.map(|l| lines::locate(text, l, &p.field));
        findings.push(
            Finding::error(p.check, path, &kind, &shown)
                .at(at)
                .field(p.field)
                .message(p.message),
        );
    }
    let typed = match kind.as_str() {
        "SlaPolicy" => typed(value).map(Doc::Policy),
        "SupportTier" => typed(value).map(Doc::Tier),
        "Workspace" => typed(value).map(Doc::Workspace),
        "Ticket" => typed(value).map(Doc::Ticket),
        _ => typed(value).map(Doc::Publisher),
    };
    match typed {
        Ok(doc) if !nameless => doc,
        Ok(_) => Doc::Refused,
        Err((field, message)) => {
            // A value the schema already refused: said once, by the schema.
            if !refused {
                let at = line.map(|l| lines::locate(text, l, &field));
                findings.push(
                    Finding::error(Check::Schema, path, &kind, &shown)
                        .at(at)
                        .field(field)
                        .message(message),
                );
            }
            Doc::Refused
        }
    }
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<Box<T>, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        (
            if field == "." { String::new() } else { field },
            e.into_inner().to_string(),
        )
    })
}

fn expand(path: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let io = |source| ManifestError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            files.extend(expand(&entry)?);
        } else if is_kustomization(&entry)
            || entry
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(entry);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "apiVersion: supportpolicy.dev/v1alpha1\nkind: Ticket\nmetadata:\n  name: t\n  namespace: ns\nspec:\n  severity: B\n  title: x\n";

    fn as_json(m: &Manifests) -> Value {
        serde_json::json!({
            "policies": m.policies, "tiers": m.tiers,
            "workspaces": m.workspaces, "tickets": m.tickets,
            "publishers": m.publishers,
        })
    }

    /// The fast path (straight into types) and the slow one (through
    /// `serde_json::Value`) read the examples identically.
    #[test]
    fn fast_and_slow_paths_agree_on_the_examples() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut files = expand(&root).expect("examples/ is readable");
        files.retain(|f| f.extension().is_some_and(|e| e == "yaml"));
        assert!(files.len() >= 4, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable");
            let path = file.display().to_string();
            let mut fast = Manifests::default();
            let docs = serde_saphyr::from_multiple_with_options::<Doc>(&text, yaml_options())
                .expect("fast path parses");
            assert!(docs.iter().all(validate::passes), "{path}");
            fast.add_parsed(ParsedFile {
                name: path.clone(),
                docs: docs.into_iter().map(|d| (None, d)).collect(),
                findings: Vec::new(),
            });
            let mut slow = Manifests::default();
            let parsed = slow_docs(&path, &text).expect("slow path parses");
            assert!(parsed.findings.is_empty(), "{path}: {:?}", parsed.findings);
            slow.add_parsed(parsed);
            assert_eq!(as_json(&fast), as_json(&slow), "{path}");
        }
    }

    #[test]
    fn keys_before_api_version_and_kind_are_replayed() {
        let reordered = "metadata:\n  name: t\n  namespace: ns\nspec:\n  severity: B\n  title: x\nkind: Ticket\napiVersion: supportpolicy.dev/v1alpha1\n";
        let (mut a, mut b) = (Manifests::default(), Manifests::default());
        a.add_str("a.yaml", TICKET).expect("usual order");
        b.add_str("b.yaml", reordered).expect("kind last");
        assert_eq!(as_json(&a), as_json(&b));
        assert_eq!(b.tickets[0].spec.severity, "B");
    }

    /// kubectl reads an unquoted `75` as a number and `no` as a boolean,
    /// and the API server refuses them for string fields; so does evaluate.
    #[test]
    fn unquoted_numbers_and_booleans_are_not_strings() {
        for (from, to, found) in [
            ("severity: B", "severity: no", "boolean"),
            ("title: x", "title: 12345", "integer"),
            ("title: x", "title: 1.5", "number"),
        ] {
            let mut m = Manifests::default();
            m.add_str("typed.yaml", &TICKET.replace(from, to))
                .expect("readable");
            let text = m.findings.first().expect(to).to_string();
            assert!(
                text.starts_with("typed.yaml:")
                    && text.contains("Ticket ns/t: field spec.")
                    && text.contains(found),
                "{to}: {text}"
            );
            assert!(m.tickets.is_empty());
        }
        let mut quoted = Manifests::default();
        quoted
            .add_str(
                "quoted.yaml",
                &TICKET.replace("title: x", "title: \"12345\""),
            )
            .expect("a quoted number is a string");
        assert_eq!(quoted.tickets[0].spec.title, "12345");
    }

    #[test]
    fn a_stream_may_hold_more_than_a_thousand_documents() {
        let text: String = (0..2_500)
            .map(|i| TICKET.replace("name: t", &format!("name: t{i}")) + "---\n")
            .collect();
        let mut m = Manifests::default();
        m.add_str("many.yaml", &text).expect("2,500 documents");
        assert_eq!(m.tickets.len(), 2_500);
    }

    fn findings_of(path: &str, text: &str) -> Vec<String> {
        let mut m = Manifests::default();
        m.add_str(path, text).expect("readable");
        m.findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn errors_name_the_object_field_and_line_whichever_path_found_them() {
        let bad = TICKET.replace("severity: B", "severity: [B]");
        let found = findings_of(
            "bad.yaml",
            &format!("{TICKET}---\n{}", bad.replace("name: t", "name: u")),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("bad.yaml:16: Ticket ns/u: field spec.severity: "),
            "{found:?}"
        );
        let found = findings_of(
            "kind.yaml",
            &TICKET.replace("kind: Ticket", "kind: Tickets"),
        );
        assert!(
            found[0].starts_with(
                "kind.yaml:1: Tickets ns/t: unknown kind \"Tickets\" (did you mean \"Ticket\"?)"
            ) || found[0].starts_with(
                "kind.yaml:1: Tickets t: unknown kind \"Tickets\" (did you mean \"Ticket\"?)"
            ),
            "{found:?}"
        );
        let found = findings_of("list.yaml", "- a\n- b\n");
        assert!(
            found[0].contains("list.yaml:1: document: is not a mapping"),
            "{found:?}"
        );
    }

    #[test]
    fn every_bad_document_is_reported_and_the_good_ones_kept() {
        let text = format!(
            "{}---\n{}---\n{TICKET}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: x}}\n",
            TICKET
                .replace("name: t", "name: a")
                .replace("severity: B", "severity: [B]"),
            TICKET
                .replace("name: t", "name: b")
                .replace("kind: Ticket", "kind: Tickt"),
        );
        let mut m = Manifests::default();
        m.add_str("many.yaml", &text).expect("readable");
        assert_eq!(m.findings.len(), 2, "{:?}", m.findings);
        assert_eq!(m.tickets.len(), 1);
        assert_eq!(m.skipped.len(), 1);
        assert_eq!(m.skipped[0].kind, "Namespace");
    }
}
