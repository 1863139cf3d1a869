//! Watermarks, as Spark computes them (docs/spark-semantics.md 1.5): each `with_watermark` operator sees
//! the max event time of its rows; after batch N its watermark is `max - delay`, never
//! decreasing; the query's global watermark combines the operators' (min by default, or max),
//! never decreases, starts at 0, and is used by batch N+1. Every worker reports what it saw,
//! so the watermark is global across workers and processes, and a worker without data does not
//! hold it back.

use serde::{Deserialize, Serialize};
use stream_core::Timestamp;

/// How several watermarked inputs combine (Spark's `multipleWatermarkPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WatermarkPolicy {
    /// The slowest input decides (Spark's default): no input's rows are dropped as late too early.
    #[default]
    Min,
    /// The fastest input decides: less state, more late rows.
    Max,
}

/// Event times one `with_watermark` operator saw in one batch, on one worker or all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventTimeStats {
    /// Rows seen.
    pub count: u64,
    /// Least event time (ms).
    pub min: i64,
    /// Greatest event time (ms).
    pub max: i64,
    /// Sum of event times (ms), for the average.
    pub sum: f64,
}

impl EventTimeStats {
    /// Records one row's event time.
    pub fn add(&mut self, t: Timestamp) {
        let t = t.millis();
        if self.count == 0 {
            self.min = t;
            self.max = t;
        } else {
            self.min = self.min.min(t);
            self.max = self.max.max(t);
        }
        self.count += 1;
        self.sum += t as f64;
    }

    /// Combines another worker's stats into these.
    pub fn merge(&mut self, other: &EventTimeStats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
    }
}

/// The driver's watermark state.
#[derive(Clone, Debug, Default)]
pub(crate) struct WatermarkTracker {
    delays: Vec<i64>,
    policy: WatermarkPolicy,
    /// Per operator: its watermark, once it has seen data.
    per_op: Vec<Option<i64>>,
    /// The global watermark in force (ms).
    global: u64,
}

impl WatermarkTracker {
    pub fn new(delays: Vec<i64>, policy: WatermarkPolicy) -> Self {
        WatermarkTracker {
            per_op: vec![None; delays.len()],
            delays,
            policy,
            global: 0,
        }
    }

    /// Whether the query has any watermark.
    pub fn is_active(&self) -> bool {
        !self.delays.is_empty()
    }

    /// The global watermark in force.
    pub fn current(&self) -> u64 {
        self.global
    }

    /// Folds in one batch's stats (one entry per operator, merged over workers); returns the
    /// watermark for the next batch.
    pub fn advance(&mut self, stats: &[EventTimeStats]) -> u64 {
        for ((op, delay), s) in self.per_op.iter_mut().zip(&self.delays).zip(stats) {
            if s.count > 0 {
                let candidate = s.max.saturating_sub(*delay);
                *op = Some(op.map_or(candidate, |w| w.max(candidate)));
            }
        }
        let seen = self.per_op.iter().flatten().copied();
        let chosen = match self.policy {
            WatermarkPolicy::Min => seen.min(),
            WatermarkPolicy::Max => seen.max(),
        };
        if let Some(w) = chosen {
            self.global = self.global.max(w.max(0) as u64);
        }
        self.global
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(ts: &[i64]) -> EventTimeStats {
        let mut s = EventTimeStats::default();
        ts.iter().for_each(|t| s.add(Timestamp(*t)));
        s
    }

    #[test]
    fn spark_watermark_rules_hand_worked() {
        // docs/spark-semantics.md section 2: delay 10 s; batch [10..15] s gives watermark 5 s.
        let mut w = WatermarkTracker::new(vec![10_000], WatermarkPolicy::Min);
        assert_eq!(w.current(), 0, "0 until data is seen");
        assert_eq!(w.advance(&[stats(&[10_000, 15_000])]), 5_000);
        assert_eq!(w.advance(&[stats(&[25_000])]), 15_000);
        // Late data never moves it back; an empty batch keeps it.
        assert_eq!(w.advance(&[stats(&[10_000])]), 15_000);
        assert_eq!(w.advance(&[EventTimeStats::default()]), 15_000);
        // Below zero stays at zero.
        let mut w = WatermarkTracker::new(vec![5_000], WatermarkPolicy::Min);
        assert_eq!(w.advance(&[stats(&[1_000])]), 0);
    }

    #[test]
    fn several_inputs_combine_by_min_or_max() {
        let mut min = WatermarkTracker::new(vec![0, 0], WatermarkPolicy::Min);
        // An input that has seen no data does not hold the watermark back.
        assert_eq!(
            min.advance(&[stats(&[9_000]), EventTimeStats::default()]),
            9_000
        );
        assert_eq!(min.advance(&[stats(&[20_000]), stats(&[12_000])]), 12_000);
        let mut max = WatermarkTracker::new(vec![0, 0], WatermarkPolicy::Max);
        assert_eq!(max.advance(&[stats(&[20_000]), stats(&[12_000])]), 20_000);
    }

    #[test]
    fn worker_stats_merge() {
        let mut a = stats(&[5, 9]);
        a.merge(&stats(&[1]));
        a.merge(&EventTimeStats::default());
        assert_eq!((a.count, a.min, a.max, a.sum), (3, 1, 9, 15.0));
    }
}
