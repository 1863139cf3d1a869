//! The `baseline` engine's join queries, the straightforward way on differential: auctions
//! and the other input (people or bids) as collections, one timestamp per batch, joined by
//! key with the query's filters, then reduced (q4: max per auction, then the mean per
//! category; q9: the first bid per auction in (price descending, time, bidder) order, joined
//! back to its auction). The join keeps every row, so the result after the last batch is the
//! whole input's, as the DSL's after its end-of-input watermark. q4 and q9 emit updates;
//! with `--output` each batch's new versions are written and the file is reduced to the
//! final table at the end (`joins::final_table`).

use super::super::common::Run;
use super::super::joins::{q9_row, Q3Row, Q4Row, Q3_CATEGORY, Q3_STATES};
use super::{append, schedule, share, sink, Gather};
use differential_dataflow::input::InputSession;
use differential_dataflow::VecCollection;
use std::sync::Arc;
use stream_runtime::source::nexmark::{Auction, Bid, NexmarkRow, Person};
use stream_runtime::{Record, Timestamp};
use timely::dataflow::ProbeHandle;
use timely::worker::Worker;

/// q3: sellers in OR, ID or CA joined with their auctions in category 10.
pub fn q3(worker: &mut Worker, run: &Arc<Run>) {
    two_inputs(
        worker,
        run,
        |auctions, people: VecCollection<'_, u64, Person, isize>| {
            let sellers = people
                .filter(|p| Q3_STATES.contains(&p.state.as_str()))
                .map(|p| (p.id, (p.name, p.city, p.state)));
            auctions
                .filter(|a| a.category == Q3_CATEGORY)
                .map(|a| (a.seller, a.id))
                .join(sellers)
                .map(|(_, (id, (name, city, state)))| Q3Row {
                    name,
                    city,
                    state,
                    id,
                })
        },
    );
}

/// q4: the mean final price per category.
pub fn q4(worker: &mut Worker, run: &Arc<Run>) {
    two_inputs(
        worker,
        run,
        |auctions, bids: VecCollection<'_, u64, Bid, isize>| {
            let lifetimes =
                auctions.map(|a| (a.id, (a.date_time.millis(), a.expires.millis(), a.category)));
            let bids = bids.map(|b| (b.auction, (b.date_time.millis(), b.price)));
            lifetimes
                .join(bids)
                .filter(|(_, ((start, end, _), (t, _)))| start <= t && t <= end)
                .map(|(id, ((_, _, category), (_, price)))| ((id, category), price))
                .reduce(|_, prices: &[(&u64, isize)], out| {
                    // Values come sorted: the last is the max.
                    out.push((*prices[prices.len() - 1].0, 1));
                })
                .map(|((_, category), price)| (category, price))
                .reduce(|_, prices: &[(&u64, isize)], out| {
                    let sum: u128 = prices.iter().map(|(p, n)| **p as u128 * *n as u128).sum();
                    let n: isize = prices.iter().map(|(_, n)| n).sum();
                    out.push(((sum, n as u64), 1));
                })
                .map(|(category, (sum, n))| Q4Row {
                    category,
                    avg_price: sum as f64 / n as f64,
                })
        },
    );
}

/// q9: every auction with its winning bid.
pub fn q9(worker: &mut Worker, run: &Arc<Run>) {
    two_inputs(
        worker,
        run,
        |auctions, bids: VecCollection<'_, u64, Bid, isize>| {
            let auctions = auctions.map(|a| (a.id, a));
            let lifetimes = auctions
                .clone()
                .map(|(id, a)| (id, (a.date_time.millis(), a.expires.millis())));
            // Ascending order of `(u64::MAX - price, time, bidder)` is the winning order.
            let bids = bids.map(|b| {
                (
                    b.auction,
                    (u64::MAX - b.price, b.date_time.millis(), b.bidder),
                )
            });
            let winners = lifetimes
                .join(bids)
                .filter(|(_, ((start, end), (_, t, _)))| start <= t && t <= end)
                .map(|(id, (_, bid))| (id, bid))
                .reduce(|_, bids, out| out.push((*bids[0].0, 1)));
            auctions.join(winners).map(|(_, (a, (price, t, bidder)))| {
                q9_row(&a, u64::MAX - price, bidder, Timestamp(t))
            })
        },
    );
}

/// Runs `query` over the auctions and the rows of kind `O` of the run, one timestamp per
/// batch; its output updates go to [`sink`] (new versions of rows: `append`).
fn two_inputs<O: NexmarkRow, D: Record>(
    worker: &mut Worker,
    run: &Arc<Run>,
    query: impl for<'a> FnOnce(
        VecCollection<'a, u64, Auction, isize>,
        VecCollection<'a, u64, O, isize>,
    ) -> VecCollection<'a, u64, D, isize>,
) {
    let probe = ProbeHandle::new();
    let mut auctions = InputSession::<u64, Auction, isize>::new();
    let mut others = InputSession::<u64, O, isize>::new();
    let gathered = worker.dataflow::<u64, _, _>(|scope| {
        let rows = query(auctions.to_collection(scope), others.to_collection(scope));
        sink(rows, run, &probe)
    });
    let mut out = Gather::new(gathered, append);
    let (index, peers) = (worker.index() as u64, worker.peers() as u64);
    for (n, (lo, hi)) in schedule(run).enumerate() {
        let n = n as u64;
        auctions.advance_to(n);
        others.advance_to(n);
        for g in share(lo, hi, index, peers) {
            if let Some(a) = run.gens.row::<Auction>(g) {
                auctions.insert(a);
            } else if let Some(o) = run.gens.row::<O>(g) {
                others.insert(o);
            }
        }
        auctions.advance_to(n + 1);
        others.advance_to(n + 1);
        auctions.flush();
        others.flush();
        worker.step_or_park_while(None, || probe.less_than(&(n + 1)));
        out.finished(run, n + 1, hi, index);
    }
}
