//! Generated rows for tests and benchmarks: Spark's `rate` and `rate-micro-batch` sources.

use super::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::{Result, StreamError};
use crate::Timestamp;
use std::sync::{Arc, Mutex};

mod micro_batch;

pub use micro_batch::RateMicroBatch;

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
/// 0, 1, 2, … and timestamps spread over each batch, exactly as Spark's
/// (`RateStreamMicroBatchStream.scala`, `RateStreamProvider.scala`):
///
/// - The source starts when it is first planned. Offsets are the number of whole seconds since
///   then (a JSON integer): a batch is planned once a second has passed, and covers the whole
///   seconds `[s0, s1)` since the previous batch.
/// - The batch holds the values `[value_at(s0), value_at(s1))`, where `value_at(s)` is
///   Spark's `valueAtSecond`: `s * rows_per_second` without ramp-up; with
///   [`ramp_up_time`](Rate::ramp_up_time) `r`, the rate grows by `rows_per_second / (r + 1)`
///   (integer division) each second for the first `r` seconds.
/// - Value `v` of the batch is timestamped `start + s0 * 1000 + round((v - value_at(s0)) *
///   ms_per_value)` ms, with `ms_per_value = (s1 - s0) * 1000 / (value_at(s1) - value_at(s0))`
///   in double precision, rounded half up as Java's `Math.round`. As in Spark, a timestamp
///   depends on how the seconds fall into batches (a batch over several seconds spreads its
///   values over all of them).
/// - Values that would not fit an `i64` are an error (Spark's "Integer overflow" guard), not a
///   wrap.
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

    /// The rate as Spark's `Long`, and Spark's `maxSeconds` (`Long.MaxValue / rowsPerSecond`):
    /// the last second whose values fit an `i64`.
    fn rate_and_max_seconds(&self) -> Result<(i64, i64)> {
        let rps = i64::try_from(self.rows_per_second)
            .ok()
            .filter(|r| *r >= 1)
            .ok_or_else(|| {
                StreamError::Config(format!(
                    "the rate source needs 1 <= rows_per_second <= {}, not {}",
                    i64::MAX,
                    self.rows_per_second
                ))
            })?;
        Ok((rps, i64::MAX / rps))
    }

    /// The number of rows due by the end of second `secs` (Spark's `valueAtSecond`, with
    /// checked arithmetic).
    fn value_at_second(&self, secs: u64) -> Result<i64> {
        let overflow = || {
            StreamError::Source(format!(
                "rate source: integer overflow computing the value at second {secs}"
            ))
        };
        let (rps, _) = self.rate_and_max_seconds()?;
        let ramp = i64::try_from(self.ramp_up_secs).map_err(|_| overflow())?;
        let secs = i64::try_from(secs).map_err(|_| overflow())?;
        let delta = rps / (ramp + 1);
        // RateStreamProvider.scala: (0 + delta * s) * (s + 1) / 2, computed so as not to
        // overflow: (s + 1) / 2 * delta * s for odd s, s / 2 * delta * (s + 1) for even s.
        let ramped = |s: i64| -> Option<i64> {
            if s % 2 == 1 {
                ((s + 1) / 2).checked_mul(delta)?.checked_mul(s)
            } else {
                (s / 2).checked_mul(delta)?.checked_mul(s + 1)
            }
        };
        if secs <= ramp {
            ramped(secs).ok_or_else(overflow)
        } else {
            ramped(ramp)
                .and_then(|r| (secs - ramp).checked_mul(rps)?.checked_add(r))
                .ok_or_else(overflow)
        }
    }

    fn check(&self) -> Result<()> {
        let (rps, max_seconds) = self.rate_and_max_seconds()?;
        if self.num_partitions == Some(0) {
            return Err(StreamError::Config(
                "the rate source needs num_partitions >= 1".into(),
            ));
        }
        if self.ramp_up_secs > max_seconds as u64 {
            return Err(StreamError::Config(format!(
                "Integer overflow. Max offset with {rps} rowsPerSecond is {max_seconds}, but \
                 'rampUpTimeSeconds' is {}.",
                self.ramp_up_secs
            )));
        }
        Ok(())
    }
}

impl Source<RateRow> for Rate {
    fn check_bounded(&self) -> Result<()> {
        Err(StreamError::Config(
            "the rate source makes rows without end, as time passes: a batch query (read) cannot \
             read it; use RateMicroBatch::new(rows_per_batch).total_rows(n) for a bounded one"
                .into(),
        ))
    }

    fn description(&self) -> String {
        format!(
            "RateStream[rowsPerSecond={}, rampUpTimeSeconds={}, numPartitions={}]",
            self.rows_per_second,
            self.ramp_up_secs,
            self.num_partitions
                .map_or("default".to_string(), |n| n.to_string())
        )
    }

