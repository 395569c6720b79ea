//! The links' expiry date: today (UTC, from `wasi:clocks/wall-clock`) plus `expiry` days. Each
//! provider writes it as its storage wants it.

use crate::prelude::*;
pub use time::Date;
use time::{Duration, OffsetDateTime};

#[cfg(target_arch = "wasm32")]
use crate::bindings::wasi::clocks::wall_clock;
use crate::errors::{Error, config};

/// The date `days` days after today.
pub fn days_from_today(days: u32) -> Result<Date, Error> {
    date_after(now(), days)
}

/// Seconds since the Unix epoch, from `wasi:clocks/wall-clock`.
#[cfg(target_arch = "wasm32")]
fn now() -> u64 {
    wall_clock::now().seconds
}

/// Natively, where there is no `wasi:clocks`, for the providers' tests.
#[cfg(not(target_arch = "wasm32"))]
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The date `days` days after the UTC day of `unix_seconds`.
pub fn date_after(unix_seconds: u64, days: u32) -> Result<Date, Error> {
    let now = i64::try_from(unix_seconds)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| Error::Protocol("the host's wall clock is out of range".into()))?;
    now.date()
        .checked_add(Duration::days(i64::from(days)))
        .ok_or_else(|| config("expiry", "lies beyond the year 9999"))
}

/// `date` as `YYYY-MM-DD`.
pub fn iso_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(unix_seconds: u64, days: u32) -> String {
        iso_date(date_after(unix_seconds, days).unwrap())
    }

    #[test]
    fn days_are_added_across_month_and_leap_year() {
        // 2024-02-28T23:59:59Z
        assert_eq!(after(1_709_164_799, 1), "2024-02-29");
        assert_eq!(after(1_709_164_799, 2), "2024-03-01");
        // 2026-11-22T12:00:00Z + 10 days
        assert_eq!(after(1_795_348_800, 10), "2026-12-02");
        // 2026-12-31T23:59:59Z + 1 day: a new year
        assert_eq!(after(1_798_761_599, 1), "2027-01-01");
    }

    #[test]
    fn a_clock_or_a_date_out_of_range_is_an_error() {
        assert!(matches!(date_after(u64::MAX, 1), Err(Error::Protocol(_))));
        // 9999-12-31T00:00:00Z
        assert!(matches!(
            date_after(253_402_214_400, 1),
            Err(Error::InvalidConfig(_))
        ));
    }
}
