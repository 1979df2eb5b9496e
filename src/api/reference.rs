//! The field reference of the README, generated from the CRD schemas so it
//! cannot drift from the types (a test compares it with the README).

use serde_json::Value;

use super::crds;

/// Markdown: one table per kind, one row per field of `spec` (and `status`).
pub fn markdown() -> String {
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
                out.push_str("| `status.conditions` | []Condition | metav1.Condition list, keyed by type. |\n");
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
