//! The window queries (q5, q7, q8, q11) by hand on timely and differential.
//!
//! As `bids_window`: a batch's rows are inserted at the batch's time (the watermark in force,
//! in ms) and retracted at their window's end, so a window's state leaves the arrangements when
//! the watermark passes its end, and the retraction of a window's result at that time is its
//! final row ([`closed`]). Rows whose window the watermark has passed are late and dropped. The
//! watermark after a batch is its latest event time minus 4 s (the same on every worker, from
//! the batch's range); at the end of the input, the inputs close, which passes every time and
//! closes every window (as the runtime's end-of-input watermark does).
//!
//! q5 counts per (window, auction) and keeps the maxima per window (two reduces); q7 reduces
//! per window (its maximum and the bids at it); q8 joins people and distinct sellers on (window,
//! id); q11's sessions have no end known in advance, so a timely operator keeps each bidder's
//! open sessions and writes those the watermark has passed.

use super::super::windows::{
    hop_starts, tumble_start, window, Q11Row, Q5Row, Q7Row, Q8Row, DELAY_MS, SIZE_MS,
};
use super::{append, schedule, share, sink, Gather, Run};
use differential_dataflow::input::InputSession;
use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use std::collections::HashMap;
use std::sync::Arc;
use stream_runtime::source::nexmark::{Auction, Bid, Person};
use stream_runtime::{Record, Timestamp, Window};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::vec::{Filter, Map};
use timely::dataflow::operators::{Capability, Operator};
use timely::dataflow::ProbeHandle;
use timely::worker::Worker;

/// Runs a window query: `build` makes the result from the input rows; `feed` inserts event
/// `g`'s rows (given the watermark in force, to drop late ones).
fn windowed<I: ExchangeData, D: Record>(
    worker: &mut Worker,
    run: &Arc<Run>,
    build: impl for<'a> FnOnce(VecCollection<'a, u64, I, isize>) -> VecCollection<'a, u64, D, isize>,
    feed: impl Fn(u64, u64, &mut InputSession<u64, I, isize>),
) {
    let probe = ProbeHandle::new();
    let mut input = InputSession::<u64, I, isize>::new();
    let gathered = worker.dataflow::<u64, _, _>(|scope| {
        let rows = input.to_collection(scope);
        sink(build(rows), run, &probe)
    });
    let mut out = Gather::new(gathered, append);
    let (index, peers) = (worker.index() as u64, worker.peers() as u64);
    let mut watermark: u64 = 0;
    for (lo, hi) in schedule(run) {
        input.advance_to(watermark);
        for g in share(lo, hi, index, peers) {
            feed(g, watermark, &mut input);
        }
        if hi > lo {
            // Event times never decrease along the run's offsets (docs/nexmark.md 1.3).
            let latest = run.config.base_time + run.gens.emit_offset_ms(hi - 1);
            watermark = watermark.max((latest - DELAY_MS).max(0) as u64);
        }
        input.advance_to(watermark);
        input.flush();
        worker.step_or_park_while(None, || probe.less_than(&watermark));
        out.finished(run, watermark, hi, index);
    }
    // The end of the input: every time passes, every window closes.
    input.close();
    worker.step_or_park_while(None, || !probe.done());
    out.finished(run, u64::MAX, run.events, index);
}

/// The final rows of closed windows: the retraction of a window's result at its end (`end` of
/// each row), as an insertion.
fn closed<'a, D: ExchangeData>(
    rows: VecCollection<'a, u64, (i64, D), isize>,
) -> VecCollection<'a, u64, D, isize> {
    rows.inner
        .filter(|((end, _), time, diff)| *end as u64 == *time && *diff < 0)
        .map(|((_, row), time, diff)| (row, time, -diff))
        .as_collection()
}

/// Inserts `row` now and retracts it at `end`, unless the watermark has passed `end` (late).
fn in_window<I: ExchangeData>(input: &mut InputSession<u64, I, isize>, row: I, end: i64, wm: u64) {
    if end as u64 <= wm {
        return;
    }
    input.update_at(row.clone(), end as u64, -1);
    input.insert(row);
}

