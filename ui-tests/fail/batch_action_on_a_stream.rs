use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let _collect = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .filter(price > 10)
            .collect()
    };
    let _after = stream! {
        read::<Bid>(Vec::new())
            .collect()
            .filter(price > 10)
    };
    let _after_limit = stream! {
        read::<Bid>(Vec::new())
            .limit(3)
            .filter(price > 10)
            .show(3)
    };
}
