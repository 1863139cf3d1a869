use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    bidder: u64,
    price: u64,
}

#[derive(Record)]
struct Person {
    id: String,
    state: String,
}

fn main() {
    let people = read_static::<Person>(Files::json("people"));
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .join(people, bidder == id)
            .write_stream(Console::new())
    };
}
