//! Planning micro-batches: the driver's state, the trigger (when the next batch runs), and the
//! sources' splits of each batch.

use super::BatchPlan;
use super::QueryRun;
use crate::checkpoint::{Checkpoint, Replay};
use crate::handle::{QueryStatus, Shared};
use crate::plan::QueryDef;
use crate::sink::Sink;
use crate::source::{Offset, ReadLimit, Split};
use crate::state::maintenance::Maintenance;
use crate::watermark::{WatermarkPolicy, WatermarkTracker};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use stream_core::{Record, Trigger};

/// How long the driver waits before asking idle sources again (Spark's `pollingDelay`).
const POLLING_DELAY: Duration = Duration::from_millis(10);

/// The driver's state: offsets, trigger, output mode and sink.
pub(super) struct Driver<'q, T: 'static> {
    pub(super) def: &'q QueryDef<T>,
    pub(super) shared: Arc<Shared>,
    pub(super) sink: Box<dyn Sink<T>>,
    pub(super) batch: u64,
    pub(super) watermark: WatermarkTracker,
    /// The watermark moved past the last batch's and a stateful operator is below it: when no
    /// new data is waiting, run a batch without data, so that stateful operators emit and evict
    /// at once (Spark's no-data batches).
    pub(super) no_data_batch: bool,
    /// The earliest pending processing-time timeout of a `[flat_]map_groups_with_state`
    /// (epoch ms): once the wall clock passes it, a batch without data runs to fire it.
    pub(super) next_timeout: Option<i64>,
    /// The watermark the last batch ran under: the next batch judges late rows by it (Spark's
    /// watermark for late events), and evicts by its own.
    pub(super) previous_watermark: u64,
    /// End offset of the last committed batch, per source (in `def.sources` order).
    pub(super) offsets: Vec<Option<Offset>>,
    /// `AvailableNow`: the offsets available at start, per source.
    pub(super) targets: Option<Vec<Option<Offset>>>,
    pub(super) ran_once: bool,
    /// The result table (complete mode).
    pub(super) table: BTreeMap<T, isize>,
    pub(super) next_tick: SystemTime,
    pub(super) trigger_start: Instant,
    pub(super) trigger_wall: SystemTime,
    pub(super) previous_trigger_start: Option<Instant>,
    pub(super) planning_ms: u64,
    /// The query's checkpoint, if it has one.
    pub(super) checkpoint: Option<Checkpoint>,
    /// A batch logged but not committed before a restart: it runs first, exactly again.
    pub(super) replay: Option<Replay>,
    /// The current batch's timestamp (epoch ms; logged, and reused when it runs again).
    pub(super) batch_timestamp_ms: i64,
    /// Settings frozen at the query's first start (logged with every batch).
    pub(super) conf: BTreeMap<String, String>,
    /// Snapshots and retention of the state, with a checkpoint.
    pub(super) maintenance: Option<Maintenance>,
    /// The last batch a partitioned sink committed (from before a restart, or since).
    pub(super) sink_committed: Option<u64>,
    /// When the last progress report or idle event was posted (Spark's
    /// `lastNoExecutionProgressEventTime`; `None` before either).
    pub(super) last_no_execution: Option<Instant>,
    /// How long writing the offsets log took for the current batch.
    pub(super) wal_commit_ms: u64,
}

