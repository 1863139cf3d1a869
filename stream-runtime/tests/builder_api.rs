//! End-to-end tests of the builder API on the memory source and sink, compared with naive
//! batch computations, for one and two workers.

use std::collections::BTreeMap;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Sale {
    shop: String,
    amount: i64,
}

#[derive(Record)]
struct ShopTotal {
    shop: String,
    n: i64,
    total: i64,
    low: i64,
    mean: f64,
}

fn batches() -> Vec<Vec<Sale>> {
    let shops = ["a", "b", "c", "d"];
    (0..5)
        .map(|b| {
            (0..40)
                .map(|i| Sale {
                    // The last batch touches only shops a and b, so update mode must leave c, d out.
                    shop: shops[if b == 4 { i % 2 } else { (i * 7 + b) % 4 }].to_string(),
                    amount: ((i * 31 + b * 17) % 23) as i64 - 5,
                })
                .collect()
        })
        .collect()
}

/// Naive: per shop, over all rows of batches 0..=upto.
fn naive_totals(upto: usize) -> BTreeMap<String, (i64, i64, i64, f64)> {
    let mut m: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for b in &batches()[..=upto] {
        for s in b {
            m.entry(s.shop.clone()).or_default().push(s.amount);
        }
    }
    m.into_iter()
        .map(|(k, v)| {
            let n = v.len() as i64;
            let t: i64 = v.iter().sum();
            (k, (n, t, *v.iter().min().unwrap(), t as f64 / n as f64))
        })
        .collect()
}

fn run_agg(session: Session, mode: OutputMode) -> Vec<(u64, Vec<ShopTotal>)> {
    let input = MemoryStream::new();
    // Every batch as the sink receives it (a memory sink keeps only the latest in complete mode).
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let received = received.clone();
        ForeachBatch::new(move |id, rows: Vec<ShopTotal>| received.lock().unwrap().push((id, rows)))
    };
    let query = read_stream::<Sale>(input.clone())
        .group_by_key(|s| s.shop.clone())
        .agg(
            |a| {
                (
                    a.count(),
                    a.sum(|s: &Sale| s.amount),
                    a.min(|s: &Sale| s.amount),
                    a.avg(|s: &Sale| s.amount),
                )
            },
            |shop, (n, total, low, mean)| ShopTotal {
                shop,
                n,
                total,
                low,
                mean,
            },
        )
        .write_stream(sink)
        .output_mode(mode);
    let handle = session.start(query).unwrap();
    for b in batches() {
        input.add_data(b);
        handle.process_all_available().unwrap();
    }
    handle.stop().unwrap();
    let received = received.lock().unwrap();
    received.clone()
}

fn as_map(rows: &[ShopTotal]) -> BTreeMap<String, (i64, i64, i64, f64)> {
    rows.iter()
        .map(|r| (r.shop.clone(), (r.n, r.total, r.low, r.mean)))
        .collect()
}

#[test]
fn complete_mode_matches_naive_totals_for_1_and_2_workers() {
    for session in [Session::local(), Session::with_workers(2)] {
        let out = run_agg(session, Complete);
        assert_eq!(out.len(), 5, "one output per batch");
        for (i, (batch_id, rows)) in out.iter().enumerate() {
            assert_eq!(*batch_id, i as u64);
            assert_eq!(as_map(rows), naive_totals(i));
        }
    }
}

#[test]
fn update_mode_emits_exactly_the_changed_groups() {
    for session in [Session::local(), Session::with_workers(2)] {
        let out = run_agg(session, Update);
        assert_eq!(out.len(), 5);
        for (i, (_, rows)) in out.iter().enumerate() {
            let now = naive_totals(i);
            let touched: std::collections::BTreeSet<String> =
                batches()[i].iter().map(|s| s.shop.clone()).collect();
            let expected: BTreeMap<_, _> = now
                .into_iter()
                .filter(|(k, _)| touched.contains(k))
                .collect();
            assert_eq!(as_map(rows), expected, "batch {i}");
            assert_eq!(rows.len(), expected.len(), "one row per changed group");
        }
    }
}

#[derive(Record)]
struct Word {
    word: String,
}

