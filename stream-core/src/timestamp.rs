//! Event-time timestamps: milliseconds since the Unix epoch (UTC), like Spark's `TIMESTAMP`
//! converted with `timestamp_millis`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in event time, in milliseconds since 1970-01-01T00:00:00Z.
///
/// Serialized as an integer (epoch milliseconds); deserialized from an integer or from an
/// RFC 3339 / ISO-8601 string such as `"2015-07-15T00:00:01.500Z"`.
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
    /// Parses `YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z]` (UTC) into a timestamp.
    pub fn parse_iso(s: &str) -> Option<Timestamp> {
        let s = s.trim().trim_end_matches('Z');
        let (date, time) = match s.find(['T', ' ']) {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, "00:00:00"),
        };
        let mut d = date.splitn(3, '-');
        let y: i64 = d.next()?.parse().ok()?;
        let m: i64 = d.next()?.parse().ok()?;
        let day: i64 = d.next()?.parse().ok()?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
            return None;
        }
        let mut t = time.splitn(3, ':');
        let hh: i64 = t.next()?.parse().ok()?;
        let mm: i64 = t.next().unwrap_or("0").parse().ok()?;
        let sec = t.next().unwrap_or("0");
        let (ss, frac) = match sec.split_once('.') {
            Some((a, b)) => (a, b),
            None => (sec, ""),
        };
        let ss: i64 = ss.parse().ok()?;
        let ms: i64 = if frac.is_empty() {
            0
        } else {
            let f: String = frac.chars().chain("000".chars()).take(3).collect();
            f.parse().ok()?
        };
        let days = days_from_civil(y, m, day);
        Some(Timestamp(
            ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + ms,
        ))
    }
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

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch milliseconds or an ISO-8601 timestamp string")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                if let Ok(ms) = v.trim().parse::<i64>() {
                    return Ok(Timestamp(ms));
                }
                Timestamp::parse_iso(v).ok_or_else(|| E::custom(format!("invalid timestamp `{v}`")))
            }
        }
        // Text formats may hold a number or a string; binary ones (bincode, between processes)
        // cannot say which they hold, and always hold the number.
        if d.is_human_readable() {
            d.deserialize_any(V)
        } else {
            i64::deserialize(d).map(Timestamp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip_hand_worked() {
        // 2015-07-15 00:00:00 UTC is Nexmark's base time 1436918400000.
        assert_eq!(
            Timestamp::parse_iso("2015-07-15T00:00:00Z"),
            Some(Timestamp(1_436_918_400_000))
        );
        assert_eq!(
            Timestamp(1_436_918_400_000).to_string(),
            "2015-07-15 00:00:00"
        );
        assert_eq!(Timestamp(11_000).to_string(), "1970-01-01 00:00:11");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31 23:59:59.999");
        assert_eq!(
            Timestamp::parse_iso("1970-01-01 00:00:01.5"),
            Some(Timestamp(1500))
        );
        assert_eq!(Timestamp::parse_iso("1970-13-01"), None);
    }

    #[test]
    fn decodes_from_binary_formats_without_deserialize_any() {
        struct Bin(Vec<u8>);
        // A minimal binary (not human-readable) format: i64 as 8 little-endian bytes.
        impl<'de> serde::Deserializer<'de> for &mut Bin {
            type Error = serde::de::value::Error;
            fn is_human_readable(&self) -> bool {
                false
            }
            fn deserialize_i64<V: serde::de::Visitor<'de>>(
                self,
                v: V,
            ) -> Result<V::Value, Self::Error> {
                let bytes: [u8; 8] = self.0[..8].try_into().unwrap();
                v.visit_i64(i64::from_le_bytes(bytes))
            }
            fn deserialize_any<V: serde::de::Visitor<'de>>(
                self,
                _: V,
            ) -> Result<V::Value, Self::Error> {
                Err(serde::de::Error::custom("deserialize_any is not supported"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
                option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
                identifier ignored_any
            }
        }
        let mut bin = Bin(1_500i64.to_le_bytes().to_vec());
        assert_eq!(Timestamp::deserialize(&mut bin).unwrap(), Timestamp(1_500));
    }
}
