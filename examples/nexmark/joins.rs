//! What both engines share for the join queries q3, q4 and q9 (docs/nexmark.md 2): their
//! result rows, the rows the `dsl` engine unions auctions and bids into, and the per-auction
//! functions of its `flat_map_groups_with_state` operators.
//!
//! q4 and q9 join each auction with its bids `B.dateTime BETWEEN A.dateTime AND A.expires`,
//! then aggregate per auction. Per auction id, the state holds the auction (once seen), the
//! best bid so far, and the bids that came before their auction (a bid may name an auction
//! generated later in the same millisecond, in a later batch). The auction's result is final
//! once the watermark passes its `expires`: its event-time timeout. A key without its
//! auction times out when the watermark passes its latest bid: a later auction is older than
//! the watermark then, so late, and dropped.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use stream_runtime::prelude::*;
use stream_runtime::source::nexmark::{Auction, Bid};

use super::common::Query;

/// The q3 filter on the seller's state.
pub const Q3_STATES: [&str; 3] = ["OR", "ID", "CA"];
/// The q3 filter on the auction's category.
pub const Q3_CATEGORY: u64 = 10;

/// q3's result row: a seller in OR, ID or CA and their auction in category 10.
#[derive(Record)]
pub struct Q3Row {
    /// The seller's name.
    pub name: String,
    /// The seller's city.
    pub city: String,
    /// The seller's state.
    pub state: String,
    /// The auction.
    pub id: u64,
}

/// q4's result row: the mean final price of a category's auctions.
#[derive(Record)]
pub struct Q4Row {
    /// The category.
    pub category: u64,
    /// The exact mean of the highest bid of every auction of the category that got a bid in
    /// its lifetime.
    pub avg_price: f64,
}

/// q9's result row: an auction and its winning bid (highest price, then earliest bid, then
/// smallest bidder).
#[derive(Record)]
pub struct Q9Row {
    /// The auction.
    pub id: u64,
    /// Its item.
    pub item_name: String,
    /// Its description.
    pub description: String,
    /// Its initial bid.
    pub initial_bid: u64,
    /// Its reserve.
    pub reserve: u64,
    /// When it started.
    pub date_time: Timestamp,
    /// When it ends.
    pub expires: Timestamp,
    /// Its seller.
    pub seller: u64,
    /// Its category.
    pub category: u64,
    /// Its padding.
    pub extra: String,
    /// The winning bid's price.
    pub price: u64,
    /// The winning bid's bidder.
    pub bidder: u64,
    /// The winning bid's time.
    pub bid_date_time: Timestamp,
}

/// An auction or a bid, as q4 needs them (one row type, for `union`).
#[derive(Record)]
pub struct Q4Event {
    /// The auction's id, or the bid's auction.
    pub auction: u64,
    /// Whether this is a bid.
    pub is_bid: bool,
    /// The event's time.
    #[event_time]
    pub date_time: Timestamp,
    /// The auction's end (bids: 0).
    pub expires: Timestamp,
    /// The auction's category (bids: 0).
    pub category: u64,
    /// The bid's price (auctions: 0).
    pub price: u64,
}

impl Q4Event {
    /// An auction.
    pub fn of_auction(a: Auction) -> Q4Event {
        Q4Event {
            auction: a.id,
            is_bid: false,
            date_time: a.date_time,
            expires: a.expires,
            category: a.category,
            price: 0,
        }
    }

    /// A bid.
    pub fn of_bid(b: Bid) -> Q4Event {
        Q4Event {
            auction: b.auction,
            is_bid: true,
            date_time: b.date_time,
            expires: Timestamp(0),
            category: 0,
            price: b.price,
        }
    }
}

/// An auction's final price, the output of q4's per-auction operator.
#[derive(Record)]
pub struct Q4Final {
    /// The auction.
    pub auction: u64,
    /// Its category.
    pub category: u64,
    /// Its highest bid.
    pub final_price: u64,
}

/// A bid as q4 and q9 keep it: `(date_time, price, bidder)`.
type HeldBid = (i64, u64, u64);

