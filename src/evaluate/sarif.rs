//! Findings as a SARIF 2.1.0 log, for code-scanning annotations on a pull
//! request. The few structs are written here with serde: the crates for the
//! format are either generated from the whole 2.1.0 schema (thousands of
//! lines, a build-time code generator) or not in this tree; a log of
//! results with rules and line locations needs five structs.

use serde::Serialize;

use crate::manifests::{Check, Finding, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize, Debug)]
pub struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize, Debug)]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
}

#[derive(Serialize, Debug)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text,
}

#[derive(Serialize, Debug)]
struct Text {
    text: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Physical,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize, Debug)]
struct Artifact {
    uri: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

const RULES: [(Check, &str); 9] = [
    (
        Check::Schema,
        "The CRD's OpenAPI schema refuses the object (as kubectl apply --validate=strict)",
    ),
    (Check::Cel, "A CEL rule of the CRD refuses the object"),
    (Check::Metadata, "The object's name or namespace is refused"),
    (Check::Kind, "Not an object of a kind the API serves"),
    (Check::Duplicate, "The object is defined twice"),
    (
        Check::ForeignKind,
        "An object of another kind (--strict-kinds)",
    ),
    (
        Check::Reference,
        "A reference to an object that is not declared",
    ),
    (
        Check::Readiness,
        "The operator would not make the object Ready",
    ),
    (Check::Suspicious, "Valid, but probably not what was meant"),
];

/// The SARIF log of `findings`: one result each, at its file and line.
pub fn log(findings: &[Finding]) -> Log {
    let results = findings
        .iter()
        .map(|f| SarifResult {
            rule_id: f.check.as_str(),
            level: match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: Text {
                text: if f.field.is_empty() {
                    format!("{}: {}", f.object(), f.message)
                } else {
                    format!("{}: field {}: {}", f.object(), f.field, f.message)
                },
            },
            locations: vec![Location {
                physical_location: Physical {
                    artifact_location: Artifact { uri: uri(&f.path) },
                    region: f.line.map(|start_line| Region { start_line }),
                },
            }],
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "support-operator",
                    version: env!("CARGO_PKG_VERSION"),
                    rules: RULES
                        .iter()
                        .map(|(check, text)| Rule {
                            id: check.as_str(),
                            short_description: Text {
                                text: (*text).to_string(),
                            },
                        })
                        .collect(),
                },
            },
            results,
        }],
    }
}

/// A path as a relative URI: forward slashes, no leading `./`.
fn uri(path: &str) -> String {
    if path == crate::manifests::STDIN {
        return "stdin".into();
    }
    let path = path.replace('\\', "/");
    path.strip_prefix("./").unwrap_or(&path).to_string()
}
