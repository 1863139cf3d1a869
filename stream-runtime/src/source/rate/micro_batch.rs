//! Spark's `rate-micro-batch` source: a fixed number of rows per batch, deterministic.

use super::RateRow;
use crate::error::{Result, StreamError};
use crate::source::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::Timestamp;

/// Spark's `rate-micro-batch` source: exactly `rows_per_batch` rows per micro-batch,
/// deterministic whatever the trigger or the lag.
///
/// Batch `k` (its start offset) holds the values `[k * R, (k + 1) * R)`, all with timestamp
/// `start_timestamp + k * advance_millis_per_batch`. There is always one more batch (the source
/// never ends) unless [`total_rows`](RateMicroBatch::total_rows) bounds it; `ReadLimit::UpTo`
/// stops at an offset. Offsets count batches (JSON integers).
pub struct RateMicroBatch {
    rows_per_batch: u64,
    total_rows: Option<u64>,
    start_timestamp: i64,
    advance_millis_per_batch: i64,
    num_partitions: Option<usize>,
}

impl RateMicroBatch {
    /// A source of `rows_per_batch` rows per micro-batch (must be at least 1).
    pub fn new(rows_per_batch: u64) -> Self {
        RateMicroBatch {
            rows_per_batch,
            total_rows: None,
            start_timestamp: 0,
            advance_millis_per_batch: 1000,
            num_partitions: None,
        }
    }

    /// The timestamp of the first batch's rows, in epoch milliseconds (default 0).
    pub fn start_timestamp(mut self, ms: i64) -> Self {
        self.start_timestamp = ms;
        self
    }

    /// How far the timestamp advances from one batch to the next (default 1000 ms).
    pub fn advance_millis_per_batch(mut self, ms: i64) -> Self {
        self.advance_millis_per_batch = ms;
        self
    }

    /// Spark's `numPartitions`. Accepted for compatibility: rows are always spread over the
    /// query's workers (`value % workers`).
    pub fn num_partitions(mut self, n: usize) -> Self {
        self.num_partitions = Some(n);
        self
    }

    /// Ends the source after `n` rows (beyond Spark, whose source never ends): the values
    /// `0..n`, the last batch holding what remains. A bounded source, which a batch query
    /// ([`read`](crate::plan::read)) reads whole.
    pub fn total_rows(mut self, n: u64) -> Self {
        self.total_rows = Some(n);
        self
    }

    /// The batch offset after the last row, if the source ends.
    fn end_batch(&self) -> Option<u64> {
        self.total_rows
            .map(|n| n.div_ceil(self.rows_per_batch.max(1)))
    }
}

impl Source<RateRow> for RateMicroBatch {
    fn is_bounded(&self) -> bool {
        self.total_rows.is_some()
    }

    fn check_bounded(&self) -> Result<()> {
        match self.total_rows {
            Some(_) => Ok(()),
            None => Err(StreamError::Config(
                "the rate-micro-batch source makes rows without end: a batch query (read) needs \
                 a row count, RateMicroBatch::new(rows_per_batch).total_rows(n)"
                    .into(),
            )),
        }
    }

