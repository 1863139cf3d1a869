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
            .group_by(window(ts, "1 minute"), user)
            .agg(count() as clicks)
            .drop_duplicates(user)
            .write_stream(Console::new())
            .output_mode(Append)
    };
}
