use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    ts: Timestamp,
}

fn main() {
    let _query = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .drop_duplicates(user, ts)
            .write_stream(Console::new())
            .output_mode(Complete)
    };
}
