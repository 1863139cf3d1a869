use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let limit = 5u64;
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .select(auction, price)
            .filter(price > limit)
    };
}
