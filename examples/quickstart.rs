//! The quickstart: a real pipeline on built-in data, written once in `stream!`.
//!
//! A deterministic rate source produces 100 rows per micro-batch, covering one second of event
//! time each. The query counts rows per 1-second event-time window and parity, with a 1-second
//! watermark, in append mode: each window's final row is printed once, in the batch whose
//! watermark has passed its end. The program prints ten batches, the last progress report, and
//! exits.
//!
//! Run: `cargo run --release --example quickstart` (add `-- -w 2` for two worker threads).

use std::time::Duration;
use stream_runtime::prelude::*;

/// What the output shows, for a newcomer.
const INTRO: &str = "\
Each micro-batch reads 100 rows covering one second of event time (batch N: second N). The
watermark trails the latest event time by 1 second, and a window is final once the watermark
has passed its end: in append mode it is printed then, once. So the first batches print
nothing (no window is final yet), and from batch 3 on each batch prints the window of second
N-3, one row per parity. A batch that reads no rows (a \"no-data batch\") runs only when the
watermark moved and no new data is waiting, so that windows close without waiting for more
input; this source always has data, so every batch here reads rows.
";

/// The quickstart: counts rows of a rate source per 1-second window and parity.
#[stream::main]
fn main(session: Session) -> Result<(), StreamError> {
    let query = stream! {
        read_stream::<RateRow>(RateMicroBatch::new(100).advance_millis_per_batch(1000))
            .with_watermark(timestamp, "1 second")
            .with_column(parity, value % 2)
            .group_by(window(timestamp, "1 second"), parity)
            .agg(count() as rows, sum(value) as total, max(value) as last)
            .write_stream(Console::new().truncate(false))
            .output_mode(Append)
            .trigger(ProcessingTime("100 milliseconds"))
            .query_name("quickstart")
    };
    println!("{INTRO}");
    let query = session.start(query)?;
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
