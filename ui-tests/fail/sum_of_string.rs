use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    bidder: String,
}

fn main() {
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(auction)
            .agg(count() as n, sum(bidder) as total)
    };
}
