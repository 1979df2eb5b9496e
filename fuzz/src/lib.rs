//! The fuzz targets' shared code: the checks ([`harness`], also compiled by
//! `tests/fuzz_regressions.rs`) and, here, how the calendar target's bytes
//! become a [`harness::CalendarCase`] (with `arbitrary`, which only this
//! crate depends on).

pub mod harness;

use arbitrary::{Arbitrary, Result, Unstructured};

use harness::{CalendarCase, HolidayPick, PausePick, StartPick, WindowPick};

/// Up to `max` items, each drawn by `item`.
fn up_to<'a, T>(
    u: &mut Unstructured<'a>,
    max: usize,
    item: impl Fn(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Vec<T>> {
    let len = u.int_in_range(0..=max)?;
    (0..len).map(|_| item(u)).collect()
}

fn window(u: &mut Unstructured<'_>) -> Result<WindowPick> {
    Ok(WindowPick {
        days: u.arbitrary()?,
        start: u.int_in_range(0..=1439)?,
        minutes: u.int_in_range(0..=1440)?,
    })
}

fn holiday(u: &mut Unstructured<'_>) -> Result<HolidayPick> {
    Ok(HolidayPick {
        kind: u.int_in_range(0..=2)?,
        days: u.int_in_range(0..=21)?,
    })
}

fn pause(u: &mut Unstructured<'_>) -> Result<PausePick> {
    Ok(PausePick {
        offset: u.int_in_range(0..=17 * 24 * 60 - 1)?,
        minutes: u.int_in_range(0..=3 * 24 * 60 - 1)?,
    })
}

impl<'a> Arbitrary<'a> for CalendarCase {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(CalendarCase {
            zone: u.choose_index(harness::ZONES.len())? as u8,
            windows: {
                // 1–3 windows: a calendar without hours is too dull to draw often.
                let mut w = vec![window(u)?];
                w.extend(up_to(u, 2, window)?);
                w
            },
            holidays: up_to(u, 4, holiday)?,
            pauses: up_to(u, 3, pause)?,
            open_pause: if u.ratio(1, 8)? {
                Some(u.int_in_range(0..=17 * 24 * 60 - 1)?)
            } else {
                None
            },
            start: StartPick {
                near_change: u.arbitrary()?,
                minute: u.int_in_range(
                    0..=((harness::RANGE_END - harness::RANGE_START) / 60 - 1) as u32,
                )?,
                change: u.arbitrary()?,
                around: u.int_in_range(0..=6 * 24 * 60 - 1)?,
                second: u.int_in_range(0..=59)?,
            },
            amount: u.int_in_range(0..=harness::MAX_AMOUNT)?,
            amount2: u.int_in_range(0..=harness::MAX_AMOUNT)?,
            span: u.int_in_range(0..=harness::MAX_AMOUNT)?,
        })
    }
}
