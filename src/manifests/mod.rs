//! Reading manifests (YAML or JSON, multi-document, files or folders) into the
//! four resources, with errors that name the file, the object and the field.
//!
//! YAML is read with `serde-saphyr`: maintained, pure Rust, built to never
//! panic on hostile input, and its errors carry line, column and a snippet.
//! (`serde_yaml` is archived; its forks either wrap the same unmaintained
//! libyaml port or are one person's unreviewed rewrite.)

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::{API_VERSION, Publisher, SlaPolicy, SupportTier, Ticket, Workspace};
use crate::catalog::{Catalog, Lookup};

mod doc;
use doc::Doc;

/// Largest manifest file read; a support model is kilobytes, not this.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The resources found in a set of manifests, each with where it came from.
#[derive(Debug, Default, Clone)]
pub struct Manifests {
    pub policies: Vec<SlaPolicy>,
    pub tiers: Vec<SupportTier>,
    pub workspaces: Vec<Workspace>,
    pub tickets: Vec<Ticket>,
    pub publishers: Vec<Publisher>,
    /// `Kind/namespace/name` → file, for messages about an object.
    pub origins: BTreeMap<String, String>,
}

/// Why manifests could not be read. Nothing is returned when one is bad:
/// a partial set would give wrong verdicts about the rest.
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
    #[error("{path}: {object}: {message}")]
    Object {
        path: String,
        object: String,
        message: String,
    },
    #[error("{path}: {object}: field {field}: {message}")]
    Field {
        path: String,
        object: String,
        field: String,
        message: String,
    },
    #[error("{object} is defined twice: in {first} and in {second}")]
    Duplicate {
        object: String,
        first: String,
        second: String,
    },
    #[error("{0}: no manifests found (looked for *.yaml, *.yml, *.json)")]
    Empty(String),
}

impl Manifests {
    /// Reads files and folders (recursively, in name order).
    pub fn load(paths: &[PathBuf]) -> Result<Self, ManifestError> {
        let mut out = Manifests::default();
        for path in paths {
            let files = expand(path)?;
            if files.is_empty() {
                return Err(ManifestError::Empty(path.display().to_string()));
            }
            // Files are parsed a few at a time on their own threads (YAML
            // parsing is most of the cost of loading), then added in order,
            // so the first error reported is still the first in file order
            // and at most `threads` parsed files are held at once.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
            for batch in files.chunks(threads) {
                let parsed: Vec<Result<(String, Vec<Doc>), ManifestError>> = if batch.len() == 1 {
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
                    let (name, docs) = result?;
                    out.add_docs(&name, docs)?;
                }
            }
        }
        Ok(out)
    }

    /// Adds every document of one YAML (or JSON) stream.
    pub fn add_str(&mut self, path: &str, text: &str) -> Result<(), ManifestError> {
        let docs = parse_docs(path, text)?;
        self.add_docs(path, docs)
    }

    fn add_docs(&mut self, path: &str, docs: Vec<Doc>) -> Result<(), ManifestError> {
        for (i, doc) in docs.into_iter().enumerate() {
            self.add_doc(path, i + 1, doc)?;
        }
        Ok(())
    }

