use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    bidder: u64,
    price: u64,
}

#[derive(Record)]
struct Person {
    id: u64,
    state: String,
}

fn main() {
    let _query = stream! {
        let bids = read_stream::<Bid>(MemoryStream::new());
        let people = read_static::<Person>(Files::json("people"));
        let full = bids.join(people, bidder == id, "full_outer");
        let right = bids.join(people, bidder == id, "right_outer");
        let static_left = people.join(bids, id == bidder, "left_outer");
        let unknown = bids.join(people, bidder == id, "cross");
        full.union(right).union(static_left).union(unknown)
    };
}
