//! Instants and validity intervals: RFC 3339 instants, and dates read in the document's zone.

use std::fmt;

use chrono::{DateTime, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// A point in time, in microseconds since the Unix epoch (UTC).
///
/// ```
/// use tarif::Instant;
/// let a = Instant::parse_rfc3339("2026-01-01T00:00:00+01:00").unwrap();
/// assert_eq!(a, Instant::parse_rfc3339("2025-12-31T23:00:00Z").unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i64);

impl Instant {
    /// The earliest representable instant.
    pub const MIN: Instant = Instant(i64::MIN);
    /// The latest representable instant.
    pub const MAX: Instant = Instant(i64::MAX);

    /// The current time.
    pub fn now() -> Instant {
        Instant(Utc::now().timestamp_micros())
    }

    /// From whole seconds since the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Instant {
        Instant(seconds.saturating_mul(1_000_000))
    }

    /// From microseconds since the Unix epoch.
    pub fn from_unix_micros(micros: i64) -> Instant {
        Instant(micros)
    }

    /// Parses an RFC 3339 instant (with offset).
    pub fn parse_rfc3339(text: &str) -> Option<Instant> {
        DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|d| Instant(d.timestamp_micros()))
    }

    /// Parses an RFC 3339 instant, or a date (`2026-03-01`) meaning the first instant of that
    /// day in `zone` (after the gap when midnight does not exist there).
    ///
    /// ```
    /// use tarif::Instant;
    /// let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    /// let d = Instant::parse_in_zone("2026-07-01", paris).unwrap();
    /// assert_eq!(d, Instant::parse_rfc3339("2026-06-30T22:00:00Z").unwrap());
    /// ```
    pub fn parse_in_zone(text: &str, zone: Tz) -> Option<Instant> {
        if let Some(instant) = Instant::parse_rfc3339(text) {
            return Some(instant);
        }
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
        Instant::start_of_day(date, zone)
    }

    /// The first instant of `date` in `zone`.
    pub fn start_of_day(date: NaiveDate, zone: Tz) -> Option<Instant> {
        let midnight = date.and_hms_opt(0, 0, 0)?;
        match zone.from_local_datetime(&midnight) {
            LocalResult::Single(t) => Some(Instant(t.timestamp_micros())),
            LocalResult::Ambiguous(earliest, _) => Some(Instant(earliest.timestamp_micros())),
            LocalResult::None => {
                // Midnight falls in a DST gap: the day starts at the first instant after it.
                let mut minute = midnight;
                for _ in 0..(24 * 60) {
                    minute += chrono::Duration::minutes(1);
                    if let Some(t) = zone.from_local_datetime(&minute).earliest() {
                        return Some(Instant(t.timestamp_micros()));
                    }
                }
                None
            }
        }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp_micros(self.0) {
            Some(d) => write!(
                f,
                "{}",
                d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
            None => write!(f, "@{}us", self.0),
        }
    }
}

/// A half-open interval of instants: `from` inclusive, `until` exclusive.
///
/// ```
/// use tarif::{Instant, Interval};
/// let i = Interval { from: Instant(10), until: Instant(20) };
/// assert!(i.contains(Instant(10)) && !i.contains(Instant(20)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// First instant inside.
    pub from: Instant,
    /// First instant after.
    pub until: Instant,
}

impl Interval {
    /// All of time.
    pub const ALWAYS: Interval = Interval {
        from: Instant::MIN,
        until: Instant::MAX,
    };

    /// Whether `at` lies inside.
    #[inline]
    pub fn contains(&self, at: Instant) -> bool {
        self.from <= at && at < self.until
    }

    /// The intersection (possibly empty).
    pub fn intersect(&self, other: &Interval) -> Interval {
        Interval {
            from: self.from.max(other.from),
            until: self.until.min(other.until),
        }
    }

    /// Whether no instant lies inside.
    pub fn is_empty(&self) -> bool {
        self.from >= self.until
    }

    /// Whether this is all of time.
    pub fn is_always(&self) -> bool {
        *self == Interval::ALWAYS
    }
}
