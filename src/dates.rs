//! Calendar dates as day numbers: enough for review due dates, sorting and feeds, without
//! pulling a time-zone library into a static site generator.

use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i64);

impl Date {
    /// Accepts `YYYY-MM-DD`, optionally followed by a time (`T...` or ` ...`), which is ignored.
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let day = s.get(..10)?;
        let rest = &s[10..];
        if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
            return None;
        }
        let mut it = day.split('-');
        let y: i64 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if day.len() != 10 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn add_days(self, n: i64) -> Date {
        Date(self.0 + n)
    }

    /// RFC 3339 at midnight UTC, for feeds and sitemaps.
    pub fn rfc3339(self) -> String {
        format!("{self}T00:00:00Z")
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms, proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Today (UTC) as days since the epoch. `SCALEBOOK_TODAY=YYYY-MM-DD` pins it, so CI and
/// tests produce the same review status every day.
pub fn today() -> i64 {
    if let Some(d) = std::env::var("SCALEBOOK_TODAY")
        .ok()
        .and_then(|s| Date::parse(&s))
    {
        return d.0;
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    secs.div_euclid(86_400)
}

/// `"90d"`, `"12w"`, `"6m"`, `"1y"` as a number of days (months are 30 days, years 365).
pub fn parse_interval(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let days = match unit.trim() {
        "d" | "day" | "days" => n,
        "w" | "week" | "weeks" => n * 7,
        "m" | "month" | "months" => n * 30,
        "y" | "year" | "years" => n * 365,
        _ => return None,
    };
    (n > 0).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_nonsense() {
        for s in ["1970-01-01", "2024-02-29", "2026-11-29", "1999-12-31"] {
            assert_eq!(Date::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().0, 1);
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
        assert!(Date::parse("yesterday").is_none());
        assert_eq!(
            Date::parse("2026-01-05T10:00:00Z").unwrap().to_string(),
            "2026-01-05"
        );
    }

    #[test]
    fn intervals_in_days() {
        assert_eq!(parse_interval("90d"), Some(90));
        assert_eq!(parse_interval("2w"), Some(14));
        assert_eq!(parse_interval("6m"), Some(180));
        assert_eq!(parse_interval("1y"), Some(365));
        assert_eq!(parse_interval("0d"), None);
        assert_eq!(parse_interval("soon"), None);
    }
}
