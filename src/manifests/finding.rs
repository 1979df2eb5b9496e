//! What `evaluate` found: one record per problem, with where it is (file,
//! line where the parser knows it, object, field), how bad it is, and which
//! kind of check found it, so that a pipeline can tell "the API server would
//! refuse this" from "a reference dangles" from "this looks wrong".

use std::fmt;

use serde::Serialize;

/// How bad a finding is: errors fail the gate (exit 1), warnings only with
/// `--warnings-as-errors`.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Which check found it. The first group is what the API server itself
/// refuses (schema, CEL, object metadata, unknown kinds in our group,
/// values our types cannot hold); the rest is what the operator would
/// report after accepting the object, or what only looks suspicious.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Check {
    /// The CRD's OpenAPI schema: types, enums, patterns, bounds, required
    /// and unknown fields (as `kubectl apply --validate=strict`).
    Schema,
    /// A CEL rule (`x-kubernetes-validations`) of the CRD.
    Cel,
    /// `metadata`: a missing or malformed name or namespace.
    Metadata,
    /// Not an object of a kind the API serves (our group, unknown kind or
    /// version; a document that is not an object).
    Kind,
    /// A second definition of the same object in the input.
    Duplicate,
    /// Another kind than ours, refused under `--strict-kinds`.
    ForeignKind,
    /// A reference to an object that is not in the input.
    Reference,
    /// The object is accepted but the operator would not make it Ready.
    Readiness,
    /// Valid, but probably not what was meant.
    Suspicious,
}

impl Check {
    /// Whether the API server itself refuses an object with this finding.
    pub fn refused_by_api_server(self) -> bool {
        matches!(
            self,
            Check::Schema | Check::Cel | Check::Metadata | Check::Kind
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Schema => "schema",
            Check::Cel => "cel",
            Check::Metadata => "metadata",
            Check::Kind => "kind",
            Check::Duplicate => "duplicate",
            Check::ForeignKind => "foreignKind",
            Check::Reference => "reference",
            Check::Readiness => "readiness",
            Check::Suspicious => "suspicious",
        }
    }
}

/// One problem in the manifests.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The file (or `-` for standard input).
    #[serde(rename = "file")]
    pub path: String,
    /// 1-based line, where the parser or a search of the text knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// `Kind` of the object, or empty for a document without one.
    pub kind: String,
    /// `namespace/name` or `name`; empty when the object has none.
    pub name: String,
    /// The field path, `spec.severities[0].coverage`; empty for the object.
    pub field: String,
    pub message: String,
    pub severity: Severity,
    pub check: Check,
}

impl Finding {
    pub fn error(check: Check, path: &str, kind: &str, name: &str) -> Self {
        Finding {
            path: path.to_string(),
            line: None,
            kind: kind.to_string(),
            name: name.to_string(),
            field: String::new(),
            message: String::new(),
            severity: Severity::Error,
            check,
        }
    }

    pub fn warning(path: &str, kind: &str, name: &str) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(Check::Suspicious, path, kind, name)
        }
    }

    pub fn at(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// `Kind name`, as messages name an object.
    pub fn object(&self) -> String {
        match (self.kind.is_empty(), self.name.is_empty()) {
            (false, false) => format!("{} {}", self.kind, self.name),
            (false, true) => self.kind.clone(),
            (true, false) => self.name.clone(),
            (true, true) => "document".into(),
        }
    }
}

/// `file:line: Kind name: field f: message`, as compilers print.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path, self.object())?,
            None => write!(f, "{}: {}", self.path, self.object())?,
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The closest of `candidates` to `word`, if close enough to be a typo:
/// an edit distance of at most a third of the word (and at least 1).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// ` (did you mean "x"?)`, or nothing.
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map_or(String::new(), |c| format!(" (did you mean {c:?}?)"))
}

/// Edit distance with a swap of two neighbours counted once (the commonest
/// typo): optimal string alignment, from `strsim` (already in the tree
/// through clap).
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_far_ones_not() {
        let fields = ["customerAvailability", "coverageRequested", "category"];
        assert_eq!(
            did_you_mean("customerAvailabilty", fields),
            Some("customerAvailability")
        );
        assert_eq!(
            did_you_mean("north-amerika", ["default", "north-america", "japan"]),
            Some("north-america")
        );
        assert_eq!(
            did_you_mean("critcal", ["critical", "important"]),
            Some("critical")
        );
        assert_eq!(did_you_mean("zzz", ["critical", "important"]), None);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
