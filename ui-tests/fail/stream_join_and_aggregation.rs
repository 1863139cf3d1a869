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
    // An aggregation before a join of two streams.
    let _before = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new())
            .with_watermark(clicked, "5 seconds")
            .group_by(window(clicked, "1 minute"), clicked_ad)
            .agg(count() as n);
        read_stream::<Impression>(MemoryStream::new())
            .join(clicks, ad == clicks.clicked_ad)
            .write_stream(Console::new())
    };
    // An aggregation after one.
    let _after = stream! {
        let clicks = read_stream::<Click>(MemoryStream::new()).with_watermark(clicked, "5 seconds");
        read_stream::<Impression>(MemoryStream::new())
            .with_watermark(shown, "5 seconds")
            .join(
                clicks,
                ad == clicks.clicked_ad
                    && clicks.clicked >= shown
                    && clicks.clicked <= shown + interval("1 hour"),
            )
            .group_by(window(shown, "1 hour"), ad)
            .agg(count() as clicks)
            .write_stream(Console::new())
    };
}
