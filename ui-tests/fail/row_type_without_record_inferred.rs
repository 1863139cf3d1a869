use stream_runtime::prelude::*;

// Clone, as `MemoryStream::new()` needs, but not Record.
#[derive(Clone)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let input: MemoryStream<Bid> = MemoryStream::new();
    let _query = stream! {
        read_stream(input)
            .select(auction, price)
            .write_stream(Console::new())
    };
}
