//! Event-time timestamps: milliseconds since the Unix epoch (UTC), like Spark's `TIMESTAMP`
//! converted with `timestamp_millis`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in event time, in milliseconds since 1970-01-01T00:00:00Z.
///
/// Serialized as an integer (epoch milliseconds); deserialized from that integer, or from an
/// ISO-8601 string such as `"2015-07-15T00:00:01.500+02:00"` (see [`Timestamp::parse_iso`]).
/// The file source reads JSON and CSV input as Spark does instead (a JSON integer is epoch
/// seconds): see [`TextTimestamps`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The timestamp `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The timestamp `secs` seconds after the epoch, as Spark's JSON reader reads a JSON integer
    /// in a `TIMESTAMP` column (`JacksonParser.scala`: seconds, times 1,000,000 microseconds);
    /// `None` if the time does not fit Spark's microseconds (an `i64`), where Spark would wrap.
    pub fn from_epoch_seconds(secs: i64) -> Option<Timestamp> {
        secs.checked_mul(MICROS_PER_SECOND)?;
        Some(Timestamp(secs * 1000))
    }

    /// Parses a timestamp string as Spark's `stringToTimestamp` (`SparkDateTimeUtils.scala`)
    /// does with the session time zone UTC, or `None` if Spark would not parse it:
    ///
    /// - `[+-]yyyy[-[m]m[-[d]d]]`, then optionally `T` or a space and
    ///   `[h]h:[m]m[:[s]s[.fraction]]` or `[h]h`; the year has 4 to 6 digits, the other fields
    ///   1 or 2; the fraction may have any number of digits and is truncated to microseconds
    ///   (then to milliseconds, rounding down as Spark's `microsToMillis`);
    /// - after the seconds (or their fraction), a zone: `Z`, an offset `+h`, `+hh`, `+hh:mm`,
    ///   `+hhmm`, `+hh:mm:ss` or `+hhmmss` (at most 18 hours; Spark also accepts `+h:mm` and
    ///   `+hh:m`), optionally after `UTC`, `GMT` or `UT`, or one of those alone; the fixed
    ///   short ids `EST`, `MST`, `HST`; spaces around it are allowed. Without a zone, UTC;
    /// - the date must exist (no February 30th, no February 29th outside leap years), the hour
    ///   is 0 to 23, minutes and seconds 0 to 59;
    /// - the result must fit Spark's microseconds since the epoch (an `i64`): years -290308 to
    ///   294247.
    ///
    /// Unlike Spark, region ids such as `Europe/Paris` (and short ids standing for regions, such
    /// as `PST`) are not supported: this engine has no time-zone database, so they are `None`;
    /// so are time-only strings (`10:11:12`, `T10:11:12`), which Spark dates today.
    pub fn parse_iso(s: &str) -> Option<Timestamp> {
        parse_micros(s).map(|us| Timestamp(us.div_euclid(1000)))
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Spark's `isValidDigits` of `parseTimestampString`: how many digits each segment may have.
fn valid_digits(segment: usize, digits: u32) -> bool {
    match segment {
        0 => (4..=6).contains(&digits),
        6 => true,
        7 => digits <= 2,
        _ => (1..=2).contains(&digits),
    }
}

/// Spark's `parseTimestampString` then `stringToTimestamp` (`SparkDateTimeUtils.scala`) in UTC:
/// microseconds since the epoch. See [`Timestamp::parse_iso`].
fn parse_micros(s: &str) -> Option<i64> {
    let bytes = s.as_bytes();
    let trimmed = |b: &u8| *b <= b' ' || *b == 0x7f;
    let start = bytes.iter().position(|b| !trimmed(b))?;
    let end = bytes.len() - bytes.iter().rev().position(|b| !trimmed(b))?;
    // year, month, day, hour, minute, second, microseconds, (zone digits, unused)
    let mut segments: [i64; 9] = [1, 1, 1, 0, 0, 0, 0, 0, 0];
    let (mut i, mut value, mut digits) = (0usize, 0i64, 0u32);
    let mut fraction_digits = 0u32;
    let mut zone: Option<&str> = None;
    let mut year_sign = 1;
    let mut j = start;
    if bytes[j] == b'-' || bytes[j] == b'+' {
        year_sign = if bytes[j] == b'-' { -1 } else { 1 };
        j += 1;
    }
    let mut next_segment = |i: &mut usize, value: &mut i64, digits: &mut u32| -> Option<()> {
        if !valid_digits(*i, *digits) {
            return None;
        }
        segments[*i] = *value;
        (*value, *digits) = (0, 0);
        *i += 1;
        Some(())
    };
    while j < end {
        let b = bytes[j];
        if b.is_ascii_digit() {
            if i == 6 {
                fraction_digits += 1;
            }
            // Digits past the microseconds are dropped; overlong segments are refused below
            // (saturating keeps their value from overflowing meanwhile).
            if i != 6 || digits < 6 {
                value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
            }
            digits = digits.saturating_add(1);
        } else {
            match i {
                // Time-only strings (`T10:00`, `10:00`) would be dated today: refused.
                0 | 1 if b == b'-' => next_segment(&mut i, &mut value, &mut digits)?,
                2 if b == b' ' || b == b'T' => next_segment(&mut i, &mut value, &mut digits)?,
                3 | 4 if b == b':' => next_segment(&mut i, &mut value, &mut digits)?,
                5 if b == b'.' => next_segment(&mut i, &mut value, &mut digits)?,
                5 | 6 => {
                    // The rest of the text is the zone.
                    next_segment(&mut i, &mut value, &mut digits)?;
                    zone = Some(std::str::from_utf8(&bytes[j..end]).ok()?);
                    i = 7;
                    break;
                }
                _ => return None,
            }
        }
        j += 1;
    }
    next_segment(&mut i, &mut value, &mut digits)?;
    let mut micros = segments[6];
    while fraction_digits < 6 {
        micros *= 10;
        fraction_digits += 1;
    }
    let offset_secs = match zone {
        Some(z) => zone_offset_secs(z.trim())?,
        None => 0,
    };
    let [year, month, day, hour, minute, second, ..] = segments;
    let year = year * year_sign;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let secs = i128::from(days_from_civil(year, month, day)) * 86_400
        + i128::from(hour * 3600 + minute * 60 + second)
        - i128::from(offset_secs);
    i64::try_from(secs * i128::from(MICROS_PER_SECOND) + i128::from(micros)).ok()
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The offset from UTC, in seconds, of a zone id as Spark's `getZoneId` reads it
/// (`SparkDateTimeUtils.scala`: `+h:mm` and `+hh:m` are padded, then Java's
/// `ZoneId.of(id, SHORT_IDS)`), for the ids with a fixed offset; `None` for region ids (no
/// time-zone database here) and malformed ones.
fn zone_offset_secs(id: &str) -> Option<i64> {
    // `(\+|\-)(\d):` becomes `$10$2:`, and `(\+|\-)(\d\d):(\d)$` becomes `$1$2:0$3`.
    let mut id = id.to_string();
    if let Some(p) = id.find(['+', '-']) {
        let b = id.as_bytes();
        if b.len() > p + 2 && b[p + 1].is_ascii_digit() && b[p + 2] == b':' {
            id.insert(p + 1, '0');
        }
    }
    let b = id.as_bytes();
    let n = b.len();
    if n >= 5
        && (b[n - 5] == b'+' || b[n - 5] == b'-')
        && b[n - 4].is_ascii_digit()
        && b[n - 3].is_ascii_digit()
        && b[n - 2] == b':'
        && b[n - 1].is_ascii_digit()
    {
        id.insert(n - 1, '0');
    }
    let id = id.as_str();
    match id {
        // `ZoneId.SHORT_IDS` with a fixed offset.
        "EST" => return Some(-5 * 3600),
        "MST" => return Some(-7 * 3600),
        "HST" => return Some(-10 * 3600),
        "Z" | "UTC" | "GMT" | "UT" => return Some(0),
        _ => {}
    }
    if id.starts_with(['+', '-']) {
        return offset_secs(id);
    }
    for prefix in ["UTC", "GMT", "UT"] {
        if let Some(rest) = id.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return offset_secs(rest);
            }
        }
    }
    None
}

