use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    // Append is the default output mode, as in Spark.
    let _default = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(auction)
            .agg(max(price) as top)
            .write_stream(Console::new())
    };
    let _explicit = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(auction)
            .count()
            .write_stream(Console::new())
            .output_mode(Append)
    };
}
