//! The driver: runs a query description ([`QueryDef`]) on every worker, one micro-batch at a time
//! (Spark's micro-batch loop). The driver, global worker 0, plans each batch's source ranges and
//! broadcasts the plan ([`plan`]); every worker reads its share at the batch's time; when the
//! frontier passes that time every worker reports to the driver, which applies the output mode,
//! hands the rows to the sink, and records progress ([`finish`]).

mod finish;
mod output;
mod plan;
mod recovery;

use crate::checkpoint::{Checkpoint, Recovery};
use crate::dataflow::{self, Worker};
use crate::error::StreamError;
use crate::handle::Shared;
use crate::metrics::BatchMetrics;
use crate::plan::lower::LowerCtx;
use crate::plan::QueryDef;
use crate::source::{Partition, ReadStats, Split};
use crate::state::{KeyGroups, StateCtx};
use crate::time::Time;
use output::Output;
use plan::Driver;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream_core::Record;

/// What a run of a query starts from: its checkpoint (taken by the driver) and where to resume.
#[derive(Default)]
pub(crate) struct QueryRun {
    pub checkpoint: Mutex<Option<Checkpoint>>,
    pub recovery: Recovery,
    /// The checkpoint's `state/` directory, on every process.
    pub state_dir: Option<PathBuf>,
    /// The key groups of the query's state (frozen in the checkpoint).
    pub groups: KeyGroups,
}

impl QueryRun {
    /// Where worker `worker` of `workers` keeps state, if the query has a checkpoint.
    fn state(&self, worker: usize, workers: usize) -> Option<StateCtx> {
        Some(StateCtx {
            dir: self.state_dir.clone()?,
            version: self.recovery.state_version(),
            groups: self.groups,
            worker,
            workers,
        })
    }
}

/// What every worker does in one micro-batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct BatchPlan {
    batch: u64,
    /// The previous batch's watermark: rows at or below it are late (Spark 3.4+'s watermark for
    /// late events). The batch's rows enter the dataflow at `Time::batch(late_watermark, batch)`.
    late_watermark: u64,
    /// This batch's watermark: state at or below it is evicted, windows at or below it close
    /// (Spark's watermark for eviction). The batch is done when the frontier reaches
    /// `Time::batch(watermark, batch + 1)`, past every eviction time up to it.
    watermark: u64,
    /// A partitioned sink has this batch already (it ran before a crash): do not write it.
    skip_sink: bool,
    /// The split of every source with data in this batch, by source id.
    splits: Vec<(usize, Split)>,
    stop: bool,
    /// The batch's timestamp, epoch ms (Spark's `batchTimestampMs`: processing-time timeouts).
    #[serde(default)]
    timestamp_ms: i64,
}

impl BatchPlan {
    fn stop() -> BatchPlan {
        BatchPlan {
            batch: 0,
            late_watermark: 0,
            watermark: 0,
            skip_sink: false,
            splits: Vec::new(),
            stop: true,
            timestamp_ms: 0,
        }
    }
}

/// What one worker tells the driver about one batch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WorkerReport {
    reads: Vec<(usize, ReadStats)>,
    /// Rows this worker wrote itself (row-writer and partitioned sinks).
    written: u64,
    /// What this worker's writer of a partitioned sink returned for the batch.
    sink_message: Option<serde_json::Value>,
    metrics: BatchMetrics,
    error: Option<StreamError>,
    /// Milliseconds this worker spent on each phase of the batch.
    #[serde(default)]
    phases: Phases,
}

/// Where a worker's time in a batch went, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Phases {
    /// Reading its share of the sources' splits (Spark's `getBatch`).
    read: u64,
    /// Running the dataflow until the batch was done here.
    process: u64,
    /// Writing its state's delta to the checkpoint.
    state_commit: u64,
}

impl Phases {
    /// The slowest worker's time on each phase.
    fn max(self, o: Phases) -> Phases {
        Phases {
            read: self.read.max(o.read),
            process: self.process.max(o.process),
            state_commit: self.state_commit.max(o.state_commit),
        }
    }
}

fn ms_since(t: std::time::Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// Runs a query on one worker until the driver says stop or the query fails. A panic on this
/// worker (a user closure, a sink) fails the query with the panic's message; a failure anywhere
/// makes every worker leave its loop and drop the query's dataflow at once, so that no worker
/// waits for a peer that will never answer.
pub(crate) fn run_worker<T: Record>(
    worker: &mut Worker,
    def: &QueryDef<T>,
    shared: &Arc<Shared>,
    query_run: &QueryRun,
) {
    let index = worker.index();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        work(&mut *worker, def, shared, query_run)
    }));
    if let Err(payload) = run {
        // On a cluster, a lost process also makes workers panic (timely's connection to it
        // broke): give the control plane a moment to name the lost process first.
        if shared.is_cluster() {
            shared.wait_for(Some(LOST_PEER_GRACE), |s| s.error.is_some());
        }
        shared.fail(StreamError::Execution(format!(
            "worker {index} panicked: {}",
            panic_message(&*payload)
        )));
    }
    // After a failure the dataflow cannot complete (a peer left it): drop it rather than wait.
    if shared.aborted() {
        for id in worker.installed_dataflows() {
            worker.drop_dataflow(id);
        }
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic with a non-text payload".to_string(),
    }
}