    /// The start time is the source's whole log (Spark keeps it in `sources/<i>/0`): a restart
    /// goes on counting rows from the first start.
    fn restore(&self, dir: &std::path::Path) -> Result<()> {
        crate::checkpoint::create_dir(dir)?;
        let path = dir.join("0");
        let mut start_ms = self.start_ms.lock().unwrap_or_else(|e| e.into_inner());
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    StreamError::Checkpoint(format!(
                        "rate source log `{}` is not JSON ({e}): {text}",
                        path.display()
                    ))
                })?;
                *start_ms = Some(v["startTimeMs"].as_i64().ok_or_else(|| {
                    StreamError::Checkpoint(format!(
                        "rate source log `{}` has no startTimeMs: {text}",
                        path.display()
                    ))
                })?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let now = *start_ms.get_or_insert((self.clock)());
                let text = serde_json::json!({ "startTimeMs": now }).to_string();
                crate::checkpoint::write_atomic(&path, text.as_bytes())?;
            }
            Err(e) => {
                return Err(StreamError::Checkpoint(format!(
                    "cannot read rate source log `{}`: {e}",
                    path.display()
                )))
            }
        }
        Ok(())
    }

    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        let start_ms = *self
            .start_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert((self.clock)());
        Ok(Split {
            start: start.cloned(),
            end: end.clone(),
            detail: serde_json::json!({ "start_ms": start_ms }),
        })
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
        // Whole seconds since the start (Spark's `latestOffset`).
        let mut to = (now.saturating_sub(start_ms).max(0) / 1000) as u64;
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
        }
        if to <= from {
            return Ok(None);
        }
        let (rps, max_seconds) = self.rate_and_max_seconds()?;
        if to > max_seconds as u64 {
            return Err(StreamError::Source(format!(
                "Integer overflow. Max offset with {rps} rowsPerSecond is {max_seconds}, but \
                 it's {to} now."
            )));
        }
        Ok(Some(Split {
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
        let (s0, s1) = (
            offset_count(split.start.as_ref()),
            offset_count(Some(&split.end)),
        );
        let mut stats = ReadStats::default();
        let (range_start, range_end) = (self.value_at_second(s0)?, self.value_at_second(s1)?);
        if range_end <= range_start {
            return Ok(stats);
        }
        // RateStreamMicroBatchStream.scala: the batch's values spread evenly over its seconds.
        let local_start_ms = start_ms.saturating_add((s0 as i64).saturating_mul(1000));
        let ms_per_value = (s1 - s0).saturating_mul(1000) as f64 / (range_end - range_start) as f64;
        for v in part.share(range_start as u64, range_end as u64) {
            stats.rows += 1;
            let v = v as i64;
            // `math.round` of a non-negative double: half up (Rust's `round` is half away from
            // zero, the same here); `as` saturates as Java's does.
            let relative = ((v - range_start) as f64 * ms_per_value).round() as i64;
            emit(RateRow {
                timestamp: Timestamp(local_start_ms.saturating_add(relative)),
                value: v,
            });
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    pub(super) const ALL: Partition = Partition { index: 0, count: 1 };

    pub(super) fn rows<S: Source<RateRow>>(
        src: &S,
        split: &Split,
        part: Partition,
    ) -> Vec<(i64, i64)> {
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

    /// Plans at `now` after `start` (a fake clock), then reads the split on one worker.
    fn batch_at(
        src: &Rate,
        clock: &AtomicI64,
        now: i64,
        start: Option<u64>,
    ) -> Option<(u64, Vec<(i64, i64)>)> {
        clock.store(now, Ordering::SeqCst);
        let start = start.map(Offset::from);
        let split = src.plan(start.as_ref(), &ReadLimit::Default).unwrap()?;
        let end = split.end.as_u64().unwrap();
        Some((end, rows(src, &split, ALL)))
    }

    #[test]
    fn rate_spreads_each_batch_and_rounds_as_spark() {
        // RateStreamMicroBatchStream.scala: a batch covers whole seconds [s0, s1) since the
        // start, holds the values [valueAtSecond(s0), valueAtSecond(s1)), and value v is at
        // start + s0 * 1000 + round((v - valueAtSecond(s0)) * (s1 - s0) * 1000 / count) ms.
        let t0 = 1_000_000;
        let (src, now) = fake(Rate::new(3), t0);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        // Nothing until a whole second has passed: offsets are seconds.
        assert_eq!(batch_at(&src, &now, t0 + 999, None), None);
        // 1000 / 3 = 333.33 ms per value: 0, 333, 667 (666.67 rounds up, as in Spark).
        assert_eq!(
            batch_at(&src, &now, t0 + 1_000, None),
            Some((1, vec![(0, t0), (1, t0 + 333), (2, t0 + 667)]))
        );
        assert_eq!(batch_at(&src, &now, t0 + 1_999, Some(1)), None);
        // A batch over two seconds spreads its 6 values over 2000 ms.
        assert_eq!(
            batch_at(&src, &now, t0 + 3_500, Some(1)),
            Some((
                3,
                vec![
                    (3, t0 + 1_000),
                    (4, t0 + 1_333),
                    (5, t0 + 1_667),
                    (6, t0 + 2_000),
                    (7, t0 + 2_333),
                    (8, t0 + 2_667)
                ]
            ))
        );
    }

    #[test]
    fn rate_ramp_up_hand_worked() {
        // RateStreamProvider.scala's example: rampUpTime 4 s, 10 rows/s: 2, 4, 6, 8, then 10
        // rows per second; values due by second 0..6 are 0, 2, 6, 12, 20, 30, 40.
        let (src, now) = fake(Rate::new(10).ramp_up_time(4), 0);
        let due: Vec<i64> = (0..7).map(|s| src.value_at_second(s).unwrap()).collect();
        assert_eq!(due, [0, 2, 6, 12, 20, 30, 40]);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        // One batch per second: second 0 holds 0, 1 every 500 ms; second 1 holds 2..6 every
        // 250 ms; second 2 holds 6..12 every 166.67 ms, rounded.
        assert_eq!(
            batch_at(&src, &now, 1_000, None),
            Some((1, vec![(0, 0), (1, 500)]))
        );
        assert_eq!(
            batch_at(&src, &now, 2_000, Some(1)),
            Some((2, vec![(2, 1_000), (3, 1_250), (4, 1_500), (5, 1_750)]))
        );
        assert_eq!(
            batch_at(&src, &now, 3_000, Some(2)),
            Some((
                3,
                vec![
                    (6, 2_000),
                    (7, 2_167),
                    (8, 2_333),
                    (9, 2_500),
                    (10, 2_667),
                    (11, 2_833)
                ]
            ))
        );
        // The same values planned as one batch [0, 3) are spread over its 3000 ms (as Spark
        // does: timestamps depend on the batch).
        let (src, now) = fake(Rate::new(10).ramp_up_time(4), 0);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        let expected: Vec<(i64, i64)> = (0..12).map(|v| (v, v * 250)).collect();
        assert_eq!(batch_at(&src, &now, 3_000, None), Some((3, expected)));
        // 7 rows/s over 2 s of ramp-up: 2 per second (7 / 3), values due 0, 2, 6, 13, 20;
        // a batch [2, 4) spreads 14 values over 2000 ms: 142.857 ms each.
        let (src, now) = fake(Rate::new(7).ramp_up_time(2), 0);
        let due: Vec<i64> = (0..5).map(|s| src.value_at_second(s).unwrap()).collect();
        assert_eq!(due, [0, 2, 6, 13, 20]);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        assert_eq!(batch_at(&src, &now, 2_000, None).unwrap().0, 2);
        let (end, got) = batch_at(&src, &now, 4_000, Some(2)).unwrap();
        assert_eq!(end, 4);
        assert_eq!(got[..4], [(6, 2_000), (7, 2_143), (8, 2_286), (9, 2_429)]);
        assert_eq!(got[7], (13, 3_000));
        assert_eq!(got[13], (19, 3_857));
        // Fewer rows per second than ramp-up seconds: no rows during the ramp-up (the speed
        // delta rounds to 0), then the full rate. Empty batches still advance the offset.
        let (src, now) = fake(Rate::new(2).ramp_up_time(3), 0);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        assert_eq!(batch_at(&src, &now, 2_000, None), Some((2, vec![])));
        assert_eq!(
            batch_at(&src, &now, 5_000, Some(2)),
            Some((5, vec![(0, 2_000), (1, 2_750), (2, 3_500), (3, 4_250)]))
        );
    }

    #[test]
    fn rate_limits_partitions_and_overflow() {
        let t0 = 5_000;
        let (src, now) = fake(Rate::new(10), t0);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        now.store(t0 + 10_500, Ordering::SeqCst);
        // UpTo caps the end offset (seconds).
        let s = src
            .plan(Some(&2.into()), &ReadLimit::UpTo(5.into()))
            .unwrap()
            .unwrap();
        assert_eq!((s.start.clone(), s.end.clone()), (Some(2.into()), 5.into()));
        // Workers split values by value % count; together they read the batch.
        let mut all = Vec::new();
        for index in 0..3 {
            let part = rows(&src, &s, Partition { index, count: 3 });
            assert!(part.iter().all(|(v, _)| *v as usize % 3 == index));
            all.extend(part);
        }
        all.sort();
        let expected: Vec<(i64, i64)> = (20..50).map(|v| (v, t0 + v * 100)).collect();
        assert_eq!(all, expected);
        assert!(Rate::new(0).plan(None, &ReadLimit::Default).is_err());
        // Spark's guard: values past i64 are an error, not a wrap.
        let (src, now) = fake(Rate::new(i64::MAX as u64 / 2), 0);
        assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
        now.store(3_000, Ordering::SeqCst);
        let err = src.plan(None, &ReadLimit::Default).unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
        assert!(Rate::new(u64::MAX).plan(None, &ReadLimit::Default).is_err());
        let err = Rate::new(i64::MAX as u64 / 2)
            .ramp_up_time(3)
            .plan(None, &ReadLimit::Default)
            .unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
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