impl<'q, T: Record> Driver<'q, T> {
    pub(super) fn new(
        def: &'q QueryDef<T>,
        shared: Arc<Shared>,
        run: &QueryRun,
        workers: usize,
    ) -> Option<Self> {
        let mut sink = def.sink.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        if let Err(e) = sink.start(&shared.id) {
            shared.fail(e);
        }
        let checkpoint = run
            .checkpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let mut driver = Driver {
            def,
            shared,
            sink,
            batch: 0,
            // The policy is frozen at the first start (Spark takes it from the checkpoint).
            watermark: WatermarkTracker::new(
                def.data.meta.watermarks.clone(),
                run.recovery
                    .conf
                    .get(crate::session::WATERMARK_POLICY)
                    .and_then(|p| WatermarkPolicy::parse(p))
                    .unwrap_or(def.watermark_policy),
            ),
            no_data_batch: false,
            previous_watermark: 0,
            offsets: vec![None; def.sources.len()],
            targets: None,
            ran_once: false,
            table: BTreeMap::new(),
            next_tick: SystemTime::now(),
            trigger_start: Instant::now(),
            trigger_wall: SystemTime::now(),
            previous_trigger_start: None,
            planning_ms: 0,
            checkpoint,
            replay: None,
            batch_timestamp_ms: 0,
            // A processing-time timeout may be pending in restored state: one batch without
            // data at start tells (each worker then reports its earliest timeout).
            next_timeout: def
                .data
                .meta
                .shape
                .group_states
                .iter()
                .any(|g| g.timeout == stream_core::GroupStateTimeout::ProcessingTimeTimeout)
                .then_some(i64::MIN),
            conf: run.recovery.conf.clone(),
            maintenance: None,
            sink_committed: None,
            last_no_execution: None,
            wal_commit_ms: 0,
        };
        if let Some(sink) = &def.partitioned {
            let sink_dir = driver.checkpoint.as_ref().map(|c| c.sink_dir());
            let sink_run = super::sink_run(&driver.shared.id, run, workers, sink_dir.as_deref());
            if let Err(e) = sink.start(&sink_run) {
                driver.shared.fail(e);
                return Some(driver);
            }
            match sink.last_committed() {
                Ok(last) => driver.sink_committed = last,
                Err(e) => driver.shared.fail(e),
            }
        }
        driver.recover(run);
        Some(driver)
    }

    pub(super) fn set_status(&self, message: &str, data: bool, active: bool) {
        self.shared.update(|s| {
            s.status = Some(QueryStatus {
                message: message.into(),
                is_data_available: data,
                is_trigger_active: active,
            })
        });
    }

    /// A processing-time timeout is due: the wall clock passed it (Spark fires a timeout whose
    /// time is below the batch's timestamp; it runs a batch at every trigger instead, while we
    /// run one only when a timeout is due).
    fn timeout_due(&self) -> bool {
        self.def.trigger != Trigger::Once
            && self
                .next_timeout
                .is_some_and(|t| crate::progress::now_ms() > t)
    }

    pub(super) fn should_stop(&self) -> bool {
        let st = self.shared.lock();
        st.stop_requested || st.error.is_some()
    }

    /// Blocks until the next batch should run, and plans it; or says stop.
    pub(super) fn next_plan(&mut self) -> BatchPlan {
        loop {
            if self.should_stop() {
                return BatchPlan::stop();
            }
            if let Some(replay) = self.replay.take() {
                return self.replay_plan(replay);
            }
            if let Trigger::ProcessingTime(ms) = self.def.trigger {
                if !self.wait_until(self.next_tick) {
                    return BatchPlan::stop();
                }
                // A batch that overruns the next boundary is followed at once, with no catch-up.
                self.next_tick = next_boundary(Duration::from_millis(ms.max(0) as u64));
            }
            match self.plan_sources() {
                Err(e) => {
                    self.shared.fail(e);
                    return BatchPlan::stop();
                }
                Ok(Some(splits)) => {
                    self.set_status("Processing new data", true, true);
                    return self.start_batch(splits);
                }
                // Waiting data always gets a data batch; without it, a batch without data when
                // an operator needs one (Spark: `isNewDataAvailable ||
                // lastExecutionRequiresAnotherBatch`).
                Ok(None) if self.no_data_batch || self.timeout_due() => {
                    self.no_data_batch = false;
                    self.begin_trigger(Instant::now());
                    self.set_status("Processing a batch without new data", false, true);
                    return self.start_batch(Vec::new());
                }
                Ok(None) => {
                    self.update_idleness();
                    self.shared.update(|s| s.idle_rounds += 1);
                    self.set_status("Waiting for data to arrive", false, false);
                    if matches!(self.def.trigger, Trigger::Once | Trigger::AvailableNow) {
                        // Bounded sources all read: one last batch closes what is open.
                        let bounded = self.def.sources.iter().all(|s| s.source.is_bounded());
                        if bounded && self.watermark.end_input() {
                            self.begin_trigger(Instant::now());
                            self.set_status("Processing the end of input", false, true);
                            return self.start_batch(Vec::new());
                        }
                        return BatchPlan::stop();
                    }
                    if !matches!(self.def.trigger, Trigger::ProcessingTime(ms) if ms > 0)
                        && !self.wait_until(SystemTime::now() + POLLING_DELAY)
                    {
                        return BatchPlan::stop();
                    }
                }
            }
        }
    }

