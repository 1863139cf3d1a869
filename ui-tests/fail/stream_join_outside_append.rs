use stream_runtime::prelude::*;

#[derive(Record)]
struct Impression {
    ad: u64,
    shown: Timestamp,
}

#[derive(Record)]
struct Click {
    clicked_ad: u64,
    clicked: Timestamp,
}

fn main() {
    // Joins of two streams run in Append mode only.
    let _update = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new());
        read_stream::<Impression>(MemoryStream::new())
            .join(clicks, ad == clicks.clicked_ad)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    let _complete = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new());
        read_stream::<Impression>(MemoryStream::new())
            .join(clicks, ad == clicks.clicked_ad)
            .group_by(ad)
            .count()
            .write_stream(Console::new())
            .output_mode(Complete)
    };
}
