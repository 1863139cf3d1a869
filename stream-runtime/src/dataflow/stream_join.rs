//! Stream-stream joins: Spark's symmetric hash join (`StreamingSymmetricHashJoinExec`). Each
//! key's past rows of both sides wait in the operator's store; a new row joins the other side's
//! rows of its key, then waits itself. The left rows of a batch go first, so that the right rows
//! of the same batch meet them and no pair is joined twice.
//!
//! A row leaves the store when the watermark reaches its expiry (Spark's state watermark: the
//! other side's bound through the range condition, or its window's end), held as an event-time
//! timer; a row of an outer side that never matched (Spark's `matched` flag, SPARK-26154) then
//! comes out with NULLs for the other side, at that eviction time, which the frontier reaches
//! in the batch whose watermark passes it, with or without new data.

use super::{Coll, Row};
use crate::metrics::Metrics;
use crate::state::{KeyGroups, Store};
use crate::time::Time;
use differential_dataflow::AsCollection;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::CapabilitySet;

/// A waiting row: whether it has joined a row of the other side, and the watermark at which it
/// leaves the store (`None`: never).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Held<T> {
    row: T,
    matched: bool,
    expiry: Option<i64>,
}

/// The waiting rows of one key, both sides.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "L: Serialize, R: Serialize"))]
#[serde(bound(deserialize = "L: serde::de::DeserializeOwned, R: serde::de::DeserializeOwned"))]
pub(crate) struct Buffers<L, R> {
    left: Vec<Held<L>>,
    right: Vec<Held<R>>,
}

impl<L, R> Default for Buffers<L, R> {
    fn default() -> Self {
        Buffers {
            left: Vec::new(),
            right: Vec::new(),
        }
    }
}

/// A function of a row.
pub(crate) type RowFn<T, V> = Box<dyn Fn(&T) -> V>;
/// A condition on a pair of rows.
pub(crate) type PairFn<L, R> = Box<dyn Fn(&L, &R) -> bool>;
/// The output row of a pair, or of a row with NULLs for the other side.
pub(crate) type CombineFn<L, R, O> = Box<dyn Fn(Option<&L>, Option<&R>) -> O>;

/// One input of the join.
pub(crate) struct JoinSide<T, K> {
    /// The join key; `None` when it holds a NULL, which matches nothing.
    pub key: RowFn<T, Option<K>>,
    /// With a watermark on this side: the value (event time, or a window's end) at or below
    /// which, against the previous batch's watermark, a row is late and dropped.
    pub late: Option<RowFn<T, i64>>,
    /// The watermark at which a row leaves the store, if the condition bounds it.
    pub expiry: Option<RowFn<T, i64>>,
    /// The part of the condition on this side alone: a row failing it matches nothing.
    pub filter: RowFn<T, bool>,
    /// Unmatched rows of this side come out with NULLs (an outer side).
    pub outer: bool,
}

/// What the join does with a pair of rows.
pub(crate) struct JoinLogic<L, R, O> {
    /// The condition on both rows of a pair with equal keys (time range, windows, filters).
    pub matches: PairFn<L, R>,
    /// The output row of a pair, or of a row with NULLs for the other side.
    pub combine: CombineFn<L, R, O>,
    /// Left semi: each left row comes out once, alone, on its first match.
    pub semi: bool,
}

/// Where the join keeps its rows.
pub(crate) struct JoinState<K, L, R> {
    pub store: Rc<RefCell<Store<K, Buffers<L, R>>>>,
    pub groups: KeyGroups,
    pub workers: usize,
}

type Keyed<K, T> = ((Option<K>, T), Time, isize);

/// A batch's rows of both sides, waiting for both inputs to finish it.
struct Arrivals<K, L, R> {
    left: Vec<(Option<K>, L)>,
    right: Vec<(Option<K>, R)>,
}

impl<K, L, R> Default for Arrivals<K, L, R> {
    fn default() -> Self {
        Arrivals {
            left: Vec::new(),
            right: Vec::new(),
        }
    }
}

/// Joins `left` and `right` (see the module's documentation); `stage` is the eviction stage of
/// the join's timers.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream_join<'a, L, R, K, O>(
    left: Coll<'a, L>,
    right: Coll<'a, R>,
    ls: JoinSide<L, K>,
    rs: JoinSide<R, K>,
    logic: JoinLogic<L, R, O>,
    state: JoinState<K, L, R>,
    stage: u64,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, O>
