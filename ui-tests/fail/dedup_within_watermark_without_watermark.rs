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
            .drop_duplicates_within_watermark(user, page)
            .write_stream(Console::new())
    };
}
