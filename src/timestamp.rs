//! Timestamps of log lines: finds when a line was written, for the scan's
//! timeline (SPEC section 3, `scan`, "Timeline") and the `log_ts` of events.
//!
//! Formats, the leftmost one on the line wins:
//!
//! - RFC 3339 / ISO 8601: `2026-11-30T02:04:20Z`, `2026-11-30 02:04:20`,
//!   with `.` or `,` fractions and `Z`, `±hh:mm`, `±hhmm`, `±hh` or
//!   ` UTC` zones; this also covers the Kubernetes CRI prefix
//!   (`2026-11-30T02:04:20.123456789Z stdout F ...`) and
//!   `2026-11-30 02:04:20,123` (log4j, Python logging);
//! - syslog `Nov 30 02:04:20` (also `Nov  3`), whose year is not written:
//!   it is the year of a reference time (the file's modification time, or
//!   the scan's start for stdin), one year less when that would put the line
//!   more than a day after the reference (a December line in a file written
//!   in January); with a year after the time (`Dec 04 04:47:44 2005`, the
//!   ctime form) that year is used;
//! - Apache/nginx `[30/Nov/2026:02:04:20 +0000]`;
//! - Unix seconds, milliseconds, micro- or nanoseconds (by magnitude) as a
//!   number in a JSON `"ts"`, `"time"` or `"timestamp"` field, looked for
//!   first on a line that starts with `{`.
//!
//! A time without a zone is local time: [`LocalZone`] asks the C library
//! (`localtime_r`, so `TZ` is honoured, DST included).
//!
//! Costs: hand parsers, chosen over a `regex-automata` search by measurement
//! (`cargo bench --bench timestamp`): one pass over at most
//! [`MAX_LINE_BYTES`] bytes of the line, a few byte comparisons per
//! position, no allocation. Only lines that hold a hit are looked at, so clean
//! text costs nothing. A local time costs one `localtime_r` per quarter hour
//! of log time (a one-entry cache), not one per line.

/// Only this many bytes from the start of a line are looked at.
pub const MAX_LINE_BYTES: usize = 1024;

/// Milliseconds since the Unix epoch, UTC.
pub type UnixMs = i64;

/// Finds the timestamps of the lines of one input.
#[derive(Debug)]
pub struct Finder {
    /// For syslog stamps without a year, in Unix seconds.
    reference_s: i64,
    /// The local year at `reference_s`.
    reference_year: i64,
    zone: LocalZone,
}

impl Finder {
    /// `reference_s`: the input's modification time (Unix seconds), or the
    /// scan's start for an input without one; it gives syslog stamps their
    /// year.
    pub fn new(reference_s: i64, mut zone: LocalZone) -> Finder {
        let local = reference_s + zone.offset_at(reference_s) as i64;
        let (reference_year, _, _) = civil_from_days(local.div_euclid(86_400));
        Finder {
            reference_s,
            reference_year,
            zone,
        }
    }

    /// The timestamp of `line` (its bytes, with or without the LF), if it
    /// holds one in a known format.
    pub fn find(&mut self, line: &[u8]) -> Option<UnixMs> {
        let line = &line[..line.len().min(MAX_LINE_BYTES)];
        let first = line.iter().position(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|i| line[i] == b'{')
            && let Some(ms) = json_epoch(line)
        {
            return Some(ms);
        }
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            let boundary = i == 0 || !line[i - 1].is_ascii_alphanumeric();
            let found = match b {
                b'0'..=b'9' if boundary => iso(line, i),
                b'[' => apache(line, i + 1),
                b'A' | b'D' | b'F' | b'J' | b'M' | b'N' | b'O' | b'S' if boundary => {
                    syslog(line, i)
                }
                _ => None,
            };
            if let Some(stamp) = found {
                return Some(self.resolve(stamp));
            }
            i += 1;
        }
        None
    }

    /// A parsed stamp as Unix milliseconds.
    fn resolve(&mut self, s: Stamp) -> UnixMs {
        let year = s.year.unwrap_or(self.reference_year);
        let wall = wall_s(year, s.month, s.day, s.time);
        let mut utc = match s.offset_s {
            Some(off) => wall - off as i64,
            None => self.zone.utc_of_local(wall),
        };
        if s.year.is_none() && utc > self.reference_s + 86_400 {
            let day = s.day.min(days_in_month(year - 1, s.month));
            utc = self
                .zone
                .utc_of_local(wall_s(year - 1, s.month, day, s.time));
        }
        utc * 1000 + s.time.millis as i64
    }
}

