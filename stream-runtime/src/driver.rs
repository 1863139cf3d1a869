//! The micro-batch loop (SEMANTICS.md 1.1): the driver, global worker 0, plans each batch's
//! source ranges and broadcasts the plan; every worker reads its share at the batch's time; when
//! the frontier passes that time the driver applies the output mode, hands the rows to the sink,
//! and records progress.

use crate::dataflow::{self, Worker};
use crate::dataset::LowerCtx;
use crate::error::StreamError;
use crate::handle::{QueryStatus, Shared};
use crate::metrics::BatchMetrics;
use crate::progress::{
    iso_utc, QueryProgress, SinkProgress, SourceProgress, StateOperatorProgress,
};
use crate::query::QueryDef;
use crate::sink::{BatchInfo, Sink};
use crate::source::{Offset, Partition, ReadLimit, ReadStats, Split};
use crate::time::Time;
use crate::watermark::WatermarkTracker;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use stream_core::{OutputMode, Record, Trigger};
use timely::dataflow::ProbeHandle;

/// How long the driver waits before asking idle sources again (Spark's `pollingDelay`).
const POLLING_DELAY: Duration = Duration::from_millis(10);
/// How many corrupt records a handle keeps.
const MAX_CORRUPT: usize = 1000;

/// What every worker does in one micro-batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct BatchPlan {
    batch: u64,
    watermark: u64,
    /// The split of every source with data in this batch, by source id.
    splits: Vec<(usize, Split)>,
    stop: bool,
}

impl BatchPlan {
    fn stop() -> BatchPlan {
        BatchPlan {
            batch: 0,
            watermark: 0,
            splits: Vec::new(),
            stop: true,
        }
    }
}

/// What one worker tells the driver about one batch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WorkerReport {
    reads: Vec<(usize, ReadStats)>,
    /// Rows this worker wrote itself (row-writer sinks).
    written: u64,
    metrics: BatchMetrics,
    error: Option<StreamError>,
}

/// Runs a query on one worker until the driver says stop.
pub(crate) fn run_worker<T: Record>(worker: &mut Worker, def: &QueryDef<T>, shared: &Arc<Shared>) {
    let part = Partition {
        index: worker.index(),
        count: worker.peers(),
    };
    let out = Rc::new(RefCell::new(Vec::new()));
    let out_probe = ProbeHandle::new();
    let written = Rc::new(std::cell::Cell::new(0u64));
    let stopped = Rc::new(std::cell::Cell::new(false));
    let (mut control, mut feeders, metrics) = dataflow::build(worker, |scope| {
        let control = dataflow::control(scope);
        let mut ctx = LowerCtx::new(def.mode);
        let rows = (def.data.lower)(scope, &mut ctx);
        match &def.writer {
            Some(writer) => {
                // Append mode after aggregations: the last one's closed windows.
                let stages = def.data.shape.aggregations.len() as u64;
                let append_final =
                    (def.mode == OutputMode::Append && stages > 0).then(|| stages - 1);
                dataflow::write_each(
                    rows,
                    writer.clone(),
                    append_final,
                    written.clone(),
                    stopped.clone(),
                    &out_probe,
                )
            }
            None => dataflow::gather(rows, out.clone(), &out_probe),
        }
        (control, ctx.feeders, ctx.metrics)
    });
    let mut driver = if part.index == 0 {
        match Driver::new(def, shared.clone()) {
            Some(d) => Some(d),
            None => return,
        }
    } else {
        None
    };
    loop {
        if let Some(d) = driver.as_mut() {
            let plan = d.next_plan();
            control
                .plan_in
                .send(serde_json::to_string(&plan).expect("plans serialize"));
            control.plan_in.flush();
        }
        let plan: BatchPlan = loop {
            let next = {
                let mut plans = control.plans.borrow_mut();
                (!plans.is_empty()).then(|| plans.remove(0))
            };
            if let Some(p) = next {
                break serde_json::from_str(&p).expect("plans deserialize");
            }
            worker.step_or_park(Some(Duration::from_millis(100)));
        };
        if plan.stop {
            stopped.set(true);
            break;
        }
        let t = Time::batch(plan.watermark, plan.batch);
        let mut report = WorkerReport::default();
        let mut fed = HashSet::new();
        for f in feeders.iter_mut() {
            f.advance_to(t);
            match f.feed(&plan.splits, part) {
                // A source read twice (a self-union) counts its rows once.
                Ok(Some((id, stats))) if fed.insert(id) => report.reads.push((id, stats)),
                Ok(_) => {}
                Err(e) => report.error = Some(e),
            }
        }
        let next = Time::batch(plan.watermark, plan.batch + 1);
        for f in feeders.iter_mut() {
            f.advance_to(next);
        }
        // The batch is done everywhere once the output frontier passes its time; only then are
        // this worker's operator metrics for the batch final.
        worker.step_or_park_while(None, || out_probe.less_equal(&t));
        report.metrics = metrics.borrow_mut().take_batch();
        report.written = written.replace(0);
        control.report_in.advance_to(t);
        control
            .report_in
            .send(serde_json::to_string(&report).expect("reports serialize"));
        control.report_in.advance_to(next);
        control.plan_in.advance_to(next);
        worker.step_or_park_while(None, || control.report_probe.less_equal(&t));
        if let Some(d) = driver.as_mut() {
            let updates = std::mem::take(&mut *out.borrow_mut());
            let reports = std::mem::take(&mut *control.reports.borrow_mut());
            d.finish_batch(&plan, updates, reports);
        }
    }
}

