//! Event time: watermarks, windows, output modes and late data, against docs/spark-semantics.md's worked
//! examples (Spark's documented behaviour) and hand-worked session windows, on 1 and 2 workers.

use std::collections::BTreeMap;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Ev {
    key: String,
    #[event_time]
    ts: Timestamp,
}

#[derive(Record)]
struct Counted {
    start: i64,
    key: String,
    n: i64,
}

fn secs(key: &str, s: &[i64]) -> Vec<Ev> {
    s.iter()
        .map(|s| Ev {
            key: key.into(),
            ts: Timestamp(s * 1000),
        })
        .collect()
}

/// Output rows as (window start in seconds, key, count).
type Rows = Vec<(i64, String, i64)>;

/// Runs `steps` through a query; returns per step the rows of its batch and of the no-data batch
/// that follows it (Spark's "per step" comparison), as (window start s, count), and the rows
/// dropped by the watermark per step.
fn run_steps(
    session: Session,
    mode: OutputMode,
    build: impl Fn(Dataset<Ev>) -> Dataset<Counted>,
    steps: &[Vec<Ev>],
) -> (Vec<Rows>, Vec<u64>) {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let q = session
        .start(
            build(read_stream::<Ev>(input.clone()))
                .write_stream(sink.clone())
                .output_mode(mode),
        )
        .unwrap();
    let mut outputs = Vec::new();
    let mut dropped = Vec::new();
    let mut seen_batches = 0;
    let mut seen_progress = 0;
    for step in steps {
        input.add_data(step.clone());
        q.process_all_available().unwrap();
        let batches = sink.batches();
        let mut rows: Vec<(i64, String, i64)> = batches[seen_batches..]
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|r| (r.start / 1000, r.key.clone(), r.n)))
            .collect();
        rows.sort();
        // In complete mode the later batch supersedes: keep the last batch's table.
        if mode == Complete {
            rows = batches
                .last()
                .unwrap()
                .1
                .iter()
                .map(|r| (r.start / 1000, r.key.clone(), r.n))
                .collect();
            rows.sort();
        }
        seen_batches = batches.len();
        outputs.push(rows);
        let progress = q.recent_progress();
        dropped.push(
            progress[seen_progress..]
                .iter()
                .flat_map(|p| {
                    p.state_operators
                        .iter()
                        .map(|s| s.num_rows_dropped_by_watermark)
                })
                .sum(),
        );
        seen_progress = progress.len();
    }
    q.stop().unwrap();
    (outputs, dropped)
}

fn tumbling_5s(ds: Dataset<Ev>) -> Dataset<Counted> {
    ds.with_watermark(|e| e.ts, "10 seconds")
        .group_by_window(WindowSpec::tumbling("5 seconds").unwrap(), |e| e.ts, |_| ())
        .agg(
            |a| (a.count(),),
            |w, (), (n,)| Counted {
                start: w.start.millis(),
                key: String::new(),
                n,
            },
        )
}

fn rows(v: &[(i64, i64)]) -> Vec<(i64, String, i64)> {
    v.iter().map(|(s, n)| (*s, String::new(), *n)).collect()
}

#[test]
fn append_mode_worked_example() {
    for session in [Session::local(), Session::with_workers(2)] {
        let steps = [
            secs("", &[10, 11, 12, 13, 14, 15]),
            secs("", &[25]),
            secs("", &[10]),
        ];
        let (out, dropped) = run_steps(session, Append, tumbling_5s, &steps);
        assert_eq!(out, [rows(&[]), rows(&[(10, 5)]), rows(&[])]);
        assert_eq!(dropped, [0, 0, 1]);
    }
}

#[test]
fn update_mode_worked_example() {
    for session in [Session::local(), Session::with_workers(2)] {
        let steps = [
            secs("", &[10, 11, 12, 13, 14, 15]),
            secs("", &[25]),
            secs("", &[10, 25]),
            secs("", &[10]),
        ];
        let (out, dropped) = run_steps(session, Update, tumbling_5s, &steps);
        assert_eq!(
            out,
            [
                rows(&[(10, 5), (15, 1)]),
                rows(&[(25, 1)]),
                rows(&[(25, 2)]),
                rows(&[])
            ]
        );
        assert_eq!(dropped, [0, 0, 1, 1]);
    }
}

