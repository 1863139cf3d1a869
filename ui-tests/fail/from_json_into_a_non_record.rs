use stream_runtime::prelude::*;

struct Bid {
    price: i64,
}

fn main() {
    let _ = stream! {
        read_stream::<Line>(MemoryStream::new())
            .select(from_json::<Bid>(value))
            .write_stream(Console::new())
            .start()
    };
}
