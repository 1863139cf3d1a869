//! Trigger semantics (docs/spark-semantics.md 1.12) and the query handle's waiting calls.

use std::time::{Duration, Instant};
use stream_runtime::prelude::*;

#[derive(Record)]
struct N {
    n: i64,
}

fn rows(r: std::ops::Range<i64>) -> Vec<N> {
    r.map(|n| N { n }).collect()
}

#[test]
fn once_runs_one_batch_with_everything_then_stops() {
    let input = MemoryStream::new();
    input.add_data(rows(0..3));
    input.add_data(rows(3..5));
    let sink = MemorySink::new();
    let q = read_stream::<N>(input.clone())
        .write_stream(sink.clone())
        .trigger(Once)
        .start()
        .unwrap();
    assert_eq!(
        q.await_termination_timeout(Duration::from_secs(30)),
        Ok(true)
    );
    assert!(!q.is_active());
    let batches = sink.batches();
    assert_eq!(batches.len(), 1, "exactly one batch");
    assert_eq!(batches[0].1.len(), 5, "with all available data");
    // Data added after a Once query ended is not read.
    input.add_data(rows(5..6));
    assert_eq!(sink.rows().len(), 5);
}

#[test]
fn available_now_stops_when_the_data_available_at_start_is_done() {
    let input = MemoryStream::new();
    input.add_data(rows(0..2));
    let sink = MemorySink::new();
    let q = read_stream::<N>(input.clone())
        .write_stream(sink.clone())
        .trigger(AvailableNow)
        .start()
        .unwrap();
    q.await_termination().unwrap();
    assert_eq!(sink.rows().len(), 2);
    assert_eq!(q.last_progress().unwrap().num_input_rows, 2);
}

/// Spark's `ProcessingTimeExecutor`: the first batch at once, every later one at a multiple of
/// the interval on the wall clock, the first boundary after the previous batch's trigger time.
#[test]
fn processing_time_batches_start_at_interval_boundaries() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let q = read_stream::<N>(input.clone())
        .write_stream(sink.clone())
        .trigger(Trigger::processing_time("300 milliseconds").unwrap())
        .start()
        .unwrap();
    let mut starts = Vec::new();
    for i in 0..3 {
        input.add_data(rows(i..i + 1));
        q.process_all_available().unwrap();
        starts.push(Instant::now());
    }
    q.stop().unwrap();
    assert_eq!(sink.rows().len(), 3);
    let progress = q.recent_progress();
    assert_eq!(progress.len(), 3, "no batch without new data");
    // Each later batch waits for a boundary past the previous trigger: its 300 ms slot of the
    // wall clock is a later one. (Waking up late only moves a batch further on, so under load
    // this still holds.)
    let slot = |p: &stream_runtime::QueryProgress| {
        let ms = Timestamp::parse_iso(&p.timestamp)
            .expect("ISO timestamp")
            .millis();
        ms.div_euclid(300)
    };
    let slots: Vec<i64> = progress.iter().map(slot).collect();
    assert!(slots.windows(2).all(|w| w[0] < w[1]), "{slots:?}");
    // Batches 1 and 2 start at consecutive (or later) boundaries, an interval apart.
    let span = starts[2].duration_since(starts[1]);
    assert!(span >= Duration::from_millis(300 - 50), "{span:?}");
}

#[test]
fn handle_reports_identity_status_and_progress_json() {
    let input = MemoryStream::new();
    let q = read_stream::<N>(input.clone())
        .write_stream(MemorySink::new())
        .query_name("numbers")
        .start()
        .unwrap();
    assert_eq!(q.name(), Some("numbers"));
    assert_eq!(q.id().len(), 36);
    assert_ne!(q.id(), q.run_id());
    assert_eq!(
        q.await_termination_timeout(Duration::from_millis(50)),
        Ok(false),
        "still running"
    );
    input.add_data(rows(0..4));
    q.process_all_available().unwrap();
    let p = q.last_progress().unwrap();
    assert_eq!((p.batch_id, p.num_input_rows), (0, 4));
    let json: serde_json::Value = serde_json::from_str(&p.json()).unwrap();
    assert_eq!(json["name"], "numbers");
    assert_eq!(json["numInputRows"], 4);
    assert_eq!(json["sources"][0]["endOffset"], 1);
    assert_eq!(json["sink"]["numOutputRows"], 4);
    assert!(q.is_active());
    assert!(!q.status().is_trigger_active);
    q.stop().unwrap();
    assert!(!q.is_active());
    assert_eq!(q.exception(), None);
}
