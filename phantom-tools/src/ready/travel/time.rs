//! The few calendar computations the travel tools need: reading the
//! formats their arguments use, printing ISO times, adding minutes.

use std::fmt;

/// A day and a minute of it, without a time zone (the travel world has
/// none, like AgentDojo's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Minute {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
}

impl Minute {
    /// Reads `YYYY-MM-DD`, at midnight.
    pub(crate) fn parse_day(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a date in the format YYYY-MM-DD");
        let mut parts = text.trim().splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let year: i64 = digits(year, 4).ok_or_else(invalid)?.into();
        let month = digits(month, 2).ok_or_else(invalid)?;
        let day = digits(day, 2).ok_or_else(invalid)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(invalid());
        }
        Ok(Self {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
        })
    }

    /// Reads `YYYY-MM-DD HH:MM`.
    pub(crate) fn parse_minute(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a time in the format YYYY-MM-DD HH:MM");
        let (day, time) = text.trim().split_once(' ').ok_or_else(invalid)?;
        let (hour, minute) = time.split_once(':').ok_or_else(invalid)?;
        let hour = digits(hour, 2).ok_or_else(invalid)?;
        let minute = digits(minute, 2).ok_or_else(invalid)?;
        if hour > 23 || minute > 59 {
            return Err(invalid());
        }
        let day = Self::parse_day(day).map_err(|_| invalid())?;
        Ok(Self {
            hour,
            minute,
            ..day
        })
    }

    /// The date part, `YYYY-MM-DD`.
    pub(crate) fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The time of day, `HH:MM`.
    pub(crate) fn clock(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// The time `minutes` later.
    pub(crate) fn plus_minutes(self, minutes: i64) -> Self {
        let total = days_from_civil(self.year, self.month, self.day) * 1440
            + i64::from(self.hour) * 60
            + i64::from(self.minute)
            + minutes;
        let (year, month, day) = civil_from_days(total.div_euclid(1440));
        let in_day = total.rem_euclid(1440);
        Self {
            year,
            month,
            day,
            // In 0..1440, so both fit.
            hour: u32::try_from(in_day / 60).unwrap_or(0),
            minute: u32::try_from(in_day % 60).unwrap_or(0),
        }
    }

    /// Now, in UTC.
    pub(crate) fn now_utc() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let epoch = Self {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
        };
        epoch.plus_minutes(i64::try_from(seconds / 60).unwrap_or(0))
    }
}

impl fmt::Display for Minute {
    /// ISO 8601 as Python prints a datetime: `2024-05-16T09:00:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{:02}:{:02}:00", self.date(), self.hour, self.minute)
    }
}

/// `text` as a number of exactly `width` ASCII digits.
fn digits(text: &str, width: usize) -> Option<u32> {
    if text.len() == width && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_strictly() {
        assert_eq!(
            Minute::parse_day("2025-01-11").unwrap().to_string(),
            "2025-01-11T00:00:00"
        );
        assert_eq!(
            Minute::parse_minute("2023-11-14 18:00")
                .unwrap()
                .to_string(),
            "2023-11-14T18:00:00"
        );
        assert!(Minute::parse_day("2025-02-29").is_err());
        assert!(Minute::parse_day("2024-02-29").is_ok());
        assert!(Minute::parse_day("11/01/2025").is_err());
        assert!(Minute::parse_minute("2025-01-02").is_err());
        assert!(Minute::parse_minute("2025-01-02 24:00").is_err());
    }

    #[test]
    fn minutes_roll_over_days_months_and_years() {
        let late = Minute::parse_minute("2024-12-31 23:30").unwrap();
        assert_eq!(late.plus_minutes(120).to_string(), "2025-01-01T01:30:00");
        let leap = Minute::parse_minute("2024-02-28 23:00").unwrap();
        assert_eq!(leap.plus_minutes(60).date(), "2024-02-29");
        assert!(
            Minute::parse_day("2025-01-15").unwrap() > Minute::parse_day("2025-01-11").unwrap()
        );
        assert!(Minute::now_utc().date().as_str() > "2024-01-01");
    }
}
