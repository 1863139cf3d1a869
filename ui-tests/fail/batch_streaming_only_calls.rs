use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    let _write_stream = stream! {
        read::<Bid>(Vec::new())
            .filter(price > 10)
            .write_stream(Console::new())
    };
    let _trigger = stream! {
        read::<Bid>(Vec::new())
            .group_by(auction)
            .count()
            .trigger(ProcessingTime("1 second"))
    };
    let _output_mode = stream! {
        read::<Bid>(Vec::new())
            .group_by(auction)
            .count()
            .write(Console::new())
            .output_mode(Complete)
    };
    let _checkpoint = stream! {
        read::<Bid>(Vec::new())
            .select(auction)
            .write(Console::new())
            .checkpoint_location("checkpoints/bids")
    };
    let _start = stream! {
        let bids = read::<Bid>(Vec::new());
        bids.select(price).start()
    };
}
