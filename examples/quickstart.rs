//! The quickstart: a real pipeline on built-in data, written once in `stream!`.
//!
//! A deterministic rate source produces 100 rows per micro-batch, one second of event time
//! apart. The query counts rows per 3-second event-time window and parity, with a 1-second
//! watermark, in append mode: each window's final row is printed once, when the watermark
//! passes its end. The program prints ten batches, the last progress report, and exits.
//!
//! Run: `cargo run --release --example quickstart` (add `-- -w 2` for two worker threads).

use std::time::Duration;
use stream_runtime::prelude::*;

fn main() -> Result<(), StreamError> {
    let query = stream! {
        read_stream::<RateRow>(RateMicroBatch::new(100).advance_millis_per_batch(1000))
            .with_watermark(timestamp, "1 second")
            .with_column(parity, value % 2)
            .group_by(window(timestamp, "3 seconds"), parity)
            .agg(count() as rows, sum(value) as total, max(value) as last)
            .write_stream(Console::new().truncate(false))
            .output_mode(Append)
            .trigger(ProcessingTime("100 milliseconds"))
            .query_name("quickstart")
    };
    let query = Session::from_args()?.start(query)?;
    while query.last_progress().is_none_or(|p| p.batch_id < 9) {
        if query.await_termination_timeout(Duration::from_millis(50))? {
            break;
        }
    }
    query.stop()?;
    if let Some(progress) = query.last_progress() {
        println!("Last progress report:\n{}", progress.json());
    }
    Ok(())
}
