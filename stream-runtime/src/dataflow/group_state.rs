//! Arbitrary stateful processing (Spark's `FlatMapGroupsWithStateExec`): per key, a user
//! function over the batch's rows and the key's state, then over every key whose timeout
//! passed, with no rows.
//!
//! The operator works batch by batch, not by event time: it needs each batch's processing time
//! and eviction watermark, which the driver plans. Every worker feeds its own operator one
//! tick per batch (the batch's [`BatchClock`], at the batch's time); once both inputs' frontiers
//! pass the batch's last time (every row of the batch, evictions up to its watermark
//! included, has arrived), it calls the function for the keys with rows, in key order, then
//! for the timed-out keys, in key order, and emits the results at the batch's time.

use super::{Coll, Row};
use crate::error::StreamError;
use crate::metrics::Metrics;
use crate::state::{KeyGroups, Store};
use crate::time::Time;
use differential_dataflow::AsCollection;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

/// What the driver planned for a batch, as every worker's stateful operators see it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub(crate) struct BatchClock {
    /// The batch id.
    pub batch: u64,
    /// The batch's watermark for eviction (Spark's `eventTimeWatermarkForEviction`).
    pub watermark: u64,
    /// The batch's timestamp, epoch ms (Spark's `batchTimestampMs`; logged, so a batch run
    /// again sees the same).
    pub timestamp_ms: i64,
}

impl BatchClock {
    /// The last time of the batch: after its rows and every eviction up to its watermark,
    /// before the next batch.
    fn last_time(&self) -> Time {
        Time::batch(self.watermark, self.batch)
    }
}

/// Which clock the operator's timeouts follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeoutClock {
    /// No timeouts.
    None,
    /// The batch's processing time.
    Processing,
    /// The batch's watermark.
    Event,
}

/// A key's stored state: its value and its timeout (epoch ms), if one is set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Stored<S> {
    pub value: S,
    pub timeout: Option<i64>,
}

/// One call of the user's function: the key, its rows (none for a timeout), its state (to
/// change in place), whether it timed out, the batch. Returns the output rows and whether the
/// state changed, or the error that fails the query.
pub(crate) type CallResult<O> = Result<(Vec<O>, bool), String>;

/// A row's event time in epoch ms (to drop late rows).
pub(crate) type EventTimeFn<T> = Rc<dyn Fn(&T) -> i64>;

/// Where the operator keeps its keys' state, placed on workers by key group.
pub(crate) struct GroupStateStore<K, S> {
    pub store: Rc<RefCell<Store<K, Stored<S>>>>,
    pub groups: KeyGroups,
    pub workers: usize,
}

/// Runs `call` per key of `rows` (keyed by `key`) and per timed-out key, batch by batch (one
/// tick of `ticks` per batch on every worker). `name` names the operator in errors.
#[allow(clippy::too_many_arguments)]
pub(crate) fn groups_with_state<'a, T, K, S, O>(
    rows: Coll<'a, T>,
    ticks: Coll<'a, BatchClock>,
    key: impl Fn(&T) -> K + 'static,
    late: Option<EventTimeFn<T>>,
    mut call: impl FnMut(&K, Vec<T>, &mut Option<Stored<S>>, bool, &BatchClock) -> CallResult<O>
        + 'static,
    timeouts: TimeoutClock,
    state: GroupStateStore<K, S>,
    name: &'static str,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, O>
