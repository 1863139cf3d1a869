//! The adapter: every call into timely and differential dataflow lives here, behind a few
//! well-named lowering functions. The rest of the runtime speaks in datasets, batches and rows.

mod cluster;
mod input;
mod join;
mod session;

pub(crate) use cluster::{execute, Layout};
pub(crate) use input::RowInput;
pub(crate) use join::half_join;
pub(crate) use session::session_aggregate;

use crate::metrics::Metrics;
use crate::time::Time;
use differential_dataflow::difference::{IsZero, Multiply, Semigroup};
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
pub(crate) fn new_input<'a, T: Row>(scope: Scope<'a>) -> (RowInput<T>, Coll<'a, T>) {
    RowInput::new(scope)
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

/// Groups rows into keyed partial aggregates and merges them: the result holds, per key, the
/// aggregate over every row so far, and changes (a retraction and an insertion) whenever a batch
/// touches the key.
///
/// `assign` passes each row's `(key, partial, expiry)` triples to its callback (several for
/// sliding windows). With `evict`, a triple whose expiry (a watermark in ms, e.g. its window's
/// end) is at or below the batch's watermark is late and dropped (counted in `metrics`); every
/// other one is also retracted at time `(expiry, stage)`, the moment the watermark reaches it,
/// which removes the key from the arrangement: state is bounded by the watermark delay. That
/// retraction carries the key's final value, which is what append mode emits.
///
/// Partials of equal keys and times are merged on each worker before the exchange (Spark's
/// partial aggregation): the arrangement receives one update per key and time from each worker
/// instead of one per row.
pub(crate) fn keyed_aggregate<'a, T, K, A>(
    rows: Coll<'a, T>,
    assign: impl Fn(&T, &mut dyn FnMut(K, A, Option<u64>)) + 'static,
    evict: bool,
    stage: u64,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, (K, A)>
where
    T: Row,
    K: Row,
    A: Mergeable,
{
    use differential_dataflow::AsCollection;
    use std::collections::HashMap;
    use timely::dataflow::channels::pact::Pipeline;
    use timely::dataflow::operators::generic::operator::Operator;
    use timely::dataflow::operators::CapabilitySet;
    type Partials<K, A> = HashMap<K, Partial<A>, foldhash::fast::RandomState>;
    /// Adds a partial for `key` at `time` (a batch has few distinct times: a linear search).
    fn add<K: Row, A: Mergeable>(
        stash: &mut Vec<(Time, Partials<K, A>)>,
        time: Time,
        key: K,
        p: Partial<A>,
    ) {
        let i = match stash.iter().position(|(t, _)| *t == time) {
            Some(i) => i,
            None => {
                stash.push((time, HashMap::default()));
                stash.len() - 1
            }
        };
        match stash[i].1.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().plus_equals(&p),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(p);
            }
        }
    }
    let late = metrics.clone();
    let partials = rows
        .inner
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<(K, Time, Partial<A>)>>, _, _, _>(
            Pipeline,
            "PartialAggregate",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                caps.downgrade(&[] as &[Time]);
                let mut stash: Vec<(Time, Partials<K, A>)> = Vec::new();
                move |(input, frontier), output| {
                    input.for_each(|c, data| {
                        let mut dropped = 0;
                        for (row, t, r) in data.drain(..) {
                            assign(&row, &mut |key, acc, expiry| {
                                let partial = Partial { rows: 1, acc }.multiply(&r);
                                match expiry {
                                    Some(e) if evict && Time::eviction(e, stage) <= t => {
                                        dropped += r.max(0) as u64;
                                        return;
                                    }
                                    Some(e) if evict => {
                                        let retraction = Partial {
                                            rows: -partial.rows,
                                            acc: partial.acc.clone(),
                                        };
                                        add(&mut stash, Time::eviction(e, stage), key.clone(), retraction);
                                    }
                                    _ => {}
                                }
                                add(&mut stash, t, key, partial);
                            });
                        }
                        if dropped > 0 {
                            late.borrow_mut().state[op].dropped_by_watermark += dropped;
                        }
                        if let Some(c) = c.retain_least(0) {
                            caps.insert(c);
                        }
                    });
                    stash.sort_by_key(|(t, _)| *t);
                    while stash.first().is_some_and(|(t, _)| !frontier.less_equal(t)) {
                        let (t, partials) = stash.remove(0);
                        let cap = caps.delayed(&t);
                        let mut session = output.session(&cap);
                        for (key, p) in partials {
                            if !p.is_zero() {
                                session.give((key, t, p));
                            }
                        }
                    }
                    caps.downgrade(stash.first().map(|(t, _)| t));
                }
            },
        );
    partials
        .as_collection()
        .count_total()
        .inspect(move |((_, _), t, d): &((K, Partial<A>), Time, isize)| {
            let mut m = metrics.borrow_mut();
            let s = &mut m.state[op];
            s.rows_total += *d as i64;
            if *d > 0 {
                s.rows_updated += 1;
            } else if t.is_eviction_of(stage) {
                s.rows_removed += 1;
            }
            s.memory_used_bytes =
                s.rows_total.max(0) as u64 * std::mem::size_of::<(K, Partial<A>)>() as u64;
        })
        .map(|(key, partial)| (key, partial.acc))
}

/// The final rows of an aggregation at depth `stage` in append mode, as insertions: its
/// retractions at its eviction times (a closed window's last value), negated. A chained
/// aggregation reads these.
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

/// Writes the output rows on each worker: positive updates, or with `append_final: Some(stage)`
/// the retractions at that stage's eviction times (closed windows' final rows); counts them into
/// `written`. Once `stopped`, nothing is written: closing the inputs releases every scheduled
/// retraction, which is not output.
pub(crate) fn write_each<T: Row>(
    rows: Coll<'_, T>,
    writer: crate::sink::RowWriter<T>,
    append_final: Option<u64>,
    written: Rc<std::cell::Cell<u64>>,
    stopped: Rc<std::cell::Cell<bool>>,
    probe: &ProbeHandle<Time>,
) {
    rows.inner
        .inspect(move |(row, t, d): &(T, Time, isize)| {
            if stopped.get() {
                return;
            }
            let n = match append_final {
                Some(stage) if t.is_eviction_of(stage) => -*d,
                Some(_) => 0,
                None => *d,
            };
            for _ in 0..n.max(0) {
                writer(row);
            }
            written.set(written.get() + n.max(0) as u64);
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
