//! Output modes and triggers, as in Spark's `outputMode(...)` and `trigger(...)`.

use crate::duration::{parse_duration, DurationError};

/// How the result table is written to the sink after each trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputMode {
    /// Only rows appended to the result table since the last trigger (stateless queries, or
    /// windowed aggregations once the watermark closes a window).
    Append,
    /// The rows of the result table that changed since the last trigger.
    Update,
    /// The whole result table after every trigger (aggregations only).
    Complete,
}

impl OutputMode {
    /// Spark's name for the mode.
    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Append => "Append",
            OutputMode::Update => "Update",
            OutputMode::Complete => "Complete",
        }
    }
}

/// When the next micro-batch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Trigger {
    /// The next batch as soon as the previous one finished and new data is available.
    #[default]
    Default,
    /// Batches at fixed processing-time intervals, in milliseconds (`0` = as fast as possible):
    /// the first at once, each later one at the first multiple of the interval on the wall clock
    /// after the previous batch started (at once if that batch overran it), as in Spark.
    ProcessingTime(i64),
    /// Everything available when the query starts, in several batches that honour rate limits
    /// (e.g. `max_files_per_trigger`), then stop.
    AvailableNow,
    /// One batch with everything available when the query starts, then stop.
    Once,
}

impl Trigger {
    /// `ProcessingTime("1 second")`: a trigger every interval, given as a Spark duration string.
    pub fn processing_time(interval: &str) -> Result<Trigger, DurationError> {
        let ms = parse_duration(interval)?;
        if ms < 0 {
            return Err(DurationError {
                input: interval.into(),
                reason: "a trigger interval cannot be negative".into(),
            });
        }
        Ok(Trigger::ProcessingTime(ms))
    }
}