#[test]
fn complete_mode_worked_example_never_drops_or_evicts() {
    for session in [Session::local(), Session::with_workers(2)] {
        let steps = [
            secs("", &[10, 11, 12]),
            secs("", &[25]),
            secs("", &[25]),
            secs("", &[10]),
            secs("", &[25]),
        ];
        let (out, dropped) = run_steps(session, Complete, tumbling_5s, &steps);
        assert_eq!(
            out,
            [
                rows(&[(10, 3)]),
                rows(&[(10, 3), (25, 1)]),
                rows(&[(10, 3), (25, 2)]),
                rows(&[(10, 4), (25, 2)]),
                rows(&[(10, 4), (25, 3)]),
            ]
        );
        assert_eq!(dropped, [0; 5]);
    }
}

/// A keyed window's row: its start, its key, and its count.
fn counted(w: Window, key: String, (n,): (i64,)) -> Counted {
    Counted {
        start: w.start.millis(),
        key,
        n,
    }
}

fn sessions_10s(ds: Dataset<Ev>) -> Dataset<Counted> {
    ds.with_watermark(|e| e.ts, "10 seconds")
        .group_by_session(
            SessionGap::fixed("10 seconds").unwrap(),
            |e| e.ts,
            |e| e.key.clone(),
        )
        .agg(|a| (a.count(),), counted)
}

#[test]
fn session_windows_hand_worked() {
    // Gap 10 s, watermark delay 10 s. Sessions close when the watermark passes their end.
    let steps = [
        // a:[0,15) x2, b:[1,11) x1; watermark 0.
        [secs("a", &[0, 5]), secs("b", &[1])].concat(),
        // a@12 extends a to [0,22) x3; watermark 2.
        secs("a", &[12]),
        // a@40 opens [40,50); watermark 30 closes a:[0,22) and b:[1,11).
        secs("a", &[40]),
        // a@33 is older than the watermark, but its session [33,43) ends after it: it merges
        // with [40,50), then a@45 extends to [33,55) x3; watermark 35 closes nothing.
        secs("a", &[33, 45]),
        // c@70: watermark 60 closes a:[33,55).
        secs("c", &[70]),
        // a@1: [1,11) ended before the watermark: dropped.
        secs("a", &[1]),
    ];
    let expected: Vec<Vec<(i64, String, i64)>> = vec![
        vec![],
        vec![],
        vec![(0, "a".into(), 3), (1, "b".into(), 1)],
        vec![],
        vec![(33, "a".into(), 3)],
        vec![],
    ];
    for session in [Session::local(), Session::with_workers(2)] {
        let (out, dropped) = run_steps(session, Append, sessions_10s, &steps);
        assert_eq!(out, expected);
        assert_eq!(dropped, [0, 0, 0, 0, 0, 1]);
    }
}

#[test]
fn session_windows_in_complete_mode_keep_growing() {
    let steps = [secs("a", &[0, 5]), secs("a", &[100]), secs("a", &[1])];
    let (out, _) = run_steps(Session::local(), Complete, sessions_10s, &steps);
    assert_eq!(
        out,
        [
            vec![(0, "a".into(), 2)],
            vec![(0, "a".into(), 2), (100, "a".into(), 1)],
            vec![(0, "a".into(), 3), (100, "a".into(), 1)],
        ]
    );
}

#[test]
fn session_windows_are_rejected_in_update_mode() {
    let q = sessions_10s(read_stream::<Ev>(MemoryStream::new()))
        .write_stream(MemorySink::new())
        .output_mode(Update);
    let err = q.start().err().expect("rejected");
    assert!(
        err.to_string()
            .contains("session windows are not supported in Update"),
        "{err}"
    );
}

#[test]
fn order_by_only_in_complete_mode_and_sorts_the_table() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let counts = read_stream::<Ev>(input.clone())
        .group_by_key(|e| e.key.clone())
        .count()
        .order_by(|c| std::cmp::Reverse(c.count));
    assert!(counts
        .clone()
        .write_stream(MemorySink::new())
        .output_mode(Update)
        .start()
        .is_err());
    let q = counts
        .write_stream(sink.clone())
        .output_mode(Complete)
        .start()
        .unwrap();
    input.add_data([secs("x", &[1]), secs("y", &[1, 2, 3]), secs("z", &[1, 2])].concat());
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let keys: Vec<String> = sink.rows().into_iter().map(|c| c.key).collect();
    assert_eq!(keys, ["y", "z", "x"]);
}