where
    T: Row,
    K: Row,
    S: Clone + Serialize + serde::de::DeserializeOwned + 'static,
    O: Row,
{
    use timely::dataflow::operators::vec::Map;
    // Rows only ever arrive as insertions here (no aggregation may come before). A row at or
    // below the batch's watermark for late rows (its time's) is late: dropped and counted.
    let counted = metrics.clone();
    let keyed = rows.inner.flat_map(move |(row, t, r): (T, Time, isize)| {
        let mut n = r.max(0) as usize;
        if late
            .as_ref()
            .is_some_and(|time| time(&row) <= t.watermark as i64)
        {
            counted.borrow_mut().state[op].dropped_by_watermark += n as u64;
            n = 0;
        }
        let k = key(&row);
        std::iter::repeat_n(((k, row), t), n)
    });
    let GroupStateStore {
        store,
        groups,
        workers,
    } = state;
    let route = move |x: &((K, T), Time)| groups.route(&(x.0).0, workers);
    keyed
        .binary_frontier::<_, timely::container::CapacityContainerBuilder<Vec<(O, Time, isize)>>, _, _, _, _>(
            ticks.inner,
            Exchange::new(route),
            Pipeline,
            "GroupsWithState",
            move |_, _| {
                let mut stash: Vec<(Time, K, T)> = Vec::new();
                let mut pending: Vec<(Capability<Time>, BatchClock)> = Vec::new();
                metrics.borrow_mut().state[op].rows_total = store.borrow().map.len() as i64;
                move |(rows_in, rows_frontier), (ticks_in, ticks_frontier), output| {
                    rows_in.for_each(|_, data| {
                        stash.extend(data.drain(..).map(|((k, row), t)| (t, k, row)));
                    });
                    ticks_in.for_each(|cap, data| {
                        let Some(cap) = cap.retain_least(0) else { return };
                        for (clock, _, _) in data.drain(..) {
                            pending.push((cap.clone(), clock));
                        }
                    });
                    pending.sort_by_key(|(_, c)| c.batch);
                    while let Some((cap, clock)) = pending.first() {
                        let last = clock.last_time();
                        if rows_frontier.less_equal(&last) || ticks_frontier.less_equal(&last) {
                            break;
                        }
                        let (cap, clock) = (cap.clone(), *clock);
                        pending.remove(0);
                        let mut by_key: BTreeMap<K, Vec<T>> = BTreeMap::new();
                        let (now, later): (Vec<_>, Vec<_>) =
                            std::mem::take(&mut stash).into_iter().partition(|(t, ..)| *t <= last);
                        stash = later;
                        for (_, k, row) in now {
                            by_key.entry(k).or_default().push(row);
                        }
                        let mut store = store.borrow_mut();
                        let store = &mut *store;
                        let mut m = metrics.borrow_mut();
                        let mut session = output.session(&cap);
                        let mut run = |store: &mut Store<K, Stored<S>>,
                                       k: K,
                                       rows: Vec<T>,
                                       timed_out: bool|
                         -> bool {
                            let mut slot = store.map.get(&k).cloned();
                            match call(&k, rows, &mut slot, timed_out, &clock) {
                                Ok((out, changed)) => {
                                    for o in out {
                                        session.give((o, *cap.time(), 1));
                                    }
                                    if changed {
                                        let stats = &mut m.state[op];
                                        match slot {
                                            Some(s) => {
                                                stats.rows_updated += 1;
                                                stats.rows_total +=
                                                    i64::from(store.map.insert(k.clone(), s).is_none());
                                            }
                                            None => {
                                                if store.map.remove(&k).is_some() {
                                                    stats.rows_removed += 1;
                                                    stats.rows_total -= 1;
                                                }
                                            }
                                        }
                                        store.changed(&k);
                                    }
                                    true
                                }
                                Err(message) => {
                                    m.errors.push(StreamError::Execution(format!(
                                        "{name} failed for the key {k:?} in batch {}: {message}",
                                        clock.batch
                                    )));
                                    false
                                }
                            }
                        };
                        let mut ok = true;
                        for (k, rows) in by_key {
                            ok = ok && run(store, k, rows, false);
                        }
                        // Spark: timed-out keys after the keys with data, threshold exclusive.
                        let threshold = match timeouts {
                            _ if !ok => None,
                            TimeoutClock::Processing => Some(clock.timestamp_ms),
                            TimeoutClock::Event => Some(clock.watermark as i64),
                            TimeoutClock::None => None,
                        };
                        if let Some(threshold) = threshold {
                            let mut due: Vec<K> = store
                                .map
                                .iter()
                                .filter(|(_, s)| s.timeout.is_some_and(|t| t < threshold))
                                .map(|(k, _)| k.clone())
                                .collect();
                            due.sort();
                            for k in due {
                                if !run(store, k, Vec::new(), true) {
                                    break;
                                }
                            }
                        }
                        drop(session);
                        let stats = &mut m.state[op];
                        stats.memory_used_bytes = stats.rows_total.max(0) as u64
                            * std::mem::size_of::<(K, Stored<S>)>() as u64;
                        // The next processing-time timeout, for the driver's batches without data.
                        let next = (timeouts == TimeoutClock::Processing)
                            .then(|| store.map.values().filter_map(|s| s.timeout).min())
                            .flatten();
                        match next {
                            Some(t) => m.timeouts.insert(op, t),
                            None => m.timeouts.remove(&op),
                        };
                    }
                }
            },
        )
        .as_collection()
}
