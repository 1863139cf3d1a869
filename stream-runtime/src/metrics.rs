//! Per-worker operator metrics of a batch, read after the batch completes and sent to the
//! driver: event times seen by watermark operators, and state operator counts.

use crate::watermark::EventTimeStats;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

/// Counts of one stateful operator on one worker (Spark's `stateOperators` entry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateStats {
    /// Keys held now.
    pub rows_total: i64,
    /// Keys whose value changed in this batch.
    pub rows_updated: u64,
    /// Keys evicted in this batch (their window closed).
    pub rows_removed: u64,
    /// Input rows dropped as late in this batch.
    pub dropped_by_watermark: u64,
    /// Estimated bytes held.
    pub memory_used_bytes: u64,
}

impl StateStats {
    /// Adds another worker's counts.
    pub fn merge(&mut self, o: &StateStats) {
        self.rows_total += o.rows_total;
        self.rows_updated += o.rows_updated;
        self.rows_removed += o.rows_removed;
        self.dropped_by_watermark += o.dropped_by_watermark;
        self.memory_used_bytes += o.memory_used_bytes;
    }
}

/// One worker's metrics, indexed by operator in lowering order (the same on every worker).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct BatchMetrics {
    pub event_time: Vec<EventTimeStats>,
    pub state: Vec<StateStats>,
}

/// A shared handle operators write their metrics through.
pub(crate) type Metrics = Rc<RefCell<BatchMetrics>>;

impl BatchMetrics {
    /// The batch's figures; then resets what counts per batch (totals stay).
    pub fn take_batch(&mut self) -> BatchMetrics {
        let out = self.clone();
        self.event_time
            .iter_mut()
            .for_each(|e| *e = EventTimeStats::default());
        for s in &mut self.state {
            s.rows_updated = 0;
            s.rows_removed = 0;
            s.dropped_by_watermark = 0;
        }
        out
    }

    /// Adds another worker's metrics.
    pub fn merge(&mut self, o: &BatchMetrics) {
        if self.event_time.len() < o.event_time.len() {
            self.event_time
                .resize(o.event_time.len(), EventTimeStats::default());
        }
        for (a, b) in self.event_time.iter_mut().zip(&o.event_time) {
            a.merge(b);
        }
        if self.state.len() < o.state.len() {
            self.state.resize(o.state.len(), StateStats::default());
        }
        for (a, b) in self.state.iter_mut().zip(&o.state) {
            a.merge(b);
        }
    }
}
