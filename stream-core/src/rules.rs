//! The rules: which query shapes Spark accepts under which output mode (docs/spark-semantics.md 1.7, 1.11).
//!
//! `stream!` calls these at compile time (and reports the error on the user's token); the builder
//! API calls them when a query starts. One function, two moments.

use crate::mode::OutputMode;
use std::fmt;

mod group_state;
pub use group_state::{GroupStateShape, GroupStateTimeout};

/// What the rules need to know about a query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanShape {
    /// One entry per streaming aggregation (`group_by(..).agg(..)`, `group_by_key`), in order.
    pub aggregations: Vec<AggShape>,
    /// The query sorts its rows.
    pub sorted: bool,
    /// The query keeps only the first rows of its result (`limit`).
    pub limited: bool,
    /// One entry per `[flat_]map_groups_with_state`, in order.
    pub group_states: Vec<GroupStateShape>,
    /// How many stream-stream joins the query has.
    pub stream_joins: usize,
    /// An aggregation comes after a stream-stream join.
    pub aggregation_after_join: bool,
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

/// The kind of a join (Spark's `how`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinType {
    /// `inner`
    Inner,
    /// `left_outer`: every left row, with NULLs where nothing matches.
    LeftOuter,
    /// `right_outer`: every right row, with NULLs where nothing matches.
    RightOuter,
    /// `full_outer`
    FullOuter,
    /// `left_semi`: left rows that have a match.
    LeftSemi,
    /// `left_anti`: left rows that have no match.
    LeftAnti,
}

impl JoinType {
    /// Spark's name, as in `how = "left_outer"`.
    pub fn name(self) -> &'static str {
        match self {
            JoinType::Inner => "inner",
            JoinType::LeftOuter => "left_outer",
            JoinType::RightOuter => "right_outer",
            JoinType::FullOuter => "full_outer",
            JoinType::LeftSemi => "left_semi",
            JoinType::LeftAnti => "left_anti",
        }
    }

    /// Parses Spark's names (`inner`, `left`, `left_outer`, `leftouter`, `semi`, `anti`, ...).
    pub fn parse(how: &str) -> Option<JoinType> {
        Some(match how.to_ascii_lowercase().replace('_', "").as_str() {
            "inner" => JoinType::Inner,
            "left" | "leftouter" => JoinType::LeftOuter,
            "right" | "rightouter" => JoinType::RightOuter,
            "full" | "fullouter" | "outer" => JoinType::FullOuter,
            "semi" | "leftsemi" => JoinType::LeftSemi,
            "anti" | "leftanti" => JoinType::LeftAnti,
            _ => return None,
        })
    }
}

