//! Generated rows for tests and benchmarks: Spark's `rate` and `rate-micro-batch` sources.

use super::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::{Result, StreamError};
use crate::Timestamp;
use std::sync::{Arc, Mutex};

/// A row of the rate sources: a running `value` from 0 and its `timestamp`.
#[derive(crate::Record)]
pub struct RateRow {
    /// When the row is due (see [`Rate`] and [`RateMicroBatch`]).
    pub timestamp: Timestamp,
    /// 0, 1, 2, … in order of generation.
    pub value: i64,
}

/// A clock: milliseconds since the Unix epoch.
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Spark's `rate` source: `rows_per_second` rows per second of wall-clock time, with values
/// 0, 1, 2, … and evenly spaced timestamps.
///
/// The source starts when it is first planned. Row `v` is due at `start + ts(v)`, where, as in
/// Spark, the rows of second `s` are `[value_at(s), value_at(s + 1))` and are spread evenly over
/// that second:
/// `ts(v) = s * 1000 + (v - value_at(s)) * 1000 / (value_at(s + 1) - value_at(s))` ms.
/// Without ramp-up, `value_at(s) = s * rows_per_second`, so `ts(v) = v * 1000 /
/// rows_per_second`. With [`ramp_up_time`](Rate::ramp_up_time) `r`, the rate grows linearly
/// over the first `r` seconds, exactly as Spark's `valueAtSecond`. A batch reads the rows whose
/// timestamps are before the time it is planned; each row's timestamp depends only on its
/// value, not on how rows fall into batches.
///
/// Offsets are the number of rows emitted so far (a JSON integer).
pub struct Rate {
    rows_per_second: u64,
    ramp_up_secs: u64,
    num_partitions: Option<usize>,
    clock: Clock,
    start_ms: Mutex<Option<i64>>,
}

impl Rate {
    /// A rate source emitting `rows_per_second` rows per second (must be at least 1).
    pub fn new(rows_per_second: u64) -> Self {
        Rate {
            rows_per_second,
            ramp_up_secs: 0,
            num_partitions: None,
            clock: Arc::new(system_clock),
            start_ms: Mutex::new(None),
        }
    }

    /// Ramps the rate up linearly over the first `secs` seconds (Spark's `rampUpTime`, whole
    /// seconds; default 0).
    pub fn ramp_up_time(mut self, secs: u64) -> Self {
        self.ramp_up_secs = secs;
        self
    }

    /// Spark's `numPartitions`. Accepted for compatibility: rows are always spread over the
    /// query's workers (`value % workers`).
    pub fn num_partitions(mut self, n: usize) -> Self {
        self.num_partitions = Some(n);
        self
    }

    /// Replaces the wall clock (milliseconds since the epoch), e.g. by a fake one in tests.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The number of rows due by the end of second `secs` (Spark's `valueAtSecond`).
    fn value_at_second(&self, secs: u64) -> u128 {
        let (rps, ramp) = (self.rows_per_second as u128, self.ramp_up_secs as u128);
        let secs = secs as u128;
        let delta = rps / (ramp + 1);
        if secs <= ramp {
            delta * secs * (secs + 1) / 2
        } else {
            delta * ramp * (ramp + 1) / 2 + (secs - ramp) * rps
        }
    }

    /// The number of rows due `elapsed_ms` after the start: the rows whose timestamp is before
    /// `start + elapsed_ms`.
    fn rows_due(&self, elapsed_ms: u64) -> u64 {
        let (secs, rem) = (elapsed_ms / 1000, elapsed_ms % 1000);
        let a = self.value_at_second(secs);
        let d = self.value_at_second(secs + 1) - a;
        let due = a + (rem as u128 * d).div_ceil(1000);
        due.min(i64::MAX as u128) as u64
    }

