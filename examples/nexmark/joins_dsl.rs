//! The `dsl` engine's join queries (docs/nexmark.md 2):
//!
//! - q3: the relational stream-stream inner join, without watermarks (both sides kept, as in
//!   Flink), each side filtered first.
//! - q4 and q9: auctions and bids mapped to one row type, unioned, watermarked 4 s behind
//!   their event time, grouped by auction id, and joined by `flat_map_groups_with_state`
//!   with an event-time timeout at the auction's end (`super::super::joins`): a
//!   `BETWEEN A.dateTime AND A.expires` per row is no range Spark's joins take, and Spark
//!   refuses an aggregation after a stream-stream join. q4 then averages per category, an
//!   aggregation Spark allows after the operator in Update output mode.

use super::super::common::{Query, Run};
use super::super::joins::{q4_auction, q9_auction, Q4Event, Q9Event};
use super::{configure, RunSink, Tracked};
use std::sync::Arc;
use stream_runtime::prelude::*;
use stream_runtime::source::nexmark::{
    Auction, Bid, Nexmark, NexmarkConfig, NexmarkRow, NexmarkSource, Person,
};

/// Starts q3, q4 or q9 of `run` on `session`.
pub fn start(
    run: &Arc<Run>,
    session: &Session,
    trigger: Trigger,
    sink: RunSink,
) -> Result<StreamingQuery, StreamError> {
    let auctions = Tracked::new(nexmark(run, Nexmark::auctions), run);
    match run.query {
        Query::Q3 => {
            let people = nexmark(run, Nexmark::people);
            let query = stream! {
                // Only the columns the result needs wait in the join's state (Spark's
                // optimizer prunes them so).
                let sellers = read_stream::<Person>(people)
                    .filter(state == "OR" || state == "ID" || state == "CA")
                    .select(id, name, city, state);
                read_stream::<Auction>(auctions)
                    .filter(category == 10)
                    .select(id, seller)
                    .join(sellers, seller == sellers.id)
                    .select(sellers.name as name, sellers.city as city, sellers.state as state, id)
                    .write_stream(sink)
                    .output_mode(Append)
                    .query_name("q3")
            };
            session.start(configure(query, trigger, run))
        }
        Query::Q4 => {
            let bids = nexmark(run, Nexmark::bids);
            let query = stream! {
                let bids = read_stream::<Bid>(bids).map(|b: Bid| Q4Event::of_bid(b));
                read_stream::<Auction>(auctions)
                    .map(|a: Auction| Q4Event::of_auction(a))
                    .union(bids)
                    .with_watermark(date_time, "4 seconds")
                    .group_by_key(|e: &Q4Event| e.auction)
                    .flat_map_groups_with_state(Append, EventTimeTimeout, q4_auction)
                    .group_by(category)
                    .agg(avg(final_price) as avg_price)
                    .write_stream(sink)
                    .output_mode(Update)
                    .query_name("q4")
            };
            session.start(configure(query, trigger, run))
        }
        Query::Q9 => {
            let bids = nexmark(run, Nexmark::bids);
            let query = stream! {
                let bids = read_stream::<Bid>(bids).map(|b: Bid| Q9Event::of_bid(b));
                read_stream::<Auction>(auctions)
                    .map(|a: Auction| Q9Event::of_auction(a))
                    .union(bids)
                    .with_watermark(date_time, "4 seconds")
                    .group_by_key(|e: &Q9Event| e.auction)
                    .flat_map_groups_with_state(Append, EventTimeTimeout, q9_auction)
                    .write_stream(sink)
                    .output_mode(Append)
                    .query_name("q9")
            };
            session.start(configure(query, trigger, run))
        }
        q => Err(StreamError::Config(format!(
            "{} is not a join query",
            q.name()
        ))),
    }
}

/// The run's Nexmark rows of one kind (`kind` is `Nexmark::auctions`, ...): all workers'
/// generators, paced if asked, with the run's batch size (as `nexmark_bids`, for any kind).
fn nexmark<T: NexmarkRow>(
    run: &Arc<Run>,
    kind: fn(NexmarkConfig) -> NexmarkSource<T>,
) -> NexmarkSource<T> {
    let source = kind(run.config.clone()).events_per_batch(run.batch);
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
