//! Stream-static joins: inner (the default), left outer, semi and anti with the stream on the
//! left, right outer with the static table on the left, tuple keys, and the static table's
//! columns written `people.col` (an `Option` after an outer join).

use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    bidder: u64,
    price: u64,
    #[event_time]
    date_time: Timestamp,
}

#[derive(Record)]
struct Person {
    id: u64,
    name: String,
    state: String,
}

#[derive(Record)]
struct Auction {
    id: u64,
    seller: u64,
    category: u64,
}

fn main() {
    let bids = MemoryStream::<Bid>::new();
    let people_rows = vec![Person {
        id: 1,
        name: "Ann".into(),
        state: "OR".into(),
    }];
    // The architecture notes' example (docs/architecture.md): the static table's columns in a group_by.
    let per_state = stream! {
        let bids = read_stream::<Bid>(bids.clone());
        let people = read_static::<Person>(Files::json("data/people"));
        bids.with_watermark(date_time, "10 seconds")
            .filter(price > 1_000)
            .join(people, bidder == id)
            .group_by(window(date_time, "10 seconds", "5 seconds"), people.state)
            .agg(count() as bids, max(price) as top)
            .write_stream(Console::new())
            .output_mode(Append)
            .trigger(ProcessingTime("1 second"))
    };
    // Left outer: every bid, the person's columns are `Option`s; the joined row is a record
    // (bid columns, then person columns) that sinks write as it is.
    let outer = stream! {
        let people = read_static::<Person>(people_rows.clone());
        read_stream::<Bid>(bids.clone())
            .join(people, bidder == id, "left_outer")
            .with_column(known, people.is_some())
            .filter(price > 10 || people.name.is_none())
            .select(auction, price, people.name as buyer, people.state.unwrap_or_default() as state, known)
            .write_stream(Console::new())
    };
    let joined_rows = stream! {
        let people = read_static::<Person>(people_rows.clone());
        read_stream::<Bid>(bids.clone())
            .join(people, bidder == id, "left")
            .write_stream(MemorySink::new())
    };
    // Semi and anti joins keep the stream's rows; the static table may be named on either
    // side of `==`; several equalities make a tuple key.
    let semi_anti = stream! {
        let people = read_static::<Person>(people_rows.clone());
        let auctions = read_static::<Auction>(Files::csv("data/auctions"));
        let known = read_stream::<Bid>(bids.clone()).join(people, people.id == bidder, "left_semi");
        known
            .join(auctions, auction == id && bidder == seller, "left_anti")
            .select(auction, price)
            .write_stream(Console::new())
    };
    // The static table on the left: inner or right outer; two tables, the second keyed by a
    // column of the first.
    let table_left = stream! {
        let people = read_static::<Person>(people_rows.clone());
        let auctions = read_static::<Auction>(Files::csv("data/auctions"));
        let stream = read_stream::<Bid>(bids.clone()).select(auction, bidder, price * 2 as double);
        auctions
            .join(stream, id == auction, "right_outer")
            .join(people, auctions.seller.unwrap_or_default() == id)
            .with_column(category, auctions.category)
            .group_by(people.state, category)
            .agg(sum(double) as total)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // A static table and a stream from the surrounding code (the receiver is the stream,
    // unless the join type is "right_outer").
    let table = read_static::<Person>(people_rows);
    let stream = read_stream::<Bid>(bids);
    let stream_left = stream! {
        stream.join(table, bidder == id).select(bidder, table.name as name)
    };
    let (table, stream) = (
        read_static::<Person>(Vec::new()),
        read_stream::<Bid>(MemoryStream::new()),
    );
    let outside_left = stream! {
        table.join(stream, id == bidder, "right_outer").select(bidder, table.name as name)
    };
    let _ = (per_state, outer, joined_rows, semi_anti, table_left);
    let _: Dataset<_> = stream_left;
    let _: Dataset<_> = outside_left;
}