    /// The timestamp of value `v`, in milliseconds after the start.
    fn offset_ms(&self, v: u64) -> i64 {
        let v = v as u128;
        let ramp = self.ramp_up_secs;
        let ramped = self.value_at_second(ramp);
        let secs = if v >= ramped {
            ramp as u128 + (v - ramped) / self.rows_per_second as u128
        } else {
            // The second s < ramp with value_at(s) <= v < value_at(s + 1).
            let (mut lo, mut hi) = (0u64, ramp);
            while lo + 1 < hi {
                let mid = lo + (hi - lo) / 2;
                if self.value_at_second(mid) <= v {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            lo as u128
        };
        let secs64 = secs.min(u64::MAX as u128) as u64;
        let a = self.value_at_second(secs64);
        let d = self.value_at_second(secs64 + 1) - a;
        let ms = secs * 1000 + (v - a) * 1000 / d;
        ms.min(i64::MAX as u128) as i64
    }

    fn check(&self) -> Result<()> {
        if self.rows_per_second == 0 {
            return Err(StreamError::Config(
                "the rate source needs rows_per_second >= 1".into(),
            ));
        }
        if self.num_partitions == Some(0) {
            return Err(StreamError::Config(
                "the rate source needs num_partitions >= 1".into(),
            ));
        }
        Ok(())
    }
}

impl Source<RateRow> for Rate {
    fn description(&self) -> String {
        format!(
            "RateStream[rowsPerSecond={}, rampUpTimeSeconds={}, numPartitions={}]",
            self.rows_per_second,
            self.ramp_up_secs,
            self.num_partitions
                .map_or("default".to_string(), |n| n.to_string())
        )
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        self.check()?;
        let now = (self.clock)();
        let start_ms = *self
            .start_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(now);
        let from = offset_count(start);
        let mut to = self.rows_due(now.saturating_sub(start_ms).max(0) as u64);
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
        }
        Ok((to > from).then(|| Split {
            start: start.cloned(),
            end: to.into(),
            detail: serde_json::json!({ "start_ms": start_ms }),
        }))
    }

    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(RateRow),
    ) -> Result<ReadStats> {
        let start_ms = split.detail["start_ms"].as_i64().ok_or_else(|| {
            StreamError::Source(format!(
                "rate source split without a start time: {}",
                split.detail
            ))
        })?;
        let (from, to) = (
            offset_count(split.start.as_ref()),
            offset_count(Some(&split.end)),
        );
        let mut stats = ReadStats::default();
        for v in part.share(from, to) {
            stats.rows += 1;
            emit(RateRow {
                timestamp: Timestamp(start_ms.saturating_add(self.offset_ms(v))),
                value: v as i64,
            });
        }
        Ok(stats)
    }
}

/// Spark's `rate-micro-batch` source: exactly `rows_per_batch` rows per micro-batch,
/// deterministic whatever the trigger or the lag.
///
/// Batch `k` (its start offset) holds the values `[k * R, (k + 1) * R)`, all with timestamp
/// `start_timestamp + k * advance_millis_per_batch`. There is always one more batch (the source
/// never ends); `ReadLimit::UpTo` stops at an offset. Offsets count batches (JSON integers).
pub struct RateMicroBatch {
    rows_per_batch: u64,
    start_timestamp: i64,
    advance_millis_per_batch: i64,
    num_partitions: Option<usize>,
}

