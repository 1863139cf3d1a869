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
    // No watermark on the clicks: an impression could always still be clicked.
    let _no_watermark = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new());
        read_stream::<Impression>(MemoryStream::new())
            .with_watermark(shown, "5 seconds")
            .join(
                clicks,
                ad == clicks.clicked_ad
                    && clicks.clicked >= shown
                    && clicks.clicked <= shown + interval("1 hour"),
                "left_outer",
            )
            .write_stream(Console::new())
    };
    // No time range: nothing bounds how long a row waits.
    let _no_range = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new()).with_watermark(clicked, "5 seconds");
        read_stream::<Impression>(MemoryStream::new())
            .with_watermark(shown, "5 seconds")
            .join(clicks, ad == clicks.clicked_ad, "left_outer")
            .write_stream(Console::new())
    };
    // One bound only.
    let _one_bound = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new()).with_watermark(clicked, "5 seconds");
        read_stream::<Impression>(MemoryStream::new())
            .with_watermark(shown, "5 seconds")
            .join(clicks, ad == clicks.clicked_ad && clicks.clicked >= shown, "left_outer")
            .write_stream(Console::new())
    };
    // Left anti is not supported between two streams.
    let _anti = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new()).with_watermark(clicked, "5 seconds");
        read_stream::<Impression>(MemoryStream::new())
            .with_watermark(shown, "5 seconds")
            .join(clicks, ad == clicks.clicked_ad, "left_anti")
            .write_stream(Console::new())
    };
}
