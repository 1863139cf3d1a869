//! The one timestamp every dataflow runs on: `(watermark, seq)`, ordered lexicographically.
//!
//! The first component is the event-time watermark in milliseconds, so the timely frontier *is*
//! the watermark (docs/time-model.md). The second orders micro-batches that share a watermark
//! (every batch advances time even when the watermark does not), and leaves room below each
//! watermark for updates scheduled to fire exactly when the watermark reaches a value
//! (`(w, 0)` sorts after every batch time with watermark `< w`).

use differential_dataflow::lattice::Lattice;
use serde::{Deserialize, Serialize};
use timely::order::{PartialOrder, TotalOrder};
use timely::progress::timestamp::{PathSummary, Refines, Timestamp};

/// A dataflow time: the watermark in force, then the position of the micro-batch.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
pub struct Time {
    /// Event-time watermark in milliseconds (0 until data is seen, as in Spark).
    pub watermark: u64,
    /// Micro-batch sequence: strictly increases from batch to batch.
    pub seq: u64,
}

/// `seq` values below this are eviction stages; batches start here.
pub const BATCH_SEQ_BASE: u64 = 16;

impl Time {
    /// The time of micro-batch `batch` under watermark `watermark`: `seq = batch + 16`, so that
    /// the times `(w, stage)` with `stage < 16` stay free for updates that fire when the
    /// watermark reaches `w`.
    pub fn batch(watermark: u64, batch: u64) -> Time {
        Time {
            watermark,
            seq: batch + BATCH_SEQ_BASE,
        }
    }

    /// The time at which a stateful operator at depth `stage` of a chain evicts state that
    /// expires at watermark `watermark`: after every batch run under a smaller watermark, before
    /// every batch run under `watermark`, and after the evictions of the stages before it.
    pub fn eviction(watermark: u64, stage: u64) -> Time {
        debug_assert!(
            stage < BATCH_SEQ_BASE,
            "too many chained stateful operators"
        );
        Time {
            watermark,
            seq: stage,
        }
    }

    /// Whether this is the eviction time of stage `stage` (its closed windows' final rows).
    pub fn is_eviction_of(&self, stage: u64) -> bool {
        self.seq == stage
    }
}

impl PartialOrder for Time {
    fn less_equal(&self, other: &Self) -> bool {
        self <= other
    }
}

impl TotalOrder for Time {}

/// The only path summary: times never change along a path (our dataflows have no loops).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
pub struct TimeSummary;

impl PartialOrder for TimeSummary {
    fn less_equal(&self, _: &Self) -> bool {
        true
    }
}

impl PathSummary<Time> for TimeSummary {
    fn results_in(&self, src: &Time) -> Option<Time> {
        Some(*src)
    }
    fn followed_by(&self, _: &Self) -> Option<Self> {
        Some(TimeSummary)
    }
}

impl Timestamp for Time {
    type Summary = TimeSummary;
    fn minimum() -> Self {
        Time::default()
    }
}

impl Refines<()> for Time {
    fn to_inner(_: ()) -> Self {
        Time::default()
    }
    fn to_outer(self) {}
    fn summarize(_: TimeSummary) {}
}

impl Lattice for Time {
    fn join(&self, other: &Self) -> Self {
        std::cmp::max(*self, *other)
    }
    fn meet(&self, other: &Self) -> Self {
        std::cmp::min(*self, *other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_watermark_first_then_batch() {
        let a = Time::batch(0, 5);
        let b = Time::batch(1000, 0);
        assert!(a.less_than(&b), "a later watermark wins over a later batch");
        assert!(Time::batch(0, 1).less_than(&Time::batch(0, 2)));
        // An update scheduled for the moment the watermark reaches w sorts after every batch
        // run under a smaller watermark and before every batch run under w.
        let fire = Time::eviction(10_000, 0);
        assert!(Time::batch(9_999, 1 << 40).less_than(&fire));
        assert!(fire.less_than(&Time::batch(10_000, 0)));
        // A later stage of a chain evicts after an earlier one, still before the batch.
        let second = Time::eviction(10_000, 1);
        assert!(fire.less_than(&second) && second.less_than(&Time::batch(10_000, 0)));
        assert!(fire.is_eviction_of(0) && !second.is_eviction_of(0));
        assert!(!Time::batch(0, 0).is_eviction_of(0));
        assert_eq!(a.join(&b), b);
        assert_eq!(a.meet(&b), a);
        assert_eq!(Time::minimum(), Time::default());
    }
}
