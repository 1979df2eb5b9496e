//! The CRDs' CEL rules, offline, with kube's CEL validator
//! (`kube::core::cel`), at the cost a pre-merge gate can afford on a
//! hundred thousand tickets.
//!
//! Why not hand the whole object to `Validator::validate_compiled`, which
//! gives the same verdicts: it converts the subtree below every schema
//! node into a CEL value, rule or no rule, and CEL's `matches()` builds
//! its regular expression on every call. Over 100,000 tickets that made
//! `evaluate` take 6.6 times the CPU it took before the gate. So the walk
//! here visits only the schema nodes that carry rules (and the paths down
//! to them) and hands each such node's value to the validator with that
//! node's own rules (its schema kept whole below it, so values convert
//! exactly as in the full walk). Verdicts are remembered for scalar values
//! (`language: en` is checked once, not once per ticket); an object node
//! whose rules read only `self.field` gets only those fields
//! ([`Own::reads`]); a rule `!has(self.f) || …` is not run when `f` is
//! absent ([`guards`]). The rules themselves, their messages and their
//! field paths are kube's; `tests::the_walk_agrees_with_kubes` holds the
//! two walks to the same answers.

use std::cell::RefCell;
use std::collections::HashMap;

use kube::core::cel::{CompiledSchema, Validator, compile_schema};
use serde_json::Value;

use super::schema::join;

const RULES: &str = "x-kubernetes-validations";

/// Most scalar verdicts remembered per rule node; past it, values are
/// checked without being remembered (a field of unique values, such as a
/// timestamp, would otherwise grow the memory with the input).
const MEMO_PER_NODE: usize = 4096;

/// One schema node on a path to a rule.
struct Node {
    /// This node's own rules; `None` where it has none.
    own: Option<Own>,
    /// The schema's `default`, put in place of a missing value before the
    /// rules run (as the API server, and kube's validator, do).
    default: Option<Value>,
    properties: Vec<(String, Node)>,
    items: Option<Box<Node>>,
    /// `additionalProperties` (a map's values), with the declared
    /// properties it does not apply to.
    additional: Option<Box<Node>>,
    /// `allOf`/`oneOf`/`anyOf` branches: walked at the same value.
    branches: Vec<Node>,
    /// Index of this node's verdict memo.
    memo: usize,
}

/// A node's own rules.
struct Own {
    /// The node's schema with only its own rules (those below removed),
    /// compiled.
    compiled: CompiledSchema,
    /// The fields the rules read, where they read `self` only as
    /// `self.field`: the rules then see the object cut down to those
    /// fields (converting a whole ticket's spec to CEL for a rule that
    /// compares two timestamps is most of the cost), and the verdict is
    /// remembered by them.
    reads: Option<Vec<String>>,
    /// Where every rule of the node holds trivially when some field is
    /// absent: for each rule, the fields whose absence makes it true (see
    /// [`guards`]). `None` when some rule has no such guard.
    guards: Option<Vec<Vec<String>>>,
}

/// One refusal: the field path (as kube's validator writes it) and message.
pub type Refusal = (String, String);

/// Every refusal of the CEL rules of `kind`'s CRD for `object`.
pub fn check(kind: &str, object: &Value) -> Vec<Refusal> {
    thread_local! {
        // kube's validator is not shared between threads; neither are the
        // compiled programs. One of each per parsing thread.
        // The status is left out: the API server resets it on create,
        // before validating.
        static STATE: (Validator, HashMap<String, Node>, RefCell<Vec<Memo>>) = {
            let mut memos = 0;
            let kinds = super::schema::schemas()
                .iter()
                .map(|(kind, schema)| {
                    let root = build(&without_status(schema), &mut memos)
                        .unwrap_or_else(|| empty_node(&mut memos));
                    (kind.clone(), root)
                })
                .collect();
            (Validator::new(), kinds, RefCell::new((0..memos).map(|_| Memo::default()).collect()))
        };
    }
    STATE.with(|(validator, kinds, memos)| {
        let Some(root) = kinds.get(kind) else {
            return Vec::new();
        };
        // The rule tree has no `status`, so the walk never enters it; only
        // rules on the object itself would see it, and then it goes.
        let stripped;
        let object = if root.own.is_some() && object.get("status").is_some() {
            stripped = without_status(object);
            &stripped
        } else {
            object
        };
        let mut out = Vec::new();
        let mut walk = Walk {
            validator,
            memos: &mut memos.borrow_mut(),
            out: &mut out,
        };
        walk.node(root, object, "", false);
        out
    })
}