/// q5: bids per (window, auction), then the auctions at each window's maximum.
pub fn q5(worker: &mut Worker, run: &Arc<Run>) {
    windowed(
        worker,
        run,
        |rows: VecCollection<'_, u64, (i64, u64), isize>| {
            let counts = rows
                .map(|key| (key, ()))
                .reduce(|_key, unit: &[(&(), isize)], out| out.push((unit[0].1 as i64, 1)));
            let winners = counts
                .map(|((start, auction), n)| (start, (n, auction)))
                .reduce(|_start, counts: &[(&(i64, u64), isize)], out| {
                    // Values come sorted: the last has the highest count.
                    let top = counts[counts.len() - 1].0 .0;
                    for ((n, auction), _) in counts.iter().rev().take_while(|c| c.0 .0 == top) {
                        out.push(((*auction, *n), 1));
                    }
                })
                .map(|(start, (auction, num))| {
                    let row = Q5Row {
                        window: window(start),
                        auction,
                        num,
                    };
                    (start + SIZE_MS, row)
                });
            closed(winners)
        },
        |g, wm, input| {
            if let Some(b) = run.gens.row::<Bid>(g) {
                for start in hop_starts(b.date_time.millis()) {
                    in_window(input, (start, b.auction), start + SIZE_MS, wm);
                }
            }
        },
    );
}

/// A bid of q7: `(window start, own, price, auction, bidder, time, extra)`; `own` is false for
/// a bid tested against the window ending at its time.
type WindowBid = (i64, bool, u64, u64, u64, i64, String);
/// A [`WindowBid`] without its window.
type BidInWindow = (bool, u64, u64, u64, i64, String);

/// q7: per window, its maximum among its own bids and the bids (its own, or at its end) at it.
pub fn q7(worker: &mut Worker, run: &Arc<Run>) {
    windowed(
        worker,
        run,
        |rows: VecCollection<'_, u64, WindowBid, isize>| {
            let winners = rows
                .map(|(start, own, price, auction, bidder, t, extra)| {
                    (start, (own, price, auction, bidder, t, extra))
                })
                .reduce(|_start, bids: &[(&BidInWindow, isize)], out| {
                    let Some(max) = bids.iter().filter(|b| b.0 .0).map(|b| b.0 .1).max() else {
                        return;
                    };
                    for (b, n) in bids.iter().filter(|b| b.0 .1 == max) {
                        out.push(((b.1, b.2, b.3, b.4, b.5.clone()), *n));
                    }
                })
                .map(|(start, (price, auction, bidder, t, extra))| {
                    let row = Q7Row {
                        auction,
                        price,
                        bidder,
                        date_time: Timestamp(t),
                        extra,
                    };
                    (start + SIZE_MS, row)
                });
            closed(winners)
        },
        |g, wm, input| {
            if let Some(b) = run.gens.row::<Bid>(g) {
                let t = b.date_time.millis();
                let start = tumble_start(t);
                let bid =
                    |start, own| (start, own, b.price, b.auction, b.bidder, t, b.extra.clone());
                if start == t {
                    in_window(input, bid(start - SIZE_MS, false), start, wm);
                }
                in_window(input, bid(start, true), start + SIZE_MS, wm);
            }
        },
    );
}

/// A row of q8: `(window start, id, Some(name))` for a person, `(start, seller, None)` for an
/// auction.
type PersonOrSeller = (i64, u64, Option<String>);

/// q8: people joined with the distinct sellers of each window on (window, id).
pub fn q8(worker: &mut Worker, run: &Arc<Run>) {
    windowed(
        worker,
        run,
        |rows: VecCollection<'_, u64, PersonOrSeller, isize>| {
            let people = rows
                .clone()
                .filter(|r| r.2.is_some())
                .map(|(start, id, name)| ((start, id), name.unwrap_or_default()));
            let sellers = rows
                .filter(|r| r.2.is_none())
                .map(|(start, id, _)| (start, id))
                .distinct();
            let joined = people.join_map(sellers.map(|k| (k, ())), |(start, id), name, ()| {
                let row = Q8Row {
                    id: *id,
                    name: name.clone(),
                    window: window(*start),
                };
                (start + SIZE_MS, row)
            });
            closed(joined)
        },
        |g, wm, input| {
            let row = if let Some(p) = run.gens.row::<Person>(g) {
                Some((p.date_time.millis(), p.id, Some(p.name)))
            } else {
                run.gens
                    .row::<Auction>(g)
                    .map(|a| (a.date_time.millis(), a.seller, None))
            };
            if let Some((t, id, name)) = row {
                let start = tumble_start(t);
                in_window(input, (start, id, name), start + SIZE_MS, wm);
            }
        },
    );
}

