//! The rules of `map_groups_with_state` / `flat_map_groups_with_state` (Spark's
//! `UnsupportedOperationChecker`, the `FlatMapGroupsWithState` cases, and the guide's "followed
//! by other stateful operation is not supported in Append mode").

use super::{err, PlanShape, RuleKind};
use crate::mode::OutputMode;
use crate::rules::RuleError;

/// When the keys of a `[flat_]map_groups_with_state` time out (Spark's `GroupStateTimeout`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum GroupStateTimeout {
    /// Keys never time out.
    #[default]
    NoTimeout,
    /// A key times out once the batch's processing time passes the duration its function set
    /// (`set_timeout_duration`).
    ProcessingTimeTimeout,
    /// A key times out once the watermark passes the timestamp its function set
    /// (`set_timeout_timestamp`); needs a watermark.
    EventTimeTimeout,
}

impl GroupStateTimeout {
    /// Spark's name of the timeout.
    pub fn name(self) -> &'static str {
        match self {
            GroupStateTimeout::NoTimeout => "NoTimeout",
            GroupStateTimeout::ProcessingTimeTimeout => "ProcessingTimeTimeout",
            GroupStateTimeout::EventTimeTimeout => "EventTimeTimeout",
        }
    }
}

/// What the rules need to know about one `[flat_]map_groups_with_state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupStateShape {
    /// `map_groups_with_state` (one output per call) rather than `flat_map_groups_with_state`.
    pub map: bool,
    /// The operator's own output mode (`flat_map_groups_with_state(Append | Update, ..)`;
    /// Update for `map_groups_with_state`).
    pub mode: OutputMode,
    /// Its timeout.
    pub timeout: GroupStateTimeout,
    /// How many aggregations come before it.
    pub aggregations_before: usize,
    /// Its input rows carry a watermark.
    pub watermark: bool,
}

