//! Event-time windows with late data: the same input through three queries, one per output
//! mode, printing per step what each emits and how many rows the watermark dropped.
//!
//! Run: `cargo run --release --example late_data`
//!
//! Query: 10-second tumbling windows per word, watermark 10 seconds behind the latest event time.
//! - append emits a window once, when the watermark passes its end, and drops rows for closed
//!   windows;
//! - update emits the windows a step changed, and also drops late rows;
//! - complete emits the whole table every step and never drops or forgets anything.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Event {
    word: String,
    #[event_time]
    time: Timestamp,
}

fn at(word: &str, seconds: i64) -> Event {
    Event {
        word: word.into(),
        time: Timestamp(seconds * 1000),
    }
}

fn main() -> Result<(), StreamError> {
    let input = MemoryStream::new();
    let (append, update, complete) = (MemorySink::new(), MemorySink::new(), MemorySink::new());
    let queries = [
        stream! {
            read_stream::<Event>(input.clone())
                .with_watermark(time, "10 seconds")
                .group_by(window(time, "10 seconds"), word)
                .agg(count() as n)
                .write_stream(append.clone())
                .output_mode(Append)
        }
        .start()?,
        stream! {
            read_stream::<Event>(input.clone())
                .with_watermark(time, "10 seconds")
                .group_by(window(time, "10 seconds"), word)
                .agg(count() as n)
                .write_stream(update.clone())
                .output_mode(Update)
        }
        .start()?,
        stream! {
            read_stream::<Event>(input.clone())
                .with_watermark(time, "10 seconds")
                .group_by(window(time, "10 seconds"), word)
                .agg(count() as n)
                .write_stream(complete.clone())
                .output_mode(Complete)
        }
        .start()?,
    ];
    let steps = [
        vec![at("cat", 1), at("dog", 4), at("cat", 12)],
        vec![at("cat", 14), at("dog", 25)],
        // cat@3 belongs to [0,10), which the watermark (25 - 10 = 15) has closed: late.
        vec![at("cat", 3), at("dog", 26)],
        vec![at("owl", 45)],
        // dog@18 belongs to [10,20); the watermark is now 35: late.
        vec![at("dog", 18)],
    ];
    let mut seen = [(0usize, 0usize); 3];
    for (i, step) in steps.into_iter().enumerate() {
        let shown: Vec<String> = step
            .iter()
            .map(|e| format!("{}@{}s", e.word, e.time.millis() / 1000))
            .collect();
        println!("step {i}: input {}", shown.join(", "));
        input.add_data(step);
        for q in &queries {
            q.process_all_available()?;
        }
        let s = |r: &(Window, &String, i64)| {
            format!(
                "[{}s,{}s) {}={}",
                r.0.start.millis() / 1000,
                r.0.end.millis() / 1000,
                r.1,
                r.2
            )
        };
        report(
            "append",
            &queries[0],
            &append.batches(),
            &mut seen[0],
            false,
            |r| s(&(r.window, &r.word, r.n)),
        );
        report(
            "update",
            &queries[1],
            &update.batches(),
            &mut seen[1],
            false,
            |r| s(&(r.window, &r.word, r.n)),
        );
        report(
            "complete",
            &queries[2],
            &complete.batches(),
            &mut seen[2],
            true,
            |r| s(&(r.window, &r.word, r.n)),
        );
    }
    for q in &queries {
        q.stop()?;
    }
    Ok(())
}

/// Prints what one query emitted since the last step (`seen`: batches and progress reports
/// already shown) and how many rows its watermark dropped.
fn report<R>(
    name: &str,
    query: &StreamingQuery,
    batches: &[(u64, Vec<R>)],
    seen: &mut (usize, usize),
    complete: bool,
    show: impl Fn(&R) -> String,
) {
    let new: Vec<&R> = if complete {
        // Complete mode: the latest table supersedes the earlier ones.
        batches
            .last()
            .map(|(_, r)| r.iter().collect())
            .unwrap_or_default()
    } else {
        batches[seen.0..].iter().flat_map(|(_, r)| r).collect()
    };
    let mut rows: Vec<String> = new.into_iter().map(show).collect();
    rows.sort();
    let progress = query.recent_progress();
    let dropped: u64 = progress[seen.1..]
        .iter()
        .flat_map(|p| &p.state_operators)
        .map(|s| s.num_rows_dropped_by_watermark)
        .sum();
    let watermark = progress
        .last()
        .and_then(|p| p.event_time.get("watermark").cloned())
        .unwrap_or_default();
    *seen = (batches.len(), progress.len());
    let rows = if rows.is_empty() {
        "nothing".to_string()
    } else {
        rows.join(", ")
    };
    println!("  {name:<8} emits {rows:<48} dropped {dropped}  (watermark {watermark})");
}
