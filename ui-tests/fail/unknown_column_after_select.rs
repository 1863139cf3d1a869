use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    // After `.select`, the macro knows the columns: it reports unknown ones itself.
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .select(auction, price * 2 as double_price)
            .filter(price > 10)
            .group_by(auction)
            .agg(sum(double_prize) as total)
            .write_stream(Console::new())
            .output_mode(Update)
    };
}
