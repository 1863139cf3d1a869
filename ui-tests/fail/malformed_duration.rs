use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
    date_time: Timestamp,
}

fn main() {
    let _trigger = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .write_stream(Console::new())
            .trigger(ProcessingTime("1 secnd"))
    };
    let _windows = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .with_watermark(date_time, "10")
            .group_by(window(date_time, "10 seconds", "1 minute"), auction)
            .count()
            .write_stream(Console::new())
    };
}
