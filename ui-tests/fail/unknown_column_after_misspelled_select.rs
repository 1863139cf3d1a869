use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    // `pricee` is misspelled in the first select (rustc reports it, on the user struct); the
    // second select must not list it as a column that exists.
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .select(auction, pricee)
            .select(auction, prise)
    };
}
