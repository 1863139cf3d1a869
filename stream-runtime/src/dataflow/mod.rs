//! The adapter: every call into timely and differential dataflow lives here, behind a few
//! well-named lowering functions. The rest of the runtime speaks in datasets, batches and rows.

mod aggregate;
mod cluster;
mod dedup;
mod group_state;
mod input;
mod join;
mod session;
mod stream_join;

pub(crate) use aggregate::{keyed_aggregate, Partial, StateOp};
pub(crate) use cluster::{connect, execute_cluster, execute_local};
pub(crate) use dedup::{deduplicate, DedupKey, DedupState};
pub(crate) use group_state::{
    groups_with_state, BatchClock, CallResult, EventTimeFn, GroupStateStore, Stored, TimeoutClock,
};
pub(crate) use input::RowInput;
pub(crate) use join::half_join;
pub(crate) use session::{session_aggregate, SessionState};
pub(crate) use stream_join::{stream_join, JoinLogic, JoinSide, JoinState};

use crate::metrics::Metrics;
use crate::time::Time;
use differential_dataflow::VecCollection;
use std::cell::RefCell;
use std::rc::Rc;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{Exchange, Inspect, Probe};
use timely::dataflow::{InputHandleVec, ProbeHandle};

/// The scope every query dataflow is built in.
pub(crate) type Scope<'a> = timely::dataflow::Scope<'a, Time>;
/// A collection of rows with multiplicities.
pub(crate) type Coll<'a, T> = VecCollection<'a, Time, T, isize>;
/// The worker a query runs on.
pub(crate) type Worker = timely::worker::Worker;

/// Rows' data bounds in the dataflow.
pub(crate) trait Row: differential_dataflow::ExchangeData + std::hash::Hash {}
impl<T: differential_dataflow::ExchangeData + std::hash::Hash> Row for T {}

/// The final rows of an aggregation at depth `stage` in append mode, as insertions: its
/// retractions at its eviction times (a closed window's last value), negated. Everything after
/// an aggregation in append mode reads these.
pub(crate) fn finalized<T: Row>(rows: Coll<'_, T>, stage: u64) -> Coll<'_, T> {
    use differential_dataflow::AsCollection;
    use timely::dataflow::operators::vec::Map;
    rows.inner
        .flat_map(move |(row, t, d): (T, Time, isize)| {
            (t.is_eviction_of(stage) && d < 0).then_some((row, t, -d))
        })
        .as_collection()
}

/// Records the event time of every row into `metrics` (for the watermark).
pub(crate) fn observe_event_time<'a, T: Row>(
    rows: Coll<'a, T>,
    time: impl Fn(&T) -> stream_core::Timestamp + 'static,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, T> {
    rows.inspect(move |(row, _, d): &(T, Time, isize)| {
        if *d > 0 {
            metrics.borrow_mut().event_time[op].add(time(row));
        }
    })
}

/// Sends every update of `rows` to worker 0, which records it in `out`; `probe` tells when a
/// batch's output is complete there.
pub(crate) fn gather<T: Row>(
    rows: Coll<'_, T>,
    out: Rc<RefCell<Vec<(T, Time, isize)>>>,
    probe: &ProbeHandle<Time>,
) {
    rows.inner
        .exchange(|_| 0)
        .inspect(move |update: &(T, Time, isize)| out.borrow_mut().push(update.clone()))
        .probe_with(probe);
}

/// Writes the output rows on each worker: the positive updates (in append mode an
/// aggregation's output holds only its closed groups' final rows, as insertions); counts them
/// into `written`. Once `stopped`, nothing is written: closing the inputs releases every
/// scheduled retraction, which is not output.
pub(crate) fn write_each<T: Row>(
    rows: Coll<'_, T>,
    writer: impl Fn(&mut dyn Iterator<Item = &T>) + 'static,
    written: Rc<std::cell::Cell<u64>>,
    stopped: Rc<std::cell::Cell<bool>>,
    probe: &ProbeHandle<Time>,
) {
    use timely::dataflow::operators::core::Inspect;
    // How many copies of a row an update writes.
    let copies = |d: isize| -> usize { d.max(0) as usize };
    rows.inner
        .inspect_core(move |event| {
            let Ok((_, updates)) = event else { return };
            if stopped.get() {
                return;
            }
            let n: usize = updates.iter().map(|(_, _, d)| copies(*d)).sum();
            if n > 0 {
                let mut rows = updates
                    .iter()
                    .flat_map(|(row, _, d)| std::iter::repeat_n(row, copies(*d)));
                writer(&mut rows);
                written.set(written.get() + n as u64);
            }
        })
        .probe_with(probe);
}

/// The control plane of a query on one worker: the driver's batch plans, broadcast to every
/// worker, and every worker's reports, gathered at the driver. Messages are JSON text.
pub(crate) struct Control {
    /// The driver sends plans here (other workers only advance it).
    pub plan_in: InputHandleVec<Time, String>,
    /// Plans received by this worker.
    pub plans: Rc<RefCell<Vec<String>>>,
    /// Every worker sends its report for a batch here.
    pub report_in: InputHandleVec<Time, String>,
    /// Reports received by the driver (worker 0).
    pub reports: Rc<RefCell<Vec<String>>>,
    /// Tells when all reports of a batch reached the driver.
    pub report_probe: ProbeHandle<Time>,
}

/// Builds the control plane in `scope`.
pub(crate) fn control(scope: Scope<'_>) -> Control {
    use timely::dataflow::operators::vec::Input;
    let (plan_in, plan_stream) = scope.new_input::<String>();
    let plans = Rc::new(RefCell::new(Vec::new()));
    let sink = plans.clone();
    plan_stream
        .broadcast()
        .inspect(move |p: &String| sink.borrow_mut().push(p.clone()));
    let (report_in, report_stream) = scope.new_input::<String>();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let sink = reports.clone();
    let report_probe = ProbeHandle::new();
    report_stream
        .exchange(|_| 0)
        .inspect(move |r: &String| sink.borrow_mut().push(r.clone()))
        .probe_with(&report_probe);
    Control {
        plan_in,
        plans,
        report_in,
        reports,
        report_probe,
    }
}

/// Builds a query's dataflow on `worker`.
pub(crate) fn build<R>(worker: &mut Worker, build: impl FnOnce(Scope<'_>) -> R) -> R {
    worker.dataflow::<Time, _, _>(build)
}

/// Sums the multiplicities of equal rows and drops those that cancel, in row order.
pub(crate) fn consolidate<T: Ord>(mut updates: Vec<(T, isize)>) -> Vec<(T, isize)> {
    differential_dataflow::consolidation::consolidate(&mut updates);
    updates
}
