use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    ts: Timestamp,
}

fn main() {
    let _query = stream! {
        read_stream::<Click>(MemoryStream::new())
            .drop_duplicates(user.len())
            .write_stream(Console::new())
    };
}
