//! Event time: a watermark, tumbling and sliding windows, append mode.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
    #[event_time]
    date_time: Timestamp,
}

fn main() {
    let bids = MemoryStream::<Bid>::new();
    let per_window = stream! {
        read_stream::<Bid>(bids.clone())
            .with_watermark(date_time, "10 seconds")
            .select(auction, price, date_time as t)
            .group_by(window(t, "10 seconds", "5 seconds"), auction)
            .agg(count() as bids, max(price) as top)
            .filter(window.end.millis() - window.start.millis() == 10_000)
            .write_stream(Console::new())
            .output_mode(Append)
    };
    let tumbling = stream! {
        read_stream::<Bid>(bids.clone())
            .with_watermark(date_time, "1 minute")
            .group_by(window(date_time, "1 minute") as minute)
            .count()
            .write_stream(Console::new())
    };
    let _ = (per_window, tumbling);
}