/// A time as written: civil fields, the zone if written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    /// `None`: not written (syslog).
    year: Option<i64>,
    month: u32,
    day: u32,
    time: TimeOfDay,
    /// Seconds east of UTC; `None`: local time.
    offset_s: Option<i32>,
}

/// `hh:mm:ss` and its fraction, as written (a leap second as `:59`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TimeOfDay {
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
}

/// A wall-clock reading as the Unix seconds it would be in UTC.
fn wall_s(year: i64, month: u32, day: u32, time: TimeOfDay) -> i64 {
    days_from_civil(year, month, day) * 86_400
        + time.hour as i64 * 3600
        + time.minute as i64 * 60
        + time.second as i64
}

/// Whether `year-month-day` is a day of the calendar.
fn valid_date(year: i64, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day != 0 && day <= days_in_month(year, month)
}

/// `n` ASCII digits at `line[at..]` as a number.
#[inline]
fn digits(line: &[u8], at: usize, n: usize) -> Option<u32> {
    let d = line.get(at..at + n)?;
    let mut v = 0u32;
    for &b in d {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as u32;
    }
    Some(v)
}

#[inline]
fn byte_is(line: &[u8], at: usize, want: u8) -> bool {
    line.get(at) == Some(&want)
}

/// Not followed by a digit (so `12:30:45` is not the start of `12:30:456`).
#[inline]
fn ends(line: &[u8], at: usize) -> bool {
    !line.get(at).is_some_and(|b| b.is_ascii_digit())
}

/// `hh:mm:ss` at `at`, validated, with its fraction if any; the index
/// after it.
fn time_of_day(line: &[u8], at: usize) -> Option<(TimeOfDay, usize)> {
    let h = digits(line, at, 2)?;
    let m = digits(line, at + 3, 2)?;
    let s = digits(line, at + 6, 2)?;
    if !byte_is(line, at + 2, b':') || !byte_is(line, at + 5, b':') {
        return None;
    }
    // 60: a leap second, counted in the minute's last second.
    if h >= 24 || m >= 60 || s > 60 {
        return None;
    }
    let (millis, next) = fraction(line, at + 8);
    let time = TimeOfDay {
        hour: h,
        minute: m,
        second: s.min(59),
        millis,
    };
    Some((time, next))
}

/// `.ddd` or `,ddd` (any number of digits) at `at`: milliseconds and the
/// index after the digits.
fn fraction(line: &[u8], at: usize) -> (u32, usize) {
    if !matches!(line.get(at), Some(b'.' | b',')) {
        return (0, at);
    }
    let mut i = at + 1;
    let mut ms = 0u32;
    while let Some(b) = line.get(i).filter(|b| b.is_ascii_digit()) {
        if i - at <= 3 {
            ms = ms * 10 + (b - b'0') as u32;
        }
        i += 1;
    }
    if i == at + 1 {
        return (0, at);
    }
    for _ in (i - at)..4 {
        ms *= 10;
    }
    (ms, i)
}

/// A numeric zone `±hh:mm`, `±hhmm` or `±hh` at `at`: seconds east of UTC.
fn numeric_zone(line: &[u8], at: usize) -> Option<(i32, usize)> {
    let sign = match line.get(at)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits(line, at + 1, 2)?;
    let (m, next) = if byte_is(line, at + 3, b':') {
        (digits(line, at + 4, 2)?, at + 6)
    } else if let Some(m) = digits(line, at + 3, 2) {
        (m, at + 5)
    } else {
        (0, at + 3)
    };
    (h < 24 && m < 60 && ends(line, next))
        .then_some((sign * (h as i32 * 3600 + m as i32 * 60), next))
}