#[test]
fn stateless_append_map_filter_flat_map_union() {
    for session in [Session::local(), Session::with_workers(2)] {
        let a = MemoryStream::new();
        let b = MemoryStream::new();
        let sink = MemorySink::new();
        let words = read_stream::<Word>(a.clone())
            .flat_map(|w: Word| {
                w.word
                    .split(' ')
                    .map(|x| Word {
                        word: x.to_string(),
                    })
                    .collect::<Vec<_>>()
            })
            .union(read_stream::<Word>(b.clone()))
            .filter(|w| !w.word.is_empty())
            .map(|w| Word {
                word: w.word.to_uppercase(),
            });
        let handle = session.start(words.write_stream(sink.clone())).unwrap();
        a.add_data([Word { word: "x y".into() }, Word { word: "z".into() }]);
        b.add_data([Word { word: "w".into() }, Word { word: "".into() }]);
        handle.process_all_available().unwrap();
        a.add_data([Word { word: "x x".into() }]);
        handle.process_all_available().unwrap();
        handle.stop().unwrap();
        let mut got: Vec<String> = sink.rows().into_iter().map(|w| w.word).collect();
        got.sort();
        assert_eq!(got, ["W", "X", "X", "X", "Y", "Z"]);
        let progress = handle.recent_progress();
        let total: u64 = progress.iter().map(|p| p.num_input_rows).sum();
        assert_eq!(total, 5, "rows read over all batches: {progress:?}");
    }
}

#[test]
fn rules_are_checked_when_the_query_starts() {
    let q = read_stream::<Word>(MemoryStream::new())
        .write_stream(MemorySink::new())
        .output_mode(Complete);
    let err = q
        .start()
        .err()
        .expect("complete mode without aggregation is rejected");
    assert!(
        err.to_string()
            .contains("Complete output mode is not supported"),
        "{err}"
    );
    let q = read_stream::<Word>(MemoryStream::new())
        .group_by_key(|w| w.word.clone())
        .count()
        .write_stream(MemorySink::new());
    let err = q
        .start()
        .err()
        .expect("append on an aggregation without watermark is rejected");
    assert!(
        err.to_string()
            .contains("Append output mode is not supported"),
        "{err}"
    );
}

#[derive(Record)]
struct Reading {
    sensor: String,
    value: i64,
}

