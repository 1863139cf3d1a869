//! The adapter: every call into timely and differential dataflow lives here, behind a few
//! well-named lowering functions. The rest of the runtime speaks in datasets, batches and rows.

use crate::time::Time;
use differential_dataflow::difference::{IsZero, Multiply, Semigroup};
use differential_dataflow::input::InputSession;
use differential_dataflow::operators::count::CountTotal;
use differential_dataflow::VecCollection;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use stream_core::Mergeable;
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

/// A new input of rows; the session feeds it batch by batch.
pub(crate) fn new_input<'a, T: Row>(
    scope: Scope<'a>,
) -> (InputSession<Time, T, isize>, Coll<'a, T>) {
    let mut input = InputSession::new();
    let coll = input.to_collection(scope);
    (input, coll)
}

/// An aggregate's partial state used as a differential *weight*: adding weights merges partial
/// aggregates, so the arrangement keeps one merged partial per key (state bounded by the number of
/// keys, not of rows or batches), and equal keys within a batch are combined before the exchange.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct Partial<A: Mergeable> {
    rows: i64,
    acc: A,
}

impl<A: Mergeable> IsZero for Partial<A> {
    fn is_zero(&self) -> bool {
        self.rows == 0
    }
}

impl<A: Mergeable> Semigroup for Partial<A> {
    fn plus_equals(&mut self, rhs: &Self) {
        self.rows += rhs.rows;
        self.acc.merge(&rhs.acc);
    }
}

impl<A: Mergeable> Multiply<isize> for Partial<A> {
    type Output = Self;
    fn multiply(mut self, n: &isize) -> Self {
        // Sources only ever add rows, so multiplicities are positive.
        debug_assert!(*n > 0, "aggregates over retractions are not supported");
        if *n != 1 {
            self.rows *= *n as i64;
            self.acc.scale(*n as i64);
        }
        self
    }
}

/// Groups rows by key and merges their partial aggregates: the result holds, per key, the
/// aggregate over every row seen so far, and changes (a retraction and an insertion) whenever a
/// batch touches the key.
pub(crate) fn aggregate<'a, T, K, A>(
    rows: Coll<'a, T>,
    init: impl Fn(&T) -> (K, A) + 'static,
) -> Coll<'a, (K, A)>
where
    T: Row,
    K: Row,
    A: Mergeable,
{
    rows.explode(move |row| {
        let (key, acc) = init(&row);
        Some((key, Partial { rows: 1, acc }))
    })
    .count_total()
    .map(|(key, partial)| (key, partial.acc))
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