    /// Checks what the schema cannot (a name; a ticket's namespace) and
    /// records the object, refusing a second definition of it.
    fn add_doc(&mut self, path: &str, doc: usize, parsed: Doc) -> Result<(), ManifestError> {
        let required = |kind: &str, meta: &ObjectMeta| -> Result<(), ManifestError> {
            if meta.name.as_deref().unwrap_or_default().is_empty() {
                return Err(ManifestError::Field {
                    path: path.to_string(),
                    object: format!("document {doc} ({kind})"),
                    field: "metadata.name".into(),
                    message: "is required".into(),
                });
            }
            Ok(())
        };
        match parsed {
            Doc::List(items) => {
                for item in items {
                    self.add_doc(path, doc, item)?;
                }
            }
            Doc::Refused => {
                // Only the slow path's documents reach here with a reason;
                // a fast-path `Refused` made the caller take the slow path.
                return Err(ManifestError::Object {
                    path: path.to_string(),
                    object: format!("document {doc}"),
                    message: "is not a support-operator resource".into(),
                });
            }
            Doc::Policy(obj) => {
                required("SlaPolicy", &obj.metadata)?;
                self.record(path, "SlaPolicy", &obj.metadata)?;
                self.policies.push(*obj);
            }
            Doc::Tier(obj) => {
                required("SupportTier", &obj.metadata)?;
                self.record(path, "SupportTier", &obj.metadata)?;
                self.tiers.push(*obj);
            }
            Doc::Workspace(obj) => {
                required("Workspace", &obj.metadata)?;
                self.record(path, "Workspace", &obj.metadata)?;
                self.workspaces.push(*obj);
            }
            Doc::Publisher(obj) => {
                required("Publisher", &obj.metadata)?;
                self.record(path, "Publisher", &obj.metadata)?;
                self.publishers.push(*obj);
            }
            Doc::Ticket(obj) => {
                required("Ticket", &obj.metadata)?;
                if obj
                    .metadata
                    .namespace
                    .as_deref()
                    .unwrap_or_default()
                    .is_empty()
                {
                    return Err(ManifestError::Field {
                        path: path.to_string(),
                        object: format!(
                            "Ticket {}",
                            obj.metadata.name.as_deref().unwrap_or_default()
                        ),
                        field: "metadata.namespace".into(),
                        message: "is required: a ticket lives in its workspace's namespace".into(),
                    });
                }
                self.record(path, "Ticket", &obj.metadata)?;
                self.tickets.push(*obj);
            }
        }
        Ok(())
    }

    fn record(&mut self, path: &str, kind: &str, meta: &ObjectMeta) -> Result<(), ManifestError> {
        let key = object_key(kind, meta);
        if let Some(first) = self.origins.get(&key) {
            return Err(ManifestError::Duplicate {
                object: key,
                first: first.clone(),
                second: path.to_string(),
            });
        }
        self.origins.insert(key, path.to_string());
        Ok(())
    }

    /// Where an object was read from.
    pub fn origin(&self, kind: &str, meta: &ObjectMeta) -> &str {
        self.origins
            .get(&object_key(kind, meta))
            .map_or("?", String::as_str)
    }

    /// The snapshot the rules judge tickets against.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(&self.policies, &self.tiers, &self.workspaces)
            .with_publishers(self.publishers.iter().cloned().map(std::sync::Arc::new))
    }
}

/// `Kind namespace/name` or `Kind name`.
pub fn object_key(kind: &str, meta: &ObjectMeta) -> String {
    match &meta.namespace {
        Some(ns) if !ns.is_empty() => {
            format!("{kind} {ns}/{}", meta.name.as_deref().unwrap_or_default())
        }
        _ => format!("{kind} {}", meta.name.as_deref().unwrap_or_default()),
    }
}

fn typed<T: DeserializeOwned>(path: &str, label: &str, value: Value) -> Result<T, ManifestError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        ManifestError::Field {
            path: path.to_string(),
            object: label.to_string(),
            field: if field == "." { "(root)".into() } else { field },
            message: e.into_inner().to_string(),
        }
    })
}

/// Reads and parses one file into its documents, refusing oversized files.
fn parse_file(file: &Path) -> Result<(String, Vec<Doc>), ManifestError> {
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
    let docs = parse_docs(&name, &text)?;
    Ok((name, docs))
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
            | E::AliasReplayStackDepthExceeded { .. }
            | E::AliasReplayCounterOverflow { .. }
    )
}

/// The documents of one stream, parsed straight into the resources; on any
/// problem, parsed again the slow way for a message naming object and field.
fn parse_docs(path: &str, text: &str) -> Result<Vec<Doc>, ManifestError> {
    // Spec instants as strictly as the API server reads them (see
    // `api::common::instant`): only manifests, never the cluster's objects.
    crate::api::common::instant::strictly(|| parse_docs_strictly(path, text))
}

fn parse_docs_strictly(path: &str, text: &str) -> Result<Vec<Doc>, ManifestError> {
    // `no_schema`: an unquoted `75` or `no` is a number or a boolean, as it
    // is to kubectl; the fast path must not take it for a string field.
    let mut strict = yaml_options();
    strict.no_schema = true;
    match serde_saphyr::from_multiple_with_options::<Doc>(text, strict) {
        Ok(docs) if !docs.iter().any(Doc::refused) => Ok(docs),
        Err(e) if over_budget(&e) => Err(ManifestError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        }),
        fast => {
            let slow = slow_docs(path, text)?;
            match fast {
                // Cannot happen (the slow path refuses what the fast one
                // refused), but a wrong message beats a wrong verdict.
                Err(e) => Err(ManifestError::Syntax {
                    path: path.to_string(),
                    message: e.to_string(),
                }),
                Ok(_) => Ok(slow),
            }
        }
    }
}

