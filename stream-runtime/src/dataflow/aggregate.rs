//! Grouped aggregation: rows to keyed partial aggregates, merged within a batch on each worker
//! (before the exchange), then per key across batches (after it).

use super::{Coll, Row};
use crate::metrics::Metrics;
use crate::state::{KeyGroups, Store};
use crate::time::{Time, BATCH_SEQ_BASE};
use differential_dataflow::difference::{IsZero, Multiply, Semigroup};
use differential_dataflow::AsCollection;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use stream_core::Mergeable;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::CapabilitySet;

/// Values by key, hashed with foldhash (keys are the engine's own rows, not attacker input
/// that would need SipHash's flood resistance).
type Partials<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A key's merged partial, and when the key expires (the eviction time of its window's end):
/// a function of the key, so one time serves every row of it.
pub(crate) type Pending<A> = (Partial<A>, Option<Time>);

/// One time's partials before the exchange, by key, and the keys dropped as late at that time.
type Stashed<K, A> = (Time, Partials<K, Pending<A>>, Partials<K, ()>);

/// An aggregate's partial state, a semigroup: adding partials merges them, so the state keeps
/// one merged partial per key (bounded by the number of keys, not of rows or batches), and
/// equal keys within a batch are combined before the exchange.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct Partial<A: Mergeable> {
    /// How many rows it covers (negative: a retraction).
    pub rows: i64,
    /// The merged aggregate state of those rows.
    pub acc: A,
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
/// end) is at or below the batch's late-row watermark is late and dropped (a row that an
/// aggregation before this one gave, at an eviction time, is never late) (counted in
/// `metrics` once per key and batch on a worker, as Spark counts after partial aggregation);
/// every other key is removed from the state at time `(expiry, stage)`, the moment the
/// watermark reaches it, with a retraction of its final value, which is what append mode emits:
/// state is bounded by the watermark delay.
///
/// Partials of equal keys and times are merged on each worker before the exchange (Spark's
/// partial aggregation): the exchange carries one update per key and time from each worker
/// instead of one per row. After it, keys live in `store` (checkpointed, if the query is), on
/// the worker that owns their key group.
pub(crate) fn keyed_aggregate<'a, T, K, A>(
    rows: Coll<'a, T>,
    assign: impl Fn(&T, &mut dyn FnMut(K, A, Option<u64>)) + 'static,
    evict: bool,
    stage: u64,
    state: StateOp<K, A>,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, (K, A)>
where
    T: Row,
    K: Row,
    A: Mergeable,
{
    let late = metrics.clone();
    let partials = rows
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<(K, Time, Pending<A>)>>, _, _, _>(
            Pipeline,
            "PartialAggregate",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                caps.downgrade(&[] as &[Time]);
                // Per time (a batch has few: a linear search), per key; and the keys dropped
                // as late at that time, counted once each as Spark counts them, after partial
                // aggregation.
                let mut stash: Vec<Stashed<K, A>> = Vec::new();
                move |(input, frontier), output| {
                    input.for_each(|c, data| {
                        let mut dropped = 0;
                        for (row, t, r) in data.drain(..) {
                            assign(&row, &mut |key, acc, expiry| {
                                let i = match stash.iter().position(|(u, _, _)| *u == t) {
                                    Some(i) => i,
                                    None => {
                                        stash.push((t, HashMap::default(), HashMap::default()));
                                        stash.len() - 1
                                    }
                                };
                                let retract_at = match expiry {
                                    Some(e) if evict => {
                                        let mut at = Time::eviction(e, stage);
                                        if at <= t && t.seq >= BATCH_SEQ_BASE {
                                            if r > 0 && stash[i].2.insert(key, ()).is_none() {
                                                dropped += 1;
                                            }
                                            return;
                                        }
                                        // A final row of an aggregation before this one, given
                                        // when the watermark closed its group: on time (the
                                        // previous batch's watermark judges lateness, as in
                                        // Spark), even if its own group's time has passed
                                        // (`window_time(window)` is `end - 1`); it closes now.
                                        if at <= t {
                                            at = Time::eviction(t.watermark, stage);
                                        }
                                        Some(at)
                                    }
                                    _ => None,
                                };
                                let partial = Partial { rows: 1, acc }.multiply(&r);
                                match stash[i].1.entry(key) {
                                    Entry::Occupied(mut e) => e.get_mut().0.plus_equals(&partial),
                                    Entry::Vacant(e) => {
                                        e.insert((partial, retract_at));
                                    }
                                }
                            });
                        }
                        if dropped > 0 {
                            late.borrow_mut().state[op].dropped_by_watermark += dropped;
                        }
                        if let Some(c) = c.retain_least(0) {
                            caps.insert(c);
                        }
                    });
                    stash.sort_by_key(|(t, _, _)| *t);
                    while stash
                        .first()
                        .is_some_and(|(t, _, _)| !frontier.less_equal(t))
                    {
                        let (t, partials, _) = stash.remove(0);
                        let cap = caps.delayed(&t);
                        let mut session = output.session(&cap);
                        for (key, pending) in partials {
                            if !pending.0.is_zero() {
                                session.give((key, t, pending));
                            }
                        }
                    }
                    caps.downgrade(stash.first().map(|(t, _, _)| t));
                }
            },
        );
    merge_partials(partials, stage, state, metrics, op)
}

/// Where an aggregation keeps its keys: its store, the key groups that place them on workers,
/// and whether a restored store's keys go to the output before the first batch (complete mode,
/// whose result is the whole table).
pub(crate) struct StateOp<K, A: Mergeable> {
    pub store: Rc<RefCell<Store<K, Pending<A>>>>,
    pub groups: KeyGroups,
    pub workers: usize,
    pub emit_restored: bool,
}