#[test]
fn state_is_bounded_by_the_watermark_not_by_history() {
    // 2M rows over 2000 seconds of event time, 500 keys, 10 s windows, 5 s watermark delay:
    // only the windows the watermark has not passed are held.
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let q = read_stream::<Ev>(input.clone())
        .with_watermark(|e| e.ts, "5 seconds")
        .group_by_window(
            WindowSpec::tumbling("10 seconds").unwrap(),
            |e| e.ts,
            |e| e.key.clone(),
        )
        .agg(|a| (a.count(),), counted)
        .write_stream(sink.clone())
        .output_mode(Append)
        .start()
        .unwrap();
    let keys: Vec<String> = (0..500).map(|k| format!("k{k}")).collect();
    let mut max_state = 0;
    let mut expected: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for batch in 0..100i64 {
        let rows: Vec<Ev> = (0..20_000i64)
            .map(|i| {
                let v = batch * 20_000 + i;
                Ev {
                    key: keys[(v % 500) as usize].clone(),
                    ts: Timestamp(v),
                }
            })
            .collect();
        for r in &rows {
            *expected
                .entry((r.ts.millis() / 10_000 * 10_000, r.key.clone()))
                .or_default() += 1;
        }
        input.add_data(rows);
        q.process_all_available().unwrap();
        for p in q.recent_progress() {
            for s in &p.state_operators {
                max_state = max_state.max(s.num_rows_total);
            }
        }
    }
    q.stop().unwrap();
    // At most three windows' worth of keys are open at once (the current window, the previous one
    // until the watermark passes it, and the one a batch reaches into); history is 200 windows.
    assert!(max_state <= 3 * 500, "state rows {max_state}");
    assert!(max_state >= 500, "state rows {max_state}");
    // Every window the watermark closed was emitted once, with its exact count.
    let got: BTreeMap<(i64, String), i64> = sink
        .rows()
        .into_iter()
        .map(|c| ((c.start, c.key), c.n))
        .collect();
    assert_eq!(got.len(), sink.rows().len(), "each window once");
    for (k, n) in &got {
        assert_eq!(expected.get(k), Some(n), "{k:?}");
    }
    // All windows ending at or before the final watermark (2000 s - 5 s) are out.
    let closed = expected
        .keys()
        .filter(|(start, _)| start + 10_000 <= 1_995_000)
        .count();
    assert_eq!(got.len(), closed);
}

/// Two watermarked inputs under `policy`: the watermarks after a first step (fast 50 s, slow
/// 20 s) and after a second (fast 60 s, slow 70 s).
fn two_inputs(policy: stream_runtime::WatermarkPolicy) -> (i64, i64) {
    let fast = MemoryStream::new();
    let slow = MemoryStream::new();
    let q = read_stream::<Ev>(fast.clone())
        .with_watermark(|e| e.ts, "0 seconds")
        .union(read_stream::<Ev>(slow.clone()).with_watermark(|e| e.ts, "0 seconds"))
        .group_by_window(
            WindowSpec::tumbling("10 seconds").unwrap(),
            |e| e.ts,
            |_| (),
        )
        .agg(
            |a| (a.count(),),
            |w, (), (n,)| Counted {
                start: w.start.millis(),
                key: String::new(),
                n,
            },
        )
        .write_stream(MemorySink::new())
        .output_mode(Append)
        .watermark_policy(policy)
        .start()
        .unwrap();
    let wm = |q: &StreamingQuery| {
        let p = q.last_progress().unwrap();
        Timestamp::parse_iso(&p.event_time["watermark"])
            .unwrap()
            .millis()
    };
    fast.add_data(secs("", &[50]));
    slow.add_data(secs("", &[20]));
    q.process_all_available().unwrap();
    let first = wm(&q);
    slow.add_data(secs("", &[70]));
    fast.add_data(secs("", &[60]));
    q.process_all_available().unwrap();
    let second = wm(&q);
    q.stop().unwrap();
    (first, second)
}

#[test]
fn two_watermarked_inputs_use_the_slower_one() {
    // Min policy: the global watermark is the min over inputs that have seen data; it never
    // decreases.
    assert_eq!(
        two_inputs(stream_runtime::WatermarkPolicy::Min),
        (20_000, 60_000)
    );
}

#[test]
fn the_max_policy_follows_the_faster_input() {
    assert_eq!(
        two_inputs(stream_runtime::WatermarkPolicy::Max),
        (50_000, 70_000)
    );
}

