//! Aggregation outputs as Spark's stateful operators give them: Update mode writes one row per
//! key that got input in the batch (`StateStoreSaveExec`), on every sink alike; late rows are
//! counted after partial aggregation; session windows that touch merge.

use std::sync::{Arc, Mutex};
use stream_runtime::prelude::*;

#[derive(Record)]
struct Reading {
    k: String,
    p: i64,
    #[event_time]
    ts: Timestamp,
}

#[derive(Record)]
struct KeyMax {
    k: String,
    top: i64,
}

fn reading(k: &str, p: i64, secs: i64) -> Reading {
    Reading {
        k: k.into(),
        p,
        ts: Timestamp(secs * 1000),
    }
}

fn max_per_key(input: &MemoryStream<Reading>) -> Dataset<KeyMax> {
    read_stream::<Reading>(input.clone())
        .group_by_key(|r| r.k.clone())
        .agg(
            |a| (a.max(|r: &Reading| r.p),),
            |k, (top,)| KeyMax { k, top },
        )
}

/// The review's reproduction: `group_by(k).agg(max(p))` with p = 10, then p = 5. Spark writes
/// (k, 10) in both batches: every key with input, changed or not.
#[test]
fn update_mode_writes_every_key_with_input_on_every_sink() {
    for workers in [1, 2] {
        let steps = [vec![reading("k", 10, 1)], vec![reading("k", 5, 2)]];
        let want = vec![vec![("k".to_string(), 10)], vec![("k".to_string(), 10)]];
        // Memory sink.
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let q = Session::with_workers(workers)
            .start(
                max_per_key(&input)
                    .write_stream(sink.clone())
                    .output_mode(Update),
            )
            .unwrap();
        for s in &steps {
            input.add_data(s.clone());
            q.process_all_available().unwrap();
        }
        q.stop().unwrap();
        let got: Vec<Vec<(String, i64)>> = sink
            .batches()
            .into_iter()
            .map(|(_, rows)| rows.into_iter().map(|r| (r.k, r.top)).collect())
            .collect();
        assert_eq!(got, want, "memory sink, {workers} workers");
        // ForeachBatch.
        let input = MemoryStream::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let q = Session::with_workers(workers)
            .start(
                max_per_key(&input)
                    .write_stream(ForeachBatch::new(move |_, rows: Vec<KeyMax>| {
                        seen2
                            .lock()
                            .unwrap()
                            .push(rows.into_iter().map(|r| (r.k, r.top)).collect::<Vec<_>>())
                    }))
                    .output_mode(Update),
            )
            .unwrap();
        for s in &steps {
            input.add_data(s.clone());
            q.process_all_available().unwrap();
        }
        q.stop().unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            want,
            "foreach batch, {workers} workers"
        );
        // Foreach (rows written on the workers).
        let input = MemoryStream::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let q = Session::with_workers(workers)
            .start(
                max_per_key(&input)
                    .write_stream(Foreach::new(move |r: &KeyMax| {
                        seen2.lock().unwrap().push((r.k.clone(), r.top))
                    }))
                    .output_mode(Update),
            )
            .unwrap();
        for s in &steps {
            input.add_data(s.clone());
            q.process_all_available().unwrap();
        }
        q.stop().unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            want.concat(),
            "foreach, {workers} workers"
        );
    }
}

#[derive(Record)]
struct WindowCount {
    start: i64,
    n: i64,
}

/// Spark counts `numRowsDroppedByWatermark` where the stateful operator drops them, after
/// partial aggregation: three late rows of one window (on one worker) count as one.
#[test]
fn late_rows_count_after_partial_aggregation() {
    let input = MemoryStream::new();
    let query = read_stream::<Reading>(input.clone())
        .with_watermark(|r| r.ts, "0 seconds")
        .group_by_window(
            WindowSpec::tumbling("10 seconds").unwrap(),
            |r| r.ts,
            |_| (),
        )
        .agg(
            |a| (a.count(),),
            |w, (), (n,)| WindowCount {
                start: w.start.millis(),
                n,
            },
        )
        .write_stream(MemorySink::new())
        .output_mode(Update);
    let q = Session::local().start(query).unwrap();
    input.add_data([reading("a", 1, 100)]);
    q.process_all_available().unwrap();
    // Three rows of window [10 s, 20 s) and one of [30 s, 40 s): two late groups.
    input.add_data([
        reading("a", 1, 11),
        reading("a", 1, 12),
        reading("b", 1, 13),
        reading("a", 1, 35),
    ]);
    q.process_all_available().unwrap();
    let progress = q.recent_progress();
    q.stop().unwrap();
    let dropped: Vec<u64> = progress
        .iter()
        .map(|p| p.state_operators[0].num_rows_dropped_by_watermark)
        .collect();
    assert_eq!(dropped.iter().sum::<u64>(), 2, "{dropped:?}");
}

#[derive(Record)]
struct SessionCount {
    k: String,
    start: i64,
    end: i64,
    n: i64,
}

