use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    at: Timestamp,
}

fn main() {
    // The select drops the watermarked column: the window's column is unknown, and that is the
    // one error (not also an output-mode error about the watermark).
    let _query = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(at, "10 seconds")
            .select(user, page)
            .group_by(window(at, "1 minute"), user)
            .count()
            .write_stream(Console::new())
    };
}