/// Checks a stream-static join (docs/spark-semantics.md 1.8): with the stream on the left, inner, left
/// outer, left semi and left anti; with the static side on the left, inner and right outer.
/// Other kinds would need to know that no stream row will ever match, which a stream never knows.
pub fn check_stream_static_join(how: JoinType, stream_on_left: bool) -> Result<(), RuleError> {
    use JoinType::*;
    let ok = if stream_on_left {
        matches!(how, Inner | LeftOuter | LeftSemi | LeftAnti)
    } else {
        matches!(how, Inner | RightOuter)
    };
    if ok {
        return Ok(());
    }
    let (side, allowed) = if stream_on_left {
        ("the left", "inner, left_outer, left_semi or left_anti")
    } else {
        ("the right", "inner or right_outer")
    };
    Err(RuleError {
        kind: RuleKind::UnsupportedJoin,
        message: format!(
            "{} join with a streaming Dataset on {side} and a static one on the other side is not supported; use {allowed}",
            how.name()
        ),
    })
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
    /// A join kind that is not supported between these inputs.
    UnsupportedJoin,
    /// A limit outside complete mode.
    LimitOutsideComplete,
    /// A `[flat_]map_groups_with_state` rule (output modes, aggregations, timeouts).
    GroupState,
    /// A deduplication after an aggregation.
    DedupAfterAggregation,
    /// `drop_duplicates_within_watermark` on rows without a watermark.
    DedupWithinWatermarkWithoutWatermark,
    /// A stream-stream join outside append mode.
    JoinOutsideAppend,
    /// A stream-stream join whose state no watermark could release where its kind needs it.
    JoinWithoutTimeBound,
    /// A stateful operator before or after a stream-stream join where it is not supported.
    StatefulAroundJoin,
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

/// Checks a deduplication where it is called (docs/spark-semantics.md, "Deduplication"):
/// `within_watermark` for `drop_duplicates_within_watermark`, `watermarked` if the rows carry a
/// watermark on the event-time column it uses, `shape` the query before it.
///
/// Spark rejects `dropDuplicatesWithinWatermark` without a watermark. After an aggregation,
/// Spark 4 rejects a deduplication on event time outside Append mode (its correctness check:
/// an aggregation in Update or Complete mode emits rows older than the watermark) and accepts
/// the rest; we reject every deduplication after an aggregation (a documented difference): an
/// aggregation's output outside Append mode is a table of changing rows, not a stream of new ones.
pub fn check_deduplication(
    shape: &PlanShape,
    within_watermark: bool,
    watermarked: bool,
) -> Result<(), RuleError> {
    let name = if within_watermark {
        "drop_duplicates_within_watermark"
    } else {
        "drop_duplicates"
    };
    if !shape.aggregations.is_empty() {
        return Err(RuleError {
            kind: RuleKind::DedupAfterAggregation,
            message: format!(
                "{name} is not supported after an aggregation on a streaming Dataset; \
                 deduplicate the rows before group_by(..).agg(..)"
            ),
        });
    }
    if within_watermark && !watermarked {
        return err(
            RuleKind::DedupWithinWatermarkWithoutWatermark,
            "drop_duplicates_within_watermark is not supported on streaming Datasets without \
             a watermark; call with_watermark(event_time_column, \"delay\") before it (the \
             delay is how long a key stays deduplicated), or use drop_duplicates",
        );
    }
    Ok(())
}

/// Checks a query shape against an output mode.
pub fn check_output_mode(shape: &PlanShape, mode: OutputMode) -> Result<(), RuleError> {
    let aggs = &shape.aggregations;
    group_state::check(shape, mode)?;
    if shape.sorted && (mode != OutputMode::Complete || aggs.is_empty()) {
        return err(
            RuleKind::SortOutsideComplete,
            "sorting is not supported on streaming datasets, unless it is on an aggregation in \
             Complete output mode; sort after group_by(..).agg(..) with output_mode(Complete), \
             or sort in the sink",
        );
    }
    if shape.limited && mode != OutputMode::Complete {
        return err(
            RuleKind::LimitOutsideComplete,
            "limit on a streaming Dataset is supported only in Complete output mode (after \
             group_by(..).agg(..)), where it cuts each batch's result table; use \
             output_mode(Complete), or limit in the sink",
        );
    }
    if shape.stream_joins > 0 && mode != OutputMode::Append {
        return err(
            RuleKind::JoinOutsideAppend,
            "Join between two streaming DataFrames/Datasets is not supported in Update or \
             Complete output mode, only in Append output mode; use output_mode(Append)",
        );
    }
    if shape.aggregation_after_join {
        return err(
            RuleKind::StatefulAroundJoin,
            "an aggregation after a stream-stream join is not supported: the join emits rows \
             older than the watermark, which the aggregation would drop as late (Spark's \
             correctness check of the global watermark); write the joined rows to a sink and \
             aggregate them in another query",
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

    #[test]
    fn deduplication_rules() {
        let none = PlanShape::default();
        assert!(check_deduplication(&none, false, false).is_ok());
        assert!(check_deduplication(&none, false, true).is_ok());
        assert!(check_deduplication(&none, true, true).is_ok());
        assert_eq!(
            check_deduplication(&none, true, false).unwrap_err().kind,
            RuleKind::DedupWithinWatermarkWithoutWatermark
        );
        let aggregated = PlanShape {
            aggregations: vec![AggShape::default()],
            ..PlanShape::default()
        };
        for within in [false, true] {
            assert_eq!(
                check_deduplication(&aggregated, within, true)
                    .unwrap_err()
                    .kind,
                RuleKind::DedupAfterAggregation
            );
        }
    }

    #[test]
    fn stream_static_join_matrix() {
        use JoinType::*;
        for how in [Inner, LeftOuter, LeftSemi, LeftAnti] {
            assert!(check_stream_static_join(how, true).is_ok(), "{how:?}");
        }
        for how in [RightOuter, FullOuter] {
            assert!(check_stream_static_join(how, true).is_err(), "{how:?}");
        }
        for how in [Inner, RightOuter] {
            assert!(check_stream_static_join(how, false).is_ok(), "{how:?}");
        }
        for how in [LeftOuter, FullOuter, LeftSemi, LeftAnti] {
            assert!(check_stream_static_join(how, false).is_err(), "{how:?}");
        }
        assert_eq!(JoinType::parse("left_outer"), Some(LeftOuter));
        assert_eq!(JoinType::parse("leftsemi"), Some(LeftSemi));
        assert_eq!(JoinType::parse("cross"), None);
    }

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
            ..PlanShape::default()
        };
        assert!(check_output_mode(&plain, Update).is_ok());
        assert!(check_output_mode(&plain, Complete).is_ok());
        assert_eq!(
            check_output_mode(&plain, Append).unwrap_err().kind,
            RuleKind::AppendWithoutWatermark
        );
        let windowed = PlanShape {
            aggregations: vec![agg(true, false)],
            ..PlanShape::default()
        };
        assert!(check_output_mode(&windowed, Append).is_ok());
        let session = PlanShape {
            aggregations: vec![agg(true, true)],
            ..PlanShape::default()
        };
        assert_eq!(
            check_output_mode(&session, Update).unwrap_err().kind,
            RuleKind::SessionWindowInUpdate
        );
        let two = PlanShape {
            aggregations: vec![agg(true, false), agg(true, false)],
            ..PlanShape::default()
        };
        assert!(check_output_mode(&two, Append).is_ok());
        assert!(check_output_mode(&two, Update).is_err());
        let sorted = PlanShape {
            aggregations: vec![agg(false, false)],
            sorted: true,
            ..PlanShape::default()
        };
        assert!(check_output_mode(&sorted, Complete).is_ok());
        assert_eq!(
            check_output_mode(&sorted, Update).unwrap_err().kind,
            RuleKind::SortOutsideComplete
        );
        let limited = PlanShape {
            aggregations: vec![agg(false, false)],
            limited: true,
            ..PlanShape::default()
        };
        assert!(check_output_mode(&limited, Complete).is_ok());
        let joined = PlanShape {
            stream_joins: 1,
            ..PlanShape::default()
        };
        assert!(check_output_mode(&joined, Append).is_ok());
        for mode in [Update, Complete] {
            assert_eq!(
                check_output_mode(&joined, mode).unwrap_err().kind,
                RuleKind::JoinOutsideAppend
            );
        }
        let after = PlanShape {
            aggregations: vec![agg(true, false)],
            stream_joins: 1,
            aggregation_after_join: true,
            ..PlanShape::default()
        };
        assert_eq!(
            check_output_mode(&after, Append).unwrap_err().kind,
            RuleKind::StatefulAroundJoin
        );
        for mode in [Append, Update] {
            let no_agg = PlanShape {
                limited: true,
                ..PlanShape::default()
            };
            assert_eq!(
                check_output_mode(&no_agg, mode).unwrap_err().kind,
                RuleKind::LimitOutsideComplete
            );
            assert_eq!(
                check_output_mode(&limited, mode).unwrap_err().kind,
                RuleKind::LimitOutsideComplete
            );
        }
    }
}
