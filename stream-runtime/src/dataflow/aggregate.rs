//! Grouped aggregation: rows to keyed partial aggregates, merged within a batch on each worker
//! (before the exchange), then per key across batches (after it).

use super::{Coll, Row};
use crate::metrics::Metrics;
use crate::time::Time;
use differential_dataflow::difference::{IsZero, Multiply, Semigroup};
use differential_dataflow::hashable::Hashable;
use differential_dataflow::AsCollection;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use stream_core::Mergeable;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::CapabilitySet;

/// Values by key, hashed with foldhash (keys are the engine's own rows, not attacker input
/// that would need SipHash's flood resistance).
type Partials<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A key's merged partial within a batch, and when it is retracted: the key's expiry is a
/// function of the key (its window's end), so one time serves every row of it.
type Pending<A> = (Partial<A>, Option<Time>);

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
/// end) is at or below the batch's watermark is late and dropped (counted in `metrics` once per
/// key and batch on a worker, as Spark counts after partial aggregation); every
/// other one is also retracted at time `(expiry, stage)`, the moment the watermark reaches it,
/// which removes the key from the state: state is bounded by the watermark delay. That
/// retraction carries the key's final value, which is what append mode emits.
///
/// Partials of equal keys and times are merged on each worker before the exchange (Spark's
/// partial aggregation): the exchange carries one update per key and time from each worker
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
    let late = metrics.clone();
    let partials = rows
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<(K, Time, Partial<A>)>>, _, _, _>(
            Pipeline,
            "PartialAggregate",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                caps.downgrade(&[] as &[Time]);
                // Per time (a batch has few: a linear search), per key; and the keys dropped
                // as late at that time, counted once each as Spark counts them, after partial
                // aggregation.
                let mut stash: Vec<Stashed<K, A>> = Vec::new();
                // A finished time's retractions, by time: sent after its partials.
                let mut retractions: Vec<(Time, K, Partial<A>)> = Vec::new();
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
                                        let at = Time::eviction(e, stage);
                                        if at <= t {
                                            if r > 0 && stash[i].2.insert(key, ()).is_none() {
                                                dropped += 1;
                                            }
                                            return;
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
                        for (key, (p, retract_at)) in partials {
                            if p.is_zero() {
                                continue;
                            }
                            if let Some(at) = retract_at {
                                let retraction = Partial {
                                    rows: -p.rows,
                                    acc: p.acc.clone(),
                                };
                                retractions.push((at, key.clone(), retraction));
                            }
                            session.give((key, t, p));
                        }
                        drop(session);
                        // Each retraction goes out now, at its future time (the capability
                        // for `t` covers it): `merge_partials` holds it until the watermark
                        // gets there.
                        retractions.sort_unstable_by_key(|(at, _, _)| *at);
                        let mut rest = retractions.drain(..).peekable();
                        while let Some((at, key, p)) = rest.next() {
                            let cap = caps.delayed(&at);
                            let mut session = output.session(&cap);
                            session.give((key, at, p));
                            while let Some((_, key, p)) = rest.next_if(|r| r.0 == at) {
                                session.give((key, at, p));
                            }
                        }
                    }
                    caps.downgrade(stash.first().map(|(t, _, _)| t));
                }
            },
        );
    merge_partials(partials, stage, metrics, op)
}

/// Per key, after the exchange, the aggregate over every row so far: each finished time's
/// partials are merged into the key's state, and the key's row changes in the output (its old
/// value retracted, its new one inserted). A key whose row count reaches zero (its window's
/// scheduled retraction) is forgotten. What differential's `count_total` computes, with the
/// state in a hash map instead of an arrangement: one lookup per key and batch, and no sorting
/// and merging of batches of updates.
fn merge_partials<'a, K: Row, A: Mergeable>(
    partials: timely::dataflow::Stream<'a, Time, Vec<(K, Time, Partial<A>)>>,
    stage: u64,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, (K, A)> {
    type Update<K, A> = ((K, A), Time, isize);
    let route = |u: &(K, Time, Partial<A>)| u.0.hashed();
    partials
        .unary_frontier::<CapacityContainerBuilder<Vec<Update<K, A>>>, _, _, _>(
            Exchange::new(route),
            "MergePartials",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                caps.downgrade(&[] as &[Time]);
                // Per pending time, per key: the partials received, merged at once (every worker
                // sends one per batch, and each batch schedules the key's retraction at the same
                // future time: kept apart, those would grow with the batches until it).
                let mut stash: BTreeMap<Time, Partials<K, Partial<A>>> = BTreeMap::new();
                let mut state: Partials<K, Partial<A>> = HashMap::default();
                move |(input, frontier), output| {
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
                    while let Some(entry) = stash.first_entry() {
                        let t = *entry.key();
                        if frontier.less_equal(&t) {
                            break;
                        }
                        let delta = entry.remove();
                        let cap = caps.delayed(&t);
                        let mut session = output.session(&cap);
                        for (key, d) in delta {
                            match state.entry(key) {
                                Entry::Occupied(mut e) => {
                                    let mut new = e.get().clone();
                                    new.plus_equals(&d);
                                    session.give(((e.key().clone(), e.get().acc.clone()), t, -1));
                                    if new.is_zero() {
                                        e.remove();
                                        stats.rows_total -= 1;
                                        if t.is_eviction_of(stage) {
                                            stats.rows_removed += 1;
                                        }
                                    } else {
                                        session.give(((e.key().clone(), new.acc.clone()), t, 1));
                                        stats.rows_updated += 1;
                                        e.insert(new);
                                    }
                                }
                                Entry::Vacant(e) => {
                                    if !d.is_zero() {
                                        session.give(((e.key().clone(), d.acc.clone()), t, 1));
                                        stats.rows_total += 1;
                                        stats.rows_updated += 1;
                                        e.insert(d);
                                    }
                                }
                            }
                        }
                    }
                    // Give memory back when most windows have closed.
                    if state.capacity() > 1024 && state.capacity() > 4 * state.len() {
                        state.shrink_to_fit();
                    }
                    // The state, and the partials waiting for their time (scheduled retractions).
                    let pending: usize = stash.values().map(HashMap::len).sum();
                    stats.memory_used_bytes = (stats.rows_total.max(0) as u64 + pending as u64)
                        * std::mem::size_of::<(K, Partial<A>)>() as u64;
                    caps.downgrade(stash.keys().next());
                }
            },
        )
        .as_collection()
}

/// Adds `p` to `key`'s entry.
fn add<K: Row, V: Semigroup>(map: &mut Partials<K, V>, key: K, p: V) {
    match map.entry(key) {
        Entry::Occupied(mut e) => e.get_mut().plus_equals(&p),
        Entry::Vacant(e) => {
            e.insert(p);
        }
    }
}
