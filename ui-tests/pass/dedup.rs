//! Every form of deduplication compiles, with and without a watermark, and before an
//! aggregation.
use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    ts: Timestamp,
}

fn main() {
    let _all = stream! {
        read_stream::<Click>(MemoryStream::new())
            .drop_duplicates()
            .write_stream(Console::new())
    };
    let _some = stream! {
        read_stream::<Click>(MemoryStream::new())
            .drop_duplicates(user, page)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    let _watermarked = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .drop_duplicates(user, ts)
            .write_stream(Console::new())
    };
    let _within = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .select(user, page, ts as time)
            .drop_duplicates_within_watermark(user)
            .write_stream(Console::new())
    };
    let _then_count = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .drop_duplicates(user, page, ts)
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as visitors)
            .write_stream(Console::new())
            .output_mode(Append)
    };
}
