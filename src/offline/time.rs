//! Calendar arithmetic on milliseconds since the Unix epoch (UTC), for plan periods and resets.

use super::catalog::Interval;

pub(crate) const HOUR: i64 = 3_600_000;
pub(crate) const DAY: i64 = 24 * HOUR;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let next = if month == 12 {
        days_from_civil(year + 1, 1, 1)
    } else {
        days_from_civil(year, month + 1, 1)
    };
    (next - days_from_civil(year, month, 1)) as u32
}

/// `ms` plus `months` calendar months, the day clamped to the target month's length.
fn add_months(ms: i64, months: i64) -> i64 {
    let (days, time) = (ms.div_euclid(DAY), ms.rem_euclid(DAY));
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + i64::from(month) - 1 + months;
    let (year, month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day) * DAY + time
}

/// The `n`-th period boundary after `anchor`, for a recurring interval (`None` for one-off).
pub(crate) fn step(anchor: i64, interval: Interval, n: i64) -> Option<i64> {
    Some(match interval {
        Interval::OneOff => return None,
        Interval::Day => anchor + n * DAY,
        Interval::Week => anchor + n * 7 * DAY,
        Interval::Month => add_months(anchor, n),
        Interval::Year => add_months(anchor, 12 * n),
    })
}

/// The first boundary after `now` of the periods that started at `anchor` (counted from the anchor,
/// so a period that starts on the 31st does not drift to the 28th).
pub(crate) fn next_boundary(anchor: i64, interval: Interval, now: i64) -> Option<i64> {
    // A rough first guess, then exact steps: at most a few iterations.
    let approx = match interval {
        Interval::OneOff => return None,
        Interval::Day => DAY,
        Interval::Week => 7 * DAY,
        Interval::Month => 28 * DAY,
        Interval::Year => 365 * DAY,
    };
    let mut n = ((now - anchor) / approx - 1).max(1);
    loop {
        let boundary = step(anchor, interval, n)?;
        if boundary > now {
            // Step back while the previous boundary is still after `now`.
            let mut n = n;
            let mut boundary = boundary;
            while n > 1 {
                let previous = step(anchor, interval, n - 1)?;
                if previous > now {
                    n -= 1;
                    boundary = previous;
                } else {
                    break;
                }
            }
            return Some(boundary);
        }
        n += 1;
    }
}

/// The start of the UTC day, week (Monday) or month containing `ms`.
pub(crate) fn floor(ms: i64, bin: Bin) -> i64 {
    match bin {
        Bin::Hour => ms - ms.rem_euclid(HOUR),
        Bin::Day => ms - ms.rem_euclid(DAY),
        Bin::Week => {
            let days = ms.div_euclid(DAY);
            // 1970-01-01 was a Thursday: Monday-based weekday index.
            let weekday = (days + 3).rem_euclid(7);
            (days - weekday) * DAY
        }
        Bin::Month => {
            let (year, month, _) = civil_from_days(ms.div_euclid(DAY));
            days_from_civil(year, month, 1) * DAY
        }
    }
}

/// The start of the bin after the one starting at `start`.
pub(crate) fn next_bin(start: i64, bin: Bin) -> i64 {
    match bin {
        Bin::Hour => start + HOUR,
        Bin::Day => start + DAY,
        Bin::Week => start + 7 * DAY,
        Bin::Month => add_months(start, 1),
    }
}

/// An aggregation bin size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bin {
    Hour,
    Day,
    Week,
    Month,
}

impl Bin {
    /// The name `bin_size` gives it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Bin::Hour => "hour",
            Bin::Day => "day",
            Bin::Week => "week",
            Bin::Month => "month",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 11, 25), 20_782);
    }

    #[test]
    fn months_clamp_without_drifting() {
        let jan31 = days_from_civil(2027, 1, 31) * DAY + 5 * HOUR;
        assert_eq!(
            step(jan31, Interval::Month, 1),
            Some(days_from_civil(2027, 2, 28) * DAY + 5 * HOUR)
        );
        assert_eq!(
            step(jan31, Interval::Month, 2),
            Some(days_from_civil(2027, 3, 31) * DAY + 5 * HOUR)
        );
        let now = days_from_civil(2027, 3, 1) * DAY;
        assert_eq!(
            next_boundary(jan31, Interval::Month, now),
            Some(days_from_civil(2027, 3, 31) * DAY + 5 * HOUR)
        );
        assert_eq!(
            next_boundary(jan31, Interval::Month, jan31),
            step(jan31, Interval::Month, 1)
        );
        let far = days_from_civil(2031, 7, 2) * DAY;
        assert_eq!(
            next_boundary(jan31, Interval::Year, far),
            Some(days_from_civil(2032, 1, 31) * DAY + 5 * HOUR)
        );
    }

    #[test]
    fn bins() {
        let t = days_from_civil(2026, 11, 25) * DAY + 13 * HOUR + 7;
        assert_eq!(floor(t, Bin::Day), days_from_civil(2026, 11, 25) * DAY);
        assert_eq!(floor(t, Bin::Week), days_from_civil(2026, 11, 23) * DAY);
        assert_eq!(floor(t, Bin::Month), days_from_civil(2026, 11, 1) * DAY);
        assert_eq!(
            next_bin(floor(t, Bin::Month), Bin::Month),
            days_from_civil(2026, 12, 1) * DAY
        );
    }
}