/// Verdicts by value (its JSON text: `"1"` and `1` differ), for scalars
/// and objects cut to the fields their rules read.
type Memo = HashMap<String, Vec<Refusal>>;

fn empty_node(memos: &mut usize) -> Node {
    *memos += 1;
    Node {
        own: None,
        default: None,
        properties: Vec::new(),
        items: None,
        additional: None,
        branches: Vec::new(),
        memo: *memos - 1,
    }
}

/// The rule tree below `schema`, or `None` when no rule is there.
fn build(schema: &Value, memos: &mut usize) -> Option<Node> {
    let mut node = empty_node(memos);
    if let Some(rules) = schema
        .get(RULES)
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        let reads = reads(rules);
        let mut own = own_rules_only(schema);
        // Where the rules read only some fields, the others (their
        // defaults, their conversion) are left out of the compiled node.
        if let (Some(reads), Some(Value::Object(props))) = (&reads, own.get_mut("properties")) {
            props.retain(|name, _| reads.contains(name));
        }
        node.own = Some(Own {
            compiled: compile_schema(&own),
            reads,
            guards: rules
                .iter()
                .map(|r| guards(r, schema))
                .collect::<Option<Vec<_>>>(),
        });
    }
    node.default = schema.get("default").cloned();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        node.properties = props
            .iter()
            .filter_map(|(name, s)| Some((name.clone(), build(s, memos)?)))
            .collect();
    }
    node.items = schema
        .get("items")
        .and_then(|s| build(s, memos))
        .map(Box::new);
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    if !preserve {
        node.additional = schema
            .get("additionalProperties")
            .filter(|a| a.is_object())
            .and_then(|s| build(s, memos))
            .map(Box::new);
    }
    for junctor in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = schema.get(junctor).and_then(Value::as_array) {
            node.branches
                .extend(list.iter().filter_map(|s| build(s, memos)));
        }
    }
    let empty = node.own.is_none()
        && node.properties.is_empty()
        && node.items.is_none()
        && node.additional.is_none()
        && node.branches.is_empty();
    (!empty).then_some(node)
}

/// `schema` with the rules of every node below it removed.
fn own_rules_only(schema: &Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove(RULES);
                map.values_mut().for_each(strip);
            }
            Value::Array(list) => list.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out = schema.clone();
    if let Value::Object(map) = &mut out {
        for (key, sub) in map.iter_mut() {
            if key != RULES {
                strip(sub);
            }
        }
    }
    out
}

/// The fields `rules` read from `self`, when they read it only as
/// `self.field` (in `rule` and `messageExpression`); `None` when a rule
/// reads `self` whole (`self.all(...)`, `size(self)`, `self == oldSelf`),
/// or a field name CEL escapes (`__dash__`), which the cut could miss.
fn reads(rules: &[Value]) -> Option<Vec<String>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut fields = Vec::new();
    for rule in rules {
        for key in ["rule", "messageExpression"] {
            let Some(text) = rule.get(key).and_then(Value::as_str) else {
                continue;
            };
            for (at, _) in text.match_indices("self") {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| ident(c) || c == '.') {
                    continue; // `oldSelf` is spelled apart; `myself`, `x.self` are not `self`
                }
                let rest = &text[at + 4..];
                if rest.starts_with(ident) {
                    continue; // `selfish`
                }
                let field: String = rest
                    .strip_prefix('.')?
                    .chars()
                    .take_while(|c| ident(*c))
                    .collect();
                if field.is_empty() || field.contains("__") {
                    return None;
                }
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
    }
    Some(fields)
}