impl RateMicroBatch {
    /// A source of `rows_per_batch` rows per micro-batch (must be at least 1).
    pub fn new(rows_per_batch: u64) -> Self {
        RateMicroBatch {
            rows_per_batch,
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
}

impl Source<RateRow> for RateMicroBatch {
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
        let mut to = from + 1;
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
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
            for v in part.share(batch * r, (batch + 1) * r) {
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
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    const ALL: Partition = Partition { index: 0, count: 1 };

    fn rows<S: Source<RateRow>>(src: &S, split: &Split, part: Partition) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let stats = src
            .read(split, part, &mut |r| {
                out.push((r.value, r.timestamp.millis()))
            })
            .unwrap();
        assert_eq!(stats.rows, out.len() as u64);
        out
    }

    /// A rate source on a fake clock, and the handle that moves the clock.
    fn fake(rate: Rate, t0: i64) -> (Rate, Arc<AtomicI64>) {
        let now = Arc::new(AtomicI64::new(t0));
        let clock = now.clone();
        (rate.clock(move || clock.load(Ordering::SeqCst)), now)
    }

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

    #[test]
    fn rate_offsets_follow_the_clock() {
        let t0 = 1_000_000;
        let (src, now) = fake(Rate::new(10), t0);
        // First plan starts the source: nothing is due yet.
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        now.store(t0 + 250, Ordering::SeqCst);
        // Timestamps 0, 100, 200 ms are before 250 ms.
        let s1 = src.plan(None, &ReadLimit::Default).unwrap().unwrap();
        assert_eq!(s1.end, serde_json::json!(3));
        assert_eq!(
            rows(&src, &s1, ALL),
            vec![(0, t0), (1, t0 + 100), (2, t0 + 200)]
        );
        // Nothing new at the same instant.
        assert_eq!(src.plan(Some(&s1.end), &ReadLimit::Default).unwrap(), None);
        now.store(t0 + 2000, Ordering::SeqCst);
        let s2 = src
            .plan(Some(&s1.end), &ReadLimit::Default)
            .unwrap()
            .unwrap();
        assert_eq!(
            (s2.start.clone(), s2.end.clone()),
            (Some(3.into()), 20.into())
        );
        let r2 = rows(&src, &s2, ALL);
        assert_eq!(r2.len(), 17);
        assert_eq!(r2[0], (3, t0 + 300));
        assert_eq!(r2[16], (19, t0 + 1900));
        // UpTo caps the end offset.
        now.store(t0 + 10_000, Ordering::SeqCst);
        let s3 = src
            .plan(Some(&s2.end), &ReadLimit::UpTo(25.into()))
            .unwrap()
            .unwrap();
        assert_eq!(s3.end, serde_json::json!(25));
        // Workers split values by value % count.
        let w1 = rows(&src, &s3, Partition { index: 1, count: 3 });
        assert_eq!(w1, vec![(22, t0 + 2200)]);
        let w0 = rows(&src, &s3, Partition { index: 0, count: 3 });
        assert_eq!(w0, vec![(21, t0 + 2100), (24, t0 + 2400)]);
        assert!(Rate::new(0).plan(None, &ReadLimit::Default).is_err());
    }

    #[test]
    fn rate_ramp_up_hand_worked() {
        // Spark's example: rampUpTime 4 s, 10 rows/s: rows per second 2, 4, 6, 8, then 10;
        // values due by the end of second 0..6 are 0, 2, 6, 12, 20, 30, 40.
        let (src, now) = fake(Rate::new(10).ramp_up_time(4), 0);
        let due: Vec<u128> = (0..7).map(|s| src.value_at_second(s)).collect();
        assert_eq!(due, [0, 2, 6, 12, 20, 30, 40]);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        now.store(3000, Ordering::SeqCst);
        let s = src.plan(None, &ReadLimit::Default).unwrap().unwrap();
        assert_eq!(s.end, serde_json::json!(12));
        // Second 0: values 0, 1 at 0 and 500 ms; second 1: 2..6 at 1000, 1250, 1500, 1750;
        // second 2: 6..12 every 166.67 ms from 2000.
        let expected = [
            (0, 0),
            (1, 500),
            (2, 1000),
            (3, 1250),
            (4, 1500),
            (5, 1750),
            (6, 2000),
            (7, 2166),
            (8, 2333),
            (9, 2500),
            (10, 2666),
            (11, 2833),
        ];
        assert_eq!(rows(&src, &s, ALL), expected);
        // Mid-second: at 2.5 s, values with timestamps before 2500 ms (0..9) are due.
        assert_eq!(src.rows_due(2500), 9);
        // After the ramp: second 4 holds 20..30 every 100 ms.
        assert_eq!(src.offset_ms(20), 4000);
        assert_eq!(src.offset_ms(25), 4500);
        assert_eq!(src.offset_ms(30), 5000);
    }

    #[test]
    fn rows_due_are_the_rows_timestamped_before_now() {
        // Against a naive count, for several rates and ramp-ups.
        for (rps, ramp) in [(1, 0), (3, 0), (7, 2), (10, 4), (2, 5), (1000, 1)] {
            let src = Rate::new(rps).ramp_up_time(ramp);
            let stamps: Vec<i64> = (0..3000).map(|v| src.offset_ms(v)).collect();
            assert!(
                stamps.windows(2).all(|w| w[0] <= w[1]),
                "rps {rps} ramp {ramp}"
            );
            for elapsed in (0..9000).step_by(37) {
                let naive = stamps.iter().filter(|&&t| t < elapsed).count() as u64;
                if naive < 3000 {
                    assert_eq!(
                        src.rows_due(elapsed as u64),
                        naive,
                        "rps {rps} ramp {ramp} at {elapsed} ms"
                    );
                }
            }
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            Rate::new(5).num_partitions(2).description(),
            "RateStream[rowsPerSecond=5, rampUpTimeSeconds=0, numPartitions=2]"
        );
        assert_eq!(
            RateMicroBatch::new(5).description(),
            "RatePerMicroBatchStream[rowsPerBatch=5, numPartitions=default, startTimestamp=0, \
             advanceMsPerBatch=1000]"
        );
    }
}
