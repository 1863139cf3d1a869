//! Watermarks, as Spark computes them (docs/spark-semantics.md 1.5): each `with_watermark` operator sees
//! the max event time of its rows; after batch N its watermark is `max - delay`, never
//! decreasing; the query's global watermark combines the operators' (min by default, or max),
//! never decreases, starts at 0, and is used by batch N+1. Every worker reports what it saw,
//! so the watermark is global across workers and processes, and a worker without data does not
//! hold it back.
//!
//! Beyond Spark, as Flink's bounded sources: when every source of an `AvailableNow` (or `Once`)
//! query is bounded and read to its end, the watermark moves to [`END_OF_INPUT_WATERMARK_MS`] for
//! one last batch, so every window closes and every event-time timeout fires.

use serde::{Deserialize, Serialize};
use std::time::Instant;
use stream_core::Timestamp;

/// The watermark after the end of bounded input: 9999-12-31T23:59:59.999Z, past any event time
/// (and far from overflow in the arithmetic of windows, ranges and timeouts).
pub const END_OF_INPUT_WATERMARK_MS: u64 = 253_402_300_799_999;

/// How several watermarked inputs combine (Spark's `multipleWatermarkPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WatermarkPolicy {
    /// The slowest input decides (Spark's default): no input's rows are dropped as late too early.
    #[default]
    Min,
    /// The fastest input decides: less state, more late rows.
    Max,
}

impl WatermarkPolicy {
    /// Spark's name of the policy: `min` or `max`.
    pub fn name(self) -> &'static str {
        match self {
            WatermarkPolicy::Min => "min",
            WatermarkPolicy::Max => "max",
        }
    }

    /// The policy named `name`.
    pub fn parse(name: &str) -> Option<WatermarkPolicy> {
        match name.to_ascii_lowercase().as_str() {
            "min" => Some(WatermarkPolicy::Min),
            "max" => Some(WatermarkPolicy::Max),
            _ => None,
        }
    }
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

/// A `with_watermark` operator: its delay and, optionally, how long its input may stay idle
/// before it stops holding the query's watermark back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WatermarkDef {
    pub delay_ms: i64,
    pub idle_timeout_ms: Option<i64>,
}

/// The driver's watermark state (Spark's `WatermarkTracker`).
#[derive(Clone, Debug)]
pub(crate) struct WatermarkTracker {
    defs: Vec<WatermarkDef>,
    policy: WatermarkPolicy,
    /// Per operator: its watermark; 0 until it has seen data, as in Spark, so that under the
    /// `min` policy a silent input holds the query's watermark at 0.
    per_op: Vec<i64>,
    /// Per operator: when (processing time) it last saw data, or the query started.
    last_data: Vec<Instant>,
    /// The global watermark in force (ms).
    global: u64,
}

impl WatermarkTracker {
    pub fn new(defs: Vec<WatermarkDef>, policy: WatermarkPolicy) -> Self {
        let now = Instant::now();
        WatermarkTracker {
            per_op: vec![0; defs.len()],
            last_data: vec![now; defs.len()],
            defs,
            policy,
            global: 0,
        }
    }

    /// Whether the query has any watermark.
    pub fn is_active(&self) -> bool {
        !self.defs.is_empty()
    }

    /// The global watermark in force.
    pub fn current(&self) -> u64 {
        self.global
    }

    /// Resumes at the watermark `global` a checkpoint recorded (the operators' own values start
    /// over, as in Spark).
    pub fn restore(&mut self, global: u64) {
        self.global = self.global.max(global);
    }

    /// Every input has ended: moves the watermark to [`END_OF_INPUT_WATERMARK_MS`]; false if
    /// there is no watermark or it is already there.
    pub fn end_input(&mut self) -> bool {
        if !self.is_active() || self.global >= END_OF_INPUT_WATERMARK_MS {
            return false;
        }
        self.global = END_OF_INPUT_WATERMARK_MS;
        true
    }

