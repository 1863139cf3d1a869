use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
}

fn main() {
    // After an aggregation, but in Update mode.
    let _update = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(auction)
            .agg(max(price) as top)
            .order_by(top.desc())
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // Without an aggregation.
    let _stateless = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .order_by(desc(price), auction)
            .write_stream(Console::new())
            .output_mode(Append)
    };
    // Sorting is the last step before the sink.
    let _not_last = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(auction)
            .count()
            .order_by(count)
            .filter(count > 1)
            .write_stream(Console::new())
            .output_mode(Complete)
    };
}
