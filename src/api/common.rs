//! Vocabulary shared by more than one resource.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::JsonSchema;

use super::pattern;
use serde::{Deserialize, Serialize};

/// What a ticket is about; a tier's `entitlements` list which it covers.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum Category {
    Technical,
    Billing,
    Subscription,
    Advisory,
    EscalationManagement,
    AccountManagement,
}

impl Category {
    /// Entitlements of a tier that lists none (DESIGN.md rule 1).
    pub const DEFAULT_ENTITLEMENTS: [Category; 3] = [
        Category::Technical,
        Category::Billing,
        Category::Subscription,
    ];
}

/// Hours during which a clock runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Coverage {
    #[serde(rename = "24x7")]
    RoundTheClock,
    BusinessHours,
}

impl Coverage {
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::RoundTheClock => "24x7",
            Coverage::BusinessHours => "BusinessHours",
        }
    }
}

/// A user or group, as RBAC names them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub struct Subject {
    /// `User` or `Group`.
    pub kind: SubjectKind,
    /// User name or group name as the cluster's authenticator reports it.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum SubjectKind {
    User,
    Group,
}

/// The condition list every resource carries, keyed by `type`.
pub type Conditions = Vec<Condition>;

/// Schema marker for `conditions`: a map list keyed by type, so server-side
/// apply merges conditions from different writers instead of replacing them.
pub(crate) fn conditions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = <Vec<Condition>>::json_schema(generator);
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

