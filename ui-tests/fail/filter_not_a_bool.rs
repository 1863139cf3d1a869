use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .filter(price)
            .write_stream(Console::new())
    };
}
