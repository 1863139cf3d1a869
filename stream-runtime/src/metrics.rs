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
    /// Which operator it is, for its name in the progress report.
    #[serde(default)]
    pub operator: StateOperator,
    /// Input rows dropped as duplicates in this batch (deduplication).
    #[serde(default)]
    pub dropped_duplicates: u64,
}

/// What a stateful operator is, by Spark's name for it in `stateOperators`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateOperator {
    /// An aggregation (`stateStoreSave`).
    #[default]
    StateStoreSave,
    /// `dropDuplicates` (`dedupe`).
    Dedupe,
    /// `dropDuplicatesWithinWatermark` (`dedupeWithinWatermark`).
    DedupeWithinWatermark,
}

impl StateOperator {
    /// Spark's name.
    pub fn name(self) -> &'static str {
        match self {
            StateOperator::StateStoreSave => "stateStoreSave",
            StateOperator::Dedupe => "dedupe",
            StateOperator::DedupeWithinWatermark => "dedupeWithinWatermark",
        }
    }
}

impl StateStats {
    /// Adds another worker's counts.
    pub fn merge(&mut self, o: &StateStats) {
        // Every worker runs the same operator at an index.
        self.operator = o.operator;
        self.dropped_duplicates += o.dropped_duplicates;
        self.rows_total += o.rows_total;
        self.rows_updated += o.rows_updated;
        self.rows_removed += o.rows_removed;
        self.dropped_by_watermark += o.dropped_by_watermark;
        self.memory_used_bytes += o.memory_used_bytes;
    }
}

/// What one `from_json` operator parsed on one worker in a batch: counted as a read of the
/// source its rows came from, and its fail-fast error.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ParseStats {
    /// The source (by its number in the query) the parsed values came from.
    pub source: Option<usize>,
    /// Malformed values, as a source's read reports them.
    pub stats: crate::source::ReadStats,
    /// The first malformed value in fail-fast mode.
    pub error: Option<crate::error::StreamError>,
}

/// How many corrupt records a worker's `from_json` keeps per batch (as the file source's
/// default `max_corrupt_records`).
pub(crate) const MAX_CORRUPT_PER_BATCH: usize = 1000;

/// One worker's metrics, indexed by operator in lowering order (the same on every worker).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct BatchMetrics {
    pub event_time: Vec<EventTimeStats>,
    pub state: Vec<StateStats>,
    #[serde(default)]
    pub parses: Vec<ParseStats>,
    /// Errors of user functions in stateful operators (`map_groups_with_state`): each fails
    /// the query.
    #[serde(default)]
    pub errors: Vec<crate::error::StreamError>,
    /// The earliest pending processing-time timeout (epoch ms) of each operator that has one,
    /// by metrics index: the driver runs a batch without data once it is due.
    #[serde(default)]
    pub timeouts: std::collections::BTreeMap<usize, i64>,
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
            s.dropped_duplicates = 0;
        }
        for p in &mut self.parses {
            p.stats = Default::default();
            p.error = None;
        }
        self.errors.clear();
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
        if self.parses.len() < o.parses.len() {
            self.parses.resize(o.parses.len(), ParseStats::default());
        }
        for (a, b) in self.parses.iter_mut().zip(&o.parses) {
            a.source = a.source.or(b.source);
            a.stats.rows += b.stats.rows;
            a.stats.dropped_malformed += b.stats.dropped_malformed;
            a.stats.corrupt_count += b.stats.corrupt_count;
            a.stats.corrupt.extend(b.stats.corrupt.iter().cloned());
            if a.error.is_none() {
                a.error = b.error.clone();
            }
        }
        self.errors.extend(o.errors.iter().cloned());
        for (op, t) in &o.timeouts {
            let e = self.timeouts.entry(*op).or_insert(*t);
            *e = (*e).min(*t);
        }
    }
}