where
    L: Row + Serialize + serde::de::DeserializeOwned,
    R: Row + Serialize + serde::de::DeserializeOwned,
    K: Row + Ord + Serialize + serde::de::DeserializeOwned,
    O: Row,
{
    use timely::dataflow::operators::vec::Map;
    let JoinState {
        store,
        groups,
        workers,
    } = state;
    let (lkey, rkey) = (ls.key, rs.key);
    let left = left
        .inner
        .map(move |(row, t, d): (L, Time, isize)| ((lkey(&row), row), t, d));
    let right = right
        .inner
        .map(move |(row, t, d): (R, Time, isize)| ((rkey(&row), row), t, d));
    // Rows with a NULL key never wait: any worker may take them.
    let route_l = move |x: &Keyed<K, L>| (x.0).0.as_ref().map_or(0, |k| groups.route(k, workers));
    let route_r = move |x: &Keyed<K, R>| (x.0).0.as_ref().map_or(0, |k| groups.route(k, workers));
    let (l_late, l_expiry, l_filter, l_outer) = (ls.late, ls.expiry, ls.filter, ls.outer);
    let (r_late, r_expiry, r_filter, r_outer) = (rs.late, rs.expiry, rs.filter, rs.outer);
    let JoinLogic {
        matches,
        combine,
        semi,
    } = logic;
    left.binary_frontier::<_, timely::container::CapacityContainerBuilder<Vec<(O, Time, isize)>>, _, _, _, _>(
        right,
        Exchange::new(route_l),
        Exchange::new(route_r),
        "StreamStreamJoin",
        move |cap, _| {
            let mut caps = CapabilitySet::from_elem(cap);
            let mut stash: BTreeMap<Time, Arrivals<K, L, R>> = BTreeMap::new();
            // Event-time timers: (expiry, key) for every waiting row that has one.
            let mut timers: BTreeSet<(i64, K)> = BTreeSet::new();
            {
                let store = store.borrow();
                for (key, b) in &store.map {
                    let expiries = b.left.iter().filter_map(|h| h.expiry);
                    for e in expiries.chain(b.right.iter().filter_map(|h| h.expiry)) {
                        timers.insert((e, key.clone()));
                    }
                }
                metrics.borrow_mut().state[op].rows_total = (store.map.values())
                    .map(|b| (b.left.len() + b.right.len()) as i64)
                    .sum();
            }
            move |(in_l, f_l), (in_r, f_r), output| {
                in_l.for_each(|c, data| {
                    for ((k, row), t, d) in data.drain(..) {
                        let rows = &mut stash.entry(t).or_default().left;
                        rows.extend(std::iter::repeat_n((k, row), d.max(0) as usize));
                    }
                    if let Some(c) = c.retain_least(0) {
                        caps.insert(c);
                    }
                });
                in_r.for_each(|c, data| {
                    for ((k, row), t, d) in data.drain(..) {
                        let rows = &mut stash.entry(t).or_default().right;
                        rows.extend(std::iter::repeat_n((k, row), d.max(0) as usize));
                    }
                    if let Some(c) = c.retain_least(0) {
                        caps.insert(c);
                    }
                });
                let done = |t: &Time| !f_l.less_equal(t) && !f_r.less_equal(t);
                let mut store = store.borrow_mut();
                let store = &mut *store;
                let mut m = metrics.borrow_mut();
                let stats = &mut m.state[op];
                loop {
                    let timer_at = |e: i64| Time::eviction(e.max(0) as u64, stage);
                    let next_rows = stash.keys().next().copied().filter(done);
                    let next_timer = timers.first().map(|(e, _)| timer_at(*e)).filter(done);
                    let (at, arrivals) = match (next_rows, next_timer) {
                        (Some(t), e) if e.is_none_or(|e| t < e) => (t, stash.remove(&t)),
                        (_, Some(e)) => (e, None),
                        _ => break,
                    };
                    let cap = caps.delayed(&at);
                    let mut session = output.session(&cap);
                    let mut give = |o: O| session.give((o, at, 1));
                    if let Some(Arrivals { left, right }) = arrivals {
                        let late_wm = at.watermark as i64;
                        for (key, row) in left {
                            if l_late.as_ref().is_some_and(|f| f(&row) <= late_wm) {
                                stats.dropped_by_watermark += 1;
                                continue;
                            }
                            let Some(key) = key.filter(|_| l_filter(&row)) else {
                                if l_outer {
                                    give(combine(Some(&row), None));
                                }
                                continue;
                            };
                            let b = store.map.entry(key.clone()).or_default();
                            let mut matched = false;
                            for r in &mut b.right {
                                if matches(&row, &r.row) {
                                    if !semi {
                                        give(combine(Some(&row), Some(&r.row)));
                                    } else if !matched {
                                        give(combine(Some(&row), None));
                                    }
                                    matched = true;
                                    r.matched = true;
                                }
                            }
                            let expiry = l_expiry.as_ref().map(|f| f(&row));
                            if let Some(e) = expiry {
                                timers.insert((e, key.clone()));
                            }
                            b.left.push(Held { row, matched, expiry });
                            store.changed(&key);
                            stats.rows_total += 1;
                            stats.rows_updated += 1;
                        }
                        for (key, row) in right {
                            if r_late.as_ref().is_some_and(|f| f(&row) <= late_wm) {
                                stats.dropped_by_watermark += 1;
                                continue;
                            }
                            let Some(key) = key.filter(|_| r_filter(&row)) else {
                                if r_outer {
                                    give(combine(None, Some(&row)));
                                }
                                continue;
                            };
                            let b = store.map.entry(key.clone()).or_default();
                            let mut matched = false;
                            for l in &mut b.left {
                                if semi && l.matched {
                                    continue;
                                }
                                if matches(&l.row, &row) {
                                    if semi {
                                        give(combine(Some(&l.row), None));
                                    } else {
                                        give(combine(Some(&l.row), Some(&row)));
                                    }
                                    matched = true;
                                    l.matched = true;
                                }
                            }
                            let expiry = r_expiry.as_ref().map(|f| f(&row));
                            if let Some(e) = expiry {
                                timers.insert((e, key.clone()));
                            }
                            b.right.push(Held { row, matched, expiry });
                            store.changed(&key);
                            stats.rows_total += 1;
                            stats.rows_updated += 1;
                        }
                    }
                    // Evict every row whose expiry the watermark of `at` has reached: at a
                    // timer, those due; after a batch's rows, those that came already due
                    // (Spark stores them, joins them, and evicts them in the same batch).
                    let wm = at.watermark as i64;
                    let mut due = BTreeSet::new();
                    while timers.first().is_some_and(|(e, _)| *e <= wm) {
                        due.extend(timers.pop_first().map(|(_, k)| k));
                    }
                    for key in due {
                        let Some(b) = store.map.get_mut(&key) else {
                            continue;
                        };
                        let gone = |e: Option<i64>| e.is_some_and(|e| e <= wm);
                        let before = b.left.len() + b.right.len();
                        b.left.retain(|h| {
                            let evict = gone(h.expiry);
                            if evict && l_outer && !h.matched {
                                give(combine(Some(&h.row), None));
                            }
                            !evict
                        });
                        b.right.retain(|h| {
                            let evict = gone(h.expiry);
                            if evict && r_outer && !h.matched {
                                give(combine(None, Some(&h.row)));
                            }
                            !evict
                        });
                        let removed = before - b.left.len() - b.right.len();
                        if b.left.is_empty() && b.right.is_empty() {
                            store.map.remove(&key);
                        }
                        stats.rows_total -= removed as i64;
                        stats.rows_removed += removed as u64;
                        store.changed(&key);
                    }
                }
                // Hold capabilities only for batches not yet joined and for the next timer.
                let timer = timers
                    .first()
                    .map(|(e, _)| Time::eviction((*e).max(0) as u64, stage));
                let lowest = stash.keys().copied().chain(timer).min();
                caps.downgrade(lowest.iter());
                let row = std::mem::size_of::<Held<L>>().max(std::mem::size_of::<Held<R>>());
                stats.memory_used_bytes = stats.rows_total.max(0) as u64 * row as u64;
            }
        },
    )
    .as_collection()
}