/// An open session of q11: first bid, last bid, bids.
#[derive(Clone, Copy)]
struct Open {
    first: i64,
    last: i64,
    count: i64,
}

/// q11: a timely operator per bidder (exchanged by bidder) keeps the open sessions, merges each
/// bid into the sessions it touches (`[t, t + 10 s)` overlaps or touches `[first, last + 10 s)`),
/// and writes the sessions whose end the watermark has passed (all of them at the end).
pub fn q11(worker: &mut Worker, run: &Arc<Run>) {
    windowed(
        worker,
        run,
        |rows: VecCollection<'_, u64, (u64, i64), isize>| {
            rows.inner
                .unary_frontier(
                    Exchange::new(|((bidder, _), _, _): &((u64, i64), u64, isize)| *bidder),
                    "Sessions",
                    |_, _| {
                        let mut stash: Vec<(u64, (u64, i64))> = Vec::new();
                        let mut open: HashMap<u64, Vec<Open>> = HashMap::new();
                        let mut cap = None;
                        move |(input, frontier), output| {
                            input.for_each(|c, data| {
                                let Some(c) = c.retain_least(0) else { return };
                                if cap
                                    .as_ref()
                                    .is_none_or(|h: &Capability<u64>| c.time() < h.time())
                                {
                                    cap = Some(c);
                                }
                                stash.extend(data.drain(..).map(|(row, t, _)| (t, row)));
                            });
                            let Some(held) = cap.as_mut() else { return };
                            // Every row before the frontier is in: the frontier is the watermark.
                            let wm = frontier.frontier().iter().next().copied();
                            let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut stash)
                                .into_iter()
                                .partition(|(t, _)| wm.is_none_or(|wm| *t < wm));
                            stash = later;
                            for (_, (bidder, t)) in now {
                                add_bid(open.entry(bidder).or_default(), t);
                            }
                            let time = *held.time();
                            let mut session = output.session(held);
                            open.retain(|bidder, sessions| {
                                sessions.retain(|s| {
                                    let end = s.last + SIZE_MS;
                                    let done = wm.is_none_or(|wm| end as u64 <= wm);
                                    if done {
                                        let row = Q11Row {
                                            bidder: *bidder,
                                            bid_count: s.count,
                                            window: Window {
                                                start: Timestamp(s.first),
                                                end: Timestamp(end),
                                            },
                                        };
                                        session.give((row, time, 1));
                                    }
                                    !done
                                });
                                !sessions.is_empty()
                            });
                            drop(session);
                            match wm {
                                Some(wm) if !open.is_empty() || !stash.is_empty() => {
                                    held.downgrade(&wm)
                                }
                                _ => cap = None,
                            }
                        }
                    },
                )
                .as_collection()
        },
        |g, wm, input| {
            if let Some(b) = run.gens.row::<Bid>(g) {
                let t = b.date_time.millis();
                // A bid whose session would already have closed is late.
                if (t + SIZE_MS) as u64 > wm {
                    input.insert((b.bidder, t));
                }
            }
        },
    );
}

/// Merges a bid at `t` into a bidder's open sessions.
fn add_bid(sessions: &mut Vec<Open>, t: i64) {
    let mut merged = Open {
        first: t,
        last: t,
        count: 1,
    };
    sessions.retain(|s| {
        let touches = t <= s.last + SIZE_MS && s.first <= t + SIZE_MS;
        if touches {
            merged.first = merged.first.min(s.first);
            merged.last = merged.last.max(s.last);
            merged.count += s.count;
        }
        !touches
    });
    sessions.push(merged);
}