    fn description(&self) -> String {
        format!(
            "RatePerMicroBatchStream[rowsPerBatch={}, numPartitions={}, startTimestamp={}, \
             advanceMsPerBatch={}]",
            self.rows_per_batch,
            self.num_partitions
                .map_or("default".to_string(), |n| n.to_string()),
            self.start_timestamp,
            self.advance_millis_per_batch
        )
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        if self.rows_per_batch == 0 {
            return Err(StreamError::Config(
                "the rate-micro-batch source needs rows_per_batch >= 1".into(),
            ));
        }
        if self.num_partitions == Some(0) {
            return Err(StreamError::Config(
                "the rate-micro-batch source needs num_partitions >= 1".into(),
            ));
        }
        let from = offset_count(start);
        let end = self.end_batch();
        let mut to = match (limit, end) {
            // Everything: to the end, if there is one (one batch otherwise, as Spark's).
            (ReadLimit::All, Some(end)) => end,
            _ => from + 1,
        };
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
        }
        if let Some(end) = end {
            to = to.min(end);
        }
        Ok(Split::counted(start, to))
    }

    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(RateRow),
    ) -> Result<ReadStats> {
        let (from, to) = (
            offset_count(split.start.as_ref()),
            offset_count(Some(&split.end)),
        );
        let r = self.rows_per_batch;
        let mut stats = ReadStats::default();
        for batch in from..to {
            let ts = self
                .start_timestamp
                .saturating_add((batch as i64).saturating_mul(self.advance_millis_per_batch));
            let last = self
                .total_rows
                .map_or((batch + 1) * r, |n| n.min((batch + 1) * r));
            for v in part.share(batch * r, last) {
                stats.rows += 1;
                emit(RateRow {
                    timestamp: Timestamp(ts),
                    value: v as i64,
                });
            }
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{rows, ALL};
    use super::*;

    #[test]
    fn micro_batch_values_and_timestamps_hand_worked() {
        let src = RateMicroBatch::new(3)
            .start_timestamp(10_000)
            .advance_millis_per_batch(500);
        let s0 = src.plan(None, &ReadLimit::Default).unwrap().unwrap();
        assert_eq!((s0.start.clone(), s0.end.clone()), (None, 1.into()));
        assert_eq!(
            rows(&src, &s0, ALL),
            vec![(0, 10_000), (1, 10_000), (2, 10_000)]
        );
        let s1 = src.plan(Some(&s0.end), &ReadLimit::All).unwrap().unwrap();
        assert_eq!(s1.end, serde_json::json!(2));
        assert_eq!(
            rows(&src, &s1, ALL),
            vec![(3, 10_500), (4, 10_500), (5, 10_500)]
        );
        // Batch 7 whatever happened before: values 21..24 at 10000 + 7 * 500.
        let s7 = src
            .plan(Some(&7.into()), &ReadLimit::Default)
            .unwrap()
            .unwrap();
        assert_eq!(
            rows(&src, &s7, ALL),
            vec![(21, 13_500), (22, 13_500), (23, 13_500)]
        );
        // Default advance is one second.
        let src = RateMicroBatch::new(1);
        let s2 = src
            .plan(Some(&2.into()), &ReadLimit::Default)
            .unwrap()
            .unwrap();
        assert_eq!(rows(&src, &s2, ALL), vec![(2, 2000)]);
    }

    #[test]
    fn micro_batch_limits_and_partitions() {
        let src = RateMicroBatch::new(5);
        let capped = ReadLimit::UpTo(2.into());
        assert!(src.plan(Some(&1.into()), &capped).unwrap().is_some());
        assert_eq!(src.plan(Some(&2.into()), &capped).unwrap(), None);
        // A split over two batches (e.g. planned elsewhere) reads both.
        let split = Split {
            start: Some(1.into()),
            end: 3.into(),
            detail: serde_json::Value::Null,
        };
        let w0 = rows(&src, &split, Partition { index: 0, count: 2 });
        let w1 = rows(&src, &split, Partition { index: 1, count: 2 });
        let v0: Vec<i64> = w0.iter().map(|r| r.0).collect();
        let v1: Vec<i64> = w1.iter().map(|r| r.0).collect();
        assert_eq!(v0, [6, 8, 10, 12, 14]);
        assert_eq!(v1, [5, 7, 9, 11, 13]);
        let mut all: Vec<(i64, i64)> = w0.into_iter().chain(w1).collect();
        all.sort();
        let expected: Vec<(i64, i64)> = (5..15).map(|v| (v, v / 5 * 1000)).collect();
        assert_eq!(all, expected);
        assert!(RateMicroBatch::new(0)
            .plan(None, &ReadLimit::Default)
            .is_err());
    }
}
