//! Watermarks as Spark keeps them: several inputs combine by `min` with a silent input at 0
//! (`WatermarkTracker`), a watermark closes only the groups whose key carries its column
//! (`watermarkPredicateForKeys`), a second watermark on one input is refused, and a key that is
//! the event-time column itself is final once the watermark passes it. Beyond Spark: an idle
//! input can stop holding the watermark back, and the end of bounded input closes every window.

use std::time::Duration;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    key: String,
    #[event_time]
    ts: Timestamp,
    other: Timestamp,
}

#[derive(Record)]
struct WindowCount {
    start: i64,
    n: i64,
}

fn ev(key: &str, secs: i64) -> Ev {
    Ev {
        key: key.into(),
        ts: Timestamp(secs * 1000),
        other: Timestamp(secs * 1000),
    }
}

fn count_windows(w: Window, (): (), (n,): (i64,)) -> WindowCount {
    WindowCount {
        start: w.start.millis() / 1000,
        n,
    }
}

/// The review's reproduction: input a gets a row at 100 s while input b is silent; then b gets
/// a row at 50 s. Spark's global watermark stays 0 while b has seen nothing, so b's row is kept.
#[test]
fn a_silent_input_holds_the_min_watermark_at_zero() {
    for workers in [1, 2] {
        let (a, b) = (MemoryStream::new(), MemoryStream::new());
        let sink = MemorySink::new();
        let query = read_stream::<Ev>(a.clone())
            .with_watermark(|e| e.ts, "0 seconds")
            .union(read_stream::<Ev>(b.clone()).with_watermark(|e| e.ts, "0 seconds"))
            .group_by_window(
                WindowSpec::tumbling("10 seconds").unwrap(),
                |e| e.ts,
                |_| (),
            )
            .agg(|a| (a.count(),), count_windows)
            .write_stream(sink.clone())
            .output_mode(Update);
        let q = Session::with_workers(workers).start(query).unwrap();
        a.add_data([ev("a", 100)]);
        q.process_all_available().unwrap();
        b.add_data([ev("b", 50)]);
        q.process_all_available().unwrap();
        let progress = q.recent_progress();
        q.stop().unwrap();
        let rows: Vec<(i64, i64)> = sink.rows().iter().map(|r| (r.start, r.n)).collect();
        assert_eq!(rows, [(100, 1), (50, 1)], "{workers} workers");
        let dropped: u64 = progress
            .iter()
            .map(|p| p.state_operators[0].num_rows_dropped_by_watermark)
            .sum();
        assert_eq!(dropped, 0);
        // Batch 1 still ran under watermark 0; after it, min(100 s, 50 s).
        let wm: Vec<&str> = progress
            .iter()
            .map(|p| p.event_time["watermark"].as_str())
            .collect();
        assert_eq!(
            wm[..2],
            ["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"]
        );
        assert_eq!(wm.last().copied(), Some("1970-01-01T00:00:50.000Z"));
    }
}

/// Beyond Spark: with an idle timeout, a silent input stops holding the watermark back.
#[test]
fn an_idle_input_stops_holding_the_watermark_back() {
    let (a, b) = (MemoryStream::new(), MemoryStream::new());
    let query = read_stream::<Ev>(a.clone())
        .with_watermark(|e| e.ts, "0 seconds")
        .union(
            read_stream::<Ev>(b.clone())
                .with_watermark(|e| e.ts, "0 seconds")
                .with_idle_timeout("1 second"),
        )
        .group_by_window(
            WindowSpec::tumbling("10 seconds").unwrap(),
            |e| e.ts,
            |_| (),
        )
        .agg(|a| (a.count(),), count_windows)
        .write_stream(MemorySink::new())
        .output_mode(Update);
    let q = Session::local().start(query).unwrap();
    std::thread::sleep(Duration::from_millis(1_500));
    a.add_data([ev("a", 100)]);
    q.process_all_available().unwrap();
    let wm = q.last_progress().unwrap().event_time["watermark"].clone();
    let last = q.recent_progress();
    q.stop().unwrap();
    // The data batch ran under 0; the batch without data after it under 100 s.
    assert_eq!(wm, "1970-01-01T00:01:40.000Z", "{last:?}");
}

