use stream_runtime::prelude::*;

#[derive(Record)]
struct Impression {
    ad: u64,
    shown: Timestamp,
    slot: u64,
}

#[derive(Record)]
struct Click {
    clicked_ad: u64,
    clicked: Timestamp,
}

fn main() {
    // A sliding window makes several rows of one: only a group_by takes it.
    let _sliding = stream! {
        read_stream::<Impression>(MemoryStream::new())
            .select(ad, window(shown, "10 seconds", "5 seconds") as w)
            .write_stream(Console::new())
    };
    // A window is of a Timestamp column.
    let _not_a_time = stream! {
        read_stream::<Impression>(MemoryStream::new())
            .select(ad, window(slot, "10 seconds") as w)
            .write_stream(Console::new())
    };
    // Equal windows bound an outer join's state only when both are of watermarked columns.
    let _no_watermark = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new())
            .select(clicked_ad, window(clicked, "10 seconds") as w);
        read_stream::<Impression>(MemoryStream::new())
            .with_watermark(shown, "5 seconds")
            .select(ad, window(shown, "10 seconds") as w)
            .join(clicks, ad == clicks.clicked_ad && w == clicks.w, "left_outer")
            .write_stream(Console::new())
    };
}