/// The fields whose absence makes `rule` hold without evaluating it, read
/// from its text: a disjunct `!has(self.f)` at the top of an `||` chain is
/// true when `f` is absent, and CEL's `||` is then true whatever the other
/// disjuncts give (errors included). A transition rule (one that reads
/// `oldSelf`, without `optionalOldSelf`) is skipped by the validator when
/// there is no old object, as offline there never is: it needs no guard.
/// `Some(vec![])` means "always skipped"; `None` means "evaluate it". A
/// field with a schema default is never absent when rules run, so it is no
/// guard. Conservative: a rule with any string literal is not read at all.
/// `!has(self.resolvedAt) || …` on a hundred thousand tickets without one
/// is a hundred thousand evaluations saved.
fn guards(rule: &Value, schema: &Value) -> Option<Vec<String>> {
    let text = rule.get("rule")?.as_str()?;
    if text.contains(['"', '\'']) {
        return None;
    }
    let optional_old = rule.get("optionalOldSelf").and_then(Value::as_bool) == Some(true);
    if text.contains("oldSelf") && !optional_old {
        return Some(Vec::new());
    }
    let mut disjuncts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = text.as_bytes();
    for (i, c) in bytes.iter().enumerate() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'|' if depth == 0 && bytes.get(i + 1) == Some(&b'|') && i >= start => {
                disjuncts.push(&text[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    disjuncts.push(&text[start.min(text.len())..]);
    if disjuncts.len() < 2 || text.contains('?') {
        // A lone disjunct, or a conditional (`a ? b : c || d`), whose
        // precedence this reading does not model.
        return None;
    }
    let fields: Vec<String> = disjuncts
        .iter()
        .filter_map(|d| {
            let f = d.trim().strip_prefix("!has(self.")?.strip_suffix(')')?;
            let plain = !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let defaulted = schema
                .pointer(&format!("/properties/{f}/default"))
                .is_some();
            (plain && !f.contains("__") && !defaulted).then(|| f.to_string())
        })
        .collect();
    (!fields.is_empty()).then_some(fields)
}

struct Walk<'a> {
    validator: &'a Validator,
    memos: &'a mut [Memo],
    out: &'a mut Vec<Refusal>,
}

impl Walk<'_> {
    /// `value` at `path` against `node`; `in_default` when the value is a
    /// schema default put in place (defaults are not applied inside one).
    fn node(&mut self, node: &Node, value: &Value, path: &str, in_default: bool) {
        if let Some(own) = &node.own {
            self.rules(node.memo, own, value, path);
        }
        if let Some(map) = value.as_object() {
            for (name, child) in &node.properties {
                match map.get(name) {
                    Some(v) => self.node(child, v, &join(path, name), in_default),
                    None if !in_default => {
                        if let Some(d) = &child.default {
                            self.node(child, d, &join(path, name), true);
                        }
                    }
                    None => {}
                }
            }
            if let Some(additional) = &node.additional {
                for (key, v) in map {
                    if !node.properties.iter().any(|(name, _)| name == key) {
                        self.node(additional, v, &join(path, key), in_default);
                    }
                }
            }
        }
        if let (Some(items), Some(list)) = (&node.items, value.as_array()) {
            for (i, v) in list.iter().enumerate() {
                let p = if path.is_empty() {
                    format!("[{i}]")
                } else {
                    format!("{path}[{i}]")
                };
                self.node(items, v, &p, in_default);
            }
        }
        for branch in &node.branches {
            self.node(branch, value, path, in_default);
        }
    }

    fn rules(&mut self, memo: usize, own: &Own, value: &Value, path: &str) {
        if let (Some(guards), Value::Object(map)) = (&own.guards, value)
            && guards
                .iter()
                .all(|g| g.is_empty() || g.iter().any(|f| !map.contains_key(f)))
        {
            return;
        }
        let cut;
        let (value, key) = match (value, &own.reads) {
            (Value::Object(map), Some(reads)) => {
                cut = Value::Object(
                    reads
                        .iter()
                        .filter_map(|f| Some((f.clone(), map.get(f)?.clone())))
                        .collect(),
                );
                (&cut, Some(cut.to_string()))
            }
            (Value::Object(_) | Value::Array(_), _) => (value, None),
            _ => (value, Some(value.to_string())),
        };
        let memo = &mut self.memos[memo];
        let refusals = match key.as_ref().and_then(|k| memo.get(k)) {
            Some(known) => known.clone(),
            None => {
                let found = evaluate(self.validator, &own.compiled, value);
                if let Some(key) = key
                    && memo.len() < MEMO_PER_NODE
                {
                    memo.insert(key, found.clone());
                }
                found
            }
        };
        self.out.extend(
            refusals
                .into_iter()
                .map(|(rel, message)| (at(path, &rel), message)),
        );
    }
}

/// One node's own rules over its value; field paths relative to it.
fn evaluate(validator: &Validator, own: &CompiledSchema, value: &Value) -> Vec<Refusal> {
    match validator.validate_compiled(own, value, None) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field_path, e.message))
            .collect(),
    }
}

/// The path kube's validator would give a refusal found at `path` whose
/// path relative to that node is `rel` (empty, `.field` or `field` from a
/// rule's `fieldPath`).
fn at(path: &str, rel: &str) -> String {
    if path.is_empty() || rel.is_empty() || rel.starts_with(['.', '[']) {
        format!("{path}{rel}")
    } else {
        format!("{path}.{rel}")
    }
}