#[test]
fn an_idle_timeout_needs_a_watermark() {
    let query = read_stream::<Ev>(MemoryStream::new())
        .with_idle_timeout("1 second")
        .write_stream(Noop);
    let err = query.start().err().expect("refused");
    assert!(
        err.to_string().contains("right after with_watermark"),
        "{err}"
    );
}

fn windows_on(column: &str) -> DataStreamWriter<WindowCount> {
    read_stream::<Ev>(MemoryStream::new())
        .with_watermark_on("ts", |e| e.ts, "10 seconds")
        .group_by_window_on(
            WindowSpec::tumbling("10 seconds").unwrap(),
            column,
            |e| e.other,
            |_| (),
        )
        .agg(|a| (a.count(),), count_windows)
        .write_stream(MemorySink::new())
}

/// A watermark on `ts` does not close windows on `other` (Spark refuses Append there).
#[test]
fn append_needs_the_window_on_the_watermarked_column() {
    let err = windows_on("other").output_mode(Append).start().err();
    let err = err.expect("refused").to_string();
    assert!(err.contains("Append output mode is not supported"), "{err}");
    assert!(windows_on("ts").output_mode(Append).start().is_ok());
}

/// A window on a column without the watermark keeps every window, in Update mode, and drops no
/// row as late (even windows before 1970).
#[test]
fn a_window_on_another_column_drops_nothing() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Ev>(input.clone())
        .with_watermark_on("ts", |e| e.ts, "0 seconds")
        .group_by_window_on(
            WindowSpec::tumbling("10 seconds").unwrap(),
            "other",
            |e| e.other,
            |_| (),
        )
        .agg(|a| (a.count(),), count_windows)
        .write_stream(sink.clone())
        .output_mode(Update);
    let q = Session::local().start(query).unwrap();
    input.add_data([ev("a", 100)]);
    q.process_all_available().unwrap();
    // ts far ahead moved the watermark to 100 s; `other` is old, but it is not watermarked.
    input.add_data([Ev {
        key: "a".into(),
        ts: Timestamp(200_000),
        other: Timestamp(-5_000),
    }]);
    q.process_all_available().unwrap();
    let progress = q.recent_progress();
    q.stop().unwrap();
    let rows: Vec<(i64, i64)> = sink.rows().iter().map(|r| (r.start, r.n)).collect();
    assert_eq!(rows, [(100, 1), (-10, 1)]);
    assert!(progress
        .iter()
        .all(|p| p.state_operators[0].num_rows_dropped_by_watermark == 0));
    assert_eq!(
        progress.last().unwrap().state_operators[0].num_rows_total,
        2
    );
}

/// Without any watermark, Update mode drops nothing as late, even a window before 1970.
#[test]
fn without_a_watermark_nothing_is_late() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Ev>(input.clone())
        .group_by_window(
            WindowSpec::tumbling("10 seconds").unwrap(),
            |e| e.ts,
            |_| (),
        )
        .agg(|a| (a.count(),), count_windows)
        .write_stream(sink.clone())
        .output_mode(Update);
    let q = Session::local().start(query).unwrap();
    input.add_data([ev("a", -30)]);
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let rows: Vec<(i64, i64)> = sink.rows().iter().map(|r| (r.start, r.n)).collect();
    assert_eq!(rows, [(-30, 1)]);
}

#[test]
fn redefining_a_watermark_is_refused_at_start() {
    let query = read_stream::<Ev>(MemoryStream::new())
        .with_watermark_on("ts", |e| e.ts, "10 seconds")
        .with_watermark_on("other", |e| e.other, "1 second")
        .write_stream(Noop);
    let err = query.start().err().expect("refused").to_string();
    assert!(err.contains("Redefining watermark is disallowed"), "{err}");
    // Two inputs, each with its own watermark, are fine.
    let query = read_stream::<Ev>(MemoryStream::new())
        .with_watermark_on("ts", |e| e.ts, "10 seconds")
        .union(read_stream::<Ev>(MemoryStream::new()).with_watermark_on("ts", |e| e.ts, "1 second"))
        .write_stream(Noop);
    assert!(query.start().is_ok());
}

#[derive(Record)]
struct AtCount {
    ts: Timestamp,
    key: String,
    n: i64,
}

