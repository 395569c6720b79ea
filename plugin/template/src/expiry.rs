//! When the links expire: now (from `wasi:clocks/wall-clock`) plus `expiry` days. Storage
//! APIs want it in different forms, and [`Expiry`] has each:
//! - an absolute time: a date (`2026-12-02`, [`Expiry::date`]), a UTC time
//!   (`2026-12-02T12:00:00Z`, [`Expiry::rfc3339`]) or seconds since 1970 ([`Expiry::at`]);
//! - a duration from now: days ([`Expiry::days`]), minutes or seconds
//!   ([`Expiry::minutes`], [`Expiry::seconds`]), for a storage that takes a link's lifetime
//!   rather than its end.
//!
//! Which one, and whether the storage counts the last day in, is for its API's documentation
//! to say.

use crate::bindings::wasi::clocks::wall_clock;
use crate::prelude::*;

const SECONDS_PER_DAY: u64 = 86_400;

/// When a link expires, as an absolute time and as the duration from the moment it was
/// computed (the operator's `expiry`, in days). Both say the same: `at` is `days` days after
/// the host's wall clock read when [`Expiry::after_days`] ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The moment the link stops working, in seconds since 1970-01-01T00:00:00Z.
    pub at: u64,
    /// The link's lifetime in days, counted from now.
    pub days: u32,
}

impl Expiry {
    /// `days` days from now, by the host's wall clock.
    pub fn after_days(days: u32) -> Self {
        Self::after(wall_clock::now().seconds, days)
    }

    /// `days` days after `unix_seconds`.
    pub fn after(unix_seconds: u64, days: u32) -> Self {
        Expiry {
            at: unix_seconds.saturating_add(u64::from(days) * SECONDS_PER_DAY),
            days,
        }
    }

    /// The lifetime in minutes from now (`days` × 1440), for a storage that takes minutes.
    pub fn minutes(&self) -> u64 {
        u64::from(self.days) * (SECONDS_PER_DAY / 60)
    }

    /// The lifetime in seconds from now (`days` × 86 400), for a storage that takes seconds.
    pub fn seconds(&self) -> u64 {
        u64::from(self.days) * SECONDS_PER_DAY
    }

    /// The UTC date, `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        let (year, month, day) = civil_from_days(self.at / SECONDS_PER_DAY);
        format!("{year:04}-{month:02}-{day:02}")
    }

    /// The UTC time, RFC 3339: `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn rfc3339(&self) -> String {
        let seconds = self.at % SECONDS_PER_DAY;
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

/// The proleptic Gregorian (year, month, day) of the `days`-th day after 1970-01-01
/// (H. Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cross_months_years_and_leap_days() {
        assert_eq!(Expiry::after(0, 0).rfc3339(), "1970-01-01T00:00:00Z");
        // 2024-02-28T23:59:59Z
        assert_eq!(Expiry::after(1_709_164_799, 1).date(), "2024-02-29");
        assert_eq!(Expiry::after(1_709_164_799, 2).date(), "2024-03-01");
        // 2026-11-22T12:00:00Z + 10 days
        assert_eq!(
            Expiry::after(1_795_348_800, 10).rfc3339(),
            "2026-12-02T12:00:00Z"
        );
        // 2025-12-31T23:00:00Z + 1 day
        assert_eq!(Expiry::after(1_767_222_000, 1).date(), "2026-01-01");
        // 2100 is not a leap year: 2100-02-28 + 1 day
        assert_eq!(Expiry::after(4_107_456_000, 1).date(), "2100-03-01");
    }

    #[test]
    fn the_same_expiry_as_a_time_and_as_a_duration() {
        let expiry = Expiry::after(1_795_348_800, 30);
        assert_eq!(expiry.days, 30);
        assert_eq!(expiry.minutes(), 30 * 24 * 60);
        assert_eq!(expiry.seconds(), 30 * 86_400);
        assert_eq!(expiry.at, 1_795_348_800 + expiry.seconds());
    }
}
