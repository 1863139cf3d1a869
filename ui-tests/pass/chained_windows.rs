use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    word: String,
    #[event_time]
    ts: Timestamp,
}

fn main() {
    let _query = stream! {
        read_stream::<Ev>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .group_by(window(ts, "5 minutes"), word)
            .agg(count() as n)
            .group_by(window(window_time(window), "1 hour"), word)
            .agg(sum(n) as total)
            .write_stream(MemorySink::new())
            .output_mode(Append)
    };
}
