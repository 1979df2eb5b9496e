//! The checks the API server makes before it stores an object, offline:
//! object metadata (name and namespace), the CRD's OpenAPI schema
//! ([`schema`]) and its CEL rules ([`cel`]). The schemas are the generated
//! CRDs themselves (`crate::api::crds()`, what `support-operator crds`
//! prints), so the offline checks cannot drift from the cluster's.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::Check;
use super::doc::Doc;

/// One refusal: which check, the field path, the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub check: Check,
    pub field: String,
    pub message: String,
}

impl Problem {
    fn new(check: Check, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            check,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Whether a document read by the fast path passes every check; any doubt
/// sends the stream down the slow path, which says what is wrong.
pub(super) fn passes(doc: &Doc) -> bool {
    match doc {
        Doc::Refused => false,
        Doc::Foreign { .. } => true,
        Doc::List(items) => items.iter().all(passes),
        Doc::Policy(o) => {
            meta_ok("SlaPolicy", &o.metadata) && body_passes("SlaPolicy", &o.spec, &o.status)
        }
        Doc::Tier(o) => {
            meta_ok("SupportTier", &o.metadata) && body_passes("SupportTier", &o.spec, &o.status)
        }
        Doc::Workspace(o) => {
            meta_ok("Workspace", &o.metadata) && body_passes("Workspace", &o.spec, &o.status)
        }
        Doc::Ticket(o) => {
            meta_ok("Ticket", &o.metadata) && body_passes("Ticket", &o.spec, &o.status)
        }
        Doc::Publisher(o) => {
            meta_ok("Publisher", &o.metadata) && body_passes("Publisher", &o.spec, &o.status)
        }
    }
}

fn meta_ok(kind: &str, meta: &ObjectMeta) -> bool {
    name_problems(kind, meta.name.as_deref(), meta.namespace.as_deref()).is_empty()
}

/// Every problem of one object (a mapping of one of our kinds): metadata,
/// schema, and, when the schema holds, the CEL rules (they assume it does,
/// as the API server's do).
pub fn value(kind: &str, object: &Value) -> Vec<Problem> {
    let mut out = metadata(kind, object.get("metadata"));
    let schema = super::schema::check(kind, object);
    let schema_ok = schema.is_empty();
    out.extend(schema);
    if schema_ok {
        out.extend(cel(kind, object));
    }
    out
}

/// Whether a typed object's spec and status, written back as JSON, pass
/// the schema's value checks and the CEL rules (its unknown fields were
/// checked while it was read; its metadata by [`meta_ok`]: it is left out
/// of the JSON, which a hundred thousand tickets notice).
fn body_passes<S: serde::Serialize, T: serde::Serialize>(
    kind: &str,
    spec: &S,
    status: &Option<T>,
) -> bool {
    let mut body = serde_json::Map::new();
    match serde_json::to_value(spec) {
        Ok(v) => body.insert("spec".into(), v),
        Err(_) => return false,
    };
    if let Some(status) = status {
        match serde_json::to_value(status) {
            Ok(v) => body.insert("status".into(), v),
            Err(_) => return false,
        };
    }
    let v = Value::Object(body);
    super::schema::check(kind, &v).is_empty() && cel(kind, &v).is_empty()
}

/// The CEL rules of the kind's CRD ([`super::cel`]).
fn cel(kind: &str, object: &Value) -> Vec<Problem> {
    super::cel::check(kind, object)
        .into_iter()
        .map(|(field, message)| Problem::new(Check::Cel, field, message))
        .collect()
}

/// Fields of ObjectMeta (`kubectl --validate=strict` refuses others).
const OBJECT_META_FIELDS: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

fn metadata(kind: &str, meta: Option<&Value>) -> Vec<Problem> {
    let Some(Value::Object(meta)) = meta else {
        return vec![Problem::new(
            Check::Metadata,
            "metadata.name",
            "Required value: name is required",
        )];
    };
    let mut out = Vec::new();
    for key in meta.keys() {
        if !OBJECT_META_FIELDS.contains(&key.as_str()) {
            out.push(Problem::new(
                Check::Schema,
                format!("metadata.{key}"),
                format!(
                    "unknown field \"metadata.{key}\"{}",
                    super::suggestion(key, OBJECT_META_FIELDS)
                ),
            ));
        }
    }
    let text = |k: &str| meta.get(k).and_then(Value::as_str);
    out.extend(name_problems(kind, text("name"), text("namespace")));
    out
}

/// A name as the API server checks it: a lower-case RFC 1123 subdomain for
/// every kind here; a Ticket's namespace a DNS label.
pub fn name_problems(kind: &str, name: Option<&str>, namespace: Option<&str>) -> Vec<Problem> {
    let mut out = Vec::new();
    match name {
        None | Some("") => out.push(Problem::new(
            Check::Metadata,
            "metadata.name",
            "Required value: name is required",
        )),
        Some(name) => {
            if let Some(why) = subdomain_problem(name) {
                out.push(Problem::new(
                    Check::Metadata,
                    "metadata.name",
                    format!("Invalid value: {:?}: {why}", shorten(name)),
                ));
            }
        }
    }
    if kind == "Ticket"
        && let Some(ns) = namespace.filter(|n| !n.is_empty())
        && let Some(why) = label_problem(ns)
    {
        out.push(Problem::new(
            Check::Metadata,
            "metadata.namespace",
            format!("Invalid value: {:?}: {why}", shorten(ns)),
        ));
    }
    out
}

/// At most 80 characters of a value, for messages.
pub fn shorten(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_string()
    } else {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    }
}

fn label_ok(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn subdomain_problem(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    if !name.split('.').all(label_ok) {
        return Some("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')".into());
    }
    None
}

fn label_problem(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    if !label_ok(name) {
        return Some("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name')".into());
    }
    None
}