    /// A planning round found no data: every `noDataProgressEventInterval` of that, tell the
    /// listeners the query is idle (Spark's `ProgressReporter.updateIdleness`: not on the first
    /// round of all, which only starts the clock).
    fn update_idleness(&mut self) {
        let now = Instant::now();
        match self.last_no_execution {
            Some(last) if now.duration_since(last) < self.shared.hooks.idle_interval => {}
            last => {
                if last.is_some() {
                    let timestamp = crate::progress::iso_utc(crate::progress::now_ms());
                    self.shared.post_idle(timestamp);
                }
                self.last_no_execution = Some(now);
            }
        }
    }

    /// The plan of the next batch, reading `splits`.
    pub(super) fn batch_plan(&self, splits: Vec<(usize, Split)>) -> BatchPlan {
        BatchPlan {
            batch: self.batch,
            skip_sink: self.sink_committed.is_some_and(|c| c >= self.batch),
            late_watermark: self.previous_watermark,
            watermark: self.watermark.current(),
            splits,
            stop: false,
            timestamp_ms: self.batch_timestamp_ms,
        }
    }

    /// Sleeps until `deadline` on the wall clock unless the query is asked to stop; false if it
    /// was.
    fn wait_until(&self, deadline: SystemTime) -> bool {
        loop {
            if self.should_stop() {
                return false;
            }
            match deadline.duration_since(SystemTime::now()) {
                Ok(left) if !left.is_zero() => {
                    std::thread::sleep(left.min(Duration::from_millis(20)));
                }
                _ => return true,
            }
        }
    }

    /// The splits of the next batch, or `None` if no source has new data.
    fn plan_sources(&mut self) -> crate::error::Result<Option<Vec<(usize, Split)>>> {
        if self.def.trigger == Trigger::Once && self.ran_once {
            return Ok(None);
        }
        let started = Instant::now();
        if self.def.trigger == Trigger::AvailableNow && self.targets.is_none() {
            let mut targets = Vec::new();
            for (s, start) in self.def.sources.iter().zip(&self.offsets) {
                let end = s
                    .source
                    .plan(start.as_ref(), &ReadLimit::All)?
                    .map(|sp| sp.end);
                targets.push(end.or_else(|| start.clone()));
            }
            self.targets = Some(targets);
        }
        let mut splits = Vec::new();
        for (i, (s, start)) in self.def.sources.iter().zip(&self.offsets).enumerate() {
            let limit = match (&self.def.trigger, &self.targets) {
                (Trigger::Once, _) => ReadLimit::All,
                (Trigger::AvailableNow, Some(t)) => match &t[i] {
                    Some(end) => ReadLimit::UpTo(end.clone()),
                    None => continue,
                },
                _ => ReadLimit::Default,
            };
            if let Some(split) = s.source.plan(start.as_ref(), &limit)? {
                splits.push((i, split));
            }
        }
        self.planning_ms = started.elapsed().as_millis() as u64;
        if splits.is_empty() {
            return Ok(None);
        }
        self.ran_once = true;
        self.begin_trigger(started);
        Ok(Some(splits))
    }

    pub(super) fn begin_trigger(&mut self, started: Instant) {
        self.previous_trigger_start = Some(self.trigger_start);
        self.trigger_start = started;
        self.trigger_wall = SystemTime::now();
    }
}

/// When the batch after one triggered now starts, under `ProcessingTime(interval)`: at the first
/// multiple of the interval on the wall clock (since the epoch) after now, as Spark's
/// `ProcessingTimeExecutor.nextBatchTime` (so batches of every query with the same interval, and
/// sources that release data on the same grid, line up). Batches wait on the same clock, so a
/// batch started at a boundary never computes that boundary again.
fn next_boundary(interval: Duration) -> SystemTime {
    let now = SystemTime::now();
    let (Ok(since_epoch), false) = (
        now.duration_since(SystemTime::UNIX_EPOCH),
        interval.is_zero(),
    ) else {
        return now;
    };
    let into = since_epoch.as_nanos() % interval.as_nanos();
    now + (interval - Duration::from_nanos(into as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_boundary_is_a_multiple_of_the_interval_on_the_wall_clock() {
        let interval = Duration::from_millis(300);
        let before = SystemTime::now();
        let at = next_boundary(interval);
        let since_epoch = at.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since_epoch.as_nanos() % interval.as_nanos(), 0);
        let ahead = at.duration_since(before).unwrap();
        assert!(!ahead.is_zero() && ahead <= interval, "{ahead:?}");
        // A zero interval: the next batch may start at once.
        assert!(next_boundary(Duration::ZERO) >= before);
    }
}
