//! Times as the Graph API reads and writes them: `expirationDateTime` parsed as Go's
//! `time.Time` reads JSON (RFC 3339), then moved to 23:59:59 of its calendar date in its own
//! offset (API-NOTES §3.5 "Expiry rounding", OC `parseAndFillUpTime`; docs/opencloud-behaviour.md,
//! "Expiry"); answers' times in UTC.

/// Days between 4713 BC's Julian day 0 and 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// Go's zero `time.Time`, 0001-01-01T00:00:00Z, in Unix seconds.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// A point in time as the request wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    date: time::Date,
    /// Seconds since midnight.
    seconds: i64,
    nanos: u32,
    /// The offset east of UTC, in seconds.
    offset: i64,
}

impl Written {
    /// Parses RFC 3339 (`2026-12-31T10:00:00Z`, `…T10:00:00.5+02:00`); `None` is what Go's JSON
    /// decoding refuses, which the Graph API answers with "invalid body schema definition"
    /// (API-NOTES §3.5).
    pub fn parse(text: &str) -> Option<Written> {
        let b = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(range)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(part).ok()?.parse().ok()
        };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
        let date = time::Date::from_calendar_date(
            i32::try_from(year).ok()?,
            month,
            u8::try_from(day).ok()?,
        )
        .ok()?;
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(fraction) = rest.strip_prefix('.') {
            let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if count == 0 || count > 9 {
                return None;
            }
            let padded = format!("{:0<9}", &fraction[..count]);
            nanos = padded.parse().ok()?;
            rest = &fraction[count..];
        }
        let offset = match rest {
            "Z" => 0,
            _ => {
                let o = rest.as_bytes();
                if o.len() != 6 || o[3] != b':' || !matches!(o[0], b'+' | b'-') {
                    return None;
                }
                let hours: i64 = rest.get(1..3)?.parse().ok()?;
                let minutes: i64 = rest.get(4..6)?.parse().ok()?;
                if hours > 23 || minutes > 59 || !rest[1..3].bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let sign = if o[0] == b'-' { -1 } else { 1 };
                sign * (hours * 3600 + minutes * 60)
            }
        };
        Some(Written {
            date,
            seconds: hour * 3600 + minute * 60 + second,
            nanos,
            offset,
        })
    }

    fn unix(&self) -> i64 {
        days_since_epoch(self.date) * 86_400 + self.seconds - self.offset
    }

    /// Go's `IsZero`: the instant 0001-01-01T00:00:00Z, which the server answers with "invalid
    /// expiration date" (API-NOTES §3.5; docs/opencloud-behaviour.md, "Expiry").
    pub fn is_zero(&self) -> bool {
        self.unix() == GO_ZERO_TIME && self.nanos == 0
    }

    /// 23:59:59 of the written calendar date, in the written offset, in Unix seconds (API-NOTES
    /// §3.5 "Expiry rounding"; docs/opencloud-behaviour.md, "Expiry").
    pub fn filled_up(&self) -> i64 {
        days_since_epoch(self.date) * 86_400 + 86_399 - self.offset
    }
}

fn days_since_epoch(date: time::Date) -> i64 {
    i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as Go writes a UTC `time.Time` without fraction.
pub(crate) fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    let date = i32::try_from(days + UNIX_EPOCH_JULIAN_DAY)
        .ok()
        .and_then(|julian| time::Date::from_julian_day(julian).ok())
        .unwrap_or(time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `Mon, 02 Jan 2006 15:04:05 +0000`: Go's `time.RFC1123Z` of a UTC time, reva's
/// `Last-Modified` (reva `ocdav/head.go`) and the trash bin's `oc:trashbin-delete-datetime`.
pub(crate) fn format_rfc1123z(unix: i64) -> String {
    format_rfc1123(unix, "+0000")
}

/// `Mon, 02 Jan 2006 15:04:05 GMT`: Go's `http.TimeFormat`, PROPFIND's `d:getlastmodified`
/// (docs/opencloud-behaviour.md, "Folders over WebDAV").
pub(crate) fn format_http_date(unix: i64) -> String {
    format_rfc1123(unix, "GMT")
}

fn format_rfc1123(unix: i64, zone: &str) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let date = i32::try_from(unix.div_euclid(86_400) + UNIX_EPOCH_JULIAN_DAY)
        .ok()
        .and_then(|julian| time::Date::from_julian_day(julian).ok())
        .unwrap_or(time::Date::MIN);
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} {zone}",
        DAYS[usize::from(date.weekday().number_days_from_monday())],
        date.day(),
        MONTHS[usize::from(u8::from(date.month()) - 1)],
        date.year(),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_filled_up_to_the_end_of_the_written_day() {
        let utc = Written::parse("2026-12-31T10:00:00Z").unwrap();
        assert_eq!(format_utc(utc.filled_up()), "2026-12-31T23:59:59Z");
        // The written offset's calendar date, not UTC's.
        let east = Written::parse("2026-12-31T00:30:00.25+02:00").unwrap();
        assert_eq!(format_utc(east.filled_up()), "2026-12-31T21:59:59Z");
        let west = Written::parse("2026-12-31T23:30:00-05:00").unwrap();
        assert_eq!(format_utc(west.filled_up()), "2027-01-01T04:59:59Z");
        assert!(Written::parse("0001-01-01T00:00:00Z").unwrap().is_zero());
        for bad in [
            "2026-12-31",
            "2026-02-30T10:00:00Z",
            "2026-12-31T24:00:00Z",
            "2026-12-31 10:00:00Z",
            "2026-12-31T10:00:00",
            "2026-12-31T10:00:00+0200",
            "2026-12-31T10:00:00.Z",
        ] {
            assert_eq!(Written::parse(bad), None, "{bad}");
        }
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc1123z(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