/// The driver's state: offsets, trigger, output mode and sink.
struct Driver<'q, T: 'static> {
    def: &'q QueryDef<T>,
    shared: Arc<Shared>,
    sink: Box<dyn Sink<T>>,
    batch: u64,
    watermark: WatermarkTracker,
    /// The watermark moved past the last batch's: run a batch without new data, so that
    /// stateful operators emit and evict at once (Spark's no-data batches).
    no_data_batch: bool,
    /// End offset of the last committed batch, per source (in `def.sources` order).
    offsets: Vec<Option<Offset>>,
    /// `AvailableNow`: the offsets available at start, per source.
    targets: Option<Vec<Option<Offset>>>,
    ran_once: bool,
    /// The result table (complete mode).
    table: BTreeMap<T, isize>,
    next_tick: SystemTime,
    trigger_start: Instant,
    trigger_wall: SystemTime,
    previous_trigger_start: Option<Instant>,
    planning_ms: u64,
}

impl<'q, T: Record> Driver<'q, T> {
    fn new(def: &'q QueryDef<T>, shared: Arc<Shared>) -> Option<Self> {
        let sink = def.sink.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        Some(Driver {
            def,
            shared,
            sink,
            batch: 0,
            watermark: WatermarkTracker::new(def.data.watermarks.clone(), def.watermark_policy),
            no_data_batch: false,
            offsets: vec![None; def.sources.len()],
            targets: None,
            ran_once: false,
            table: BTreeMap::new(),
            next_tick: SystemTime::now(),
            trigger_start: Instant::now(),
            trigger_wall: SystemTime::now(),
            previous_trigger_start: None,
            planning_ms: 0,
        })
    }

    fn set_status(&self, message: &str, data: bool, active: bool) {
        self.shared.update(|s| {
            s.status = Some(QueryStatus {
                message: message.into(),
                is_data_available: data,
                is_trigger_active: active,
            })
        });
    }

    fn should_stop(&self) -> bool {
        let st = self.shared.lock();
        st.stop_requested || st.error.is_some()
    }