/// Every document as a `serde_json::Value`, then typed with
/// `serde_path_to_error`, so that the error names the field.
fn slow_docs(path: &str, text: &str) -> Result<Vec<Doc>, ManifestError> {
    let values: Vec<Value> = serde_saphyr::from_multiple_with_options(text, yaml_options())
        .map_err(|e| ManifestError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        })?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| value_doc(path, i + 1, value))
        .collect()
}

fn value_doc(path: &str, doc: usize, value: Value) -> Result<Doc, ManifestError> {
    let object_err = |object: String, message: String| ManifestError::Object {
        path: path.to_string(),
        object,
        message,
    };
    let Value::Object(map) = &value else {
        if value.is_null() {
            return Ok(Doc::List(Vec::new()));
        }
        return Err(object_err(
            format!("document {doc}"),
            "is not a mapping (an object with apiVersion and kind)".into(),
        ));
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = text(map.get("kind"));
    let api_version = text(map.get("apiVersion"));
    let name = text(map.get("metadata").and_then(|m| m.get("name")));
    let label = if name.is_empty() {
        format!(
            "document {doc} ({})",
            if kind.is_empty() { "no kind" } else { &kind }
        )
    } else {
        format!("{kind} {name}")
    };
    if kind == "List" && api_version == "v1" {
        let items = map
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        return items
            .into_iter()
            .map(|item| value_doc(path, doc, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Doc::List);
    }
    if api_version != API_VERSION {
        return Err(object_err(
            label,
            format!(
                "apiVersion {api_version:?} is not {API_VERSION:?}; only support-operator resources are read"
            ),
        ));
    }
    if name.is_empty() {
        return Err(ManifestError::Field {
            path: path.to_string(),
            object: label,
            field: "metadata.name".into(),
            message: "is required".into(),
        });
    }
    Ok(match kind.as_str() {
        "SlaPolicy" => Doc::Policy(typed(path, &label, value)?),
        "SupportTier" => Doc::Tier(typed(path, &label, value)?),
        "Workspace" => Doc::Workspace(typed(path, &label, value)?),
        "Ticket" => Doc::Ticket(typed(path, &label, value)?),
        "Publisher" => Doc::Publisher(typed(path, &label, value)?),
        other => {
            return Err(object_err(
                label,
                format!(
                    "unknown kind {other:?}: expected SlaPolicy, SupportTier, Workspace, Ticket or Publisher"
                ),
            ));
        }
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
        } else if entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(entry);
        }
    }
    Ok(files)
}

/// A reference from one object to another that does not resolve, or an
/// object the operator would report as not Ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub object: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: field {}: {}",
            self.path, self.object, self.field, self.message
        )
    }
}

