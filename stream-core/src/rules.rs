//! The rules: which query shapes Spark accepts under which output mode (SEMANTICS.md 1.7, 1.11).
//!
//! `stream!` calls these at compile time (and reports the error on the user's token); the builder
//! API calls them when a query starts. One function, two moments.

use crate::mode::OutputMode;
use std::fmt;

/// What the rules need to know about a query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanShape {
    /// One entry per streaming aggregation (`group_by(..).agg(..)`, `group_by_key`), in order.
    pub aggregations: Vec<AggShape>,
    /// The query sorts its rows.
    pub sorted: bool,
}

/// What the rules need to know about one aggregation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AggShape {
    /// The aggregation groups by a window (or the event-time column) that carries a watermark,
    /// so that the watermark can close groups.
    pub watermarked_event_time_key: bool,
    /// It groups by a session window.
    pub session_window: bool,
}

/// Which rule a query broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// Complete mode without an aggregation.
    CompleteWithoutAggregation,
    /// Append mode on an aggregation whose groups no watermark can close.
    AppendWithoutWatermark,
    /// Session windows in update mode.
    SessionWindowInUpdate,
    /// More than one aggregation outside append mode.
    MultipleAggregations,
    /// Sorting outside complete mode after an aggregation.
    SortOutsideComplete,
}

/// A broken rule, with Spark's message and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// Which rule.
    pub kind: RuleKind,
    /// The message.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

fn err(kind: RuleKind, message: &str) -> Result<(), RuleError> {
    Err(RuleError {
        kind,
        message: message.to_string(),
    })
}

/// Checks a query shape against an output mode.
pub fn check_output_mode(shape: &PlanShape, mode: OutputMode) -> Result<(), RuleError> {
    let aggs = &shape.aggregations;
    if shape.sorted && (mode != OutputMode::Complete || aggs.is_empty()) {
        return err(
            RuleKind::SortOutsideComplete,
            "sorting is not supported on streaming datasets, unless it is on an aggregation in \
             Complete output mode; sort after group_by(..).agg(..) with output_mode(Complete), \
             or sort in the sink",
        );
    }
    match mode {
        OutputMode::Complete if aggs.is_empty() => err(
            RuleKind::CompleteWithoutAggregation,
            "Complete output mode is not supported when there are no streaming aggregations; \
             use output_mode(Append) or output_mode(Update), or add group_by(..).agg(..)",
        ),
        OutputMode::Append if aggs.iter().any(|a| !a.watermarked_event_time_key) => err(
            RuleKind::AppendWithoutWatermark,
            "Append output mode is not supported when there are streaming aggregations without \
             a watermark; add with_watermark(col, \"delay\") on the event-time column you group \
             by (a window of it), or use output_mode(Update) or output_mode(Complete)",
        ),
        OutputMode::Update if aggs.iter().any(|a| a.session_window) => err(
            RuleKind::SessionWindowInUpdate,
            "session windows are not supported in Update output mode; use output_mode(Append) \
             or output_mode(Complete)",
        ),
        OutputMode::Update | OutputMode::Complete if aggs.len() > 1 => err(
            RuleKind::MultipleAggregations,
            "multiple streaming aggregations are only supported in Append output mode (with \
             watermarks); use output_mode(Append) or a single group_by(..).agg(..)",
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutputMode::*;

    fn agg(wm: bool, session: bool) -> AggShape {
        AggShape {
            watermarked_event_time_key: wm,
            session_window: session,
        }
    }

    #[test]
    fn spark_support_matrix() {
        let stateless = PlanShape::default();
        assert!(check_output_mode(&stateless, Append).is_ok());
        assert!(check_output_mode(&stateless, Update).is_ok());
        assert_eq!(
            check_output_mode(&stateless, Complete).unwrap_err().kind,
            RuleKind::CompleteWithoutAggregation
        );
        let plain = PlanShape {
            aggregations: vec![agg(false, false)],
            sorted: false,
        };
        assert!(check_output_mode(&plain, Update).is_ok());
        assert!(check_output_mode(&plain, Complete).is_ok());
        assert_eq!(
            check_output_mode(&plain, Append).unwrap_err().kind,
            RuleKind::AppendWithoutWatermark
        );
        let windowed = PlanShape {
            aggregations: vec![agg(true, false)],
            sorted: false,
        };
        assert!(check_output_mode(&windowed, Append).is_ok());
        let session = PlanShape {
            aggregations: vec![agg(true, true)],
            sorted: false,
        };
        assert_eq!(
            check_output_mode(&session, Update).unwrap_err().kind,
            RuleKind::SessionWindowInUpdate
        );
        let two = PlanShape {
            aggregations: vec![agg(true, false), agg(true, false)],
            sorted: false,
        };
        assert!(check_output_mode(&two, Append).is_ok());
        assert!(check_output_mode(&two, Update).is_err());
        let sorted = PlanShape {
            aggregations: vec![agg(false, false)],
            sorted: true,
        };
        assert!(check_output_mode(&sorted, Complete).is_ok());
        assert_eq!(
            check_output_mode(&sorted, Update).unwrap_err().kind,
            RuleKind::SortOutsideComplete
        );
    }
}
