//! Session windows (Spark's `session_window(col, gap)`): per key, rows whose gap windows
//! `[ts, ts + gap)` overlap or touch merge into one session `[first, last + gap)`.
//!
//! Sessions change shape as rows arrive, so their state cannot be released by retractions
//! scheduled when a row arrives (as fixed windows are). A per-key operator keeps the open
//! sessions and holds an event-time timer at the earliest session end: when the watermark
//! reaches a session's end, it retracts the session's final row at its eviction time and
//! forgets it.

use super::{Coll, Partial, Row};
use crate::metrics::Metrics;
use crate::state::{KeyGroups, Store};
use crate::time::Time;
use differential_dataflow::difference::{Multiply, Semigroup};
use differential_dataflow::AsCollection;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use stream_core::{Mergeable, Timestamp, Window};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{Capability, CapabilitySet};

/// One session of a key: `[start, end)` and its aggregate.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub(crate) struct Session<A: Mergeable> {
    start: i64,
    end: i64,
    acc: Partial<A>,
}

/// Where session windows keep their sessions: a store of each key's sessions, placed on
/// workers by key group.
pub(crate) struct SessionState<K, A: Mergeable> {
    pub store: Rc<RefCell<Store<K, Vec<Session<A>>>>>,
    pub groups: KeyGroups,
    pub workers: usize,
    /// Insert a restored store's sessions into the output before the first batch (complete
    /// mode, whose result is the whole table).
    pub emit_restored: bool,
}

type Update<K, A> = (((K, Window), A), Time, isize);
/// A row for the session operator: key, event time, gap, partial aggregate.
type SessionRow<K, A> = (K, i64, i64, Partial<A>);

fn window(start: i64, end: i64) -> Window {
    Window {
        start: Timestamp(start),
        end: Timestamp(end),
    }
}

/// Per key, merges rows `(key, event time, gap in ms, partial)` into sessions. With `evict`, a
/// row whose own window `[ts, ts + gap)` ends at or below the batch's watermark is late and
/// dropped, and a session is retracted (its final value) and forgotten when the watermark
/// reaches its end. Rows with a gap of zero or less are ignored, as in Spark.
pub(crate) fn session_aggregate<'a, T, K, A>(
    rows: Coll<'a, T>,
    assign: impl Fn(&T) -> (K, i64, i64, A) + 'static,
    evict: bool,
    stage: u64,
    state: SessionState<K, A>,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, ((K, Window), A)>