/// Checks the query's `[flat_]map_groups_with_state` operators against its output mode.
pub(super) fn check(shape: &PlanShape, mode: OutputMode) -> Result<(), RuleError> {
    let states = &shape.group_states;
    let aggs = shape.aggregations.len();
    let kind = RuleKind::GroupState;
    if mode == OutputMode::Complete && aggs == 0 {
        // The general rule says it: Complete needs an aggregation.
        return Ok(());
    }
    if states.len() > 1 {
        if states.iter().any(|g| g.map) {
            return err(
                kind,
                "multiple map_groups_with_state, or map_groups_with_state with \
                 flat_map_groups_with_state, are not supported on a stream; keep one per query",
            );
        }
        if mode != OutputMode::Append || states.iter().any(|g| g.mode != OutputMode::Append) {
            return err(
                kind,
                "multiple flat_map_groups_with_state are supported only when all are in Append \
                 mode and the query's output mode is Append; declare each with Append and use \
                 output_mode(Append)",
            );
        }
    }
    for g in states {
        if g.timeout == GroupStateTimeout::EventTimeTimeout && !g.watermark {
            return err(
                kind,
                "EventTimeTimeout needs a watermark: add with_watermark(col, \"delay\") before \
                 group_by_key(..), or use ProcessingTimeTimeout or NoTimeout",
            );
        }
        if g.map {
            if aggs > 0 {
                return err(
                    kind,
                    "map_groups_with_state is not supported with aggregation on a stream; use \
                     flat_map_groups_with_state(Append, ..) before the aggregation, or drop it",
                );
            }
            if mode != OutputMode::Update {
                return err(
                    kind,
                    &format!(
                        "map_groups_with_state is not supported with {} output mode on a \
                         stream; use output_mode(Update), or flat_map_groups_with_state(Append, ..) \
                         for Append",
                        mode.name()
                    ),
                );
            }
            continue;
        }
        let declared = g.mode.name();
        if aggs == 0 {
            if g.mode != mode {
                return err(
                    kind,
                    &format!(
                        "flat_map_groups_with_state in {declared} mode is not supported with {} \
                         output mode on a stream; the operator's mode and the query's must \
                         match: use output_mode({declared}), or declare it with {}",
                        mode.name(),
                        mode.name()
                    ),
                );
            }
        } else if g.mode == OutputMode::Update {
            return err(
                kind,
                "flat_map_groups_with_state in Update mode is not supported with aggregation on a \
                 stream; declare it with Append",
            );
        } else if g.aggregations_before > 0 {
            return err(
                kind,
                "flat_map_groups_with_state is not supported after aggregation on a stream; \
                 group the rows with group_by_key(..) before aggregating, or aggregate after it",
            );
        } else if mode == OutputMode::Append {
            return err(
                kind,
                "flat_map_groups_with_state followed by an aggregation is not supported in Append \
                 output mode (its rows carry no watermark to close the groups); use \
                 output_mode(Update) or output_mode(Complete)",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{check_output_mode, AggShape, PlanShape, RuleKind};
    use super::*;
    use OutputMode::*;

    fn shape(map: bool, mode: OutputMode, before: usize, after: usize) -> PlanShape {
        PlanShape {
            aggregations: vec![AggShape::default(); before + after],
            group_states: vec![GroupStateShape {
                map,
                mode,
                timeout: GroupStateTimeout::NoTimeout,
                aggregations_before: before,
                watermark: false,
            }],
            ..PlanShape::default()
        }
    }

    fn kind(s: &PlanShape, m: OutputMode) -> Option<RuleKind> {
        check_output_mode(s, m).err().map(|e| e.kind)
    }

    // Spark's `UnsupportedOperationsSuite` cases for [flat]MapGroupsWithState, one by one.
    #[test]
    fn spark_group_state_matrix() {
        let g = Some(RuleKind::GroupState);
        // mapGroupsWithState: Update only, no aggregation anywhere.
        assert_eq!(kind(&shape(true, Update, 0, 0), Update), None);
        assert_eq!(kind(&shape(true, Update, 0, 0), Append), g);
        assert_eq!(kind(&shape(true, Update, 0, 1), Update), g);
        assert_eq!(kind(&shape(true, Update, 1, 0), Update), g);
        // flatMapGroupsWithState without aggregation: modes must match.
        assert_eq!(kind(&shape(false, Append, 0, 0), Append), None);
        assert_eq!(kind(&shape(false, Update, 0, 0), Update), None);
        assert_eq!(kind(&shape(false, Append, 0, 0), Update), g);
        assert_eq!(kind(&shape(false, Update, 0, 0), Append), g);
        // Complete without aggregation is the general rule's error.
        assert_eq!(
            kind(&shape(false, Append, 0, 0), Complete),
            Some(RuleKind::CompleteWithoutAggregation)
        );
        // With aggregation: Append operator mode, aggregation after it, not in Append.
        assert_eq!(kind(&shape(false, Append, 0, 1), Update), None);
        assert_eq!(kind(&shape(false, Append, 0, 1), Complete), None);
        assert_eq!(kind(&shape(false, Append, 0, 1), Append), g);
        assert_eq!(kind(&shape(false, Update, 0, 1), Update), g);
        assert_eq!(kind(&shape(false, Append, 1, 0), Update), g);
        // Event-time timeout needs a watermark.
        let mut s = shape(false, Append, 0, 0);
        s.group_states[0].timeout = GroupStateTimeout::EventTimeTimeout;
        assert_eq!(kind(&s, Append), g);
        s.group_states[0].watermark = true;
        assert_eq!(kind(&s, Append), None);
        // Two of them: only flat ones, all Append, in Append.
        let mut two = shape(false, Append, 0, 0);
        two.group_states.push(two.group_states[0].clone());
        assert_eq!(kind(&two, Append), None);
        two.group_states[1].mode = Update;
        assert_eq!(kind(&two, Append), g);
        two.group_states[1].map = true;
        assert_eq!(kind(&two, Update), g);
    }
}
