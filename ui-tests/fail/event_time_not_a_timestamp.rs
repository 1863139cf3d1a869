use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
    date_time: u64,
}

fn main() {
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .with_watermark(date_time, "10 seconds")
            .group_by(window(date_time, "10 seconds", "5 secs"), auction)
            .count()
            .write_stream(Console::new())
    };
    let _sessions = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(session_window(date_time, "10 seconds"), auction)
            .count()
            .write_stream(Console::new())
            .output_mode(Complete)
    };
}
