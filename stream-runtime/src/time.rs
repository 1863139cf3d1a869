//! The one timestamp every dataflow runs on: `(watermark, seq)`, ordered lexicographically.
//!
//! The first component is the event-time watermark in milliseconds, so the timely frontier *is*
//! the watermark (DESIGN.md section 3). The second orders micro-batches that share a watermark
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

impl Time {
    /// The time of micro-batch `batch` under watermark `watermark`. Batch `n` has `seq = n + 1`,
    /// so that `(w, 0)` stays free for updates that fire when the watermark reaches `w`.
    pub fn batch(watermark: u64, batch: u64) -> Time {
        Time {
            watermark,
            seq: batch + 1,
        }
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
        let fire = Time {
            watermark: 10_000,
            seq: 0,
        };
        assert!(Time::batch(9_999, u64::MAX - 1).less_than(&fire));
        assert!(fire.less_than(&Time::batch(10_000, 0)));
        assert_eq!(a.join(&b), b);
        assert_eq!(a.meet(&b), a);
        assert_eq!(Time::minimum(), Time::default());
    }
}