/// The object (or schema) without `status` (its `properties.status`).
pub fn without_status(value: &Value) -> Value {
    let mut v = value.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("status");
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            props.remove("status");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// kube's own walk over the whole object: what `check` must agree with.
    fn kubes(kind: &str, object: &Value) -> Vec<Refusal> {
        let schema = without_status(&super::super::schema::schemas()[kind]);
        let compiled = compile_schema(&schema);
        let mut out =
            match Validator::new().validate_compiled(&compiled, &without_status(object), None) {
                Ok(()) => Vec::new(),
                Err(e) => e
                    .into_vec()
                    .into_iter()
                    .map(|e| (e.field_path, e.message))
                    .collect(),
            };
        out.sort();
        out
    }

    fn ours(kind: &str, object: &Value) -> Vec<Refusal> {
        let mut out = check(kind, object);
        out.sort();
        out
    }

    #[test]
    fn the_walk_agrees_with_kubes() {
        let cases = [
            (
                "Ticket",
                json!({"spec": {"openedAt": "2026-11-02T10:00:00Z", "resolvedAt": "2026-11-01T10:00:00Z",
                    "language": "e", "effort": "3 hours", "product": {"publisher": "-bad-"},
                    "pauses": [{"from": "2026-11-02T11:00:00Z", "to": "2026-11-02T10:00:00Z"},
                               {"from": "2026-11-02T11:00:00Z"}]},
                    "status": {"redirect": {"contact": {}}}}),
            ),
            (
                "Ticket",
                json!({"spec": {"openedAt": "2026-11-02T10:00:00Z", "language": "en-GB"}}),
            ),
            // Defaults apply before the rules, in both walks.
            ("Ticket", json!({"spec": {}})),
            (
                "SlaPolicy",
                json!({"spec": {"atRiskAt": "150%", "calendars": [
                    {"name": "x_y", "hours": [{"days": ["Mon", "Mon"], "start": "18:00", "end": "09:00"}]},
                    {"name": "x_y"}],
                    "severities": [{"name": "A", "initialResponse": "1d"}, {"name": "A", "initialResponse": "90000h"}],
                    "roundTheClockLanguages": ["e", "ja"], "holidays": [{"date": "2026-13-01"}]}}),
            ),
            (
                "Workspace",
                json!({"spec": {"namespace": "Bad_NS", "delegatedAdmins": [
                    {"contact": {}}, {"contact": {"email": "no-at", "phone": "x", "url": "ftp://x"}}]}}),
            ),
            (
                "SupportTier",
                json!({"spec": {"escalation": [{"after": "2000%"}, {"after": "1h"}, {"after": "soon"}]}}),
            ),
            ("Publisher", json!({"spec": {"contact": {"email": "a@b"}}})),
        ];
        for (kind, object) in &cases {
            assert_eq!(ours(kind, object), kubes(kind, object), "{kind} {object}");
            // Twice: the second answer comes from the memo.
            assert_eq!(
                ours(kind, object),
                kubes(kind, object),
                "{kind} {object} (remembered)"
            );
        }
        assert!(
            !kubes("Ticket", &cases[0].1).is_empty(),
            "the first case is refused"
        );
    }

    #[test]
    fn guards_are_read_only_where_the_text_is_plain() {
        let schema = json!({"properties": {"to": {}, "lang": {"default": "en"}}});
        let g = |rule: &str| guards(&json!({"rule": rule}), &schema);
        assert_eq!(
            g("!has(self.to) || self.to > self.from"),
            Some(vec!["to".into()])
        );
        // Whole-rule shapes this reading does not model.
        assert_eq!(g("self.to > self.from"), None);
        assert_eq!(
            g("has(self.to) ? self.to > self.from : true || !has(self.to)"),
            None
        );
        assert_eq!(g("!has(self.to) || self.to != 'x'"), None);
        // Inside parentheses the `||` is not the rule's top.
        assert_eq!(g("(!has(self.to) || false) && self.x"), None);
        // A defaulted field is never absent when the rules run.
        assert_eq!(g("!has(self.lang) || self.lang == self.x"), None);
        // Transition rules are skipped without an old object.
        assert_eq!(g("self == oldSelf"), Some(vec![]));
        assert_eq!(
            guards(
                &json!({"rule": "self == oldSelf", "optionalOldSelf": true}),
                &schema
            ),
            None
        );
    }
}
