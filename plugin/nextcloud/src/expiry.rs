//! The links' expiry date: today (UTC, from `wasi:clocks/wall-clock`) plus `expiry` days,
//! written as NextCloud's `expireDate` wants it (`YYYY-MM-DD`).

use crate::prelude::*;
use time::{Duration, OffsetDateTime};

use crate::bindings::wasi::clocks::wall_clock;
use crate::errors::{Error, config};

/// The date `days` days after today.
pub fn expire_date(days: u32) -> Result<String, Error> {
    date_after(wall_clock::now().seconds, days)
}

/// The date `days` days after the UTC day of `unix_seconds`.
pub fn date_after(unix_seconds: u64, days: u32) -> Result<String, Error> {
    let now = i64::try_from(unix_seconds)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| Error::Protocol("the host's wall clock is out of range".into()))?;
    let date = now
        .date()
        .checked_add(Duration::days(i64::from(days)))
        .ok_or_else(|| config("expiry", "lies beyond the year 9999"))?;
    Ok(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_added_across_month_and_leap_year() {
        // 2024-02-28T23:59:59Z
        assert_eq!(date_after(1_709_164_799, 1).unwrap(), "2024-02-29");
        assert_eq!(date_after(1_709_164_799, 2).unwrap(), "2024-03-01");
        // 2026-11-22T12:00:00Z + 10 days
        assert_eq!(date_after(1_795_348_800, 10).unwrap(), "2026-12-02");
    }
}
