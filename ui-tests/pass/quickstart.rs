//! The whole column-expression language in one query: filter, select with aliases, casts and
//! lit(..), with_column, group_by, all five aggregates, and the writer's settings.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    bidder: u64,
    price: u64,
    channel: String,
    date_time: Timestamp,
}

fn main() {
    let factor = 3u64;
    let bids_source = MemoryStream::<Bid>::new();
    let query = stream! {
        let bids = read_stream::<Bid>(bids_source.clone());
        bids.filter(price > 1_000 && auction != 3 && channel == "web")
            .select(
                auction,
                price * 2 as double_price,
                lit(factor) as c,
                price as f64 / 100.0 as dollars,
                channel.to_uppercase() as channel,
                "bids" as kind,
            )
            .with_column(bonus, double_price + c)
            .r#where(!kind.is_empty() && (dollars >= 0.5 || bonus > 10))
            .group_by(auction, channel)
            .agg(
                count() as n,
                sum(double_price) as total,
                max(c) as top,
                avg(dollars) as mean,
                min(bonus) as low,
            )
            .write_stream(Console::new())
            .output_mode(Update)
            .trigger(ProcessingTime("1 second"))
            .query_name("bids")
    };
    let _: DataStreamWriter<_> = query;
}
