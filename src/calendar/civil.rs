//! Proleptic Gregorian day arithmetic on plain integers.
//!
//! The year tables are built from hundreds of local dates per calendar; doing
//! that through `jiff::civil` would allocate nothing but would still pay for
//! range checks on every step. These are the well-known closed forms
//! (H. Hinnant, "chrono-compatible low-level date algorithms"), exact for every
//! date jiff can represent.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i32, month: i32, day: i32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number from [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i32, i32, i32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as i32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as i32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// Day of the week of a day number, Monday = 0 … Sunday = 6.
pub(crate) fn weekday_index(days: i64) -> usize {
    // 1970-01-01 was a Thursday (index 3).
    (days + 3).rem_euclid(7) as usize
}

/// The year (UTC) that contains a Unix second.
pub(crate) fn utc_year(second: i64) -> i32 {
    civil_from_days(second.div_euclid(86_400)).0
}

/// The Unix second at which a UTC year begins.
pub(crate) fn utc_year_start(year: i32) -> i64 {
    days_from_civil(year, 1, 1) * 86_400
}

pub(crate) fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(crate) fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_against_jiff() {
        let epoch = jiff::civil::date(1970, 1, 1);
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            let expected = epoch.checked_add(jiff::Span::new().days(days)).unwrap();
            assert_eq!(
                (y, m, d),
                (
                    i32::from(expected.year()),
                    i32::from(expected.month()),
                    i32::from(expected.day())
                )
            );
            assert_eq!(days_from_civil(y, m, d), days);
            assert_eq!(
                weekday_index(days),
                expected.weekday().to_monday_zero_offset() as usize
            );
        }
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2026, 11), 30);
    }
}
