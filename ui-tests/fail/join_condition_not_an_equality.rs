use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    bidder: u64,
    price: u64,
}

#[derive(Record)]
struct Person {
    id: u64,
    limit: u64,
}

fn main() {
    let people = read_static::<Person>(Files::json("people"));
    let _less = stream! {
        read_stream::<Bid>(MemoryStream::new()).join(people, price < limit)
    };
    let people = read_static::<Person>(Files::json("people"));
    let _or = stream! {
        read_stream::<Bid>(MemoryStream::new()).join(people, bidder == id || price == limit)
    };
    let people = read_static::<Person>(Files::json("people"));
    let _constant = stream! {
        read_stream::<Bid>(MemoryStream::new()).join(people, bidder == 7)
    };
}