    /// Folds in one batch's stats (one entry per operator, merged over workers), seen at `now`;
    /// returns the watermark for the next batch. An operator whose input has been idle longer
    /// than its idle timeout does not take part (if every one is idle, nothing moves).
    pub fn advance(&mut self, stats: &[EventTimeStats], now: Instant) -> u64 {
        for (i, s) in stats.iter().enumerate().take(self.defs.len()) {
            if s.count > 0 {
                let candidate = s.max.saturating_sub(self.defs[i].delay_ms);
                self.per_op[i] = self.per_op[i].max(candidate);
                self.last_data[i] = now;
            }
        }
        let active = (0..self.defs.len()).filter(|&i| {
            self.defs[i].idle_timeout_ms.is_none_or(|timeout| {
                now.duration_since(self.last_data[i]).as_millis() <= timeout as u128
            })
        });
        let seen = active.map(|i| self.per_op[i]);
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

    fn delays(ms: &[i64]) -> Vec<WatermarkDef> {
        ms.iter()
            .map(|&delay_ms| WatermarkDef {
                delay_ms,
                idle_timeout_ms: None,
            })
            .collect()
    }

    #[test]
    fn spark_watermark_rules_hand_worked() {
        // docs/spark-semantics.md section 2: delay 10 s; batch [10..15] s gives watermark 5 s.
        let now = Instant::now();
        let mut w = WatermarkTracker::new(delays(&[10_000]), WatermarkPolicy::Min);
        assert_eq!(w.current(), 0, "0 until data is seen");
        assert_eq!(w.advance(&[stats(&[10_000, 15_000])], now), 5_000);
        assert_eq!(w.advance(&[stats(&[25_000])], now), 15_000);
        // Late data never moves it back; an empty batch keeps it.
        assert_eq!(w.advance(&[stats(&[10_000])], now), 15_000);
        assert_eq!(w.advance(&[EventTimeStats::default()], now), 15_000);
        // Below zero stays at zero.
        let mut w = WatermarkTracker::new(delays(&[5_000]), WatermarkPolicy::Min);
        assert_eq!(w.advance(&[stats(&[1_000])], now), 0);
    }

    #[test]
    fn several_inputs_combine_by_min_or_max() {
        let now = Instant::now();
        let mut min = WatermarkTracker::new(delays(&[0, 0]), WatermarkPolicy::Min);
        // Spark's `WatermarkTracker` puts 0 for an input that has seen no data yet: under `min`
        // a silent input holds the watermark at 0.
        assert_eq!(
            min.advance(&[stats(&[9_000]), EventTimeStats::default()], now),
            0
        );
        assert_eq!(
            min.advance(&[stats(&[20_000]), stats(&[12_000])], now),
            12_000
        );
        let mut max = WatermarkTracker::new(delays(&[0, 0]), WatermarkPolicy::Max);
        assert_eq!(
            max.advance(&[stats(&[9_000]), EventTimeStats::default()], now),
            9_000
        );
        assert_eq!(
            max.advance(&[stats(&[20_000]), stats(&[12_000])], now),
            20_000
        );
    }

    #[test]
    fn an_idle_input_stops_holding_the_watermark_after_its_timeout() {
        use std::time::Duration;
        let start = Instant::now();
        let mut defs = delays(&[0, 0]);
        defs[1].idle_timeout_ms = Some(1_000);
        let mut w = WatermarkTracker::new(defs, WatermarkPolicy::Min);
        // Input 1 is silent but not idle for long yet: it holds the watermark at 0.
        let t = start + Duration::from_millis(500);
        assert_eq!(
            w.advance(&[stats(&[9_000]), EventTimeStats::default()], t),
            0
        );
        // After its timeout it no longer counts.
        let t = start + Duration::from_millis(1_500);
        assert_eq!(
            w.advance(&[stats(&[10_000]), EventTimeStats::default()], t),
            10_000
        );
        // It counts again once it has data; the watermark never goes back.
        assert_eq!(w.advance(&[stats(&[12_000]), stats(&[3_000])], t), 10_000);
        assert_eq!(w.advance(&[stats(&[13_000]), stats(&[20_000])], t), 13_000);
        // If every input is idle, the watermark stays.
        let mut defs = delays(&[0]);
        defs[0].idle_timeout_ms = Some(10);
        let mut w = WatermarkTracker::new(defs, WatermarkPolicy::Min);
        assert_eq!(w.advance(&[stats(&[5_000])], start), 5_000);
        let later = start + Duration::from_secs(5);
        assert_eq!(w.advance(&[EventTimeStats::default()], later), 5_000);
    }

    #[test]
    fn inputs_start_over_after_a_restart() {
        // Spark's recorded scenario 14 (delays 10 s and 5 s), where each step is a new run
        // from the checkpoint: the right input's 30 s of the first run is forgotten, so its
        // 25 s of the second gives 20 s, not 25 s. Within a run an input's watermark keeps
        // its maximum.
        let now = Instant::now();
        let delays_ms = [10_000, 5_000];
        let mut w = WatermarkTracker::new(delays(&delays_ms), WatermarkPolicy::Min);
        let first = w.advance(&[stats(&[20_000]), stats(&[5_000, 30_000])], now);
        assert_eq!(first, 10_000);
        assert_eq!(
            w.advance(&[stats(&[40_000]), stats(&[25_000])], now),
            25_000
        );
        let mut restarted = WatermarkTracker::new(delays(&delays_ms), WatermarkPolicy::Min);
        restarted.restore(first);
        assert_eq!(
            restarted.advance(&[stats(&[40_000]), stats(&[25_000, 11_000])], now),
            20_000
        );
    }

    #[test]
    fn worker_stats_merge() {
        let mut a = stats(&[5, 9]);
        a.merge(&stats(&[1]));
        a.merge(&EventTimeStats::default());
        assert_eq!((a.count, a.min, a.max, a.sum), (3, 1, 9, 15.0));
    }
}
