//! The rules of stream-stream joins (docs/spark-semantics.md 1.8; Spark's
//! `UnsupportedOperationChecker` and `StreamingJoinHelper`): which join kinds need which time
//! bounds, as plain functions that `stream!` calls at compile time and the builder when a query
//! starts.

use crate::rules::{JoinType, RuleError, RuleKind};

/// What the rules need to know of a stream-stream join.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamJoinShape {
    /// The left input has a watermark on the column its time bound reads (the range's column or
    /// the window of the key).
    pub left_watermark: bool,
    /// The same for the right input.
    pub right_watermark: bool,
    /// The condition bounds the two event times against each other
    /// (`right.t BETWEEN left.t + lower AND left.t + upper`).
    pub time_range: bool,
    /// The keys include equal event-time windows of both sides.
    pub window_key: bool,
    /// An aggregation comes before the join on either input.
    pub aggregation_before: bool,
}

impl StreamJoinShape {
    /// Whether the condition bounds time at all (a range or equal windows).
    pub fn time_bound(&self) -> bool {
        self.time_range || self.window_key
    }
}

fn rule(kind: RuleKind, message: String) -> Result<(), RuleError> {
    Err(RuleError { kind, message })
}

/// Checks a stream-stream join: inner with any time bound or none; left and right outer, full
/// outer with a watermark on both inputs and a time bound (a range or equal windows), so that
/// each unmatched row is released, with its NULL row, once no row of the other side can match
/// it; left semi with a watermark on the right and a time bound; left anti is not supported.
/// An aggregation before the join is refused.
pub fn check_stream_stream_join(how: JoinType, shape: &StreamJoinShape) -> Result<(), RuleError> {
    use JoinType::*;
    if shape.aggregation_before {
        return rule(
            RuleKind::StatefulAroundJoin,
            "an aggregation before a stream-stream join is not supported: join the input \
             streams first, or write the aggregation's result to a sink and join that in \
             another query"
                .into(),
        );
    }
    let name =
        match how {
            Inner => return Ok(()),
            LeftAnti => return rule(
                RuleKind::UnsupportedJoin,
                "left_anti join between two streaming DataFrames/Datasets is not supported; use \
                 left_outer and keep the rows whose right side is NULL"
                    .into(),
            ),
            LeftOuter => "LeftOuter",
            RightOuter => "RightOuter",
            FullOuter => "FullOuter",
            LeftSemi => "LeftSemi",
        };
    let watermarks = match how {
        LeftSemi => shape.right_watermark,
        _ => shape.left_watermark && shape.right_watermark,
    };
    if watermarks && shape.time_bound() {
        return Ok(());
    }
    let need = if how == LeftSemi {
        "with_watermark on the right input"
    } else {
        "with_watermark on both inputs"
    };
    let missing = match (watermarks, shape.time_bound()) {
        (false, false) => format!("add {need} and a time range condition"),
        (false, true) => format!("add {need}, on the event-time columns the condition compares"),
        _ => "add a time range condition, e.g. right.ts >= left.ts and right.ts <= left.ts + \
              interval 1 hour, or join on equal windows of both event times"
            .to_string(),
    };
    rule(
        RuleKind::JoinWithoutTimeBound,
        format!(
            "Stream-stream {name} join between two streaming DataFrame/Datasets is not supported \
             without a watermark in the join keys, or a watermark on the nullable side and an \
             appropriate range condition: {missing}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use JoinType::*;

    fn shape(left: bool, right: bool, range: bool, window: bool) -> StreamJoinShape {
        StreamJoinShape {
            left_watermark: left,
            right_watermark: right,
            time_range: range,
            window_key: window,
            aggregation_before: false,
        }
    }

    #[test]
    fn spark_stream_stream_join_matrix() {
        let none = shape(false, false, false, false);
        let full = shape(true, true, true, false);
        let windows = shape(true, true, false, true);
        let right_only = shape(false, true, true, false);
        assert!(check_stream_stream_join(Inner, &none).is_ok());
        for how in [LeftOuter, RightOuter, FullOuter, LeftSemi] {
            assert!(check_stream_stream_join(how, &full).is_ok(), "{how:?}");
            assert!(check_stream_stream_join(how, &windows).is_ok(), "{how:?}");
            let e = check_stream_stream_join(how, &none).unwrap_err();
            assert_eq!(e.kind, RuleKind::JoinWithoutTimeBound, "{how:?}");
            let e = check_stream_stream_join(how, &shape(true, true, false, false)).unwrap_err();
            assert!(e.message.contains("time range"), "{how:?}: {e}");
        }
        assert!(check_stream_stream_join(LeftSemi, &right_only).is_ok());
        assert!(check_stream_stream_join(LeftOuter, &right_only).is_err());
        assert_eq!(
            check_stream_stream_join(LeftAnti, &full).unwrap_err().kind,
            RuleKind::UnsupportedJoin
        );
        let agg = StreamJoinShape {
            aggregation_before: true,
            ..full
        };
        assert_eq!(
            check_stream_stream_join(Inner, &agg).unwrap_err().kind,
            RuleKind::StatefulAroundJoin
        );
    }
}