where
    T: Row,
    K: Row,
    A: Mergeable,
{
    use timely::dataflow::operators::vec::Map;
    let keyed = rows.inner.flat_map(move |(row, t, r): (T, Time, isize)| {
        let (key, ts, gap, acc) = assign(&row);
        (gap > 0).then(|| ((key, ts, gap, Partial { rows: 1, acc }.multiply(&r)), t))
    });
    let SessionState {
        store,
        groups,
        workers,
        emit_restored,
    } = state;
    let route = move |x: &(SessionRow<K, A>, Time)| groups.route(&(x.0).0, workers);
    keyed
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<Update<K, A>>>, _, _, _>(
            Exchange::new(route),
            "SessionWindows",
            move |cap, _| {
                let mut caps = CapabilitySet::from_elem(cap);
                let mut stash: BTreeMap<Time, Vec<SessionRow<K, A>>> = BTreeMap::new();
                let mut restored: Vec<Update<K, A>> = Vec::new();
                if emit_restored {
                    for (key, list) in &store.borrow().map {
                        for s in list {
                            let row = ((key.clone(), window(s.start, s.end)), s.acc.acc.clone());
                            restored.push((row, Time::default(), 1));
                        }
                    }
                }
                metrics.borrow_mut().state[op].rows_total =
                    store.borrow().map.values().map(Vec::len).sum::<usize>() as i64;
                move |(input, frontier), output| {
                    if !restored.is_empty() {
                        let cap = caps.delayed(&Time::default());
                        output.session(&cap).give_iterator(restored.drain(..));
                    }
                    let mut store = store.borrow_mut();
                    let store = &mut *store;
                    input.for_each(|c, data| {
                        // Rows carry their own times (all at or after the capability's).
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
                        // Work in time order: the sessions that close before the next batch of
                        // rows (all of them in one pass over the store: one pass per session
                        // end would be quadratic), then that batch.
                        let next_rows = stash.keys().next().copied().filter(done);
                        if evict {
                            let due = |e: &Time| done(e) && next_rows.is_none_or(|t| *e <= t);
                            let mut closing: Vec<Update<K, A>> = Vec::new();
                            let mut closed = Vec::new();
                            for (key, list) in store.map.iter_mut() {
                                let before = list.len();
                                list.retain(|s| {
                                    let e = Time::eviction(s.end.max(0) as u64, stage);
                                    let closes = due(&e);
                                    if closes {
                                        let row = (key.clone(), window(s.start, s.end));
                                        closing.push(((row, s.acc.acc.clone()), e, -1));
                                    }
                                    !closes
                                });
                                if list.len() != before {
                                    closed.push(key.clone());
                                }
                            }
                            stats.rows_total -= closing.len() as i64;
                            stats.rows_removed += closing.len() as u64;
                            for key in &closed {
                                store.changed(key);
                            }
                            if !closed.is_empty() {
                                store.map.retain(|_, l| !l.is_empty());
                            }
                            // Each session's final value is retracted at its eviction time.
                            closing.sort_by_key(|u| u.1);
                            for run in closing.chunk_by(|a, b| a.1 == b.1) {
                                let cap: Capability<Time> = caps.delayed(&run[0].1);
                                output.session(&cap).give_iterator(run.iter().cloned());
                            }
                        }
                        let Some(t) = next_rows else { break };
                        let batch = stash.remove(&t).unwrap_or_default();
                        let cap = caps.delayed(&t);
                        let mut session = output.session(&cap);
                        // Per key: the sessions before the batch, to emit what changed.
                        let mut before: HashMap<K, Vec<Session<A>>> = HashMap::new();
                        for (key, ts, gap, acc) in batch {
                            if evict && Time::eviction((ts + gap).max(0) as u64, stage) <= t {
                                stats.dropped_by_watermark += acc.rows.max(0) as u64;
                                continue;
                            }
                            let list = store.map.entry(key.clone()).or_default();
                            before.entry(key).or_insert_with(|| list.clone());
                            let mut merged = Session {
                                start: ts,
                                end: ts + gap,
                                acc,
                            };
                            // Sessions that overlap or touch merge (Spark: a row
                            // at a session's end extends it).
                            list.retain(|s| {
                                let meets = s.start <= merged.end && merged.start <= s.end;
                                if meets {
                                    merged.start = merged.start.min(s.start);
                                    merged.end = merged.end.max(s.end);
                                    merged.acc.plus_equals(&s.acc);
                                }
                                !meets
                            });
                            list.push(merged);
                        }
                        for (key, old) in before {
                            store.changed(&key);
                            let new = store.map.get(&key).cloned().unwrap_or_default();
                            let same = |a: &Session<A>, b: &Session<A>| {
                                (a.start, a.end) == (b.start, b.end) && a.acc == b.acc
                            };
                            let row = |s: &Session<A>| {
                                ((key.clone(), window(s.start, s.end)), s.acc.acc.clone())
                            };
                            for s in old.iter().filter(|o| !new.iter().any(|n| same(o, n))) {
                                session.give((row(s), t, -1));
                            }
                            for s in new.iter().filter(|n| !old.iter().any(|o| same(o, n))) {
                                session.give((row(s), t, 1));
                                stats.rows_updated += 1;
                            }
                            stats.rows_total += new.len() as i64 - old.len() as i64;
                        }
                    }
                    // Hold capabilities only for pending rows and session ends (timers).
                    let mut needed: Vec<Time> = stash.keys().copied().collect();
                    if evict {
                        if let Some(e) = store
                            .map
                            .values()
                            .flatten()
                            .map(|s| Time::eviction(s.end.max(0) as u64, stage))
                            .min()
                        {
                            needed.push(e);
                        }
                    }
                    let lowest = needed.into_iter().min();
                    caps.downgrade(lowest.iter());
                    stats.memory_used_bytes = stats.rows_total.max(0) as u64
                        * std::mem::size_of::<(K, Session<A>)>() as u64;
                }
            },
        )
        .as_collection()
}
