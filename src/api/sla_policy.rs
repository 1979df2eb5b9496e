//! SlaPolicy: response targets per severity, coverage and business calendars.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;

use super::pattern;
use serde::{Deserialize, Serialize};

use super::common::{Category, Coverage, conditions_schema};
use super::ticket::Investigation;

/// Targets, coverage and calendars that tiers point at.
// Several printer columns repeat `type_`, which clippy reads as a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "supportpolicy.dev",
    version = "v1alpha1",
    kind = "SlaPolicy",
    plural = "slapolicies",
    shortname = "sla",
    category = "support",
    status = "SlaPolicyStatus",
    doc = "Response targets per severity, coverage rules and business calendars.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct SlaPolicySpec {
    /// Severity levels, most severe first; a downgrade moves to the next entry.
    #[schemars(length(min = 1, max = 10))]
    #[x_kube(validation = Rule::new("self.all(s, self.exists_one(o, o.name == s.name))").message("severity names must be unique"))]
    pub severities: Vec<SeverityLevel>,
    /// Languages served round the clock (primary subtags); others get business hours. Default [en].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 35)), extend("default" = ["en"]))]
    #[x_kube(validation = pattern::all_match(pattern::LANGUAGE).message("languages must be BCP 47 tags such as en or en-US"))]
    pub round_the_clock_languages: Option<Vec<String>>,
    /// Share of the response target after which a ticket is AtRisk, e.g. "75%".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = pattern::matches(pattern::PERCENT).message("atRiskAt must be a percentage from 0% to 100%, such as 75%"))]
    pub at_risk_at: Option<String>,
    /// What preview-stage products are supported for (never round the clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewSupport>,
    /// Business calendars; one must be named `default`.
    #[schemars(length(min = 1, max = 20))]
    #[x_kube(
        validation = Rule::new("self.exists(c, c.name == 'default')").message("calendars must include one named default"),
        validation = Rule::new("self.all(c, self.exists_one(o, o.name == c.name))").message("calendar names must be unique")
    )]
    pub calendars: Vec<CalendarDef>,
    /// Whole local days off, in the zone of each calendar they apply to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 500))]
    pub holidays: Vec<HolidayDef>,
    /// Break-fix effort is capped for these investigations (rule 11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort_cap: Option<EffortCap>,
}

/// Capped break-fix work: past `limit` of logged effort on one of these
/// investigations, the ticket gets `EffortCapReached` and a next step.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EffortCap {
    /// Logged effort at which the cap is reached, a duration such as 4h.
    #[schemars(length(max = 64))]
    #[x_kube(validation = pattern::matches(pattern::DURATION).message("limit must be a duration such as 4h or 90m"))]
    pub limit: String,
    /// Investigations the cap applies to.
    #[schemars(length(min = 1, max = 3))]
    #[x_kube(validation = Rule::new("self.all(i, self.exists_one(o, o == i))").message("investigations must not repeat"))]
    pub investigations: Vec<Investigation>,
}

/// One severity level and its initial-response target.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SeverityLevel {
    /// Name tickets use in spec.severity, e.g. A.
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(validation = pattern::matches(pattern::SEVERITY_NAME).message("severity names are letters, digits, '-', '_' or '.', such as A or sev1"))]
    pub name: String,
    /// Initial-response target, a Go-style duration such as 1h or 90m.
    #[schemars(length(max = 64))]
    #[x_kube(
        validation = pattern::matches(pattern::DURATION).message("initialResponse must be a duration such as 1h, 90m or 1h30m"),
        validation = pattern::whole_seconds().message("initialResponse must be a whole number of seconds, such as 30s, 90m or 1.5h: deadlines are kept to the second")
    )]
    pub initial_response: String,
    /// Resolution target on the same clock as the response (optional), a duration such as 40h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = pattern::matches(pattern::DURATION).message("resolution must be a duration such as 40h or 5h30m"))]
    pub resolution: Option<String>,
    /// 24x7 or BusinessHours.
    pub coverage: Coverage,
    /// Without the customer's 24x7 commitment, the ticket is downgraded one level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_customer24x7: Option<bool>,
    /// A ticket may request 24x7; then the customer must commit to it, else it is downgraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow24x7_on_request: Option<bool>,
}

/// Languages and categories that preview-stage products are supported in.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PreviewSupport {
    /// Languages (primary subtags) preview products are supported in. Default [en].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 35)), extend("default" = ["en"]))]
    #[x_kube(validation = pattern::all_match(pattern::LANGUAGE).message("languages must be BCP 47 tags such as en or en-US"))]
    pub languages: Option<Vec<String>>,
    /// Categories preview products are supported for. Default [Technical].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 6), extend("default" = ["Technical"]))]
    pub categories: Option<Vec<Category>>,
}

/// A named business calendar.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CalendarDef {
    /// Tickets pick it with spec.region; `default` serves all others.
    #[schemars(length(min = 1, max = 63))]
    #[x_kube(validation = pattern::matches(pattern::DNS_LABEL).message("calendar names are lower-case letters, digits and '-', such as north-america"))]
    pub name: String,
    /// IANA time zone, e.g. America/Los_Angeles.
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: String,
    /// Weekly windows `[start, end)` in local time; windows on one day must not overlap.
    #[schemars(length(max = 50))]
    pub hours: Vec<HoursDef>,
}

/// Windows `[start, end)` on some weekdays.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.start < self.end").message("start must be before end (end may be 24:00)"))]
pub struct HoursDef {
    /// Weekdays the window applies to (Mon to Sun), each at most once.
    #[schemars(length(min = 1, max = 7))]
    #[x_kube(validation = Rule::new("self.all(d, self.exists_one(o, o == d))").message("days must not repeat"))]
    pub days: Vec<Day>,
    /// HH:MM, 00:00–23:59.
    #[schemars(length(max = 5))]
    #[x_kube(validation = pattern::matches(pattern::CLOCK_START).message("start must be a time HH:MM from 00:00 to 23:59"))]
    pub start: String,
    /// HH:MM, 00:01–24:00.
    #[schemars(length(max = 5))]
    #[x_kube(validation = pattern::matches(pattern::CLOCK_END).message("end must be a time HH:MM from 00:00 to 24:00"))]
    pub end: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub fn weekday(self) -> jiff::civil::Weekday {
        use jiff::civil::Weekday::*;
        match self {
            Day::Mon => Monday,
            Day::Tue => Tuesday,
            Day::Wed => Wednesday,
            Day::Thu => Thursday,
            Day::Fri => Friday,
            Day::Sat => Saturday,
            Day::Sun => Sunday,
        }
    }
}

/// A whole local day off.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HolidayDef {
    /// YYYY-MM-DD for one date, MM-DD for every year.
    #[schemars(length(max = 10))]
    #[x_kube(validation = pattern::matches(pattern::HOLIDAY_DATE).message("date must be YYYY-MM-DD, or MM-DD for every year"))]
    pub date: String,
    /// What the day is, e.g. Christmas; shown only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub name: Option<String>,
    /// Calendars it applies to; absent or empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub calendars: Option<Vec<String>>,
}

/// Observed state of an SlaPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlaPolicyStatus {
    /// The `metadata.generation` the operator last acted on; while it differs
    /// from `metadata.generation`, the status describes an older spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` says whether the object is valid and in use (reason and message say why not); `Stalled` repeats a False `Ready` for kstatus (docs/field-reference.md).
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
}
