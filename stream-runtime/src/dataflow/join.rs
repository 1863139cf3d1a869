//! The stream side of a stream-static join: a lookup ("half join") into the arrangement of the
//! static side, keeping no stream state (docs/time-model.md, lessons learned: `join_core` would store every
//! stream row forever).

use super::{Coll, Row};
use crate::metrics::Metrics;
use crate::time::Time;
use differential_dataflow::hashable::Hashable;
use differential_dataflow::trace::cursor::{cursor_list, Cursor};
use differential_dataflow::trace::TraceReader;
use differential_dataflow::AsCollection;
use stream_core::rules::JoinType;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;
use timely::order::PartialOrder;
use timely::progress::Antichain;

type Pending<K, T> = Vec<(Capability<Time>, Vec<((K, T), Time, isize)>)>;

/// Joins each stream row with the static rows of the same key. `combine` makes an output row
/// from a stream row and a matching static row: for `Inner` once per match; for `LeftOuter`
/// once per match or once with `None`; for `LeftSemi` once with `None` if any row matches; for
/// `LeftAnti` once with `None` if none does.
pub(crate) fn half_join<'a, T, K, S, O>(
    stream: Coll<'a, T>,
    stream_key: impl Fn(&T) -> K + 'static,
    table: Coll<'a, (K, S)>,
    how: JoinType,
    combine: impl Fn(&T, Option<&S>) -> O + 'static,
    metrics: Metrics,
    op: usize,
) -> Coll<'a, O>
where
    T: Row,
    K: Row,
    S: Row,
    O: Row,
{
    // The join's state: the static rows, plus stream rows waiting for the static side (none
    // between batches: the stream side keeps no state).
    let counted = metrics.clone();
    let table = table.inspect(move |(_, _, d): &((K, S), Time, isize)| {
        counted.borrow_mut().state[op].rows_total += *d as i64;
    });
    let arranged = table.arrange_by_key();
    let mut trace = arranged.trace.clone();
    let keyed = stream.map(move |row| (stream_key(&row), row));
    let route = |update: &((K, T), Time, isize)| (update.0).0.hashed();
    keyed
        .inner
        .binary_frontier::<_, timely::container::CapacityContainerBuilder<Vec<(O, Time, isize)>>, _, _, _, _>(
            arranged.stream,
            Exchange::new(route),
            Pipeline,
            "HalfJoin",
            move |_, _| {
                let mut pending: Pending<K, T> = Vec::new();
                let mut upper = Antichain::new();
                move |(stream_in, stream_frontier), (static_in, static_frontier), output| {
                    stream_in.for_each(|cap, data| {
                        if let Some(cap) = cap.retain_least(0) {
                            metrics.borrow_mut().state[op].rows_total += data.len() as i64;
                            pending.push((cap, std::mem::take(data)));
                        }
                    });
                    // The arrangement announces progress without data only to its trace, so
                    // readiness follows the static side's frontier, not the batches it sends.
                    static_in.for_each(|_, _| {});
                    let (ready, waiting): (Pending<K, T>, Pending<K, T>) =
                        std::mem::take(&mut pending)
                            .into_iter()
                            .partition(|(cap, _)| !static_frontier.less_equal(cap.time()));
                    pending = waiting;
                    let released: usize = ready.iter().map(|(_, d)| d.len()).sum();
                    metrics.borrow_mut().state[op].rows_total -= released as i64;
                    if !ready.is_empty() {
                        trace.read_upper(&mut upper);
                        let batches = trace.batches_through(upper.borrow()).unwrap_or_default();
                        let (mut cursor, storage) = cursor_list(batches);
                        for (cap, data) in ready {
                            let mut session = output.session(&cap);
                            for ((key, row), time, r) in data {
                                let mut matched = false;
                                cursor.seek_key(&storage, &key);
                                if cursor.get_key(&storage) == Some(&key) {
                                    cursor.rewind_vals(&storage);
                                    while let Some(s) = cursor.get_val(&storage) {
                                        let mut n: isize = 0;
                                        cursor.map_times(&storage, |t, d| {
                                            if t.less_equal(&time) {
                                                n += *d;
                                            }
                                        });
                                        if n > 0 {
                                            matched = true;
                                            if matches!(how, JoinType::Inner | JoinType::LeftOuter) {
                                                session.give((combine(&row, Some(s)), time, r * n));
                                            }
                                        }
                                        cursor.step_val(&storage);
                                    }
                                }
                                let unmatched_row = match how {
                                    JoinType::LeftOuter | JoinType::LeftAnti => !matched,
                                    JoinType::LeftSemi => matched,
                                    _ => false,
                                };
                                if unmatched_row {
                                    session.give((combine(&row, None), time, r));
                                }
                                cursor.rewind_keys(&storage);
                            }
                        }
                    }
                    // Static updates at times no pending or future stream row can ask about may
                    // be merged.
                    let mut frontier: Antichain<Time> = stream_frontier.frontier().to_owned();
                    if let Some(t) = pending.iter().map(|(c, _)| *c.time()).min() {
                        frontier = Antichain::from_elem(frontier.elements().first().map_or(t, |f| t.min(*f)));
                    }
                    trace.set_logical_compaction(frontier.borrow());
                    trace.set_physical_compaction(frontier.borrow());
                }
            },
        )
        .as_collection()
}
