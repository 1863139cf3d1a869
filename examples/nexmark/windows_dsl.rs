//! The window queries as `stream!` pipelines (docs/nexmark.md 2, "How each query is written").
//!
//! q8 and q11 are relational (a union grouped per window, a session-window aggregation). q5 and
//! q7 join an aggregation with its own input, which Spark's rules refuse in a stream (no
//! aggregation before a stream-stream join): they are written with the typed stateful operator,
//! one state per window (`group_by_key(window start)` + `flat_map_groups_with_state` with an
//! event-time timeout at the window's end), emitting the winners when the watermark passes it.

use super::super::common::Run;
use super::super::windows::{hop_starts, tumble_start, window, Q5Row, Q7Row, SIZE_MS};
use super::{configure, nexmark_bids, RunSink, Tracked};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use stream_runtime::prelude::*;
use stream_runtime::source::nexmark::{Auction, Bid, Nexmark, NexmarkRow, NexmarkSource, Person};

/// q8's rows before the grouping: a person (`is_person`) or an auction's seller (`is_seller`).
#[derive(Record)]
pub struct PersonOrSeller {
    /// The person's id, or the auction's seller.
    pub id: u64,
    /// The person's name ("" for an auction).
    pub name: String,
    /// 1 for a person.
    pub is_person: i32,
    /// 1 for an auction.
    pub is_seller: i32,
    /// The event time.
    #[event_time]
    pub date_time: Timestamp,
}

fn person(p: Person) -> PersonOrSeller {
    PersonOrSeller {
        id: p.id,
        name: p.name,
        is_person: 1,
        is_seller: 0,
        date_time: p.date_time,
    }
}

fn seller(a: Auction) -> PersonOrSeller {
    PersonOrSeller {
        id: a.seller,
        name: String::new(),
        is_person: 0,
        is_seller: 1,
        date_time: a.date_time,
    }
}

/// A bid in one of q5's hopping windows.
#[derive(Record)]
pub struct HopBid {
    /// The window's start.
    pub start: i64,
    /// The auction.
    pub auction: u64,
    /// The bid's event time.
    #[event_time]
    pub date_time: Timestamp,
}

/// Every window of a bid (five: 10 s sliding by 2 s).
fn hop(b: Bid) -> [HopBid; 5] {
    let mut starts = hop_starts(b.date_time.millis());
    std::array::from_fn(|_| HopBid {
        start: starts.next().unwrap_or_default(),
        auction: b.auction,
        date_time: b.date_time,
    })
}

/// q5's state of one window: bids per auction.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct HopCounts(HashMap<u64, i64>);

/// Counts a window's bids per auction; when the watermark reaches its end, writes the auctions
/// with the most.
fn hot_items(start: i64, rows: GroupRows<HopBid>, state: &mut GroupState<HopCounts>) -> Vec<Q5Row> {
    if state.has_timed_out() {
        let counts = state.get().map(|c| c.0.clone()).unwrap_or_default();
        state.remove();
        let top = counts.values().copied().max().unwrap_or(0);
        return counts
            .into_iter()
            .filter(|(_, n)| *n == top)
            .map(|(auction, num)| Q5Row {
                window: window(start),
                auction,
                num,
            })
            .collect();
    }
    let mut counts = state.get().cloned().unwrap_or_default();
    for r in rows {
        *counts.0.entry(r.auction).or_default() += 1;
    }
    state.update(counts);
    // Fires once the watermark is past end - 1 ms, i.e. at or past the end, as Spark closes
    // windows.
    let end = start + SIZE_MS;
    state.set_timeout_timestamp_ms((end - 1).max(state.get_current_watermark_ms()));
    Vec::new()
}

/// A bid tested against one of q7's tumbling windows: its own (`own`, it counts for the
/// maximum), or the one ending at its time (a bid exactly at a window's end, as BETWEEN is
/// closed).
#[derive(Record)]
pub struct WindowBid {
    /// The window's start.
    pub start: i64,
    /// Whether the bid lies in the window (else it lies at its end).
    pub own: bool,
    /// The auction.
    pub auction: u64,
    /// The price.
    pub price: u64,
    /// The bidder.
    pub bidder: u64,
    /// The bid's event time.
    #[event_time]
    pub date_time: Timestamp,
    /// The bid's padding.
    pub extra: String,
}

/// A bid's windows: its own, and the one ending at it if it lies on a window boundary.
fn tumble(b: Bid) -> impl Iterator<Item = WindowBid> {
    let t = b.date_time.millis();
    let start = tumble_start(t);
    let edge = (start == t).then(|| WindowBid {
        start: start - SIZE_MS,
        own: false,
        auction: b.auction,
        price: b.price,
        bidder: b.bidder,
        date_time: b.date_time,
        extra: b.extra.clone(),
    });
    let own = WindowBid {
        start,
        own: true,
        auction: b.auction,
        price: b.price,
        bidder: b.bidder,
        date_time: b.date_time,
        extra: b.extra,
    };
    edge.into_iter().chain(std::iter::once(own))
}

/// q7's state of one window: its highest price so far, its own bids at that price, and the
/// bids at its end (tested when it closes).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct TopBids {
    max: Option<u64>,
    best: Vec<(u64, u64, u64, i64, String)>,
    edge: Vec<(u64, u64, u64, i64, String)>,
}