/// Whether `a` wins over `b` (q9's order: highest price, then earliest, then smallest
/// bidder; q4 reads only the price).
fn better(a: &HeldBid, b: &HeldBid) -> bool {
    (std::cmp::Reverse(a.1), a.0, a.2) < (std::cmp::Reverse(b.1), b.0, b.2)
}

/// The state of one auction id in q4 and q9: the auction (`A`), once seen, the best of its
/// bids inside its lifetime, and the bids that came before it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct AuctionState<A> {
    auction: Option<A>,
    best: Option<HeldBid>,
    early: Vec<HeldBid>,
}

impl<A> Default for AuctionState<A> {
    fn default() -> Self {
        AuctionState {
            auction: None,
            best: None,
            early: Vec::new(),
        }
    }
}

/// The auction's fields that q4 and q9 join on.
pub trait Lifetime {
    /// `(date_time, expires)`, epoch ms.
    fn lifetime(&self) -> (i64, i64);
}

/// The step of both per-auction functions: folds the batch's auctions and bids into `state`,
/// matching the held bids once the auction is known, and sets the key's timeout (the
/// auction's end, or while it is unknown, the latest held bid).
fn step<A: Lifetime + Clone + serde::Serialize + serde::de::DeserializeOwned>(
    state: &mut GroupState<AuctionState<A>>,
    rows: impl Iterator<Item = Result<A, HeldBid>>,
) {
    let mut s = state.get().cloned().unwrap_or_default();
    for row in rows {
        match row {
            Ok(auction) => s.auction = Some(auction),
            Err(bid) => s.early.push(bid),
        }
    }
    let timeout = match &s.auction {
        Some(a) => {
            let (start, end) = a.lifetime();
            for bid in s.early.drain(..) {
                if (start..=end).contains(&bid.0) && s.best.is_none_or(|b| better(&bid, &b)) {
                    s.best = Some(bid);
                }
            }
            end
        }
        None => s.early.iter().map(|b| b.0).max().unwrap_or(0),
    };
    let watermark = state.get_current_watermark_ms();
    state.update(s);
    state.set_timeout_timestamp_ms(timeout.max(watermark).max(1));
}

/// The auction's final state when its timeout fires (removed from the store), if it was
/// seen and won a bid.
fn finish<A: Clone + serde::Serialize + serde::de::DeserializeOwned>(
    state: &mut GroupState<AuctionState<A>>,
) -> Option<(A, HeldBid)> {
    let s = state.get().cloned();
    state.remove();
    s.and_then(|s| Some((s.auction?, s.best?)))
}

/// What q4 keeps of an auction: `(date_time, expires, category)`.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Q4Auction(i64, i64, u64);

impl Lifetime for Q4Auction {
    fn lifetime(&self) -> (i64, i64) {
        (self.0, self.1)
    }
}

/// q4's per-auction function: the auction's highest bid in its lifetime, once it is over.
pub fn q4_auction(
    id: u64,
    rows: GroupRows<Q4Event>,
    state: &mut GroupState<AuctionState<Q4Auction>>,
) -> Option<Q4Final> {
    if state.has_timed_out() {
        return finish(state).map(|(a, best)| Q4Final {
            auction: id,
            category: a.2,
            final_price: best.1,
        });
    }
    step(
        state,
        rows.map(|e| match e.is_bid {
            false => Ok(Q4Auction(
                e.date_time.millis(),
                e.expires.millis(),
                e.category,
            )),
            true => Err((e.date_time.millis(), e.price, 0)),
        }),
    );
    None
}