/// Languages compare by primary subtag, case-insensitively (`en-US` is `en`).
pub fn primary_language(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// What a person reads when an instant is refused (offline; the API server
/// names the field and quotes [`pattern::INSTANT`](super::pattern::INSTANT)).
pub const INSTANT_HELP: &str = "write an RFC 3339 time such as 2026-11-23T08:00:00Z: upper-case T and Z, an offset such as +01:00 within ±23:59, at most nine fractional digits, a year before 9999";

/// Whether `text` matches [`pattern::INSTANT`](super::pattern::INSTANT) (by hand: no regex engine in
/// the binary), and jiff reads it.
pub fn is_spec_instant(text: &str) -> bool {
    let b = text.as_bytes();
    let num = |at: usize, len: usize| -> Option<u32> {
        let digits = b.get(at..at + len)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let is = |at: usize, c: u8| b.get(at) == Some(&c);
    let in_range = |v: Option<u32>, lo: u32, hi: u32| v.is_some_and(|v| (lo..=hi).contains(&v));
    let shape = in_range(num(0, 4), 0, 9998)
        && is(4, b'-')
        && in_range(num(5, 2), 1, 12)
        && is(7, b'-')
        && in_range(num(8, 2), 1, 31)
        && is(10, b'T')
        && in_range(num(11, 2), 0, 23)
        && is(13, b':')
        && in_range(num(14, 2), 0, 59)
        && is(16, b':')
        && in_range(num(17, 2), 0, 59);
    if !shape {
        return false;
    }
    let mut at = 19;
    if is(at, b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return false;
        }
        at += 1 + digits;
    }
    let zone = match b.get(at) {
        Some(b'Z') => at + 1 == b.len(),
        Some(b'+' | b'-') => {
            at + 6 == b.len()
                && in_range(num(at + 1, 2), 0, 23)
                && is(at + 3, b':')
                && in_range(num(at + 4, 2), 0, 59)
        }
        _ => false,
    };
    zone && text.parse::<jiff::Timestamp>().is_ok()
}

/// Reading spec instants strictly, offline only.
///
/// `evaluate` must refuse what the API server refuses, so while manifests
/// are read ([`strictly`]) a spec instant outside [`pattern::INSTANT`](super::pattern::INSTANT) is an
/// error that names its field. Objects from the cluster are read leniently:
/// one stored before the pattern was this tight must not make every list of
/// its kind fail to decode.
pub mod instant {
    use std::cell::Cell;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde::{Deserialize, Deserializer, de::Error};

    thread_local! {
        static STRICT: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` with spec instants read strictly on this thread.
    pub fn strictly<R>(f: impl FnOnce() -> R) -> R {
        struct Reset(bool);
        impl Drop for Reset {
            fn drop(&mut self) {
                STRICT.with(|s| s.set(self.0));
            }
        }
        let _reset = Reset(STRICT.with(|s| s.replace(true)));
        f()
    }

    fn parse<E: Error>(text: &str) -> Result<Time, E> {
        if STRICT.with(Cell::get) && !super::is_spec_instant(text) {
            return Err(E::custom(format_args!(
                "{text:?} is refused by the API server: {}",
                super::INSTANT_HELP
            )));
        }
        text.parse::<jiff::Timestamp>()
            .map(Time)
            .map_err(|e| E::custom(format_args!("{text:?} is not a time: {e}")))
    }

    /// `#[serde(deserialize_with = "...")]` for a required spec instant.
    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text)
    }

    /// `#[serde(default, deserialize_with = "...")]` for an optional one.
    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| parse(&text))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_instants_are_what_the_api_server_and_jiff_both_read() {
        for good in [
            "2026-11-23T08:00:00Z",
            "2026-11-23T08:00:00.5Z",
            "2026-11-23T08:00:00.123456789Z",
            "2026-11-23T08:00:00+23:59",
            "2026-11-23T08:00:00-23:59",
            "2026-11-23T08:00:00+00:00",
            "2024-02-29T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9998-12-31T23:59:59Z",
        ] {
            assert!(is_spec_instant(good), "{good}");
        }
        for bad in [
            "2026-11-23t08:00:00z",
            "2026-11-23t08:00:00Z",
            "2026-11-23T08:00:00z",
            "2026-11-23T08:00:00+25:00",
            "2026-11-23T08:00:00+24:00",
            "2026-11-23T08:00:00+01:60",
            "2026-11-23T08:00:00+0100",
            "2026-11-23T08:00:00+01",
            "2026-11-23T08:00:00",
            "2026-11-23 08:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T08:60:00Z",
            "2026-11-23T08:00:60Z",
            "2026-11-23T08:00:00.Z",
            "2026-11-23T08:00:00.1234567891Z",
            "2026-02-30T08:00:00Z",
            "2026-13-01T08:00:00Z",
            "2026-00-01T08:00:00Z",
            "9999-01-01T00:00:00Z",
            "+002026-11-23T08:00:00Z",
            "2026-11-23T08:00:00Z[Europe/Warsaw]",
            "2026-11-23T08:00:00Z ",
            "2026-11-23T08:00Z",
            "",
        ] {
            assert!(!is_spec_instant(bad), "{bad}");
        }
    }

    #[test]
    fn spec_instants_are_read_strictly_only_when_asked() {
        #[derive(serde::Deserialize)]
        struct At {
            #[serde(default, deserialize_with = "instant::optional")]
            at: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
        }
        let lower = r#"{"at": "2026-11-23t08:00:00z"}"#;
        let lenient: At = serde_json::from_str(lower).expect("the cluster's objects are read");
        assert_eq!(
            lenient.at.map(|t| t.0.to_string()).as_deref(),
            Some("2026-11-23T08:00:00Z")
        );
        let err = instant::strictly(|| serde_json::from_str::<At>(lower))
            .err()
            .expect("manifests are not");
        assert!(err.to_string().contains("upper-case T and Z"), "{err}");
        let ok: At = instant::strictly(|| serde_json::from_str(r#"{"at": null}"#)).expect("null");
        assert!(ok.at.is_none());
        // The flag is reset afterwards.
        assert!(serde_json::from_str::<At>(lower).is_ok());
    }
}

/// Where a customer reaches whoever supports them instead of this desk: a
/// Publisher for its marketplace products, a partner for its trial
/// customers. Shown as given, so it is checked only for shape.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.url) || has(self.email) || has(self.phone)").message("a contact needs at least one of url, email or phone"))]
pub struct Contact {
    /// A support page, `https://` or `http://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = pattern::matches(pattern::URL).message("url must be a web address starting with https:// or http://"))]
    pub url: Option<String>,
    /// An e-mail address, such as help@contoso.example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 254))]
    #[x_kube(validation = pattern::matches(pattern::EMAIL).message("email must be an address such as help@contoso.example"))]
    pub email: Option<String>,
    /// As dialled, e.g. `+1 555 0100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(validation = pattern::matches(pattern::PHONE).message("phone must be digits, spaces, '-', '.', parentheses and an optional leading +, such as +1 555 0100"))]
    pub phone: Option<String>,
}
