use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let _union = stream! {
        let old = read::<Bid>(Vec::new());
        read_stream::<Bid>(MemoryStream::new()).union(old)
    };
    let _join = stream! {
        let live = read_stream::<Bid>(MemoryStream::new());
        read::<Bid>(Vec::new()).join(live, auction == auction)
    };
    let _right_outer = stream! {
        let other = read::<Bid>(Vec::new());
        read::<Bid>(Vec::new()).join(other, auction == auction, "right_outer")
    };
}
