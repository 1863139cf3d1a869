//! Event-time windows: tumbling, sliding (with an optional start offset), as Spark's
//! `window(col, size[, slide[, startTime]])`. A window is `[start, end)`.

use crate::duration::{parse_duration, DurationError};
use crate::timestamp::Timestamp;
use crate::value::{DataType, Field, Value};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// One window: `[start, end)` in event time. As a column it is a struct of `start` and `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
}

impl Field for Window {
    fn data_type() -> DataType {
        DataType::Window
    }
    fn to_value(&self) -> Value {
        Value::Struct(vec![
            ("start", Value::Timestamp(self.start)),
            ("end", Value::Timestamp(self.end)),
        ])
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.hash(state)
    }
}

/// How rows are assigned to windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowSpec {
    /// Window length in milliseconds.
    pub size: i64,
    /// Distance between window starts (`== size` for tumbling windows).
    pub slide: i64,
    /// Offset of window starts from the epoch.
    pub offset: i64,
}

impl WindowSpec {
    /// `window(col, size)`: tumbling windows.
    pub fn tumbling(size: &str) -> Result<WindowSpec, DurationError> {
        let size = positive(size)?;
        Ok(WindowSpec {
            size,
            slide: size,
            offset: 0,
        })
    }

    /// `window(col, size, slide)`: sliding windows.
    pub fn sliding(size: &str, slide: &str) -> Result<WindowSpec, DurationError> {
        let (size_ms, slide_ms) = (positive(size)?, positive(slide)?);
        if slide_ms > size_ms {
            return Err(DurationError {
                input: slide.into(),
                reason: format!("the slide must not exceed the window size `{size}`"),
            });
        }
        Ok(WindowSpec {
            size: size_ms,
            slide: slide_ms,
            offset: 0,
        })
    }

    /// `window(col, size, slide, startTime)`: windows shifted by `offset`.
    pub fn with_offset(mut self, offset: &str) -> Result<WindowSpec, DurationError> {
        let ms = parse_duration(offset)?;
        if ms.abs() >= self.slide {
            return Err(DurationError {
                input: offset.into(),
                reason: "the start offset must be smaller than the slide".into(),
            });
        }
        self.offset = ms;
        Ok(self)
    }

    /// The windows that contain `ts`, latest start first (as Spark's expansion).
    pub fn windows_of(&self, ts: Timestamp) -> impl Iterator<Item = Window> + '_ {
        let t = ts.millis();
        let last_start = t - (t - self.offset).rem_euclid(self.slide);
        let n = (self.size + self.slide - 1) / self.slide;
        (0..n).filter_map(move |i| {
            let start = last_start - i * self.slide;
            (start <= t && t < start + self.size).then_some(Window {
                start: Timestamp(start),
                end: Timestamp(start + self.size),
            })
        })
    }
}

fn positive(text: &str) -> Result<i64, DurationError> {
    let ms = parse_duration(text)?;
    if ms <= 0 {
        return Err(DurationError {
            input: text.into(),
            reason: "a window length must be positive".into(),
        });
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(spec: &WindowSpec, t: i64) -> Vec<i64> {
        let mut v: Vec<i64> = spec
            .windows_of(Timestamp(t))
            .map(|w| w.start.millis())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn tumbling_and_sliding_assignment_hand_worked() {
        let tumble = WindowSpec::tumbling("10 seconds").unwrap();
        assert_eq!(starts(&tumble, 0), [0]);
        assert_eq!(starts(&tumble, 9_999), [0]);
        assert_eq!(starts(&tumble, 10_000), [10_000]);
        assert_eq!(starts(&tumble, -1), [-10_000]);
        let slide = WindowSpec::sliding("10 seconds", "5 seconds").unwrap();
        // Sliding windows start before 0 for early rows (Spark: window_start = -5000).
        assert_eq!(starts(&slide, 1_000), [-5_000, 0]);
        assert_eq!(starts(&slide, 5_000), [0, 5_000]);
        let uneven = WindowSpec::sliding("10 seconds", "3 seconds").unwrap();
        // Windows [s, s+10) with s a multiple of 3 containing 10: s in {3, 6, 9}.
        assert_eq!(starts(&uneven, 10_000), [3_000, 6_000, 9_000]);
        let shifted = WindowSpec::tumbling("10 seconds")
            .unwrap()
            .with_offset("2 seconds")
            .unwrap();
        assert_eq!(starts(&shifted, 1_000), [-8_000]);
        assert_eq!(starts(&shifted, 2_000), [2_000]);
        assert!(WindowSpec::sliding("5 seconds", "10 seconds").is_err());
        assert!(WindowSpec::tumbling("0 seconds").is_err());
    }
}