/// Spark allows Append mode for an aggregation grouped by the watermarked column itself: a group
/// is final, and emitted once, when the watermark reaches its event time.
#[test]
fn append_by_the_raw_event_time_column() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Ev>(input.clone())
            .with_watermark_on("ts", |e| e.ts, "5 seconds")
            .group_by_event_time("ts", |e| e.ts, |e| (e.ts, e.key.clone()))
            .agg(|a| (a.count(),), |(ts, key), (n,)| AtCount { ts, key, n })
            .write_stream(sink.clone())
            .output_mode(Append);
        let q = Session::with_workers(workers).start(query).unwrap();
        input.add_data([ev("a", 10), ev("a", 10), ev("b", 12)]);
        q.process_all_available().unwrap();
        assert!(sink.rows().is_empty(), "nothing final yet");
        // 16 s moves the watermark to 11 s: (10 s, a) is final; (12 s, b) not yet.
        input.add_data([ev("a", 16)]);
        q.process_all_available().unwrap();
        let rows: Vec<(i64, String, i64)> = sink
            .rows()
            .iter()
            .map(|r| (r.ts.millis() / 1000, r.key.clone(), r.n))
            .collect();
        assert_eq!(rows, [(10, "a".to_string(), 2)]);
        // A row at 9 s is late (at or below the previous watermark, 11 s): dropped.
        input.add_data([ev("c", 9), ev("b", 30)]);
        q.process_all_available().unwrap();
        let progress = q.recent_progress();
        q.stop().unwrap();
        let mut rows: Vec<(i64, String, i64)> = sink
            .rows()
            .iter()
            .map(|r| (r.ts.millis() / 1000, r.key.clone(), r.n))
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [
                (10, "a".to_string(), 2),
                (12, "b".to_string(), 1),
                (16, "a".to_string(), 1)
            ],
            "{workers} workers"
        );
        let dropped: u64 = progress
            .iter()
            .map(|p| p.state_operators[0].num_rows_dropped_by_watermark)
            .sum();
        assert_eq!(dropped, 1);
    }
}

/// Beyond Spark, as Flink's bounded sources: once every source of an `AvailableNow` query is
/// bounded and read to its end, a last batch runs at the end-of-input watermark, so every window
/// closes. A source that may get more data (a MemoryStream) keeps Spark's behaviour: the windows
/// the watermark has not passed stay open.
#[test]
fn the_end_of_bounded_input_closes_every_window() {
    // Windows [0, 10) and [10, 20) and [20, 30) by hand; the watermark after the data is
    // 25 - 5 = 20 s, so Spark would leave [20, 30) open.
    let rows = || vec![ev("a", 1), ev("b", 12), ev("c", 13), ev("d", 25)];
    for workers in [1, 2] {
        let sink = MemorySink::new();
        let query = read_stream::<Ev>(rows())
            .with_watermark(|e| e.ts, "5 seconds")
            .group_by_window(
                WindowSpec::tumbling("10 seconds").unwrap(),
                |e| e.ts,
                |_| (),
            )
            .agg(|a| (a.count(),), count_windows)
            .write_stream(sink.clone())
            .trigger(Trigger::AvailableNow);
        let q = Session::with_workers(workers).start(query).unwrap();
        assert!(q
            .await_termination_timeout(Duration::from_secs(60))
            .unwrap());
        let last = q.last_progress().unwrap();
        let mut got: Vec<(i64, i64)> = sink.rows().iter().map(|r| (r.start, r.n)).collect();
        got.sort();
        assert_eq!(got, [(0, 1), (10, 2), (20, 1)], "{workers} workers");
        assert_eq!(
            last.event_time["watermark"], "9999-12-31T23:59:59.999Z",
            "the last batch runs at the end-of-input watermark"
        );
        assert_eq!(last.num_input_rows, 0);

        let stream = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Ev>(stream.clone())
            .with_watermark(|e| e.ts, "5 seconds")
            .group_by_window(
                WindowSpec::tumbling("10 seconds").unwrap(),
                |e| e.ts,
                |_| (),
            )
            .agg(|a| (a.count(),), count_windows)
            .write_stream(sink.clone())
            .trigger(Trigger::AvailableNow);
        stream.add_data(rows());
        let q = Session::with_workers(workers).start(query).unwrap();
        assert!(q
            .await_termination_timeout(Duration::from_secs(60))
            .unwrap());
        let mut got: Vec<(i64, i64)> = sink.rows().iter().map(|r| (r.start, r.n)).collect();
        got.sort();
        assert_eq!(
            got,
            [(0, 1), (10, 2)],
            "{workers} workers, unbounded source"
        );
    }
}
