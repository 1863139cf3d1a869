//! Which micro-batches run, with which watermark, and which rows are late, as in Spark 3.4+
//! (`MicroBatchExecution.constructNextBatch`, `IncrementalExecution`'s watermarks for late events
//! and for eviction): a batch judges late rows by the previous batch's watermark and evicts by
//! its own; waiting data always gets a data batch; a batch without data runs only when nothing is
//! waiting and a stateful operator's input watermark advanced.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    key: String,
    #[event_time]
    ts: Timestamp,
}

#[derive(Record)]
struct WindowCount {
    start: i64,
    n: i64,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("batches-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes a JSON-lines file of events at `secs` with modification time `mtime` (s).
    fn events(&self, name: &str, secs: &[i64], mtime: u64) {
        let text: String = secs
            .iter()
            .map(|s| format!("{{\"key\":\"k\",\"ts\":\"1970-01-01T00:00:{s:02}Z\"}}\n"))
            .collect();
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime))
            .unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn five_second_counts(ds: Dataset<Ev>) -> Dataset<WindowCount> {
    ds.with_watermark(|e| e.ts, "10 seconds")
        .group_by_window(WindowSpec::tumbling("5 seconds").unwrap(), |e| e.ts, |_| ())
        .agg(
            |a| (a.count(),),
            |w, (), (n,)| WindowCount {
                start: w.start.millis() / 1000,
                n,
            },
        )
}

/// The review's reproduction: with all three files present, Spark reads one per batch; file 3's
/// row at 12 s arrives in the batch whose watermark (15 s) closes window [10 s, 15 s), but it is
/// judged late only against the previous batch's watermark (5 s): it is counted, and the window
/// closes in that same batch with 6 rows. No batch without data runs while files are waiting.
#[test]
fn a_row_is_late_only_against_the_previous_batch_watermark() {
    for workers in [1, 2] {
        let dir = TempDir::new(&format!("late-{workers}"));
        dir.events("1.json", &[10, 11, 12, 13, 14, 15], 100);
        dir.events("2.json", &[25], 200);
        dir.events("3.json", &[12], 300);
        let sink = MemorySink::new();
        let query = five_second_counts(read_stream::<Ev>(
            Files::json(&dir.0).max_files_per_trigger(1),
        ))
        .write_stream(sink.clone())
        .output_mode(Append)
        .trigger(AvailableNow);
        let q = Session::with_workers(workers).start(query).unwrap();
        q.await_termination().unwrap();
        let out: Vec<(u64, Vec<(i64, i64)>)> = sink
            .batches()
            .into_iter()
            .map(|(id, rows)| (id, rows.iter().map(|r| (r.start, r.n)).collect()))
            .collect();
        assert_eq!(
            out,
            [(0, vec![]), (1, vec![]), (2, vec![(10, 6)])],
            "{workers} workers"
        );
        let progress = q.recent_progress();
        let rows: Vec<u64> = progress.iter().map(|p| p.num_input_rows).collect();
        assert_eq!(rows, [6, 1, 1], "three data batches and nothing else");
        let watermarks: Vec<&str> = progress
            .iter()
            .map(|p| p.event_time["watermark"].as_str())
            .collect();
        assert_eq!(
            watermarks,
            [
                "1970-01-01T00:00:00.000Z",
                "1970-01-01T00:00:05.000Z",
                "1970-01-01T00:00:15.000Z"
            ]
        );
        let dropped: u64 = progress
            .iter()
            .flat_map(|p| &p.state_operators)
            .map(|s| s.num_rows_dropped_by_watermark)
            .sum();
        assert_eq!(dropped, 0);
    }
}

/// A row at or below the previous batch's watermark is late: dropped and counted.
#[test]
fn a_row_at_the_previous_watermark_is_dropped() {
    let dir = TempDir::new("dropped");
    dir.events("1.json", &[10, 11, 12, 13, 14, 15], 100);
    dir.events("2.json", &[25], 200);
    // Window [0 s, 5 s) ends at 5 s, the watermark of batch 1: late in batch 2.
    dir.events("3.json", &[4, 16], 300);
    let sink = MemorySink::new();
    let query = five_second_counts(read_stream::<Ev>(
        Files::json(&dir.0).max_files_per_trigger(1),
    ))
    .write_stream(sink.clone())
    .output_mode(Append)
    .trigger(AvailableNow);
    let q = Session::local().start(query).unwrap();
    q.await_termination().unwrap();
    let rows: Vec<(i64, i64)> = sink.rows().iter().map(|r| (r.start, r.n)).collect();
    assert_eq!(rows, [(10, 5)]);
    let dropped: Vec<u64> = q
        .recent_progress()
        .iter()
        .map(|p| p.state_operators[0].num_rows_dropped_by_watermark)
        .collect();
    assert_eq!(dropped, [0, 0, 1]);
}

/// With data arriving faster than the trigger interval, every batch is a data batch (Spark's
/// `constructNextBatch`: new data first): the watermark moving does not insert a batch without
/// data that would make the waiting rows wait a whole extra interval.
#[test]
fn waiting_data_gets_a_data_batch_before_a_no_data_batch() {
    let input = MemoryStream::new();
    let query = five_second_counts(read_stream::<Ev>(input.clone()))
        .write_stream(Noop)
        .output_mode(Append)
        .trigger(Trigger::ProcessingTime(300));
    let q = Session::local().start(query).unwrap();
    // A row every 20 ms for 2.4 s, event time advancing 1 s per row: the watermark moves in
    // every batch.
    for i in 0..120 {
        input.add_data([Ev {
            key: "k".into(),
            ts: Timestamp(i * 1000),
        }]);
        std::thread::sleep(Duration::from_millis(20));
    }
    let progress = q.recent_progress();
    q.stop().unwrap();
    let batches: Vec<u64> = progress.iter().map(|p| p.num_input_rows).collect();
    assert!(batches.len() >= 4, "{batches:?}");
    assert!(
        batches.iter().all(|n| *n > 0),
        "no batch without data while data was waiting: {batches:?}"
    );
}

#[derive(Record)]
struct KeyCount {
    key: String,
    n: i64,
}

/// Spark runs a batch without data after the watermark advances whenever a stateful operator
/// is downstream of a watermark, in Append and Update mode, even an aggregation by a key without
/// event time (`StateStoreSaveExec.shouldRunAnotherBatch`); it emits nothing in Update mode.
#[test]
fn an_aggregation_below_a_watermark_gets_no_data_batches_in_update_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Ev>(input.clone())
        .with_watermark(|e| e.ts, "5 seconds")
        .group_by_key(|e| e.key.clone())
        .agg(|a| (a.count(),), |key, (n,)| KeyCount { key, n })
        .write_stream(sink.clone())
        .output_mode(Update);
    let q = Session::local().start(query).unwrap();
    input.add_data([Ev {
        key: "a".into(),
        ts: Timestamp(10_000),
    }]);
    q.process_all_available().unwrap();
    input.add_data([Ev {
        key: "a".into(),
        ts: Timestamp(11_000),
    }]);
    q.process_all_available().unwrap();
    let progress = q.recent_progress();
    q.stop().unwrap();
    let shape: Vec<(u64, u64)> = progress
        .iter()
        .map(|p| (p.batch_id, p.num_input_rows))
        .collect();
    // Batch 0 moves the watermark to 5 s: batch 1 runs without data; batch 2 reads the second
    // row and moves it to 6 s: batch 3 runs without data.
    assert_eq!(shape, [(0, 1), (1, 0), (2, 1), (3, 0)]);
    let written: Vec<(u64, usize)> = sink
        .batches()
        .iter()
        .map(|(id, rows)| (*id, rows.len()))
        .collect();
    assert_eq!(written, [(0, 1), (1, 0), (2, 1), (3, 0)]);
}

/// Complete mode and queries without a watermark never get a batch without data.
#[test]
fn complete_mode_gets_no_no_data_batches() {
    let input = MemoryStream::new();
    let query = read_stream::<Ev>(input.clone())
        .with_watermark(|e| e.ts, "5 seconds")
        .group_by_key(|e| e.key.clone())
        .agg(|a| (a.count(),), |key, (n,)| KeyCount { key, n })
        .write_stream(MemorySink::new())
        .output_mode(Complete);
    let q = Session::local().start(query).unwrap();
    input.add_data([Ev {
        key: "a".into(),
        ts: Timestamp(10_000),
    }]);
    q.process_all_available().unwrap();
    let n = q.recent_progress().len();
    q.stop().unwrap();
    assert_eq!(n, 1);
}
