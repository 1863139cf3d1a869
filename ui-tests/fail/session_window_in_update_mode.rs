use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    idle_ms: i64,
    at: Timestamp,
}

fn main() {
    let _fixed_gap = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(at, "10 seconds")
            .group_by(session_window(at, "5 minutes"), user)
            .count()
            .write_stream(Console::new())
            .output_mode(Update)
    };
    let _gap_per_row = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by(user, session_window(at, idle_ms * 2) as visit)
            .agg(count() as clicks)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // A session gap is a positive duration.
    let _bad_gap = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(at, "10 seconds")
            .group_by(session_window(at, "0 seconds"), user)
            .count()
            .write_stream(Console::new())
    };
}