/// Sliding windows (10 s every 5 s, watermark delay 5 s), keyed, against a naive per-step
/// simulation of Spark's rules written here: each row falls into every window containing it
/// (starts below zero included); a window is late, for that row only, when its end is at or
/// below the watermark the batch uses; the watermark after a step is the max event time seen
/// minus the delay, never decreasing. Append emits a window once, when the watermark reaches
/// its end (in the step's no-data batch); update emits every window a step changed.
#[test]
fn sliding_windows_match_a_naive_simulation() {
    const SIZE: i64 = 10;
    const SLIDE: i64 = 5;
    const DELAY: i64 = 5;
    let steps: Vec<Vec<Ev>> = vec![
        [secs("a", &[2, 7, 12]), secs("b", &[8])].concat(),
        [secs("a", &[21]), secs("b", &[3])].concat(),
        [secs("a", &[14]), secs("b", &[30])].concat(),
        secs("a", &[40]),
        secs("a", &[20]),
        vec![],
    ];
    let naive = |mode: OutputMode| -> Vec<Rows> {
        let (mut wm, mut max_ts) = (0i64, i64::MIN);
        let mut state: BTreeMap<(i64, String), i64> = BTreeMap::new();
        let mut emitted = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for step in &steps {
            let mut touched = std::collections::BTreeSet::new();
            for e in step {
                let ts = e.ts.millis() / 1000;
                max_ts = max_ts.max(ts);
                let mut start = ts.div_euclid(SLIDE) * SLIDE;
                while start > ts - SIZE {
                    if start + SIZE > wm {
                        *state.entry((start, e.key.clone())).or_default() += 1;
                        touched.insert((start, e.key.clone()));
                    }
                    start -= SLIDE;
                }
            }
            wm = wm.max(max_ts - DELAY);
            let rows: Rows = match mode {
                Append => state
                    .iter()
                    .filter(|((s, _), _)| s + SIZE <= wm)
                    .filter(|(k, _)| emitted.insert((*k).clone()))
                    .map(|((s, k), n)| (*s, k.clone(), *n))
                    .collect(),
                _ => touched
                    .iter()
                    .map(|k| (k.0, k.1.clone(), state[k]))
                    .collect(),
            };
            out.push(rows);
        }
        out
    };
    let sliding = |ds: Dataset<Ev>| {
        ds.with_watermark(|e| e.ts, "5 seconds")
            .group_by_window(
                WindowSpec::sliding("10 seconds", "5 seconds").unwrap(),
                |e| e.ts,
                |e| e.key.clone(),
            )
            .agg(|a| (a.count(),), counted)
    };
    for mode in [Append, Update] {
        let want = naive(mode);
        // The cases the steps are built to reach.
        assert!(want[0].contains(&(-5, "a".into(), 1)), "{want:?}");
        assert!(want.concat().len() > 8, "{want:?}");
        for session in [Session::local(), Session::with_workers(2)] {
            let (got, _) = run_steps(session, mode, sliding, &steps);
            assert_eq!(got, want, "{mode:?}");
        }
    }
}

/// A long window touched by every batch: the state and the retractions it schedules (one per
/// key at the window's end, reported in `memoryUsedBytes`) stay at one entry per key however
/// many batches add to the window.
#[test]
fn a_window_touched_by_many_batches_holds_one_entry_per_key() {
    for session in [Session::local(), Session::with_workers(2)] {
        let input = MemoryStream::new();
        let q = session
            .start(
                read_stream::<Ev>(input.clone())
                    .with_watermark(|e| e.ts, "1 hour")
                    .group_by_window(
                        WindowSpec::tumbling("1 hour").unwrap(),
                        |e| e.ts,
                        |e| e.key.clone(),
                    )
                    .agg(|a| (a.count(),), counted)
                    .write_stream(MemorySink::new())
                    .output_mode(Update),
            )
            .unwrap();
        let mut memory = Vec::new();
        for batch in 0..30i64 {
            let rows = (0..100).map(|k| Ev {
                key: format!("k{k}"),
                ts: Timestamp(batch * 1000),
            });
            input.add_data(rows.collect::<Vec<_>>());
            q.process_all_available().unwrap();
            let p = q.last_progress().unwrap();
            assert_eq!(p.state_operators[0].num_rows_total, 100);
            memory.push(p.state_operators[0].memory_used_bytes);
        }
        q.stop().unwrap();
        assert!(memory[0] > 0);
        assert!(memory.iter().all(|m| *m == memory[0]), "{memory:?}");
    }
}
