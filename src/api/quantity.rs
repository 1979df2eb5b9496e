//! Go-style durations and percentages, as written in the specs.
//!
//! The CEL rules (patterns in [`super::pattern`]) refuse malformed values
//! at the API server; these parsers give the same verdicts offline and keep
//! the arithmetic exact: whole seconds, percentages as integer fractions.

/// Largest share an escalation level may begin at, in percent.
pub const MAX_AFTER_PERCENT: i64 = 1000;

/// Reads a [`super::pattern::FLAG_DURATION`] duration exactly (fractions to the nanosecond).
pub fn parse_flag_duration(text: &str) -> Result<std::time::Duration, QuantityError> {
    let err = || QuantityError::Duration(text.to_string());
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let mut nanos: u128 = 0;
    let mut rest = text;
    let mut parts = 0;
    while !rest.is_empty() {
        parts += 1;
        let whole_len = digits(rest);
        if parts > 6 || !(1..=9).contains(&whole_len) {
            return Err(err());
        }
        let (whole, tail) = rest.split_at(whole_len);
        let (fraction, tail) = match tail.strip_prefix('.') {
            Some(after) => {
                let len = digits(after);
                if !(1..=9).contains(&len) {
                    return Err(err());
                }
                after.split_at(len)
            }
            None => ("", tail),
        };
        let (scale, tail): (u128, &str) = [
            ("ns", 1),
            ("us", 1_000),
            ("µs", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
            ("m", 60_000_000_000),
            ("h", 3_600_000_000_000),
        ]
        .into_iter()
        .find_map(|(unit, scale)| Some((scale, tail.strip_prefix(unit)?)))
        .ok_or_else(err)?;
        let whole: u128 = whole.parse().map_err(|_| err())?;
        nanos += whole * scale;
        if !fraction.is_empty() {
            let value: u128 = fraction.parse().map_err(|_| err())?;
            nanos += value * scale / 10_u128.pow(fraction.len() as u32);
        }
        rest = tail;
    }
    if parts == 0 {
        return Err(err());
    }
    let seconds = u64::try_from(nanos / 1_000_000_000).map_err(|_| err())?;
    Ok(std::time::Duration::new(
        seconds,
        (nanos % 1_000_000_000) as u32,
    ))
}

/// Why a duration or percentage does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("{0:?} is not a duration like 90m, 1h30m or 4h")]
    Duration(String),
    #[error("{0:?} is longer than {max} hours", max = MAX_DURATION_SECONDS / 3600)]
    DurationTooLong(String),
    #[error("{0:?} is not a whole number of seconds: a target is kept to the second")]
    SubSecond(String),
    #[error("{0:?} is not a percentage from 0% to 100%")]
    Percent(String),
    #[error(
        "{0:?} is not a percentage from 0% to {MAX_AFTER_PERCENT}% (150% is half a target overdue)"
    )]
    Share(String),
}

/// Longest duration accepted anywhere: ten years of wall-clock time.
pub const MAX_DURATION_SECONDS: i64 = 10 * 366 * 86_400;

/// Parses a Go-style duration into whole seconds (fractions of a second are
/// dropped). `0s` is allowed; the caller decides whether zero makes sense.
pub fn parse_duration(text: &str) -> Result<i64, QuantityError> {
    parse_nanos(text).map(|(seconds, _)| seconds)
}

/// A response (or resolution) target: a duration of whole seconds. Deadlines
/// are kept to the second, so `500ms` would silently be a zero target, due
/// the instant the ticket opens; `1500ms` would be one second. Both are
/// refused, here and by the CRD's CEL rule.
pub fn parse_target(text: &str) -> Result<i64, QuantityError> {
    match parse_nanos(text)? {
        (seconds, 0) => Ok(seconds),
        _ => Err(QuantityError::SubSecond(text.to_string())),
    }
}

/// Whole seconds and the nanoseconds left over.
fn parse_nanos(text: &str) -> Result<(i64, i64), QuantityError> {
    let err = || QuantityError::Duration(text.to_string());
    if text.is_empty() || text.len() > 64 {
        return Err(err());
    }
    // Accumulate in nanoseconds as i128: exact, and no overflow for 64 chars.
    let mut total: i128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale: i128 = match unit {
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" | "µs" => 1_000,
            "ns" => 1,
            _ => return Err(err()),
        };
        let (whole, frac) = match number.split_once('.') {
            Some((w, f)) if !f.is_empty() && !f.contains('.') => (w, f),
            Some(_) => return Err(err()),
            None => (number, ""),
        };
        if whole.is_empty() {
            return Err(err());
        }
        let whole: i128 = whole.parse().map_err(|_| err())?;
        total = total
            .checked_add(whole.checked_mul(scale).ok_or_else(err)?)
            .ok_or_else(err)?;
        let mut place = scale;
        for digit in frac.bytes() {
            place /= 10;
            total += i128::from(digit - b'0') * place;
        }
        rest = tail;
    }
    let seconds = total / 1_000_000_000;
    if seconds > i128::from(MAX_DURATION_SECONDS) {
        return Err(QuantityError::DurationTooLong(text.to_string()));
    }
    Ok((seconds as i64, (total % 1_000_000_000) as i64))
}

