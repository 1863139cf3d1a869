use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
    date_time: Timestamp,
    received: Timestamp,
}

fn main() {
    // A typo in the watermark's column, in Append mode (the default).
    let _watermark = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .with_watermark(date_tme, "10 seconds")
            .group_by(window(date_time, "10 seconds"), auction)
            .count()
            .write_stream(Console::new())
    };
    // A typo in the window's column, in Append mode.
    let _window = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .with_watermark(date_time, "10 seconds")
            .group_by(window(dat_time, "10 seconds"), auction)
            .agg(max(price) as top)
            .write_stream(Console::new())
            .output_mode(Append)
    };
    // Both columns exist, but the watermark is on another one than the window: the output-mode
    // error.
    let _other_column = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .with_watermark(received, "10 seconds")
            .group_by(window(date_time, "10 seconds"), auction)
            .count()
            .write_stream(Console::new())
    };
}