/// Java's `ZoneOffset.of`: `+h`, `+hh`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`, `+hhmmss`, at most 18
/// hours either way.
fn offset_secs(id: &str) -> Option<i64> {
    let b = id.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |at: usize| -> Option<i64> {
        let (h, l) = (*b.get(at)?, *b.get(at + 1)?);
        (h.is_ascii_digit() && l.is_ascii_digit()).then(|| i64::from((h - b'0') * 10 + (l - b'0')))
    };
    let colon = |at: usize| (b.get(at) == Some(&b':')).then_some(());
    let (h, m, s) = match b.len() {
        2 if b[1].is_ascii_digit() => (i64::from(b[1] - b'0'), 0, 0),
        3 => (two(1)?, 0, 0),
        5 => (two(1)?, two(3)?, 0),
        6 => (two(1)?, colon(3).and(two(4))?, 0),
        7 => (two(1)?, two(3)?, two(5)?),
        9 => (two(1)?, colon(3).and(two(4))?, colon(6).and(two(7))?),
        _ => return None,
    };
    if h > 18 || m > 59 || s > 59 {
        return None;
    }
    let total = h * 3600 + m * 60 + s;
    (total <= 18 * 3600).then_some(sign * total)
}

// Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Timestamp {
    /// Spark's console format: `yyyy-MM-dd HH:mm:ss[.SSS]` in UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400_000);
        let rem = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let (h, mi, s, ms) = (
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000,
        );
        write!(f, "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

/// How a human-readable (text) format's values are read into a [`Timestamp`]; see
/// [`with_text_timestamps`]. Binary formats (bincode, between processes) always hold the
/// integer milliseconds that [`Timestamp`] serializes to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TextTimestamps {
    /// The engine's own form, the default: an integer is epoch milliseconds (what a
    /// `Timestamp` serializes to, e.g. in the JSON rows sinks write), and a string is either
    /// epoch milliseconds or a timestamp string for [`Timestamp::parse_iso`].
    #[default]
    Millis,
    /// Spark's JSON reader (`JacksonParser.scala`, `TimestampType`): an integer is epoch
    /// **seconds** (Spark multiplies it by 1,000,000 microseconds; a time that does not fit an
    /// `i64` of microseconds is an error here, where Spark would wrap), a string is a
    /// timestamp string for [`Timestamp::parse_iso`], and a fractional number is an error (Spark
    /// accepts only integer tokens).
    SparkJson,
    /// Spark's CSV reader (`UnivocityParser.scala`): the field's text is a timestamp string for
    /// [`Timestamp::parse_iso`], digits included (`1500` is the year 1500, a 10-digit epoch is
    /// not a timestamp).
    SparkCsv,
}