    /// Blocks until the next batch should run, and plans it; or says stop.
    fn next_plan(&mut self) -> BatchPlan {
        loop {
            if self.should_stop() {
                return BatchPlan::stop();
            }
            if let Trigger::ProcessingTime(ms) = self.def.trigger {
                if !self.wait_until(self.next_tick) {
                    return BatchPlan::stop();
                }
                // A batch that overruns the next boundary is followed at once, with no catch-up.
                self.next_tick = next_boundary(Duration::from_millis(ms.max(0) as u64));
            }
            if self.no_data_batch {
                self.no_data_batch = false;
                self.begin_trigger(Instant::now());
                self.set_status("Processing a batch without new data", false, true);
                return BatchPlan {
                    batch: self.batch,
                    watermark: self.watermark.current(),
                    splits: Vec::new(),
                    stop: false,
                };
            }
            match self.plan_sources() {
                Err(e) => {
                    self.shared.fail(e);
                    return BatchPlan::stop();
                }
                Ok(Some(splits)) => {
                    self.set_status("Processing new data", true, true);
                    return BatchPlan {
                        batch: self.batch,
                        watermark: self.watermark.current(),
                        splits,
                        stop: false,
                    };
                }
                Ok(None) => {
                    self.shared.update(|s| s.idle_rounds += 1);
                    self.set_status("Waiting for data to arrive", false, false);
                    if matches!(self.def.trigger, Trigger::Once | Trigger::AvailableNow) {
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
                splits.push((s.id, split));
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

    fn begin_trigger(&mut self, started: Instant) {
        self.previous_trigger_start = Some(self.trigger_start);
        self.trigger_start = started;
        self.trigger_wall = SystemTime::now();
    }

    /// The rows the sink receives for a batch, from the output updates.
    fn output_rows(&mut self, updates: Vec<(T, Time, isize)>) -> Vec<T> {
        let repeat = |(row, n): (&T, isize)| std::iter::repeat_n(row.clone(), n.max(0) as usize);
        let stages = self.def.data.shape.aggregations.len() as u64;
        if self.def.mode == OutputMode::Append && stages > 0 {
            let last_stage = stages - 1;
            // A closed window's final row is the retraction that evicted it, at the time the
            // watermark reached the window's end (an eviction time).
            let closed = updates
                .into_iter()
                .filter(|(_, t, _)| t.is_eviction_of(last_stage))
                .map(|(r, _, d)| (r, -d))
                .collect();
            let closed = dataflow::consolidate(closed);
            return closed.iter().flat_map(|(r, n)| repeat((r, *n))).collect();
        }
        let changes = dataflow::consolidate(updates.into_iter().map(|(r, _, d)| (r, d)).collect());
        match self.def.mode {
            OutputMode::Complete => {
                for (row, d) in changes {
                    let n = self.table.entry(row.clone()).or_insert(0);
                    *n += d;
                    if *n == 0 {
                        self.table.remove(&row);
                    }
                }
                self.table
                    .iter()
                    .flat_map(|(r, n)| repeat((r, *n)))
                    .collect()
            }
            // Append: the new rows. Update: the new version of every changed row (the old
            // version's retraction is not output).
            OutputMode::Append | OutputMode::Update => {
                changes.iter().flat_map(|(r, n)| repeat((r, *n))).collect()
            }
        }
    }

    /// Spark's `eventTime`: min, max and average event time of the batch, and its watermark.
    fn event_time_progress(&self, m: &BatchMetrics, watermark: u64) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if !self.watermark.is_active() {
            return out;
        }
        let mut all = crate::watermark::EventTimeStats::default();
        m.event_time.iter().for_each(|s| all.merge(s));
        if all.count > 0 {
            out.insert("min".into(), iso_utc(all.min));
            out.insert("max".into(), iso_utc(all.max));
            out.insert("avg".into(), iso_utc((all.sum / all.count as f64) as i64));
        }
        out.insert("watermark".into(), iso_utc(watermark as i64));
        out
    }

    fn finish_batch(
        &mut self,
        plan: &BatchPlan,
        updates: Vec<(T, Time, isize)>,
        reports: Vec<String>,
    ) {
        let mut reads: BTreeMap<usize, ReadStats> = BTreeMap::new();
        let mut metrics = BatchMetrics::default();
        let mut written = 0;
        for r in reports {
            let report: WorkerReport = serde_json::from_str(&r).expect("reports deserialize");
            if let Some(e) = report.error {
                self.shared.fail(e);
            }
            metrics.merge(&report.metrics);
            written += report.written;
            for (id, stats) in report.reads {
                let acc = reads.entry(id).or_default();
                acc.rows += stats.rows;
                acc.dropped_malformed += stats.dropped_malformed;
                acc.corrupt.extend(stats.corrupt);
            }
        }
        if self.should_stop() && self.shared.lock().error.is_some() {
            return;
        }
        let sink_started = Instant::now();
        let num_output_rows = if self.def.writer.is_some() {
            // The workers wrote their rows themselves.
            written as i64
        } else {
            let mut rows = self.output_rows(updates);
            if let Some(sort) = &self.def.data.sort {
                sort(&mut rows);
            }
            let n = rows.len() as i64;
            let info = BatchInfo {
                batch_id: self.batch,
                mode: self.def.mode,
            };
            if let Err(e) = self.sink.add_batch(info, rows) {
                self.shared.fail(e);
                return;
            }
            n
        };
        let add_batch_ms = sink_started.elapsed().as_millis() as u64;
        let trigger_ms = self.trigger_start.elapsed().as_millis() as u64;
        let since_previous = self
            .previous_trigger_start
            .map(|p| self.trigger_start.duration_since(p).as_secs_f64())
            .unwrap_or(0.0);
        let rate = |n: u64, secs: f64| {
            if secs > 0.0 {
                n as f64 / secs
            } else {
                f64::NAN
            }
        };
        let trigger_secs = trigger_ms as f64 / 1000.0;
        let mut sources = Vec::new();
        let mut total = 0;
        for (i, s) in self.def.sources.iter().enumerate() {
            let split = plan
                .splits
                .iter()
                .find(|(id, _)| *id == s.id)
                .map(|(_, sp)| sp);
            let stats = reads.remove(&s.id).unwrap_or_default();
            total += stats.rows;
            let mut metrics = BTreeMap::new();
            if stats.dropped_malformed > 0 {
                metrics.insert(
                    "numDroppedMalformedRecords".into(),
                    stats.dropped_malformed.to_string(),
                );
            }
            if !stats.corrupt.is_empty() {
                metrics.insert("numCorruptRecords".into(), stats.corrupt.len().to_string());
                self.shared.update(|st| {
                    st.corrupt.extend(stats.corrupt.iter().cloned());
                    let excess = st.corrupt.len().saturating_sub(MAX_CORRUPT);
                    st.corrupt.drain(..excess);
                });
            }
            let start = self.offsets[i].clone();
            if let Some(sp) = split {
                self.offsets[i] = Some(sp.end.clone());
            }
            sources.push(SourceProgress {
                description: s.source.description(),
                start_offset: start.unwrap_or(serde_json::Value::Null),
                end_offset: self.offsets[i].clone().unwrap_or(serde_json::Value::Null),
                num_input_rows: stats.rows,
                input_rows_per_second: rate(stats.rows, since_previous),
                processed_rows_per_second: rate(stats.rows, trigger_secs),
                metrics,
            });
        }
        let wall_ms = self
            .trigger_wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let duration_ms: BTreeMap<String, u64> = [
            ("latestOffset", self.planning_ms),
            ("addBatch", add_batch_ms),
            ("triggerExecution", trigger_ms),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let batch_watermark = self.watermark.current();
        let event_time = self.event_time_progress(&metrics, batch_watermark);
        let state_operators = metrics
            .state
            .iter()
            .map(|s| StateOperatorProgress {
                operator_name: "stateStoreSave".into(),
                num_rows_total: s.rows_total.max(0) as u64,
                num_rows_updated: s.rows_updated,
                num_rows_removed: s.rows_removed,
                num_rows_dropped_by_watermark: s.dropped_by_watermark,
                memory_used_bytes: s.memory_used_bytes,
            })
            .collect();
        let stats: Vec<_> = metrics.event_time.clone();
        let next = self.watermark.advance(&stats);
        // Only operators whose state the watermark can evict (windows on the watermarked
        // column) get a batch without data, as in Spark; `groupBy(key)` with a watermark does not.
        let evicting = self
            .def
            .data
            .shape
            .aggregations
            .iter()
            .any(|a| a.watermarked_event_time_key);
        self.no_data_batch = evicting
            && next > batch_watermark
            && self.def.mode != OutputMode::Complete
            && self.def.trigger != Trigger::Once;
        self.shared.push_progress(QueryProgress {
            id: self.shared.id.clone(),
            run_id: self.shared.run_id.clone(),
            name: self.shared.name.clone(),
            timestamp: iso_utc(wall_ms),
            batch_id: self.batch,
            batch_duration: trigger_ms,
            num_input_rows: total,
            input_rows_per_second: rate(total, since_previous),
            processed_rows_per_second: rate(total, trigger_secs),
            duration_ms,
            event_time,
            state_operators,
            sources,
            sink: SinkProgress {
                description: self.sink.description(),
                num_output_rows,
            },
        });
        self.batch += 1;
        self.set_status("Waiting for next trigger", false, false);
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
