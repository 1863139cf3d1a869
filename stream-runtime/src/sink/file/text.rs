//! Values as Spark's writers print them (Java's number formats, ISO-8601 timestamps), partition
//! directory names (Hive's escaping) and the `file:` URIs of the sink log.

use crate::error::{Result, StreamError};
use std::path::{Path, PathBuf};
use stream_core::Timestamp;

/// Spark's default `timestampFormat` of the JSON and CSV writers, `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`,
/// in UTC: `2026-01-01T00:00:05.123Z`.
pub(crate) fn iso_millis(t: Timestamp) -> String {
    let (date, time, ms) = civil(t);
    format!("{date}T{time}.{ms:03}Z")
}

/// A timestamp cast to a string in UTC, as Spark names a partition directory:
/// `2026-01-01 00:00:05.12` (the fraction without trailing zeros, none if zero).
pub(crate) fn cast_timestamp(t: Timestamp) -> String {
    let (date, time, ms) = civil(t);
    if ms == 0 {
        return format!("{date} {time}");
    }
    let fraction = format!("{ms:03}");
    format!("{date} {time}.{}", fraction.trim_end_matches('0'))
}

/// The date (`yyyy-MM-dd`, `+yyyyy` past year 9999), the time (`HH:mm:ss`) and the milliseconds.
fn civil(t: Timestamp) -> (String, String, i64) {
    // `Timestamp`'s display is `yyyy-MM-dd HH:mm:ss[.SSS]` in UTC.
    let shown = t.to_string();
    let (date, rest) = shown.rsplit_once(' ').unwrap_or((&shown, "00:00:00"));
    let time = &rest[..8.min(rest.len())];
    let year_end = date.len() - 6;
    let date = match date[..year_end].parse::<i64>() {
        Ok(y) if y > 9999 => format!("+{date}"),
        _ => date.to_string(),
    };
    (date, time.to_string(), t.millis().rem_euclid(1000))
}

/// A `double` as Java's `Double.toString` prints it (Spark's JSON and CSV writers): `1.0`,
/// `0.001`, `1.0E7`, `1.0E-4`, `NaN`, `Infinity`. The digits are the shortest that read back as
/// the same number (Java 19+; older Java prints a few numbers with more digits).
pub(crate) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_decimal(&format!("{x:e}"))
}

/// A `float` as Java's `Float.toString` prints it (see [`java_double`]).
pub(crate) fn java_float(x: f32) -> String {
    if x.is_nan() || x.is_infinite() {
        return java_double(f64::from(x));
    }
    java_decimal(&format!("{x:e}"))
}