/// An auction or a bid, as q9 needs them (one row type, for `union`): an auction's columns,
/// or a bid's (`auction`, `date_time`, `price`, `bidder`; the other columns empty).
#[derive(Record)]
pub struct Q9Event {
    /// The auction's id, or the bid's auction.
    pub auction: u64,
    /// Whether this is a bid.
    pub is_bid: bool,
    /// The event's time.
    #[event_time]
    pub date_time: Timestamp,
    /// The bid's price.
    pub price: u64,
    /// The bid's bidder.
    pub bidder: u64,
    /// The auction's item.
    pub item_name: String,
    /// The auction's description.
    pub description: String,
    /// The auction's initial bid.
    pub initial_bid: u64,
    /// The auction's reserve.
    pub reserve: u64,
    /// The auction's end.
    pub expires: Timestamp,
    /// The auction's seller.
    pub seller: u64,
    /// The auction's category.
    pub category: u64,
    /// The auction's padding.
    pub extra: String,
}

impl Q9Event {
    /// An auction.
    pub fn of_auction(a: Auction) -> Q9Event {
        Q9Event {
            auction: a.id,
            is_bid: false,
            date_time: a.date_time,
            price: 0,
            bidder: 0,
            item_name: a.item_name,
            description: a.description,
            initial_bid: a.initial_bid,
            reserve: a.reserve,
            expires: a.expires,
            seller: a.seller,
            category: a.category,
            extra: a.extra,
        }
    }

    /// A bid.
    pub fn of_bid(b: Bid) -> Q9Event {
        Q9Event {
            auction: b.auction,
            is_bid: true,
            date_time: b.date_time,
            price: b.price,
            bidder: b.bidder,
            item_name: String::new(),
            description: String::new(),
            initial_bid: 0,
            reserve: 0,
            expires: Timestamp(0),
            seller: 0,
            category: 0,
            extra: String::new(),
        }
    }
}

/// What q9 keeps of an auction: its event.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Q9Auction(Q9Event);

impl Lifetime for Q9Auction {
    fn lifetime(&self) -> (i64, i64) {
        (self.0.date_time.millis(), self.0.expires.millis())
    }
}

/// q9's row of an auction and its winning bid.
pub fn q9_row(a: &Auction, price: u64, bidder: u64, bid_date_time: Timestamp) -> Q9Row {
    Q9Row {
        id: a.id,
        item_name: a.item_name.clone(),
        description: a.description.clone(),
        initial_bid: a.initial_bid,
        reserve: a.reserve,
        date_time: a.date_time,
        expires: a.expires,
        seller: a.seller,
        category: a.category,
        extra: a.extra.clone(),
        price,
        bidder,
        bid_date_time,
    }
}

/// q9's per-auction function: the auction and its winning bid, once it is over.
pub fn q9_auction(
    _id: u64,
    rows: GroupRows<Q9Event>,
    state: &mut GroupState<AuctionState<Q9Auction>>,
) -> Option<Q9Row> {
    if state.has_timed_out() {
        return finish(state).map(|(Q9Auction(a), (time, price, bidder))| Q9Row {
            id: a.auction,
            item_name: a.item_name,
            description: a.description,
            initial_bid: a.initial_bid,
            reserve: a.reserve,
            date_time: a.date_time,
            expires: a.expires,
            seller: a.seller,
            category: a.category,
            extra: a.extra,
            price,
            bidder,
            bid_date_time: Timestamp(time),
        });
    }
    step(
        state,
        rows.map(|e| match e.is_bid {
            false => Ok(Q9Auction(e)),
            true => Err((e.date_time.millis(), e.price, e.bidder)),
        }),
    );
    None
}

/// Rewrites `--output` of a query whose result updates as its final table: the last row
/// written for each key (q4: `category`; q9: `id`, whose baseline emits each auction's new
/// winners). Other queries' files are left as they are.
pub fn final_table(query: Query, path: &Path) -> std::io::Result<()> {
    let key = match query {
        Query::Q4 => "category",
        Query::Q9 => "id",
        _ => return Ok(()),
    };
    let mut last: std::collections::BTreeMap<u64, String> = Default::default();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        let row: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
        let k = row[key].as_u64().ok_or_else(|| {
            std::io::Error::other(format!("{}: a row without {key}", path.display()))
        })?;
        last.insert(k, line);
    }
    let mut out = BufWriter::new(File::create(path)?);
    for line in last.values() {
        writeln!(out, "{line}")?;
    }
    out.flush()
}
