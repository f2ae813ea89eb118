//! Dates as the web pages and the API write them: UTC, proleptic
//! Gregorian, without a time-zone database (days from civil and back,
//! after Howard Hinnant's algorithms).

/// Now, in Unix seconds (0 on a clock set before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A Unix time as a UTC date and time, `YYYY-MM-DD HH:MM UTC`.
pub fn datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` (a UTC day, exactly that shape) to the Unix time of its
/// midnight; `None` for anything else or a day that does not exist.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (i64::from(num(0..4)?), num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let doy = (153 * i64::from(mm) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // Reject days that do not exist (2026-02-30) by converting back.
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400)
}

/// A Unix time in the basic UTC form of iCalendar (RFC 5545 §3.3.5):
/// `YYYYMMDDTHHMMSSZ`.
pub fn ical_utc(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// The UTC time of day of a Unix time, `HH:MM`.
pub fn time_of_day(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

/// `HH:MM` (or `HH:MM:SS`, as some browsers send a time field) to seconds
/// after midnight; `None` for anything else.
pub fn parse_time_of_day(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let mut next = |max: i64| -> Option<i64> {
        let p = parts.next()?;
        if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse().ok().filter(|n| *n <= max)
    };
    let (h, m) = (next(23)?, next(59)?);
    let s = match parts.next() {
        None => 0,
        Some(p) if p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit()) => {
            p.parse::<i64>().ok().filter(|n| *n <= 59)?
        }
        Some(_) => return None,
    };
    parts.next().is_none().then_some(h * 3600 + m * 60 + s)
}

/// The UTC day of a Unix time, `YYYY-MM-DD`.
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn datetimes_are_utc_civil_dates() {
        assert_eq!(super::datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::datetime(1_709_251_200), "2024-03-01 00:00 UTC");
        assert_eq!(super::datetime(951_782_400 + 3_660), "2000-02-29 01:01 UTC");
        assert_eq!(super::parse_date("2024-03-01"), Some(1_709_251_200));
        assert_eq!(super::parse_date("2000-02-29"), Some(951_782_400));
        assert_eq!(super::parse_date("2026-02-30"), None);
        assert_eq!(super::parse_date("soon"), None);
        assert_eq!(super::parse_date("2025-01-01"), Some(1_735_689_600));
        assert_eq!(super::parse_date("1970-01-01"), Some(0));
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-1-01",
            "20250101",
            "2025-01-0x",
            "+025-01-01",
            "",
        ] {
            assert_eq!(super::parse_date(bad), None, "{bad}");
        }
        assert_eq!(super::date(1_709_251_200 + 5), "2024-03-01");
        assert_eq!(super::ical_utc(951_782_400 + 3_661), "20000229T010101Z");
        assert_eq!(
            super::time_of_day(951_782_400 + 18 * 3600 + 30 * 60),
            "18:30"
        );
        assert_eq!(super::parse_time_of_day("18:30"), Some(66_600));
        assert_eq!(super::parse_time_of_day("00:00:05"), Some(5));
        for bad in [
            "24:00",
            "7:30",
            "18:60",
            "18:30:",
            "18",
            "ab:cd",
            "18:30:00:00",
            "",
        ] {
            assert_eq!(super::parse_time_of_day(bad), None, "{bad}");
        }
    }
}
