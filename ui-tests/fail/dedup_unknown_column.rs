use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    ts: Timestamp,
}

fn main() {
    let _query = stream! {
        read_stream::<Click>(MemoryStream::new())
            .select(user, page, ts)
            .with_watermark(ts, "10 seconds")
            .drop_duplicates(usr, ts)
            .write_stream(Console::new())
    };
    // On the input's own type, rustc checks the column, on the same token.
    let _query = stream! {
        read_stream::<Click>(MemoryStream::new())
            .drop_duplicates(pages)
            .write_stream(Console::new())
    };
}
