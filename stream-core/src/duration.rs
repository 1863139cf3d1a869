//! Spark-style interval strings such as `"10 seconds"`, `"1 minute"`, `"500 milliseconds"`.
//!
//! The same parser runs inside the `stream!` macro (so a malformed string is a compile error) and
//! in the builder API.

use std::fmt;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid duration `{}`: {}; write e.g. \"10 seconds\", \"1 minute\", \"500 milliseconds\" or \"2 hours 30 minutes\"",
            self.input, self.reason
        )
    }
}

impl std::error::Error for DurationError {}

fn unit_ms(unit: &str) -> Option<i64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "ms" | "millisecond" | "milliseconds" | "msec" | "msecs" => 1,
        "s" | "second" | "seconds" | "sec" | "secs" => 1_000,
        "m" | "minute" | "minutes" | "min" | "mins" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "week" | "weeks" => 7 * 86_400_000,
        _ => return None,
    })
}

/// Parses a Spark interval string into milliseconds. Several `<number> <unit>` parts add up
/// (`"1 hour 30 minutes"`); an optional leading `interval` keyword and a leading `-` are accepted.
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    let err = |reason: &str| DurationError {
        input: text.to_string(),
        reason: reason.to_string(),
    };
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("interval"))
    {
        words.remove(0);
    }
    if words.is_empty() {
        return Err(err("it is empty"));
    }
    let mut total: i64 = 0;
    let mut i = 0;
    while i < words.len() {
        // Accept both "10 seconds" and "10s".
        let (num, unit) = match words[i].find(|c: char| c.is_ascii_alphabetic()) {
            Some(p) if p > 0 => (&words[i][..p], &words[i][p..]),
            _ => {
                let unit = words
                    .get(i + 1)
                    .ok_or_else(|| err(&format!("the number `{}` has no unit", words[i])))?;
                i += 1;
                (words[i - 1], *unit)
            }
        };
        i += 1;
        let n: i64 = num
            .parse()
            .map_err(|_| err(&format!("`{num}` is not a whole number")))?;
        let ms = unit_ms(unit).ok_or_else(|| {
            err(&format!(
                "unknown unit `{unit}` (use milliseconds, seconds, minutes, hours, days or weeks)"
            ))
        })?;
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| err("it overflows"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spark_intervals() {
        assert_eq!(parse_duration("10 seconds"), Ok(10_000));
        assert_eq!(parse_duration("1 second"), Ok(1_000));
        assert_eq!(parse_duration("500 milliseconds"), Ok(500));
        assert_eq!(parse_duration("2 minutes"), Ok(120_000));
        assert_eq!(parse_duration("interval 1 hour 30 minutes"), Ok(5_400_000));
        assert_eq!(parse_duration("5s"), Ok(5_000));
        assert_eq!(parse_duration("-5 seconds"), Ok(-5_000));
        assert_eq!(parse_duration("0 seconds"), Ok(0));
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("ten seconds").is_err());
        let e = parse_duration("10 fortnights").unwrap_err();
        assert!(e.to_string().contains("unknown unit `fortnights`"), "{e}");
    }
}