impl Manifests {
    /// Every dangling reference and not-Ready object, in file order.
    /// `operator_namespace` is where the operator runs: no workspace may
    /// hold it.
    pub fn findings(&self, catalog: &Catalog, operator_namespace: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut push = |kind: &str, meta: &ObjectMeta, field: String, message: String| {
            out.push(Finding {
                path: self.origin(kind, meta).to_string(),
                object: object_key(kind, meta),
                field,
                message,
            });
        };
        for p in &self.policies {
            if let Lookup::Invalid(problem) =
                catalog.policy(p.metadata.name.as_deref().unwrap_or_default())
            {
                push(
                    "SlaPolicy",
                    &p.metadata,
                    problem.field.clone(),
                    problem.message.clone(),
                );
            }
        }
        for t in &self.tiers {
            if let Lookup::Invalid(problem) =
                catalog.tier(t.metadata.name.as_deref().unwrap_or_default())
            {
                push(
                    "SupportTier",
                    &t.metadata,
                    problem.field.clone(),
                    problem.message.clone(),
                );
            }
            if let Some(policy) = &t.spec.sla_policy
                && !catalog.policies.contains_key(policy)
            {
                push(
                    "SupportTier",
                    &t.metadata,
                    "spec.slaPolicy".into(),
                    format!("no SlaPolicy named {policy:?}"),
                );
            }
            if let Some(g) = &t.spec.graduation
                && !catalog.tiers.contains_key(&g.to)
            {
                push(
                    "SupportTier",
                    &t.metadata,
                    "spec.graduation.to".into(),
                    format!("no SupportTier named {:?}", g.to),
                );
            }
        }
        for w in &self.workspaces {
            for (field, message) in catalog.missing_tiers(w) {
                push("Workspace", &w.metadata, field, message);
            }
            if Catalog::namespace_protected(&w.spec.namespace, operator_namespace) {
                push(
                    "Workspace",
                    &w.metadata,
                    "spec.namespace".into(),
                    format!("namespace {:?} cannot hold a workspace", w.spec.namespace),
                );
            }
            if let Some(owner) = catalog.namespace_taken_by(w) {
                // Where the holder is declared: offline the holder is the
                // first by name (no namespace labels), often in another file.
                let from = catalog
                    .workspaces
                    .get(owner)
                    .map_or("?", |o| self.origin("Workspace", &o.metadata));
                push(
                    "Workspace",
                    &w.metadata,
                    "spec.namespace".into(),
                    format!(
                        "namespace {:?} already belongs to workspace {owner:?} (declared in {from})",
                        w.spec.namespace
                    ),
                );
            }
        }
        for t in &self.tickets {
            let ns = t.metadata.namespace.as_deref().unwrap_or_default();
            if catalog.workspace_for_namespace(ns).is_none() {
                push(
                    "Ticket",
                    &t.metadata,
                    "metadata.namespace".into(),
                    format!("no Workspace has spec.namespace {ns:?}"),
                );
            }
            if let Some(tier) = &t.spec.tier
                && !catalog.tiers.contains_key(tier)
            {
                push(
                    "Ticket",
                    &t.metadata,
                    "spec.tier".into(),
                    format!("no SupportTier named {tier:?}"),
                );
            }
            if let Some(publisher) = t.spec.product.as_ref().and_then(|p| p.publisher.as_ref())
                && catalog.publisher(publisher).is_none()
            {
                push(
                    "Ticket",
                    &t.metadata,
                    "spec.product.publisher".into(),
                    format!("no Publisher named {publisher:?}"),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "apiVersion: supportpolicy.dev/v1alpha1\nkind: Ticket\nmetadata:\n  name: t\n  namespace: ns\nspec:\n  severity: B\n  title: x\n  contact:\n    email: a@contoso.com\n";

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
            assert!(!docs.iter().any(Doc::refused), "{path}");
            fast.add_docs(&path, docs).expect("fast path adds");
            let mut slow = Manifests::default();
            slow.add_docs(&path, slow_docs(&path, &text).expect("slow path parses"))
                .expect("slow path adds");
            assert_eq!(as_json(&fast), as_json(&slow), "{path}");
        }
    }

    #[test]
    fn keys_before_api_version_and_kind_are_replayed() {
        let reordered = "metadata:\n  name: t\n  namespace: ns\nspec:\n  severity: B\n  title: x\n  contact:\n    email: a@contoso.com\nkind: Ticket\napiVersion: supportpolicy.dev/v1alpha1\n";
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
            ("title: x", "title: 1.5", "floating point"),
        ] {
            let err = Manifests::default()
                .add_str("typed.yaml", &TICKET.replace(from, to))
                .expect_err(to);
            let text = err.to_string();
            assert!(
                text.starts_with("typed.yaml: Ticket t: field spec.") && text.contains(found),
                "{to}: {text}"
            );
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

    #[test]
    fn errors_name_the_object_and_field_whichever_path_found_them() {
        let bad = TICKET.replace("severity: B", "severity: [B]");
        let err = Manifests::default()
            .add_str(
                "bad.yaml",
                &format!("{TICKET}---\n{}", bad.replace("name: t", "name: u")),
            )
            .expect_err("a list is not a severity");
        let text = err.to_string();
        assert!(
            text.starts_with("bad.yaml: Ticket u: field spec.severity: "),
            "{text}"
        );
        let err = Manifests::default()
            .add_str(
                "kind.yaml",
                &TICKET.replace("kind: Ticket", "kind: Tickets"),
            )
            .expect_err("unknown kind");
        assert!(
            err.to_string()
                .starts_with("kind.yaml: Tickets t: unknown kind \"Tickets\""),
            "{err}"
        );
        let err = Manifests::default()
            .add_str("list.yaml", "- a\n- b\n")
            .expect_err("not a mapping");
        assert!(
            err.to_string().contains("document 1: is not a mapping"),
            "{err}"
        );
    }
}
