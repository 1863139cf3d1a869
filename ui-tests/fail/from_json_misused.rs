use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    price: i64,
}

fn main() {
    let _ = stream! {
        read_stream::<Line>(MemoryStream::new())
            .select(from_json(value))
            .write_stream(Console::new())
            .start()
    };
    let _ = stream! {
        read_stream::<Line>(MemoryStream::new())
            .select(value, from_json::<Bid>(value))
            .write_stream(Console::new())
            .start()
    };
    let _ = stream! {
        read_stream::<Line>(MemoryStream::new())
            .select(value as text)
            .select(from_json::<Bid>(value))
            .write_stream(Console::new())
            .start()
    };
}