thread_local! {
    static TEXT_TIMESTAMPS: std::cell::Cell<TextTimestamps> =
        const { std::cell::Cell::new(TextTimestamps::Millis) };
}

/// Runs `f` with [`Timestamp`]s read from human-readable formats in `mode` on this thread, then
/// restores the previous mode (also when `f` panics).
///
/// The file source parses each JSON line under [`TextTimestamps::SparkJson`] and each CSV
/// record under [`TextTimestamps::SparkCsv`]; everything else (the engine's own JSON, tests,
/// applications) reads the integer milliseconds a `Timestamp` serializes to.
pub fn with_text_timestamps<R>(mode: TextTimestamps, f: impl FnOnce() -> R) -> R {
    struct Restore(TextTimestamps);
    impl Drop for Restore {
        fn drop(&mut self) {
            TEXT_TIMESTAMPS.with(|m| m.set(self.0));
        }
    }
    let _restore = Restore(TEXT_TIMESTAMPS.with(|m| m.replace(mode)));
    f()
}

/// Reads a `Timestamp` from a text format in the given mode.
struct TextVisitor(TextTimestamps);

impl serde::de::Visitor<'_> for TextVisitor {
    type Value = Timestamp;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0 {
            TextTimestamps::Millis => {
                f.write_str("epoch milliseconds or an ISO-8601 timestamp string")
            }
            TextTimestamps::SparkJson => {
                f.write_str("whole epoch seconds or an ISO-8601 timestamp string")
            }
            TextTimestamps::SparkCsv => f.write_str("an ISO-8601 timestamp string"),
        }
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
        match self.0 {
            TextTimestamps::SparkJson => Timestamp::from_epoch_seconds(v).ok_or_else(|| {
                E::custom(format!(
                    "timestamp out of range: {v} seconds since the epoch do not fit Spark's \
                     microseconds"
                ))
            }),
            TextTimestamps::Millis => Ok(Timestamp(v)),
            TextTimestamps::SparkCsv => self.visit_str(&v.to_string()),
        }
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => Err(E::custom(format!("timestamp out of range: {v}"))),
        }
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Timestamp, E> {
        match self.0 {
            TextTimestamps::SparkJson => Err(E::custom(format!(
                "a JSON number in a timestamp column is whole seconds since the epoch (as in \
                 Spark), found {v}"
            ))),
            _ => Err(E::invalid_type(serde::de::Unexpected::Float(v), &self)),
        }
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
        if self.0 == TextTimestamps::Millis {
            if let Ok(ms) = v.trim().parse::<i64>() {
                return Ok(Timestamp(ms));
            }
        }
        Timestamp::parse_iso(v).ok_or_else(|| E::custom(format!("invalid timestamp `{v}`")))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Binary formats (bincode, between processes) cannot say what they hold, and always
        // hold the integer milliseconds.
        if !d.is_human_readable() {
            return i64::deserialize(d).map(Timestamp);
        }
        match TEXT_TIMESTAMPS.with(|m| m.get()) {
            // A CSV field is text, whatever it looks like.
            TextTimestamps::SparkCsv => d.deserialize_str(TextVisitor(TextTimestamps::SparkCsv)),
            mode => d.deserialize_any(TextVisitor(mode)),
        }
    }
}

#[cfg(test)]
mod tests;
