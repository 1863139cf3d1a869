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
        if ms.unsigned_abs() >= self.slide.unsigned_abs() {
            return Err(DurationError {
                input: offset.into(),
                reason: "the start offset must be smaller than the slide".into(),
            });
        }
        self.offset = ms;
        Ok(self)
    }

    /// The windows that contain `ts`, latest start first (as Spark's expansion).
    ///
    /// Near the ends of time a window may not fit an `i64` of milliseconds: its bounds are then
    /// computed exactly (in `i128`) and saturated, a start below `i64::MIN` to `i64::MIN` and an
    /// end above `i64::MAX` to `i64::MAX` (such a window never closes: no watermark passes
    /// `i64::MAX`). Spark computes them in `Long` and would wrap around instead. A spec whose
    /// size or slide is not positive (the fields are public) has no windows.
    pub fn windows_of(&self, ts: Timestamp) -> impl Iterator<Item = Window> + '_ {
        let t = ts.millis();
        let valid = self.size > 0 && self.slide > 0;
        let n = if valid {
            (self.size - 1) / self.slide + 1
        } else {
            0
        };
        // Every start and end of `t`'s windows fits in i64 unless `t` is within a window and a
        // slide of either end of time (the common case stays in i64; the rest is exact in i128).
        let margin = self
            .size
            .saturating_add(self.slide)
            .saturating_add(self.offset.saturating_abs());
        let fits = t.checked_sub(margin).is_some() && t.checked_add(margin).is_some();
        let (rem, wide_rem) = if !valid {
            (0, 0)
        } else if fits {
            ((t - self.offset).rem_euclid(self.slide), 0)
        } else {
            (
                0,
                (i128::from(t) - i128::from(self.offset)).rem_euclid(i128::from(self.slide)),
            )
        };
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        (0..n).filter_map(move |i| {
            if fits {
                let start = t - rem - i * self.slide;
                (t < start + self.size).then(|| Window {
                    start: Timestamp(start),
                    end: Timestamp(start + self.size),
                })
            } else {
                let (t, size) = (i128::from(t), i128::from(self.size));
                let start = t - wide_rem - i128::from(i) * i128::from(self.slide);
                (start <= t && t < start + size).then(|| Window {
                    start: Timestamp(clamp(start)),
                    end: Timestamp(clamp(start + size)),
                })
            }
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

    #[test]
    fn windows_at_the_ends_of_time_saturate_instead_of_panicking() {
        let tumble = WindowSpec::tumbling("10 seconds").unwrap();
        // i64::MAX = 9223372036854775807: its 10 s window starts at ...770000 and would end
        // past i64::MAX, so the end saturates there.
        let max: Vec<Window> = tumble.windows_of(Timestamp(i64::MAX)).collect();
        assert_eq!(
            max,
            [Window {
                start: Timestamp(9_223_372_036_854_770_000),
                end: Timestamp(i64::MAX),
            }]
        );
        // i64::MIN = -9223372036854775808 is a multiple of... nothing here: its window starts at
        // -9223372036854780000, below i64::MIN, so the start saturates at i64::MIN.
        let min: Vec<Window> = tumble.windows_of(Timestamp(i64::MIN)).collect();
        assert_eq!(
            min,
            [Window {
                start: Timestamp(i64::MIN),
                end: Timestamp(-9_223_372_036_854_770_000),
            }]
        );
        // Sliding and shifted windows near both ends: every window still contains the time.
        let slide = WindowSpec::sliding("10 seconds", "3 seconds")
            .unwrap()
            .with_offset("-2 seconds")
            .unwrap();
        for t in [i64::MAX, i64::MAX - 1, i64::MIN, i64::MIN + 1, 0] {
            let ws: Vec<Window> = slide.windows_of(Timestamp(t)).collect();
            assert!(!ws.is_empty() && ws.len() <= 4, "{t}: {ws:?}");
            for w in ws {
                assert!(w.start.millis() <= t && t <= w.end.millis(), "{t}: {w:?}");
            }
        }
        // An offset of i64::MIN milliseconds is refused, not a panic.
        assert!(WindowSpec::tumbling("10 seconds")
            .unwrap()
            .with_offset("-9223372036854775808 milliseconds")
            .is_err());
    }
}