/// A session [4 s, 7 s) (gap 3 s) and the next event of its key at 7 s form one session
/// [4 s, 10 s) in Spark: sessions merge when one's end reaches the next one's start.
#[test]
fn sessions_that_touch_merge() {
    for (mode, workers) in [(Complete, 1), (Complete, 2), (Append, 1), (Append, 2)] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Reading>(input.clone())
            .with_watermark(|r| r.ts, "0 seconds")
            .group_by_session(
                SessionGap::fixed("3 seconds").unwrap(),
                |r| r.ts,
                |r| r.k.clone(),
            )
            .agg(
                |a| (a.count(),),
                |w, k, (n,)| SessionCount {
                    k,
                    start: w.start.millis() / 1000,
                    end: w.end.millis() / 1000,
                    n,
                },
            )
            .write_stream(sink.clone())
            .output_mode(mode);
        let q = Session::with_workers(workers).start(query).unwrap();
        input.add_data([reading("a", 1, 4)]);
        q.process_all_available().unwrap();
        input.add_data([reading("a", 1, 7)]);
        q.process_all_available().unwrap();
        // Close every session.
        input.add_data([reading("z", 1, 100)]);
        q.process_all_available().unwrap();
        q.stop().unwrap();
        let rows: Vec<(String, i64, i64, i64)> = match mode {
            Complete => sink.batches().last().unwrap().1.clone(),
            _ => sink.rows(),
        }
        .into_iter()
        .filter(|r| r.k == "a")
        .map(|r| (r.k, r.start, r.end, r.n))
        .collect();
        assert_eq!(
            rows,
            [("a".to_string(), 4, 10, 2)],
            "{mode:?}, {workers} workers"
        );
    }
}

#[derive(Record)]
struct BranchCount {
    k: String,
    start: i64,
    n: i64,
}

fn window_counts(input: &MemoryStream<Reading>) -> Dataset<BranchCount> {
    read_stream::<Reading>(input.clone())
        .with_watermark(|r| r.ts, "0 seconds")
        .group_by_window(
            WindowSpec::tumbling("10 seconds").unwrap(),
            |r| r.ts,
            |r| r.k.clone(),
        )
        .agg(
            |a| (a.count(),),
            |w, k, (n,)| BranchCount {
                k,
                start: w.start.millis() / 1000,
                n,
            },
        )
}

/// Found by the batch-oracle property test: in Append mode a union after an aggregation (its
/// two branches each hold the aggregation) wrote nothing, and a union of an aggregation with a
/// stateless branch lost the stateless branch's rows, as the sink took only the last stage's
/// closed windows. Spark writes every branch's rows.
#[test]
fn append_mode_writes_every_branch_of_a_union_after_an_aggregation() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let plain = MemoryStream::<BranchCount>::new();
        let sink = MemorySink::new();
        let counts = window_counts(&input);
        let query = counts
            .clone()
            .filter(|c| c.k == "a")
            .union(counts.filter(|c| c.k == "b"))
            .union(read_stream(plain.clone()))
            .write_stream(sink.clone())
            .output_mode(Append);
        let q = Session::with_workers(workers).start(query).unwrap();
        input.add_data([reading("a", 1, 1), reading("b", 1, 2), reading("a", 1, 3)]);
        plain.add_data([BranchCount {
            k: "plain".into(),
            start: -1,
            n: 7,
        }]);
        q.process_all_available().unwrap();
        // Closes the windows [0, 10).
        input.add_data([reading("c", 1, 25)]);
        q.process_all_available().unwrap();
        q.stop().unwrap();
        let mut rows: Vec<(String, i64, i64)> = sink
            .rows()
            .into_iter()
            .map(|c| (c.k, c.start, c.n))
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [("a", 0, 2), ("b", 0, 1), ("plain", -1, 7)].map(|(k, s, n)| (k.to_string(), s, n)),
            "{workers} workers"
        );
    }
}

#[derive(Record)]
struct Closed {
    k: String,
    #[event_time]
    ts: Timestamp,
    n: i64,
}

#[derive(Record)]
struct PerInstant {
    ts: Timestamp,
    windows: i64,
}

/// Found by the batch-oracle property test: in Append mode, an aggregation grouping by the
/// event time `window_time(window)` right after a window aggregation wrote nothing. A closed
/// window's row (event time `end - 1 ms`) reaches it when the watermark reaches `end`, past
/// that row's own eviction time, and it was dropped as late. Spark judges lateness by the
/// previous batch's watermark (here 0): the row is on time, and its group closes in the same
/// batch. Hand-worked: windows [0, 10) of `a` and `b` (ending at 9.999 s), then [10, 20) of `a`.
#[test]
fn an_event_time_aggregation_after_a_window_aggregation_keeps_its_closed_windows() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Reading>(input.clone())
            .with_watermark(|r| r.ts, "0 seconds")
            .group_by_window(
                WindowSpec::tumbling("10 seconds").unwrap(),
                |r| r.ts,
                |r| r.k.clone(),
            )
            .agg(
                |a| (a.count(),),
                |w, k, (n,)| Closed {
                    k,
                    ts: window_time(w),
                    n,
                },
            )
            .group_by_event_time("ts", |c| c.ts, |c| c.ts)
            .agg(
                |a| (a.count(),),
                |ts, (windows,)| PerInstant { ts, windows },
            )
            .write_stream(sink.clone())
            .output_mode(Append);
        let q = Session::with_workers(workers).start(query).unwrap();
        input.add_data([reading("a", 1, 1), reading("b", 1, 2), reading("a", 1, 3)]);
        q.process_all_available().unwrap();
        input.add_data([reading("a", 1, 15)]);
        q.process_all_available().unwrap();
        input.add_data([reading("a", 1, 40)]);
        q.process_all_available().unwrap();
        q.stop().unwrap();
        let mut rows: Vec<(i64, i64)> = sink
            .rows()
            .into_iter()
            .map(|r| (r.ts.millis(), r.windows))
            .collect();
        rows.sort();
        assert_eq!(rows, [(9_999, 2), (19_999, 1)], "{workers} workers");
    }
}