/// ISO 8601 / RFC 3339 at `at`.
fn iso(line: &[u8], at: usize) -> Option<Stamp> {
    let year = digits(line, at, 4)?;
    if !byte_is(line, at + 4, b'-') || !byte_is(line, at + 7, b'-') {
        return None;
    }
    let month = digits(line, at + 5, 2)?;
    let day = digits(line, at + 8, 2)?;
    if !matches!(line.get(at + 10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (time, next) = time_of_day(line, at + 11)?;
    if !(1970..=9999).contains(&year) || !valid_date(year as i64, month, day) {
        return None;
    }
    if !ends(line, next) {
        return None;
    }
    let offset_s = match line.get(next) {
        Some(b'Z' | b'z') => Some(0),
        Some(b'+' | b'-') => numeric_zone(line, next).map(|(o, _)| o),
        Some(b' ') => match line.get(next + 1..next + 4) {
            Some(b"UTC" | b"GMT") => Some(0),
            Some([b'+' | b'-', ..]) => numeric_zone(line, next + 1).map(|(o, _)| o),
            _ => None,
        },
        _ => None,
    };
    Some(Stamp {
        year: Some(year as i64),
        month,
        day,
        time,
        offset_s,
    })
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month(line: &[u8], at: usize) -> Option<u32> {
    let name = line.get(at..at + 3)?;
    MONTHS
        .iter()
        .position(|m| m.as_slice() == name)
        .map(|i| i as u32 + 1)
}

/// syslog `Nov 30 02:04:20` / `Nov  3 02:04:20` at `at`, with an optional
/// fraction and an optional ` YYYY` after the time (ctime).
fn syslog(line: &[u8], at: usize) -> Option<Stamp> {
    let month = month(line, at)?;
    if !byte_is(line, at + 3, b' ') {
        return None;
    }
    let day = match (line.get(at + 4)?, line.get(at + 5)?) {
        (b' ', d) if d.is_ascii_digit() => (d - b'0') as u32,
        _ => digits(line, at + 4, 2)?,
    };
    if !byte_is(line, at + 6, b' ') || day == 0 || day > 31 {
        return None;
    }
    let (time, next) = time_of_day(line, at + 7)?;
    if !ends(line, next) {
        return None;
    }
    let year = (byte_is(line, next, b' ') && ends(line, next + 5))
        .then(|| digits(line, next + 1, 4))
        .flatten()
        .filter(|y| *y >= 1970)
        .map(|y| y as i64);
    // Without a year, any day of the month in some year (29 February).
    if !valid_date(year.unwrap_or(2000), month, day) {
        return None;
    }
    Some(Stamp {
        year,
        month,
        day,
        time,
        offset_s: None,
    })
}

/// Apache/nginx `30/Nov/2026:02:04:20 +0000]` at `at` (after the `[`).
fn apache(line: &[u8], at: usize) -> Option<Stamp> {
    let day = digits(line, at, 2)?;
    let month = month(line, at + 3)?;
    let year = digits(line, at + 7, 4)?;
    if !byte_is(line, at + 2, b'/') || !byte_is(line, at + 6, b'/') || !byte_is(line, at + 11, b':')
    {
        return None;
    }
    let (time, next) = time_of_day(line, at + 12)?;
    if year < 1970 || !valid_date(year as i64, month, day) {
        return None;
    }
    let (offset_s, next) = if byte_is(line, next, b' ') {
        let (o, n) = numeric_zone(line, next + 1)?;
        (Some(o), n)
    } else {
        (None, next)
    };
    if !byte_is(line, next, b']') {
        return None;
    }
    Some(Stamp {
        year: Some(year as i64),
        month,
        day,
        time,
        offset_s,
    })
}

/// A number in a JSON `"ts"`, `"time"` or `"timestamp"` field: Unix time in
/// s, ms, µs or ns by its number of integer digits (<= 11, 12-14, 15-17,
/// 18-19), with an optional fraction (of seconds, when in seconds). A
/// string value is left to the other formats.
fn json_epoch(line: &[u8]) -> Option<UnixMs> {
    let mut from = 0;
    while let Some(q) = memchr::memchr(b'"', &line[from..]) {
        let key_at = from + q + 1;
        from = key_at;
        let rest = &line[key_at..];
        let key_len = [&b"timestamp\""[..], b"time\"", b"ts\""]
            .iter()
            .find(|k| rest.starts_with(k))
            .map(|k| k.len());
        let Some(key_len) = key_len else { continue };
        from = key_at + key_len;
        let mut i = from;
        while line.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        if !byte_is(line, i, b':') {
            continue;
        }
        i += 1;
        while line.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        let int_at = i;
        let mut int: i64 = 0;
        while let Some(b) = line.get(i).filter(|b| b.is_ascii_digit()) {
            if i - int_at >= 19 {
                return None;
            }
            int = int * 10 + (b - b'0') as i64;
            i += 1;
        }
        let n = i - int_at;
        if n == 0 || int == 0 {
            continue;
        }
        let ms = match n {
            ..=11 => {
                let (frac, _) = fraction(line, i);
                int * 1000 + frac as i64
            }
            12..=14 => int,
            15..=17 => int / 1000,
            _ => int / 1_000_000,
        };
        return Some(ms);
    }
    None
}

/// The local time zone of the process, as the C library knows it (`TZ`
/// honoured), with a one-entry cache: zone offsets change at most every
/// quarter hour of log time.
#[derive(Clone, Debug)]
pub struct LocalZone {
    rule: ZoneRule,
    /// Quarter-hour slot (Unix seconds / 900) and its offset.
    cached: Option<(i64, i32)>,
    /// Quarter-hour slot of wall time and the offset that resolves it.
    wall_cached: Option<(i64, i32)>,
}

#[derive(Clone, Copy, Debug)]
enum ZoneRule {
    /// The C library's (`TZ`).
    System,
    /// Always this many seconds east of UTC.
    Fixed(i32),
    /// Offset by instant, given (tests of DST changes).
    #[cfg(test)]
    Rule(fn(i64) -> i32),
}

unsafe extern "C" {
    /// POSIX: reads `TZ`. Declared here because the `libc` crate does not
    /// export it for Linux.
    fn tzset();
}

impl LocalZone {
    /// The process's zone; reads `TZ` now.
    pub fn system() -> LocalZone {
        // SAFETY: tzset takes no arguments and only sets libc's zone state;
        // faultline never sets TZ while running.
        unsafe { tzset() };
        LocalZone {
            rule: ZoneRule::System,
            cached: None,
            wall_cached: None,
        }
    }

    #[cfg(test)]
    fn rule(rule: fn(i64) -> i32) -> LocalZone {
        LocalZone {
            rule: ZoneRule::Rule(rule),
            cached: None,
            wall_cached: None,
        }
    }

    /// A zone that is always `offset_s` seconds east of UTC.
    pub fn fixed(offset_s: i32) -> LocalZone {
        LocalZone {
            rule: ZoneRule::Fixed(offset_s),
            cached: None,
            wall_cached: None,
        }
    }

    /// Seconds east of UTC at the instant `utc_s`.
    pub fn offset_at(&mut self, utc_s: i64) -> i32 {
        if let ZoneRule::Fixed(o) = self.rule {
            return o;
        }
        let slot = utc_s.div_euclid(900);
        if let Some((s, o)) = self.cached
            && s == slot
        {
            return o;
        }
        let o = match self.rule {
            ZoneRule::Fixed(o) => o,
            ZoneRule::System => system_offset_at(utc_s),
            #[cfg(test)]
            ZoneRule::Rule(f) => f(utc_s),
        };
        self.cached = Some((slot, o));
        o
    }

    /// The instant of a local wall-clock time (given as the Unix seconds
    /// of the same reading in UTC). In a DST gap the offset before the
    /// change is used; in an overlap, the earlier instant. Assumes at most
    /// one change of offset within a day, as every zone in use. Cached per
    /// quarter hour of wall time (changes happen on quarter hours).
    pub fn utc_of_local(&mut self, wall_s: i64) -> i64 {
        let slot = wall_s.div_euclid(900);
        if let Some((s, o)) = self.wall_cached
            && s == slot
        {
            return wall_s - o as i64;
        }
        let before = self.offset_at(wall_s - 86_400);
        let after = self.offset_at(wall_s + 86_400);
        let valid = |z: &mut Self, o: i32| z.offset_at(wall_s - o as i64) == o;
        let o = match (valid(self, before), valid(self, after)) {
            // The earlier instant is the one with the larger offset.
            (true, true) => before.max(after),
            (false, true) => after,
            // Valid before, or a gap: the offset before the change.
            (true, false) | (false, false) => before,
        };
        self.wall_cached = Some((slot, o));
        wall_s - o as i64
    }
}

fn system_offset_at(utc_s: i64) -> i32 {
    let t = utc_s as libc::time_t;
    // SAFETY: localtime_r writes only to `tm`, which outlives the call; a
    // zeroed `tm` is a valid value of the plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() { 0 } else { tm.tm_gmtoff as i32 }
}

pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `2026-11-30T02:04:20Z`, or with `.123` when `ms` has a fraction.
pub fn rfc3339_utc(ms: UnixMs) -> String {
    let s = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (date, time) = civil_time(s);
    if frac == 0 {
        format!("{date}T{time}Z")
    } else {
        format!("{date}T{time}.{frac:03}Z")
    }
}

/// [`rfc3339_utc`] appended to `out`, without allocating (events).
pub fn write_rfc3339_utc(out: &mut Vec<u8>, ms: UnixMs) {
    use std::io::Write;
    let s = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(s.div_euclid(86_400));
    let t = s.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        t / 3600,
        t % 3600 / 60,
        t % 60
    );
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
    out.push(b'Z');
}

/// `2026-11-30 03:04:20 +01:00`: the instant `s` as a wall time `offset_s`
/// east of UTC.
pub fn wall_time(s: i64, offset_s: i32) -> String {
    let (date, time) = civil_time(s + offset_s as i64);
    let sign = if offset_s < 0 { '-' } else { '+' };
    let off = offset_s.unsigned_abs();
    format!(
        "{date} {time} {sign}{:02}:{:02}",
        off / 3600,
        off % 3600 / 60
    )
}

/// (`2026-11-30`, `02:04:20`) of Unix seconds.
fn civil_time(s: i64) -> (String, String) {
    let (y, m, d) = civil_from_days(s.div_euclid(86_400));
    let t = s.rem_euclid(86_400);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60),
    )
}

