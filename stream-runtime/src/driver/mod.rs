//! The driver: runs a query description ([`QueryDef`]) on every worker, one micro-batch at a time
//! (Spark's micro-batch loop). The driver, global worker 0, plans each batch's source ranges and
//! broadcasts the plan ([`plan`]); every worker reads its share at the batch's time; when the
//! frontier passes that time every worker reports to the driver, which applies the output mode,
//! hands the rows to the sink, and records progress ([`finish`]).

mod finish;
mod plan;

use crate::dataflow::{self, Worker};
use crate::error::StreamError;
use crate::handle::Shared;
use crate::metrics::BatchMetrics;
use crate::plan::lower::LowerCtx;
use crate::plan::QueryDef;
use crate::source::{Partition, ReadStats, Split};
use crate::time::Time;
use plan::Driver;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use stream_core::{OutputMode, Record};
use timely::dataflow::ProbeHandle;

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
