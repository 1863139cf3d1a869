use stream_runtime::prelude::*;

#[derive(Clone, Debug)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .filter(price > 10)
            .group_by(auction)
            .agg(sum(price) as total)
            .write_stream(Console::new())
            .output_mode(Update)
    };
}
