use stream_runtime::prelude::*;

#[derive(Record)]
struct Raw {
    id: i64,
    value: String,
}

#[derive(Record)]
struct Bid {
    price: i64,
}

fn main() {
    let _ = stream! {
        read_stream::<Raw>(MemoryStream::new())
            .select(from_json::<Bid>(id))
            .write_stream(Console::new())
            .start()
    };
}