/// Parses an RFC 3339 time with a zone (as [`rfc3339_utc`] writes), for
/// reading reports back; `None` if it is not one.
pub fn parse_rfc3339(text: &str) -> Option<UnixMs> {
    let s = iso(text.as_bytes(), 0)?;
    let off = s.offset_s?;
    let wall = wall_s(s.year?, s.month, s.day, s.time);
    Some((wall - off as i64) * 1000 + s.time.millis as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30T02:04:20Z, computed by hand: 20,787 days after
    /// 1970-01-01 (56 years incl. 14 leap days to 2026-01-01 = 20,454; Jan
    /// to Nov = 334 days; the 30th: 29 more) = 1,795,996,800 s at midnight.
    const T: i64 = 1_795_996_800 + 2 * 3600 + 4 * 60 + 20;

    fn utc() -> Finder {
        // Reference: 2026-12-01T00:00:00Z.
        Finder::new(1_796_083_200, LocalZone::fixed(0))
    }

    fn at(zone_s: i32, line: &str) -> Option<UnixMs> {
        Finder::new(1_796_083_200, LocalZone::fixed(zone_s)).find(line.as_bytes())
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 30) * 86_400, 1_795_996_800);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for d in -800_000..800_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn rfc3339_and_iso_forms() {
        let mut f = utc();
        let ms = T * 1000;
        for (line, want) in [
            ("2026-11-30T02:04:20Z ERROR Ecs.0013", ms),
            ("2026-11-30T02:04:20.5Z x", ms + 500),
            ("2026-11-30T02:04:20.123456789Z stdout F msg", ms + 123),
            ("2026-11-30T03:04:20+01:00 x", ms),
            ("2026-11-30T03:04:20.250+0100 x", ms + 250),
            ("2026-11-29T21:04:20-05 x", ms),
            ("2026-11-30 02:04:20,123 ERROR x", ms + 123),
            ("2026-11-30 02:04:20 UTC x", ms),
            ("2026-11-30 07:34:20 +05:30 x", ms),
            ("2026-11-30t02:04:20z", ms),
            ("prefix [2026-11-30 02:04:20] x", ms),
            ("host=a time=\"2026-11-30T02:04:20Z\" x", ms),
        ] {
            assert_eq!(f.find(line.as_bytes()), Some(want), "{line}");
        }
    }

    #[test]
    fn a_time_without_a_zone_is_local() {
        let ms = T * 1000;
        assert_eq!(at(3600, "2026-11-30 03:04:20 x"), Some(ms));
        assert_eq!(at(-8 * 3600, "2026-11-29T18:04:20.000 x"), Some(ms));
        // A written zone wins over the local one.
        assert_eq!(at(3600, "2026-11-30T02:04:20Z x"), Some(ms));
    }

    #[test]
    fn cri_prefix_with_a_json_payload() {
        let line = r#"2026-11-30T02:04:20.000000001Z stderr F {"ts": 1, "msg": "Ecs.0013"}"#;
        assert_eq!(utc().find(line.as_bytes()), Some(T * 1000));
    }

    #[test]
    fn syslog_takes_its_year_from_the_reference() {
        let ms = T * 1000;
        assert_eq!(utc().find(b"Nov 30 02:04:20 host app[1]: x"), Some(ms));
        assert_eq!(utc().find(b"<13>Nov 30 02:04:20 host x"), Some(ms));
        assert_eq!(at(3600, "Nov 30 03:04:20 host x"), Some(ms));
        // A December line in a file last written in January: last year.
        let jan = days_from_civil(2027, 1, 2) * 86_400;
        let dec = days_from_civil(2026, 12, 31) * 86_400 + 3600;
        let mut f = Finder::new(jan, LocalZone::fixed(0));
        assert_eq!(f.find(b"Dec 31 01:00:00 h x"), Some(dec * 1000));
        assert_eq!(
            f.find(b"Jan  2 00:00:00 h x"),
            Some(jan * 1000),
            "space-padded day"
        );
        // ctime, with its year: Apache 2.2 error logs.
        let y2005 = (days_from_civil(2005, 12, 4) * 86_400 + 4 * 3600 + 47 * 60 + 44) * 1000;
        assert_eq!(f.find(b"[Sun Dec 04 04:47:44 2005] [error] x"), Some(y2005));
    }

    #[test]
    fn apache_and_nginx() {
        let ms = T * 1000;
        assert_eq!(
            utc().find(b"10.0.0.1 - - [30/Nov/2026:02:04:20 +0000] \"GET / HTTP/1.1\" 500"),
            Some(ms)
        );
        assert_eq!(
            utc().find(b"1.2.3.4 - - [30/Nov/2026:10:04:20 +0800] \"GET /\""),
            Some(ms)
        );
        assert_eq!(at(3600, "[30/Nov/2026:03:04:20] x"), Some(ms));
    }

    #[test]
    fn json_epoch_fields() {
        let ms = T * 1000;
        for (line, want) in [
            (format!(r#"{{"ts": {T}, "code": "Ecs.0013"}}"#), ms),
            (format!(r#"{{"level":"error","time":{T}.25}}"#), ms + 250),
            (format!(r#"{{"timestamp":{}}}"#, ms + 7), ms + 7),
            (format!(r#"{{"ts":{}123}}"#, ms), ms),
            (format!(r#"  {{"msg":"ts", "x":1, "ts" : {T}}}"#), ms),
            (r#"{"time":"2026-11-30T02:04:20Z"}"#.to_string(), ms),
        ] {
            assert_eq!(utc().find(line.as_bytes()), Some(want), "{line}");
        }
        // A field named like one but longer is not one.
        assert_eq!(utc().find(br#"{"tsx": 1764468260}"#), None);
    }

    #[test]
    fn lines_without_a_timestamp() {
        for line in [
            "",
            "ERROR Ecs.0013 quota exceeded",
            "2026-11-30",
            "2026-13-30 02:04:20",
            "2026-02-30 02:04:20",
            "2026-11-30 24:04:20",
            "12026-11-30 02:04:20",
            "Nov 31 02:04:20 x",
            "November 30 02:04:20",
            "[30/Foo/2026:02:04:20 +0000]",
            "id=42026-11-30T02:04:20Z",
            "081109 203615 148 INFO dfs.DataNode",
        ] {
            assert_eq!(utc().find(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn only_the_first_bytes_of_a_long_line_are_looked_at() {
        let mut line = vec![b'x'; MAX_LINE_BYTES];
        line.extend_from_slice(b" 2026-11-30T02:04:20Z");
        assert_eq!(utc().find(&line), None);
        line.drain(..30);
        assert_eq!(utc().find(&line), Some(T * 1000));
    }

    #[test]
    fn formatting_and_parsing_back() {
        assert_eq!(rfc3339_utc(T * 1000), "2026-11-30T02:04:20Z");
        assert_eq!(rfc3339_utc(T * 1000 + 7), "2026-11-30T02:04:20.007Z");
        for ms in [T * 1000, T * 1000 + 7, 0, -1] {
            let mut out = Vec::new();
            write_rfc3339_utc(&mut out, ms);
            assert_eq!(String::from_utf8(out).unwrap(), rfc3339_utc(ms));
        }
        assert_eq!(wall_time(T, 3600), "2026-11-30 03:04:20 +01:00");
        assert_eq!(wall_time(T, -9000), "2026-11-29 23:34:20 -02:30");
        assert_eq!(parse_rfc3339("2026-11-30T02:04:20Z"), Some(T * 1000));
        assert_eq!(parse_rfc3339("2026-11-30T02:04:20"), None);
    }

    #[test]
    fn dst_gap_and_overlap_resolve_to_one_instant() {
        // Europe/Berlin's spring change, 2026-03-29T01:00:00Z (+1h -> +2h),
        // and autumn change, 2026-10-25T01:00:00Z (+2h -> +1h), given as a
        // rule, not read from the system.
        const SPRING: i64 = 1_774_746_000;
        const AUTUMN: i64 = 1_792_890_000;
        assert_eq!(days_from_civil(2026, 3, 29) * 86_400 + 3600, SPRING);
        assert_eq!(days_from_civil(2026, 10, 25) * 86_400 + 3600, AUTUMN);
        fn berlin(u: i64) -> i32 {
            if (SPRING..AUTUMN).contains(&u) {
                7200
            } else {
                3600
            }
        }
        let mut z = LocalZone::rule(berlin);
        let wall = |h: i64, day: i64| day + h * 3600;
        let spring_day = SPRING - 3600;
        let autumn_day = AUTUMN - 3600;
        // 01:30 local before the spring change: +1h.
        assert_eq!(z.utc_of_local(wall(1, spring_day) + 1800), SPRING - 1800);
        // 03:30 local after it: +2h.
        assert_eq!(z.utc_of_local(wall(3, spring_day) + 1800), SPRING + 1800);
        // 02:30 does not exist: read with the offset before the change.
        assert_eq!(z.utc_of_local(wall(2, spring_day) + 1800), SPRING + 1800);
        // 02:30 in autumn happens twice: the earlier instant.
        assert_eq!(z.utc_of_local(wall(2, autumn_day) + 1800), AUTUMN - 1800);
        // 04:00 in autumn: +1h.
        assert_eq!(z.utc_of_local(wall(4, autumn_day)), AUTUMN + 2 * 3600);
    }
}
