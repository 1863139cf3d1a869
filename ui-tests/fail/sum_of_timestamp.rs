use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    date_time: Timestamp,
}

fn main() {
    let _query = stream! {
        read_stream::<Bid>(MemoryStream::new())
            .group_by(auction)
            .agg(avg(date_time) as mean)
            .write_stream(Console::new())
            .output_mode(Update)
    };
}
