//! Watermarks as Spark scopes them: two inputs, each with its own watermark, joined by a union;
//! an idle timeout on one; Append mode on a grouping by the watermarked column itself; `count`
//! of a column and sums of nullable columns.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    user: String,
    amount: Option<i64>,
    ts: Timestamp,
}

fn main() {
    let (a, b) = (MemoryStream::<Ev>::new(), MemoryStream::<Ev>::new());
    let per_second = stream! {
        let first = read_stream::<Ev>(a.clone()).with_watermark(ts, "5 seconds");
        let second = read_stream::<Ev>(b.clone())
            .with_watermark(ts, "5 seconds")
            .with_idle_timeout("1 minute");
        first
            .union(second)
            .group_by(ts, user)
            .agg(count() as n, count(amount), sum(amount), avg(amount) as mean)
            .write_stream(Console::new())
            .output_mode(Append)
    };
    let _ = per_second;
}
