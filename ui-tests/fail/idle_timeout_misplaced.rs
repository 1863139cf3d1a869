use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    user: String,
    ts: Timestamp,
}

fn main() {
    let _without_watermark = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_idle_timeout("1 minute")
            .write_stream(Console::new())
    };
    let _not_right_after = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .filter(user != "bot")
            .with_idle_timeout("1 minute")
            .write_stream(Console::new())
    };
    let _malformed = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .with_idle_timeout("1 minuet")
            .write_stream(Console::new())
    };
    let _zero = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .with_idle_timeout("0 seconds")
            .write_stream(Console::new())
    };
}
