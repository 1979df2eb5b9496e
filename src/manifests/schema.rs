//! The OpenAPI v3 structural schema of a CRD, applied to an object as the
//! API server applies it: types, enums, patterns, formats, bounds, required
//! fields, list sets and maps, and unknown fields (refused, as
//! `kubectl apply --validate=strict` refuses them). Messages follow the
//! API server's wording, so a pipeline log reads like `kubectl`'s.
//!
//! `metadata` is checked elsewhere ([`super::validate`]); `status` only for
//! unknown fields: the API server resets it on create, after decoding.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::Check;
use super::validate::{Problem, shorten};

/// The schemas of our kinds, from the generated CRDs.
pub fn schemas() -> &'static HashMap<String, Value> {
    static SCHEMAS: OnceLock<HashMap<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        crate::api::crds()
            .into_iter()
            .filter_map(|crd| {
                let schema = crd
                    .spec
                    .versions
                    .first()?
                    .schema
                    .as_ref()?
                    .open_api_v3_schema
                    .as_ref()?;
                Some((
                    crd.spec.names.kind.clone(),
                    serde_json::to_value(schema).ok()?,
                ))
            })
            .collect()
    })
}

/// Regular expressions of the schemas' `pattern`s, compiled once, shared
/// by every thread without a lock (a `Regex` is `Sync`; cloning one per
/// use would rebuild its matching cache each time).
fn regex(pattern: &str) -> Option<&'static regex::Regex> {
    static PATTERNS: OnceLock<HashMap<String, Option<regex::Regex>>> = OnceLock::new();
    fn collect(schema: &Value, into: &mut HashMap<String, Option<regex::Regex>>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(p)) = map.get("pattern") {
                    into.entry(p.clone())
                        .or_insert_with(|| regex::Regex::new(p).ok());
                }
                map.values().for_each(|v| collect(v, into));
            }
            Value::Array(list) => list.iter().for_each(|v| collect(v, into)),
            _ => {}
        }
    }
    PATTERNS
        .get_or_init(|| {
            let mut map = HashMap::new();
            schemas().values().for_each(|s| collect(s, &mut map));
            map
        })
        .get(pattern)?
        .as_ref()
}

/// Every schema problem of `object` (a whole object of kind `kind`).
pub fn check(kind: &str, object: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(schema) = schemas().get(kind) else {
        return out;
    };
    let Value::Object(map) = object else {
        return out;
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, value) in map {
        match key.as_str() {
            "apiVersion" | "kind" | "metadata" => {}
            _ => match properties.and_then(|p| p.get(key)) {
                Some(sub) => {
                    let mut walk = Walk {
                        out: &mut out,
                        values: key != "status",
                    };
                    walk.node(sub, value, key);
                }
                None => out.push(unknown(key, properties)),
            },
        }
    }
    required(schema, map, "", &mut out);
    out
}

fn unknown(path: &str, known: Option<&serde_json::Map<String, Value>>) -> Problem {
    let key = path.rsplit('.').next().unwrap_or(path);
    let hint = known.map_or(String::new(), |k| {
        super::suggestion(key, k.keys().map(String::as_str))
    });
    Problem {
        check: Check::Schema,
        field: path.to_string(),
        message: format!("unknown field {path:?}{hint}"),
    }
}

fn required(
    schema: &Value,
    map: &serde_json::Map<String, Value>,
    path: &str,
    out: &mut Vec<Problem>,
) {
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = name.as_str() else { continue };
        if map.get(name).is_none_or(Value::is_null) {
            out.push(Problem {
                check: Check::Schema,
                field: join(path, name),
                message: "Required value".into(),
            });
        }
    }
}

/// `path.key`, or `key` at the top (the API server's field paths, and
/// kube's CEL validator's).
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

struct Walk<'o> {
    out: &'o mut Vec<Problem>,
    /// Whether values are checked (not under `status`: only its field names).
    values: bool,
}