fn q7_row((auction, price, bidder, t, extra): (u64, u64, u64, i64, String)) -> Q7Row {
    Q7Row {
        auction,
        price,
        bidder,
        date_time: Timestamp(t),
        extra,
    }
}

/// Keeps a window's highest bids; when the watermark passes its end (the bids exactly at the
/// end are in by then), writes those at the window's maximum.
fn top_bids(start: i64, rows: GroupRows<WindowBid>, state: &mut GroupState<TopBids>) -> Vec<Q7Row> {
    if state.has_timed_out() {
        let top = state.get().cloned().unwrap_or_default();
        state.remove();
        let Some(max) = top.max else {
            return Vec::new(); // only bids at its end: no such window in the SQL's join
        };
        return top
            .best
            .into_iter()
            .chain(top.edge.into_iter().filter(|b| b.1 == max))
            .map(q7_row)
            .collect();
    }
    let mut top = state.get().cloned().unwrap_or_default();
    for r in rows {
        let bid = (r.auction, r.price, r.bidder, r.date_time.millis(), r.extra);
        if !r.own {
            top.edge.push(bid);
        } else if top.max.is_none_or(|m| bid.1 > m) {
            top.max = Some(bid.1);
            top.best.clear();
            top.best.push(bid);
        } else if top.max == Some(bid.1) {
            top.best.push(bid);
        }
    }
    state.update(top);
    // The bids at the end belong to this window's test: close past the end itself.
    let end = start + SIZE_MS;
    state.set_timeout_timestamp_ms(end.max(state.get_current_watermark_ms()));
    Vec::new()
}

/// q5 on `session`.
pub fn q5(
    run: &Arc<Run>,
    session: &Session,
    trigger: Trigger,
) -> Result<StreamingQuery, StreamError> {
    let bids = Tracked::new(nexmark_bids(run), run);
    let query = stream! {
        read_stream::<Bid>(bids)
            .flat_map(hop)
            .with_watermark(date_time, "4 seconds")
            .group_by_key(|b: &HopBid| b.start)
            .flat_map_groups_with_state(Append, EventTimeTimeout, hot_items)
            .write_stream(RunSink(run.clone()))
            .output_mode(Append)
            .query_name("q5")
    };
    session.start(configure(query, trigger, run))
}

/// q7 on `session`.
pub fn q7(
    run: &Arc<Run>,
    session: &Session,
    trigger: Trigger,
) -> Result<StreamingQuery, StreamError> {
    let bids = Tracked::new(nexmark_bids(run), run);
    let query = stream! {
        read_stream::<Bid>(bids)
            .flat_map(tumble)
            .with_watermark(date_time, "4 seconds")
            .group_by_key(|b: &WindowBid| b.start)
            .flat_map_groups_with_state(Append, EventTimeTimeout, top_bids)
            .write_stream(RunSink(run.clone()))
            .output_mode(Append)
            .query_name("q7")
    };
    session.start(configure(query, trigger, run))
}

/// q8 on `session`: people and sellers per window and id, kept where both are there (a
/// person's id is unique, so this is the SQL's join of the two groupings).
pub fn q8(
    run: &Arc<Run>,
    session: &Session,
    trigger: Trigger,
) -> Result<StreamingQuery, StreamError> {
    let people = Tracked::new(paced(run, Nexmark::people(run.config.clone())), run);
    let auctions = paced(run, Nexmark::auctions(run.config.clone()));
    let query = stream! {
        let people = read_stream::<Person>(people)
            .map(person)
            .with_watermark(date_time, "4 seconds");
        let sellers = read_stream::<Auction>(auctions)
            .map(seller)
            .with_watermark(date_time, "4 seconds");
        people
            .union(sellers)
            .group_by(window(date_time, "10 seconds"), id)
            .agg(max(is_person) as person, max(is_seller) as seller, max(name) as name)
            .filter(person == 1 && seller == 1)
            .select(id, name, window)
            .write_stream(RunSink(run.clone()))
            .output_mode(Append)
            .query_name("q8")
    };
    session.start(configure(query, trigger, run))
}

/// q11 on `session`.
pub fn q11(
    run: &Arc<Run>,
    session: &Session,
    trigger: Trigger,
) -> Result<StreamingQuery, StreamError> {
    let bids = Tracked::new(nexmark_bids(run), run);
    let query = stream! {
        read_stream::<Bid>(bids)
            .with_watermark(date_time, "4 seconds")
            .group_by(bidder, session_window(date_time, "10 seconds") as window)
            .agg(count() as bid_count)
            .select(bidder, bid_count, window)
            .write_stream(RunSink(run.clone()))
            .output_mode(Append)
            .query_name("q11")
    };
    session.start(configure(query, trigger, run))
}

/// A Nexmark source of the run: its batch size, and paced if asked (on the clock of the
/// bids' source, [`nexmark_bids`]).
fn paced<T: NexmarkRow>(run: &Arc<Run>, source: NexmarkSource<T>) -> NexmarkSource<T> {
    let source = source.events_per_batch(run.batch);
    match run.pace {
        None => source,
        Some(pace) => {
            let r = run.clone();
            source.pace(pace).clock(move || {
                let now = super::super::common::wall_ms().floor();
                r.start_ms.get_or_init(|| now);
                now as i64
            })
        }
    }
}