/// Per key, after the exchange, the aggregate over every row so far: each finished time's
/// partials are merged into the key's state, and the key's row changes in the output (its old
/// value retracted, its new one inserted). A key with an expiry is removed when the watermark
/// reaches it (a timer at its eviction time), its final value retracted. What differential's
/// `count_total` computes, with the state in a hash map instead of an arrangement: one lookup
/// per key and batch, and no sorting and merging of batches of updates.
///
/// A restored store's keys get their timers back; with `emit_restored` (complete mode, whose
/// result is the whole table) they are also inserted into the output before the first batch.
fn merge_partials<'a, K: Row, A: Mergeable>(
    partials: timely::dataflow::Stream<'a, Time, Vec<(K, Time, Pending<A>)>>,
    stage: u64,
    state: StateOp<K, A>,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, (K, A)> {
    type Update<K, A> = ((K, A), Time, isize);
    let StateOp {
        store,
        groups,
        workers,
        emit_restored,
    } = state;
    let route = move |u: &(K, Time, Pending<A>)| groups.route(&u.0, workers);
    partials
        .unary_frontier::<CapacityContainerBuilder<Vec<Update<K, A>>>, _, _, _>(
            Exchange::new(route),
            "MergePartials",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                // Per pending time, per key: the partials received, merged at once.
                let mut stash: BTreeMap<Time, Partials<K, Pending<A>>> = BTreeMap::new();
                // The keys that expire at each eviction time.
                let mut timers: BTreeMap<Time, Vec<K>> = BTreeMap::new();
                let mut restored: Vec<(K, A)> = Vec::new();
                for (key, (partial, expiry)) in &store.borrow().map {
                    if let Some(at) = expiry {
                        timers.entry(*at).or_default().push(key.clone());
                    }
                    if emit_restored {
                        restored.push((key.clone(), partial.acc.clone()));
                    }
                }
                metrics.borrow_mut().state[op].rows_total = store.borrow().map.len() as i64;
                move |(input, frontier), output| {
                    if !restored.is_empty() {
                        let cap = caps.delayed(&Time::default());
                        let mut session = output.session(&cap);
                        for (key, acc) in restored.drain(..) {
                            session.give(((key, acc), Time::default(), 1));
                        }
                    }
                    input.for_each(|c, data| {
                        for (key, t, p) in data.drain(..) {
                            add(stash.entry(t).or_default(), key, p);
                        }
                        if let Some(c) = c.retain_least(0) {
                            caps.insert(c);
                        }
                    });
                    let mut m = metrics.borrow_mut();
                    let stats = &mut m.state[op];
                    let mut store = store.borrow_mut();
                    loop {
                        let data = stash.keys().next().copied();
                        let timer = timers.keys().next().copied();
                        let t = match (data, timer) {
                            (Some(d), Some(e)) => d.min(e),
                            (Some(t), None) | (None, Some(t)) => t,
                            (None, None) => break,
                        };
                        if frontier.less_equal(&t) {
                            break;
                        }
                        let cap = caps.delayed(&t);
                        let mut session = output.session(&cap);
                        if data == Some(t) {
                            let delta = stash.remove(&t).unwrap_or_default();
                            for (key, (d, expiry)) in delta {
                                match store.map.entry(key) {
                                    Entry::Occupied(mut e) => {
                                        let old = e.get().0.acc.clone();
                                        let (partial, _) = e.get_mut();
                                        partial.plus_equals(&d);
                                        let new = partial.acc.clone();
                                        session.give(((e.key().clone(), old), t, -1));
                                        session.give(((e.key().clone(), new), t, 1));
                                        stats.rows_updated += 1;
                                        let key = e.key().clone();
                                        store.changed(&key);
                                    }
                                    Entry::Vacant(e) => {
                                        session.give(((e.key().clone(), d.acc.clone()), t, 1));
                                        stats.rows_total += 1;
                                        stats.rows_updated += 1;
                                        if let Some(at) = expiry {
                                            timers.entry(at).or_default().push(e.key().clone());
                                        }
                                        let key = e.key().clone();
                                        e.insert((d, expiry));
                                        store.changed(&key);
                                    }
                                }
                            }
                        } else {
                            // The watermark reached these keys' expiry: their final values.
                            for key in timers.remove(&t).unwrap_or_default() {
                                if let Some((partial, _)) = store.map.remove(&key) {
                                    session.give(((key.clone(), partial.acc), t, -1));
                                    stats.rows_total -= 1;
                                    if t.is_eviction_of(stage) {
                                        stats.rows_removed += 1;
                                    }
                                    store.changed(&key);
                                }
                            }
                        }
                    }
                    // Give memory back when most windows have closed.
                    let map = &mut store.map;
                    if map.capacity() > 1024 && map.capacity() > 4 * map.len() {
                        map.shrink_to_fit();
                    }
                    // The state, and the partials waiting for their time.
                    let pending: usize = stash.values().map(HashMap::len).sum();
                    stats.memory_used_bytes = (map.len() + pending) as u64
                        * std::mem::size_of::<(K, Pending<A>)>() as u64;
                    let next = match (stash.keys().next(), timers.keys().next()) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    caps.downgrade(next);
                }
            },
        )
        .as_collection()
}

/// Adds `p` to `key`'s entry (partials of one key share its expiry).
fn add<K: Row, A: Mergeable>(map: &mut Partials<K, Pending<A>>, key: K, p: Pending<A>) {
    match map.entry(key) {
        Entry::Occupied(mut e) => e.get_mut().0.plus_equals(&p.0),
        Entry::Vacant(e) => {
            e.insert(p);
        }
    }
}
