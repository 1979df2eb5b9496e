//! Every text pattern a spec field must match, written once.
//!
//! The CRDs carry them as CEL `matches()` rules (or an OpenAPI `pattern`),
//! built here from the same constants, so the API server, the documentation
//! and the offline parsers in [`super::quantity`] and [`super::common`] can
//! never quote two different grammars. The rules' messages stay beside their
//! fields: they name the field and give an example a person can copy.

use kube::core::Rule;

/// A Go-style duration (Go's `time.ParseDuration` grammar without a sign: a
/// deadline cannot be negative).
pub const DURATION: &str = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";
/// The durations CEL's `duration()` can read without overflowing: at most
/// six parts of at most five digits. Only used to guard that call.
pub const CEL_SAFE_DURATION: &str = r"^([0-9]{1,5}(\.[0-9]+)?(ns|us|µs|ms|s|m|h)){1,6}$";
/// A duration given to the binary (`--routing-debounce`) or to the Helm
/// chart: Go's grammar without a sign, to the nanosecond, at most six parts
/// of at most nine digits (so it never overflows). The chart's
/// values.schema.json uses this pattern, and [`super::quantity::parse_flag_duration`] reads
/// exactly what it matches (tests/chart feeds one to the other): a value
/// the chart accepts never crash-loops the operator, and `1.5s` is 1.5 s.
pub const FLAG_DURATION: &str = r"^([0-9]{1,9}(\.[0-9]{1,9})?(ns|us|µs|ms|s|m|h)){1,6}$";

/// `0%`–`100%`, decimals allowed.
pub const PERCENT: &str = r"^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)%$";
/// An escalation level's share: `0%`–`1000%`, so a chain goes on past the
/// due time (`150%` is half a target overdue) within a sane bound.
pub const AFTER_PERCENT: &str = r"^(1000(\.0+)?|[0-9]{1,3}(\.[0-9]+)?)%$";
/// A BCP 47 tag, loosely (primary subtag of letters, then subtags).
pub const LANGUAGE: &str = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$";
/// A Kubernetes object name (DNS subdomain).
pub const NAME: &str = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";
/// A namespace name or a calendar name (DNS label).
pub const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// A severity name such as `A` or `sev1`.
pub const SEVERITY_NAME: &str = r"^[A-Za-z0-9][-A-Za-z0-9_.]*$";
/// A window's start, `HH:MM` from 00:00 to 23:59.
pub const CLOCK_START: &str = r"^([01][0-9]|2[0-3]):[0-5][0-9]$";
/// A window's end, `HH:MM` from 00:00 to 24:00.
pub const CLOCK_END: &str = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";
/// A holiday: `YYYY-MM-DD`, or `MM-DD` for every year.
pub const HOLIDAY_DATE: &str = r"^([0-9]{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A contact's web address.
pub const URL: &str = r"^https?://[^\s]+$";
/// A contact's e-mail address, loosely.
pub const EMAIL: &str = r"^[^@\s]+@[^@\s]+$";
/// A contact's phone number as dialled.
pub const PHONE: &str = r"^\+?[0-9][-0-9 ().]*$";

/// Instants a spec may hold: exactly what both the API server and jiff (the
/// operator's time library) read, and the operator can compute with.
///
/// * `T` and `Z` upper-case: the API server's `date-time` format check
///   lower-cases the text before looking, but CEL (the `openedAt is
///   immutable` and pause rules) parses with Go's `time.Parse`, which does
///   not; a lower-case `t` was stored and then every status write and edit
///   of the object failed inside CEL ("Invalid date-time formatted string").
/// * An offset within ±23:59: the format check takes any two digits, jiff
///   reads up to ±25:59, Go's RFC 3339 parser refuses 24 and above.
/// * At most nine fractional digits (jiff's nanoseconds) and a year before
///   9999 (an offset can push a 9999 instant past jiff's last one): one
///   such object would make every list of its kind fail to decode in the
///   operator, stalling all tickets.
///
/// Month, day and clock are bounded here too; a day the month lacks (30
/// February) is left to the `date-time` format, which refuses it, as jiff does.
/// Carried as an OpenAPI `pattern` (not CEL) so the message quotes it.
pub const INSTANT: &str = r"^([0-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

/// `pattern` as a CEL string literal: single-quoted, backslashes and quotes
/// escaped, so the regex CEL compiles is exactly `pattern`.
pub fn cel_literal(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    out.push('\'');
    for c in pattern.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The CEL rule "this string matches `pattern`".
pub fn matches(pattern: &str) -> Rule {
    Rule::new(format!("self.matches({})", cel_literal(pattern)))
}

/// The CEL rule "this string matches one of `patterns`".
pub fn matches_any(patterns: &[&str]) -> Rule {
    let alternatives: Vec<String> = patterns
        .iter()
        .map(|p| format!("self.matches({})", cel_literal(p)))
        .collect();
    Rule::new(alternatives.join(" || "))
}

/// The CEL rule "every string of this list matches `pattern`".
pub fn all_match(pattern: &str) -> Rule {
    Rule::new(format!("self.all(l, l.matches({}))", cel_literal(pattern)))
}

/// The CEL rule "this duration is a whole number of seconds": deadlines are
/// kept to the second, and `500ms` would be a zero target. Checked where
/// Go's `duration()` cannot overflow ([`CEL_SAFE_DURATION`]) and to the
/// millisecond (CEL's finest getter); the rest is refused by the operator
/// (`catalog::parse_target`).
pub fn whole_seconds() -> Rule {
    Rule::new(format!(
        "!self.matches({}) || duration(self).getMilliseconds() == duration(self).getSeconds() * 1000",
        cel_literal(CEL_SAFE_DURATION)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cel_literals_escape_backslashes_and_quotes() {
        assert_eq!(cel_literal(r"^a\.b$"), r"'^a\\.b$'");
        assert_eq!(cel_literal("it's"), r"'it\'s'");
    }

    #[test]
    fn rules_quote_the_pattern_once() {
        assert_eq!(
            matches(URL).rule,
            r"self.matches('^https?://[^\\s]+$')".to_string()
        );
        assert_eq!(
            matches_any(&[PERCENT, DNS_LABEL]).rule,
            format!(
                "self.matches({}) || self.matches({})",
                cel_literal(PERCENT),
                cel_literal(DNS_LABEL)
            )
        );
    }
}