impl Walk<'_> {
    fn invalid(&mut self, path: &str, message: String) {
        if self.values {
            self.out.push(Problem {
                check: Check::Schema,
                field: path.to_string(),
                message,
            });
        }
    }

    fn node(&mut self, schema: &Value, value: &Value, path: &str) {
        // The API server drops a null where the schema does not allow one.
        if value.is_null() {
            return;
        }
        let int_or_string = schema
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let declared = schema.get("type").and_then(Value::as_str);
        let actual = type_name(value);
        let fits = match declared {
            _ if int_or_string => matches!(actual, "integer" | "string"),
            None => true,
            Some("number") => matches!(actual, "number" | "integer"),
            Some(t) => t == actual,
        };
        if !fits {
            let want = if int_or_string {
                "integer or string"
            } else {
                declared.unwrap_or("?")
            };
            self.invalid(
                path,
                format!(
                    "Invalid value: {actual:?}: {path} in body must be of type {want}: {actual:?}"
                ),
            );
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            let hint = match value.as_str() {
                Some(v) => super::suggestion(v, allowed.iter().filter_map(Value::as_str)),
                None => String::new(),
            };
            self.invalid(
                path,
                format!(
                    "Unsupported value: {}: supported values: {}{hint}",
                    shorten(&value.to_string()),
                    list.join(", ")
                ),
            );
        }
        match value {
            Value::String(text) => self.string(schema, text, path),
            Value::Number(n) => self.number(schema, n, path),
            Value::Array(items) => self.array(schema, items, path),
            Value::Object(map) => self.object(schema, map, path),
            _ => {}
        }
    }

    fn string(&mut self, schema: &Value, text: &str, path: &str) {
        let chars = || text.chars().count() as u64;
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && chars() > max
        {
            self.invalid(path, format!("Too long: may not be more than {max} bytes"));
        }
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && chars() < min
        {
            self.invalid(
                path,
                format!(
                    "Invalid value: {:?}: {path} in body should be at least {min} chars long",
                    shorten(text)
                ),
            );
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && regex(pattern).is_some_and(|r| !r.is_match(text))
        {
            self.invalid(
                path,
                format!(
                    "Invalid value: {:?}: {path} in body should match '{pattern}'",
                    shorten(text)
                ),
            );
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time")
            && !crate::api::common::is_spec_instant(text)
        {
            self.invalid(
                path,
                format!(
                    "Invalid value: {:?}: {path} in body must be of type date-time: {}",
                    shorten(text),
                    crate::api::common::INSTANT_HELP
                ),
            );
        }
    }

    fn number(&mut self, schema: &Value, n: &serde_json::Number, path: &str) {
        let Some(v) = n.as_f64() else { return };
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
            let exclusive = schema.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
            if v < min || (exclusive && v == min) {
                let rel = if exclusive {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                self.invalid(
                    path,
                    format!("Invalid value: {n}: {path} in body should be {rel} {min}"),
                );
            }
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
            let exclusive = schema.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
            if v > max || (exclusive && v == max) {
                let rel = if exclusive {
                    "less than"
                } else {
                    "less than or equal to"
                };
                self.invalid(
                    path,
                    format!("Invalid value: {n}: {path} in body should be {rel} {max}"),
                );
            }
        }
    }

    fn array(&mut self, schema: &Value, items: &[Value], path: &str) {
        let n = items.len() as u64;
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && n > max
        {
            self.invalid(
                path,
                format!("Too many: {n}: must have at most {max} items"),
            );
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && n < min
        {
            self.invalid(
                path,
                format!("Invalid value: {n}: {path} in body should have at least {min} items"),
            );
        }
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        self.invalid(
                            &format!("{path}[{i}]"),
                            format!("Duplicate value: {}", shorten(&item.to_string())),
                        );
                    }
                }
            }
            Some("map") => {
                let keys: Vec<&str> = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let key_of = |item: &Value| -> Vec<Value> {
                    keys.iter()
                        .map(|k| item.get(*k).cloned().unwrap_or(Value::Null))
                        .collect()
                };
                for (i, item) in items.iter().enumerate() {
                    let key = key_of(item);
                    if items[..i].iter().any(|other| key_of(other) == key) {
                        let shown: serde_json::Map<String, Value> =
                            keys.iter().map(|k| k.to_string()).zip(key).collect();
                        self.invalid(
                            &format!("{path}[{i}]"),
                            format!("Duplicate value: {}", Value::Object(shown)),
                        );
                    }
                }
            }
            _ => {}
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.node(item_schema, item, &format!("{path}[{i}]"));
            }
        }
    }

    fn object(&mut self, schema: &Value, map: &serde_json::Map<String, Value>, path: &str) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        let preserve = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for (key, value) in map {
            let sub_path = join(path, key);
            match (properties.and_then(|p| p.get(key)), additional) {
                (Some(sub), _) | (None, Some(sub)) => self.node(sub, value, &sub_path),
                (None, None) if preserve => {}
                (None, None) => self.out.push(unknown(&sub_path, properties)),
            }
        }
        if self.values {
            required(schema, map, path, self.out);
        }
    }
}
