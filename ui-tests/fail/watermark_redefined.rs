use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    user: String,
    ts: Timestamp,
    other: Timestamp,
}

fn main() {
    let _twice = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .with_watermark(other, "1 second")
            .group_by(window(other, "1 minute"))
            .count()
            .write_stream(Console::new())
    };
    // Dropping the first watermark's column does not make room for another (Spark's rule).
    let _after_select = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .select(user, other)
            .with_watermark(other, "1 second")
            .write_stream(Console::new())
    };
}