/// Java's layout of a number given in Rust's shortest scientific form (`-1.25e-5`): plain
/// decimals for magnitudes in `[1e-3, 1e7)`, `d.dddE±n` otherwise.
fn java_decimal(sci: &str) -> String {
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` has an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if digits.bytes().all(|d| d == b'0') {
        return format!("{sign}0.0");
    }
    if !(-3..7).contains(&exp) {
        let rest = if digits.len() > 1 { &digits[1..] } else { "0" };
        return format!("{sign}{}.{rest}E{exp}", &digits[..1]);
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

/// The directory of a partition value, `col=value`, as Spark (Hive) names it: characters that
/// are not safe in a path are `%XX`, and NULL or an empty string is
/// `__HIVE_DEFAULT_PARTITION__`.
pub(crate) fn partition_dir(column: &str, value: Option<&str>) -> String {
    let value = match value {
        None | Some("") => DEFAULT_PARTITION.to_string(),
        Some(v) => escape_path_name(v),
    };
    format!("{}={value}", escape_path_name(column))
}

/// The directory name of a NULL (or empty) partition value.
pub(crate) const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Hive's `escapePathName` (Spark's `ExternalCatalogUtils`): control characters and
/// `"#%'*/:=?\{[]^` and DEL become `%XX`.
pub(crate) fn escape_path_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let escaped = matches!(c, '\u{1}'..='\u{1f}' | '\u{7f}') || "\"#%'*/:=?\\{[]^".contains(c);
        if escaped {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Hive's `unescapePathName`: `%XX` back to the character.
pub(crate) fn unescape_path_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 3)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `file:` URI of an absolute local path, as Spark 4 writes it in the sink log
/// (`file:///out/a%20b/part-…`): characters that a URI path cannot hold, `%` among them, are
/// `%XX` (Java's `URI` quoting; other non-ASCII characters stay).
pub(crate) fn file_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    let text = path.to_string_lossy();
    for c in text.chars() {
        let legal = c.is_ascii_alphanumeric() || "-_.!~*'()/;:@&=+$,".contains(c);
        if legal || (!c.is_ascii() && !c.is_whitespace() && !c.is_control()) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The local path of a `file:` URI of the sink log (`file:/p`, `file:///p`, or a bare path).
pub(crate) fn uri_path(uri: &str) -> Result<PathBuf> {
    let path = match uri.strip_prefix("file:") {
        Some(rest) => match rest.strip_prefix("//") {
            // `file:///p` (empty authority) or `file://localhost/p`.
            Some(r) if r.starts_with('/') => r,
            Some(r) if r.starts_with("localhost/") => &r["localhost".len()..],
            Some(_) => {
                return Err(StreamError::Source(format!(
                    "the file sink log names `{uri}`, a file on another host: only local files \
                     are read"
                )))
            }
            None => rest,
        },
        None if uri.contains("://") => {
            return Err(StreamError::Source(format!(
                "the file sink log names `{uri}`: only local `file:` paths are read"
            )))
        }
        None => uri,
    };
    let mut bytes = Vec::with_capacity(path.len());
    let raw = path.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (raw[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                bytes.push(b);
                i += 3;
            }
            (b, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).map(PathBuf::from).map_err(|_| {
        StreamError::Source(format!(
            "the file sink log names `{uri}`, which is not UTF-8 once decoded"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spark 4.3's writers on Java 17 (recorded with pyspark: `scripts/pyspark/`).
    // 3.14159 is a value Spark printed, not an approximation of pi.
    #[allow(clippy::approx_constant)]
    #[test]
    fn numbers_as_java_prints_them() {
        let cases = [
            (1e7, "1.0E7"),
            (0.001, "0.001"),
            (1e-4, "1.0E-4"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (123456.789, "123456.789"),
            (1.0, "1.0"),
            (9999999.0, "9999999.0"),
            (1.5e10, "1.5E10"),
            (-2.5e-7, "-2.5E-7"),
            (100.0, "100.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, java) in cases {
            assert_eq!(java_double(x), java, "{x}");
        }
        for (x, java) in [(1e7f32, "1.0E7"), (0.1, "0.1"), (3.14159, "3.14159")] {
            assert_eq!(java_float(x), java, "{x}");
        }
        assert_eq!(java_float(1e20), "1.0E20");
        assert_eq!(java_float(1.5e-7), "1.5E-7");
        assert_eq!(java_float(f32::INFINITY), "Infinity");
    }

    #[test]
    fn timestamps_as_spark_prints_them() {
        let t = |ms| iso_millis(Timestamp(ms));
        assert_eq!(t(1_767_225_605_123), "2026-01-01T00:00:05.123Z");
        assert_eq!(t(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(t(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(t(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(t(-62_135_596_800_000), "0001-01-01T00:00:00.000Z");
        let c = |ms| cast_timestamp(Timestamp(ms));
        assert_eq!(c(1_767_225_605_120), "2026-01-01 00:00:05.12");
        assert_eq!(c(1_767_225_600_000), "2026-01-01 00:00:00");
        assert_eq!(c(1_767_225_605_123), "2026-01-01 00:00:05.123");
    }

    #[test]
    fn partition_directories_as_spark_names_them() {
        // Directories Spark 4.3 wrote for `partitionBy("p", "t", "d")`.
        assert_eq!(partition_dir("p", Some("a/b:c")), "p=a%2Fb%3Ac");
        assert_eq!(partition_dir("p", None), "p=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(partition_dir("p", Some("")), "p=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(
            partition_dir("t", Some("2026-01-01 00:00:05.12")),
            "t=2026-01-01 00%3A00%3A05.12"
        );
        for s in ["a/b:c", "50%", "x=y?", "é \u{1}#"] {
            assert_eq!(unescape_path_name(&escape_path_name(s)), s);
        }
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/out dir/t=2026-01-01 00%3A00%3A00/é/part-0.json");
        let uri = file_uri(p);
        assert_eq!(
            uri,
            "file:///tmp/out%20dir/t=2026-01-01%2000%253A00%253A00/é/part-0.json"
        );
        assert_eq!(uri_path(&uri).unwrap(), p);
        assert_eq!(uri_path("file:/tmp/x").unwrap(), Path::new("/tmp/x"));
        assert_eq!(uri_path("/tmp/x").unwrap(), Path::new("/tmp/x"));
        assert!(uri_path("hdfs://nn/x").is_err());
    }
}
