//! The field reference (docs/field-reference.md), generated from the CRD
//! schemas so it cannot drift from the types (tests/readme.rs compares the
//! file with [`markdown`]; `support-operator crds --markdown` prints it).

use serde_json::Value;

use super::crds;

/// The generated part of docs/field-reference.md: the columns `kubectl
/// get` prints, every field as `kubectl explain` describes it, and how
/// GitOps tools read the status.
pub fn markdown() -> String {
    let mut out = String::from(COLUMNS);
    out.push_str(&columns());
    out.push_str("\n## Fields\n\n");
    out.push_str(&fields());
    out.push_str(STATUS);
    out
}

const COLUMNS: &str = "## Columns

`kubectl get` prints these; `-o wide` adds the ones marked wide. A field's
`Default` is filled in by the API server when the field is absent, and is
what the operator assumes.

";

const STATUS: &str = "## Status for GitOps tools

Every kind carries `status.observedGeneration` and metav1.Condition-shaped
`status.conditions`. `Ready` (`Accepted` for a Ticket) is `True` when the
object is valid and in use; when it is `False` its reason and message say
why. kstatus (Flux, `kpt live status`, cli-utils) and Argo CD read them so:

| status | what kstatus reports | why |
|---|---|---|
| `observedGeneration` lags `metadata.generation` | `InProgress` | the operator has not yet judged the current spec |
| `Stalled=True` (while `Ready=False`, or a ticket is `Rejected`; same reason and message) | `Failed` | the spec or what it refers to needs a person: an unknown tier, a taken namespace, a rejected ticket; the operator looks again by itself when the cause changes, never in a loop. `Stalled` goes away when the object is Ready |
| no `Stalled`, generations equal | `Current` | `Ready=True`, or a ticket accepted (best effort included) or redirected (handled elsewhere, `Accepted=False` without `Stalled`) |

`kubectl wait --for=condition=Ready` (`=Accepted` for tickets) waits for the
same. An object the operator has not reached yet has no status: kstatus
reports such a custom resource `Current` at once, so wait on the condition,
not on kstatus alone, right after the first apply.
";

/// The printer columns of every kind, as a table.
fn columns() -> String {
    let mut out = String::from("| kind | column | shows | wide only |\n|---|---|---|---|\n");
    for crd in crds() {
        for column in crd.spec.versions[0]
            .additional_printer_columns
            .iter()
            .flatten()
        {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} |\n",
                crd.spec.names.kind,
                column.name,
                column.json_path.replace('|', "\\|"),
                if column.priority.unwrap_or(0) > 0 {
                    "yes"
                } else {
                    ""
                }
            ));
        }
    }
    out
}

/// Markdown: one table per kind, one row per field of `spec` (and `status`).
fn fields() -> String {
    let mut out = String::new();
    for crd in crds() {
        let version = &crd.spec.versions[0];
        let Some(schema) = version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .and_then(|s| serde_json::to_value(s).ok())
        else {
            continue;
        };
        let scope = if crd.spec.scope == "Namespaced" {
            "namespaced"
        } else {
            "cluster-scoped"
        };
        out.push_str(&format!(
            "### {} ({scope}, short name `{}`)\n\n",
            crd.spec.names.kind,
            crd.spec
                .names
                .short_names
                .as_ref()
                .and_then(|s| s.first())
                .map_or("", String::as_str),
        ));
        out.push_str("| field | type | description |\n|---|---|---|\n");
        for top in ["spec", "status"] {
            if let Some(sub) = schema.pointer(&format!("/properties/{top}")) {
                walk(
                    &mut out,
                    top,
                    sub,
                    &required(&schema).contains(&top.to_string()),
                );
            }
        }
        out.push('\n');
    }
    out
}

fn required(schema: &Value) -> Vec<String> {
    schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn walk(out: &mut String, path: &str, schema: &Value, is_required: &bool) {
    let kind = type_of(schema);
    let mut description = schema["description"]
        .as_str()
        .unwrap_or_default()
        .replace('\n', " ");
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
            .collect();
        description = format!("{description} One of {}.", names.join(", "))
            .trim()
            .to_string();
    }
    if let Some(default) = schema.get("default") {
        description = format!("{description} Default `{default}`.")
            .trim()
            .to_string();
    }
    for rule in schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(message) = rule["message"].as_str() {
            description = format!("{description} Rule: {message}.").trim().to_string();
        }
    }
    let marker = if *is_required { " (required)" } else { "" };
    if path != "spec" && path != "status" {
        out.push_str(&format!(
            "| `{path}`{marker} | {kind} | {} |\n",
            description.replace('|', "\\|")
        ));
    }
    let (props, req, prefix) = if schema["type"] == "array" {
        (
            &schema["items"]["properties"],
            required(&schema["items"]),
            format!("{path}[]"),
        )
    } else {
        (&schema["properties"], required(schema), path.to_string())
    };
    if let Some(props) = props.as_object() {
        for (name, sub) in props {
            if path == "status" && name == "conditions" {
                let what = sub["description"].as_str().unwrap_or_default();
                out.push_str(&format!(
                    "| `status.conditions` | []Condition | {} One per type (metav1.Condition). |\n",
                    what.replace('\n', " ").replace('|', "\\|")
                ));
                continue;
            }
            walk(out, &format!("{prefix}.{name}"), sub, &req.contains(name));
        }
    }
}

fn type_of(schema: &Value) -> String {
    match schema["type"].as_str() {
        Some("array") => format!("[]{}", type_of(&schema["items"])),
        Some("string") if schema["format"] == "date-time" => "timestamp".into(),
        Some(t) => t.to_string(),
        None => "any".into(),
    }
}