/// A percentage as an exact fraction `numerator / denominator` of 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    numerator: i64,
    denominator: i64,
}

impl Percent {
    /// `0%`–`100%`.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        Self::parse_up_to(text, 100).map_err(|_| QuantityError::Percent(text.to_string()))
    }

    /// `0%`–`max%` (the error names the 0%–1000% range of `after`).
    pub fn parse_up_to(text: &str, max: i64) -> Result<Self, QuantityError> {
        let err = || QuantityError::Share(text.to_string());
        let number = text.strip_suffix('%').ok_or_else(err)?;
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > max.to_string().len()
            || frac.len() > 9
            || !digits_ok(whole)
            || !digits_ok(frac)
        {
            return Err(err());
        }
        if number.contains('.') && frac.is_empty() {
            return Err(err());
        }
        let scale = 10_i64.pow(frac.len() as u32);
        let whole: i64 = whole.parse().map_err(|_| err())?;
        let frac: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| err())?
        };
        let numerator = whole * scale + frac;
        let denominator = 100 * scale;
        if numerator > denominator * max / 100 {
            return Err(err());
        }
        Ok(Self {
            numerator,
            denominator,
        })
    }

    /// This share of `seconds`, rounded down to a whole second (rule 7).
    pub fn of(self, seconds: i64) -> i64 {
        (i128::from(seconds) * i128::from(self.numerator) / i128::from(self.denominator)) as i64
    }
}

/// An escalation level's `after`: a share of the response target or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Share(Percent),
    Elapsed(i64),
}

impl After {
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        if text.ends_with('%') {
            Percent::parse_up_to(text, MAX_AFTER_PERCENT).map(After::Share)
        } else {
            parse_duration(text).map(After::Elapsed)
        }
    }

    /// Business seconds after the clock start at which the level begins.
    pub fn seconds(self, target: i64) -> i64 {
        match self {
            After::Share(p) => p.of(target),
            After::Elapsed(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_go() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("1.5h"), Ok(5400));
        assert_eq!(parse_duration("4h"), Ok(14_400));
        assert_eq!(parse_duration("2h45m30s"), Ok(9930));
        assert_eq!(parse_duration("1500ms"), Ok(1));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("1µs"), Ok(0));
        for bad in [
            "", "1", "h", "-1h", "1d", "1.h", ".5h", "1..5h", "1h 30m", "1H",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_duration("999999h"),
            Err(QuantityError::DurationTooLong(_))
        ));
    }

    #[test]
    fn targets_are_whole_seconds() {
        for (text, seconds) in [
            ("1h", 3600),
            ("1.5h", 5400),
            ("1000ms", 1),
            ("0s", 0),
            ("0.1m", 6),
        ] {
            assert_eq!(parse_target(text), Ok(seconds), "{text}");
        }
        for sub in ["500ms", "1500ms", "1µs", "0.5s", "1h0.25s", "0.001m"] {
            assert!(
                matches!(parse_target(sub), Err(QuantityError::SubSecond(_))),
                "{sub}: {:?}",
                parse_target(sub)
            );
        }
        assert!(matches!(
            parse_target("999999h"),
            Err(QuantityError::DurationTooLong(_))
        ));
    }

    #[test]
    fn percentages_round_down() {
        let p = Percent::parse("75%").unwrap();
        assert_eq!(p.of(3600), 2700);
        assert_eq!(Percent::parse("33.3%").unwrap().of(100), 33);
        assert_eq!(Percent::parse("0%").unwrap().of(3600), 0);
        assert_eq!(Percent::parse("100%").unwrap().of(7), 7);
        assert_eq!(Percent::parse("50%").unwrap().of(7), 3);
        for bad in ["101%", "75", "%", "-5%", "7.%", "100.5%", "1e2%"] {
            assert!(Percent::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn after_is_share_or_duration() {
        assert_eq!(After::parse("50%").unwrap().seconds(3600), 1800);
        assert_eq!(After::parse("90m").unwrap().seconds(3600), 5400);
        // A chain goes on past the due time, up to ten targets.
        assert_eq!(After::parse("150%").unwrap().seconds(3600), 5400);
        assert_eq!(After::parse("1000%").unwrap().seconds(3600), 36_000);
        assert_eq!(After::parse("999.5%").unwrap().seconds(7), 69);
        for bad in ["1000.5%", "1001%", "10000%", "-1%"] {
            assert!(
                matches!(After::parse(bad), Err(QuantityError::Share(_))),
                "{bad}"
            );
        }
        assert!(
            Percent::parse("150%").is_err(),
            "atRiskAt stays within 100%"
        );
    }
}
