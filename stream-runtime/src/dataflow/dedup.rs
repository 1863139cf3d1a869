//! Deduplication (Spark's `dropDuplicates` and `dropDuplicatesWithinWatermark`): per key, the
//! first row is emitted and every later row with that key is dropped, for as long as the key is
//! in state.
//!
//! The state maps each key seen to when it expires (a watermark in ms, or never). A key expires
//! at its row's event time (`dropDuplicates` whose key holds the watermarked column) or at its
//! first row's event time plus the watermark delay (`dropDuplicatesWithinWatermark`). The
//! operator holds an event-time timer (a capability at `(earliest expiry, stage)`) and forgets
//! the keys the watermark reached when the frontier passes it; the rows it emitted are never
//! retracted, so whatever follows sees only insertions, as from a source.

use super::{Coll, Row};
use crate::metrics::{Metrics, StateOperator};
use crate::state::{KeyGroups, Store};
use crate::time::Time;
use differential_dataflow::AsCollection;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::CapabilitySet;

/// Where a deduplication keeps its keys: a store of each key's expiry (a watermark in ms, or
/// `None`: never), placed on workers by key group.
pub(crate) struct DedupState<K> {
    pub store: Rc<RefCell<Store<K, Option<i64>>>>,
    pub groups: KeyGroups,
    pub workers: usize,
}

/// What deduplication reads of a row: its key; its event time, when the rows carry a
/// watermark (rows at or below the batch's late-row watermark are dropped); and when its key's
/// state expires, if ever.
pub(crate) struct DedupKey<K> {
    pub key: K,
    pub event_time: Option<i64>,
    pub expires: Option<i64>,
}

/// A row on its way to the deduplication operator: key, event time, expiry, row, copies.
type Keyed<K, T> = (K, Option<i64>, Option<i64>, T, isize);

/// The eviction time of state that expires at `ms` (Spark: a key goes once `expiry <=
/// watermark`), for the operator at depth `stage`.
fn eviction(ms: i64, stage: u64) -> Time {
    Time::eviction(ms.max(0) as u64, stage)
}

/// Keeps the first row of each key (`assign` gives its key, event time and expiry). Within
/// one batch, of several new rows with the same key the least row (in the row type's order)
/// is kept, so that the result does not depend on how rows were spread over workers (Spark
/// keeps whichever its task met first).
pub(crate) fn deduplicate<'a, T, K>(
    rows: Coll<'a, T>,
    assign: impl Fn(&T) -> DedupKey<K> + 'static,
    operator: StateOperator,
    stage: u64,
    state: DedupState<K>,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, T>
where
    T: Row,
    K: Row,
{
    use timely::dataflow::operators::vec::Map;
    let keyed = rows.inner.map(move |(row, t, r): (T, Time, isize)| {
        let DedupKey {
            key,
            event_time,
            expires,
        } = assign(&row);
        ((key, event_time, expires, row, r), t)
    });
    let DedupState {
        store,
        groups,
        workers,
    } = state;
    let route = move |x: &(Keyed<K, T>, Time)| groups.route(&(x.0).0, workers);
    keyed
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<(T, Time, isize)>>, _, _, _>(
            Exchange::new(route),
            "DropDuplicates",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                let mut stash: BTreeMap<Time, Vec<Keyed<K, T>>> = BTreeMap::new();
                // The keys by expiry (not checkpointed: rebuilt from the restored store). A key
                // removed and seen again leaves its old entry, skipped when it comes due.
                let mut expiries: BTreeMap<i64, Vec<K>> = BTreeMap::new();
                for (key, exp) in &store.borrow().map {
                    if let Some(exp) = exp {
                        expiries.entry(*exp).or_default().push(key.clone());
                    }
                }
                {
                    let stats = &mut metrics.borrow_mut().state[op];
                    stats.rows_total = store.borrow().map.len() as i64;
                    stats.operator = operator;
                }
                move |(input, frontier), output| {
                    let mut store = store.borrow_mut();
                    let store = &mut *store;
                    input.for_each(|c, data| {
                        for (x, t) in data.drain(..) {
                            stash.entry(t).or_default().push(x);
                        }
                        if let Some(c) = c.retain_least(0) {
                            caps.insert(c);
                        }
                    });
                    let done = |t: &Time| !frontier.less_equal(t);
                    let mut m = metrics.borrow_mut();
                    let stats = &mut m.state[op];
                    loop {
                        let next_rows = stash.keys().next().copied().filter(done);
                        let next_expiry = expiries
                            .keys()
                            .next()
                            .map(|ms| eviction(*ms, stage))
                            .filter(done);
                        match (next_rows, next_expiry) {
                            (Some(t), e) if e.is_none_or(|e| t < e) => {
                                let mut batch = stash.remove(&t).unwrap_or_default();
                                batch.sort_by(|a, b| a.3.cmp(&b.3));
                                let cap = caps.delayed(&t);
                                let mut session = output.session(&cap);
                                for (key, event_time, expires, row, r) in batch {
                                    if r <= 0 {
                                        continue;
                                    }
                                    if event_time.is_some_and(|ts| eviction(ts, stage) <= t) {
                                        stats.dropped_by_watermark += r as u64;
                                        continue;
                                    }
                                    if store.map.contains_key(&key) {
                                        stats.dropped_duplicates += r as u64;
                                        continue;
                                    }
                                    if let Some(exp) = expires {
                                        expiries.entry(exp).or_default().push(key.clone());
                                    }
                                    store.map.insert(key.clone(), expires);
                                    store.changed(&key);
                                    stats.rows_total += 1;
                                    stats.rows_updated += 1;
                                    session.give((row, t, 1));
                                }
                            }
                            (_, Some(_)) => {
                                let (exp, keys) =
                                    expiries.pop_first().expect("an expiry is due");
                                for key in keys {
                                    if store.map.get(&key) == Some(&Some(exp)) {
                                        store.map.remove(&key);
                                        store.changed(&key);
                                        stats.rows_total -= 1;
                                        stats.rows_removed += 1;
                                    }
                                }
                            }
                            _ => break,
                        }
                    }
                    // Hold capabilities only for pending rows and the next expiry (a timer).
                    let next_expiry = expiries.keys().next().map(|ms| eviction(*ms, stage));
                    let lowest = stash.keys().copied().chain(next_expiry).min();
                    caps.downgrade(lowest.iter());
                    stats.memory_used_bytes = stats.rows_total.max(0) as u64
                        * std::mem::size_of::<(K, Option<i64>)>() as u64;
                }
            },
        )
        .as_collection()
}