fn write_file(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn fail_fast_malformed_record_ends_the_query_naming_file_and_line() {
    let dir = std::env::temp_dir().join(format!("malformed-{}", std::process::id()));
    write_file(
        &dir,
        "a.jsonl",
        "{\"sensor\":\"s\",\"value\":1}\n{\"sensor\":\"s\",\"value\":\"x\"}\n",
    );
    let q = read_stream::<Reading>(Files::json(&dir).mode(Mode::FailFast))
        .write_stream(MemorySink::new())
        .start()
        .unwrap();
    let err = q.await_termination().expect_err("the query fails");
    let text = err.to_string();
    assert!(text.contains("a.jsonl:2"), "{text}");
    assert_eq!(q.exception(), Some(err));
    assert!(!q.is_active());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn permissive_mode_keeps_malformed_records_aside_and_reports_them() {
    let dir = std::env::temp_dir().join(format!("permissive-{}", std::process::id()));
    write_file(
        &dir,
        "a.jsonl",
        "{\"sensor\":\"s\",\"value\":1}\nnot json\n{\"sensor\":\"t\",\"value\":2}\n",
    );
    let sink = MemorySink::new();
    let q = read_stream::<Reading>(Files::json(&dir))
        .write_stream(sink.clone())
        .trigger(AvailableNow)
        .start()
        .unwrap();
    q.await_termination().unwrap();
    assert_eq!(sink.rows().len(), 2);
    let corrupt = q.corrupt_records();
    assert_eq!(corrupt.len(), 1);
    assert_eq!((corrupt[0].line, corrupt[0].raw.as_str()), (2, "not json"));
    let p = q.last_progress().unwrap();
    assert_eq!(
        p.sources[0]
            .metrics
            .get("numCorruptRecords")
            .map(String::as_str),
        Some("1")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Record)]
struct WindowCount {
    window: Window,
    sensor: String,
    n: i64,
}

/// 10 ms windows counted per sensor, then 30 ms windows over the first level's `window_time`,
/// summing the counts (Spark's chained time-window aggregation, append mode).
fn two_level(data: Dataset<Reading>) -> Dataset<WindowCount> {
    data.with_watermark(|r| Timestamp(r.value), "0 seconds")
        .group_by_window(
            WindowSpec::tumbling("10 milliseconds").unwrap(),
            |r| Timestamp(r.value),
            |r| r.sensor.clone(),
        )
        .agg(
            |a| (a.count(),),
            |window, sensor, (n,)| WindowCount { window, sensor, n },
        )
        .group_by_window(
            WindowSpec::tumbling("30 milliseconds").unwrap(),
            |c| window_time(c.window),
            |c| c.sensor.clone(),
        )
        .agg(
            |a| (a.sum(|c: &WindowCount| c.n),),
            |window, sensor, (n,)| WindowCount { window, sensor, n },
        )
}

#[test]
fn chained_window_aggregation_emits_each_outer_window_once_when_it_closes() {
    use std::sync::{Arc, Mutex};
    for session in [Session::local(), Session::with_workers(2)] {
        let input = MemoryStream::new();
        let memory = MemorySink::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let gathered = session
            .start(two_level(read_stream(input.clone())).write_stream(memory.clone()))
            .unwrap();
        let per_worker = session
            .start(
                two_level(read_stream(input.clone())).write_stream(Foreach::new(
                    move |c: &WindowCount| {
                        into.lock()
                            .unwrap()
                            .push((c.window.start.millis(), c.sensor.clone(), c.n))
                    },
                )),
            )
            .unwrap();
        let mut all = Vec::new();
        for step in 0..6i64 {
            // Event times step*25 .. step*25+24, a few out of order.
            let rows: Vec<Reading> = (0..25)
                .map(|i| Reading {
                    sensor: format!("s{}", i % 2),
                    value: step * 25 + (i * 7) % 25,
                })
                .collect();
            all.extend(rows.iter().map(|r| (r.sensor.clone(), r.value)));
            input.add_data(rows);
            gathered.process_all_available().unwrap();
            per_worker.process_all_available().unwrap();
        }
        gathered.stop().unwrap();
        per_worker.stop().unwrap();
        // Naive: every 30 ms window the final watermark (149) has passed, counted directly.
        let mut expected = std::collections::BTreeMap::new();
        for (sensor, ts) in &all {
            let start = ts / 30 * 30;
            if start + 30 <= 149 {
                *expected.entry((start, sensor.clone())).or_insert(0i64) += 1;
            }
        }
        let expected: Vec<(i64, String, i64)> =
            expected.into_iter().map(|((s, k), n)| (s, k, n)).collect();
        let mut got: Vec<(i64, String, i64)> = memory
            .rows()
            .into_iter()
            .map(|c| (c.window.start.millis(), c.sensor, c.n))
            .collect();
        got.sort();
        assert_eq!(
            got, expected,
            "each closed outer window once, with the exact count"
        );
        let mut written = seen.lock().unwrap().clone();
        written.sort();
        assert_eq!(written, expected);
    }
}

#[test]
fn foreach_writes_on_every_worker_the_rows_a_gathered_sink_gets() {
    use std::sync::{Arc, Mutex};
    for session in [Session::local(), Session::with_workers(2)] {
        let input = MemoryStream::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let memory = MemorySink::new();
        let counts = |data: Dataset<Reading>| {
            data.group_by_key(|r| r.sensor.clone()).agg(
                |a| (a.count(), a.sum(|r: &Reading| r.value)),
                |sensor, (n, total)| ShopTotal {
                    shop: sensor,
                    n,
                    total,
                    low: 0,
                    mean: 0.0,
                },
            )
        };
        let a = session
            .start(
                counts(read_stream(input.clone()))
                    .write_stream(Foreach::new(move |r: &ShopTotal| {
                        into.lock().unwrap().push((r.shop.clone(), r.n, r.total))
                    }))
                    .output_mode(Update),
            )
            .unwrap();
        let b = session
            .start(
                counts(read_stream(input.clone()))
                    .write_stream(memory.clone())
                    .output_mode(Update),
            )
            .unwrap();
        for k in 0..4i64 {
            input.add_data((0..50).map(|i| Reading {
                sensor: format!("s{}", (i + k) % 7),
                value: i * k,
            }));
            a.process_all_available().unwrap();
            b.process_all_available().unwrap();
        }
        let written: i64 = a
            .recent_progress()
            .iter()
            .map(|p| p.sink.num_output_rows)
            .sum();
        a.stop().unwrap();
        b.stop().unwrap();
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        let mut expected: Vec<(String, i64, i64)> = memory
            .rows()
            .into_iter()
            .map(|r| (r.shop, r.n, r.total))
            .collect();
        expected.sort();
        assert_eq!(got, expected);
        assert_eq!(written as usize, expected.len());
    }
}

#[test]
fn noop_sink_counts_rows_without_gathering_them() {
    let input = MemoryStream::new();
    let q = read_stream::<Reading>(input.clone())
        .filter(|r| r.value % 2 == 0)
        .write_stream(Noop)
        .start()
        .unwrap();
    input.add_data((0..100).map(|i| Reading {
        sensor: "s".into(),
        value: i,
    }));
    q.process_all_available().unwrap();
    q.stop().unwrap();
    assert_eq!(q.last_progress().unwrap().sink.num_output_rows, 50);
    assert_eq!(q.last_progress().unwrap().sink.description, "NoopSink");
}

#[test]
fn foreach_in_append_mode_writes_each_closed_window_once() {
    use std::sync::{Arc, Mutex};
    for session in [Session::local(), Session::with_workers(2)] {
        let input = MemoryStream::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let memory = MemorySink::new();
        let windows = |data: Dataset<Reading>| {
            data.with_watermark(|r| Timestamp(r.value), "0 seconds")
                .group_by_window(
                    WindowSpec::tumbling("10 milliseconds").unwrap(),
                    |r| Timestamp(r.value),
                    |r| r.sensor.clone(),
                )
                .agg(
                    |a| (a.count(),),
                    |w, sensor, (n,)| ShopTotal {
                        shop: format!("{sensor}@{}", w.end.millis()),
                        n,
                        total: 0,
                        low: 0,
                        mean: 0.0,
                    },
                )
        };
        let a = session
            .start(
                windows(read_stream(input.clone()))
                    .write_stream(Foreach::new(move |r: &ShopTotal| {
                        into.lock().unwrap().push((r.shop.clone(), r.n))
                    }))
                    .output_mode(Append),
            )
            .unwrap();
        let b = session
            .start(
                windows(read_stream(input.clone()))
                    .write_stream(memory.clone())
                    .output_mode(Append),
            )
            .unwrap();
        for k in 0..5i64 {
            input.add_data((0..30).map(|i| Reading {
                sensor: format!("s{}", i % 3),
                value: k * 20 + i % 20,
            }));
            a.process_all_available().unwrap();
            b.process_all_available().unwrap();
        }
        a.stop().unwrap();
        b.stop().unwrap();
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        let mut expected: Vec<(String, i64)> =
            memory.rows().into_iter().map(|r| (r.shop, r.n)).collect();
        expected.sort();
        assert!(!expected.is_empty());
        assert_eq!(got, expected);
    }
}

/// Spark's `MemoryStream.commit` trims what committed batches read: memory holds only the rows
/// the query has yet to finish.
#[test]
fn a_memory_stream_discards_committed_rows() {
    for session in [Session::local(), Session::with_workers(2)] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let handle = session
            .start(read_stream::<Word>(input.clone()).write_stream(sink.clone()))
            .unwrap();
        for i in 0..50 {
            input.add_data((0..100).map(|j| Word {
                word: format!("w{i}-{j}"),
            }));
            handle.process_all_available().unwrap();
        }
        assert_eq!(input.buffered_rows(), 0);
        input.add_data([Word { word: "x".into() }]);
        assert_eq!(input.buffered_rows(), 1);
        handle.process_all_available().unwrap();
        handle.stop().unwrap();
        assert_eq!(sink.rows().len(), 50 * 100 + 1);
        assert_eq!(input.buffered_rows(), 0);
    }
}

/// As in Spark, a session refuses a second active query with the same name.
#[test]
fn query_names_are_unique_among_a_sessions_active_queries() {
    let session = Session::local();
    let named = |name: &str| {
        read_stream::<Word>(MemoryStream::new())
            .write_stream(Noop)
            .query_name(name)
    };
    let first = session.start(named("words")).unwrap();
    let err = session
        .clone()
        .start(named("words"))
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("Cannot start query with name words"),
        "{err}"
    );
    let other = session.start(named("other")).unwrap();
    // Another session has its own queries.
    let elsewhere = Session::local().start(named("words")).unwrap();
    first.stop().unwrap();
    let again = session.start(named("words")).unwrap();
    for q in [other, elsewhere, again] {
        q.stop().unwrap();
    }
}