/// What a partitioned sink is told before the first batch (`dir`: on the driver, with a
/// checkpoint).
fn sink_run<'a>(
    query_id: &'a str,
    run: &QueryRun,
    workers: usize,
    dir: Option<&'a std::path::Path>,
) -> crate::sink::SinkRun<'a> {
    crate::sink::SinkRun {
        query_id,
        key_groups: (0..workers).map(|w| run.groups.range(w, workers)).collect(),
        dir,
    }
}

/// The query failed somewhere: this worker leaves its loop.
struct Aborted;

/// Steps the worker while `busy` holds, unless the query fails meanwhile.
fn step_while(
    worker: &mut Worker,
    shared: &Shared,
    mut busy: impl FnMut() -> bool,
) -> Result<(), Aborted> {
    while busy() {
        if shared.aborted() {
            return Err(Aborted);
        }
        worker.step_or_park(Some(ABORT_POLL));
    }
    Ok(())
}

/// How long a panicked worker of a cluster waits for a better account of the failure.
const LOST_PEER_GRACE: Duration = Duration::from_secs(1);

/// How often a waiting worker looks whether the query failed.
const ABORT_POLL: Duration = Duration::from_millis(20);

/// The worker loop of [`run_worker`].
fn work<T: Record>(
    worker: &mut Worker,
    def: &QueryDef<T>,
    shared: &Arc<Shared>,
    query_run: &QueryRun,
) -> Result<(), Aborted> {
    let part = Partition {
        index: worker.index(),
        count: worker.peers(),
    };
    let built = dataflow::build(worker, |scope| {
        let control = dataflow::control(scope);
        let mut ctx = LowerCtx::new(
            def.mode,
            &def.sources,
            part.count,
            query_run.groups,
            query_run.state(part.index, part.count),
        );
        let rows = (def.data.lower)(scope, &mut ctx);
        let output = Output::build(rows, def);
        (
            control,
            output,
            ctx.feeders,
            ctx.metrics,
            ctx.committers,
            ctx.error,
        )
    });
    let (mut control, output, mut feeders, metrics, stores) = match built {
        (control, output, feeders, metrics, stores, None) => {
            (control, output, feeders, metrics, stores)
        }
        (.., Some(e)) => {
            shared.fail(e);
            return Err(Aborted);
        }
    };
    if let Some(sink) = &def.partitioned {
        if let Err(e) = sink.start(&sink_run(&shared.id, query_run, part.count, None)) {
            shared.fail(e);
            return Err(Aborted);
        }
    }
    let mut driver = if part.index == 0 {
        match Driver::new(def, shared.clone(), query_run, part.count) {
            Some(d) => Some(d),
            None => return Ok(()),
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
        step_while(worker, shared, || control.plans.borrow().is_empty())?;
        let plan: BatchPlan =
            serde_json::from_str(&control.plans.borrow_mut().remove(0)).expect("plans deserialize");
        if plan.stop {
            output.stopped.set(true);
            return Ok(());
        }
        let t = Time::batch(plan.late_watermark, plan.batch);
        let mut report = WorkerReport::default();
        if let Err(e) = output.begin_batch(def, plan.batch, part.index, plan.skip_sink) {
            report.error = Some(e);
        }
        let reading = std::time::Instant::now();
        let mut fed = HashSet::new();
        let clock = dataflow::BatchClock {
            batch: plan.batch,
            watermark: plan.watermark,
            timestamp_ms: plan.timestamp_ms,
        };
        for f in feeders.iter_mut() {
            f.advance_to(t);
            f.begin_batch(&clock);
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
        report.phases.read = ms_since(reading);
        let processing = std::time::Instant::now();
        // The batch is done everywhere once the output frontier reaches the next batch's time
        // (past the evictions up to this batch's watermark); only then are this worker's
        // operator metrics for the batch final.
        step_while(worker, shared, || output.probe.less_than(&next))?;
        match output.end_batch() {
            Ok(message) => {
                if message.is_some() {
                    crate::crash::point(crate::crash::Point::AfterSinkFiles, plan.batch);
                }
                report.sink_message = message
            }
            Err(e) => {
                report.error.get_or_insert(e);
            }
        }
        report.phases.process = ms_since(processing);
        let committing = std::time::Instant::now();
        // The state after this batch, version batch + 1, is written before the driver commits.
        for store in &stores {
            if let Err(e) = store.commit(plan.batch + 1) {
                report.error.get_or_insert(e);
            }
        }
        report.phases.state_commit = ms_since(committing);
        report.metrics = metrics.borrow_mut().take_batch();
        report.written = output.written.replace(0);
        control.report_in.advance_to(t);
        control
            .report_in
            .send(serde_json::to_string(&report).expect("reports serialize"));
        control.report_in.advance_to(next);
        control.plan_in.advance_to(next);
        step_while(worker, shared, || control.report_probe.less_than(&next))?;
        if let Some(d) = driver.as_mut() {
            let updates = std::mem::take(&mut *output.gathered.borrow_mut());
            let reports = std::mem::take(&mut *control.reports.borrow_mut());
            d.finish_batch(&plan, updates, reports);
        }
    }
}
