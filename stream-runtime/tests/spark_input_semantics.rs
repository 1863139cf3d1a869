//! Input read as Spark reads it, end to end through queries on 1 and 2 workers: JSON
//! timestamps in epoch seconds, aggregates that ignore NULLs, text lines that are not UTF-8,
//! CSV headers skipped with columns by position, and bounded corrupt records.
//!
//! Expected values are hand-worked from Spark's documented behaviour, not taken from the code.

use std::path::{Path, PathBuf};
use stream_core::agg::count_non_null;
use stream_runtime::prelude::*;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "stream-runtime-spark-input-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Record)]
struct Reading {
    sensor: String,
    ts: Timestamp,
    value: Option<i64>,
}

#[derive(Record)]
struct Stats {
    window: Window,
    sensor: String,
    rows: i64,
    values: i64,
    total: Option<i64>,
    low: Option<i64>,
    mean: Option<f64>,
}

/// A row of `Stats`: window start, sensor, rows, non-NULL values, sum, min, avg.
type Row = (i64, String, i64, i64, Option<i64>, Option<i64>, Option<f64>);

/// 2015-07-15T00:00:00Z in epoch seconds (`date -u -d 2015-07-15 +%s`).
const JULY_15: i64 = 1_436_918_400;

#[test]
fn json_seconds_and_nullable_aggregates_in_a_windowed_query() {
    let dir = TempDir::new("json");
    let lines = [
        format!("{{\"sensor\":\"a\",\"ts\":{JULY_15},\"value\":3}}"),
        // 00:00:05 UTC written with an offset; a NULL value.
        "{\"sensor\":\"a\",\"ts\":\"2015-07-15T02:00:05+02:00\",\"value\":null}".to_string(),
        format!("{{\"sensor\":\"a\",\"ts\":{},\"value\":5}}", JULY_15 + 15),
        format!("{{\"sensor\":\"a\",\"ts\":{},\"value\":-4}}", JULY_15 + 9),
        // No value at all.
        format!("{{\"sensor\":\"b\",\"ts\":{}}}", JULY_15 + 1),
        // Spark reads only whole seconds: a malformed record.
        format!("{{\"sensor\":\"b\",\"ts\":{}.5,\"value\":1}}", JULY_15),
    ];
    dir.write("a.json", (lines.join("\n") + "\n").as_bytes());
    for session in [Session::local(), Session::with_workers(2)] {
        let sink = MemorySink::new();
        let query = read_stream::<Reading>(Files::json(dir.path()))
            .group_by_window(
                WindowSpec::tumbling("10 seconds").unwrap(),
                |r| r.ts,
                |r| r.sensor.clone(),
            )
            .agg(
                |a| {
                    (
                        a.count(),
                        count_non_null(|r: &Reading| r.value),
                        a.sum(|r: &Reading| r.value),
                        a.min(|r: &Reading| r.value),
                        a.avg(|r: &Reading| r.value),
                    )
                },
                |window, sensor, (rows, values, total, low, mean)| Stats {
                    window,
                    sensor,
                    rows,
                    values,
                    total,
                    low,
                    mean,
                },
            )
            .write_stream(sink.clone())
            .output_mode(Complete)
            .trigger(AvailableNow);
        let q = session.start(query).unwrap();
        q.await_termination().unwrap();
        let mut got: Vec<Row> = sink
            .batches()
            .last()
            .unwrap()
            .1
            .iter()
            .map(|s| {
                (
                    s.window.start.millis(),
                    s.sensor.clone(),
                    s.rows,
                    s.values,
                    s.total,
                    s.low,
                    s.mean,
                )
            })
            .collect();
        got.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let w0 = JULY_15 * 1000;
        assert_eq!(
            got,
            [
                (w0, "a".into(), 3, 2, Some(-1), Some(-4), Some(-0.5)),
                (w0, "b".into(), 1, 0, None, None, None),
                (w0 + 10_000, "a".into(), 1, 1, Some(5), Some(5), Some(5.0)),
            ]
        );
        let corrupt = q.corrupt_records();
        assert_eq!(corrupt.len(), 1, "{corrupt:?}");
        assert_eq!(corrupt[0].line, 6);
    }
}

#[test]
fn text_lines_that_are_not_utf8_are_counted() {
    let dir = TempDir::new("latin1");
    // Three lines, the middle one Latin-1 ("olé"): Spark's text reader keeps all three.
    dir.write("a.txt", b"one two\nol\xe9 two\nthree\n");
    for session in [Session::local(), Session::with_workers(2)] {
        let sink = MemorySink::new();
        let query = read_stream::<Line>(Files::text(dir.path()))
            .group_by_key(|l: &Line| l.value.split(' ').nth(1).unwrap_or("").to_string())
            .count()
            .write_stream(sink.clone())
            .output_mode(Complete)
            .trigger(AvailableNow);
        let q = session.start(query).unwrap();
        q.await_termination().unwrap();
        let mut got: Vec<(String, i64)> = sink
            .batches()
            .last()
            .unwrap()
            .1
            .iter()
            .map(|k| (k.key.clone(), k.count))
            .collect();
        got.sort();
        assert_eq!(got, [(String::new(), 1), ("two".to_string(), 2)]);
        assert!(q.corrupt_records().is_empty());
    }
}

#[derive(Record)]
struct Pair {
    a: i64,
    b: i64,
}

#[test]
fn csv_header_is_skipped_and_fields_map_by_position() {
    let dir = TempDir::new("csv");
    // The header names the columns the other way round: Spark (enforceSchema = true) ignores it.
    dir.write("a.csv", b"b,a\n1,2\n3,4\n");
    let (rows, stats) = Files::csv::<Pair>(dir.path())
        .header(true)
        .read_all()
        .unwrap();
    let got: Vec<(i64, i64)> = rows.iter().map(|p| (p.a, p.b)).collect();
    assert_eq!(got, [(1, 2), (3, 4)]);
    assert_eq!(stats.rows, 2);
}

#[test]
fn many_corrupt_records_are_counted_but_few_are_kept() {
    let dir = TempDir::new("corrupt");
    let mut text = String::new();
    for i in 0..200_000 {
        text.push_str(&format!("broken {i}\n"));
    }
    dir.write("bad.json", text.as_bytes());
    let (rows, stats) = Files::json::<Reading>(dir.path())
        .max_corrupt_records(10)
        .read_all()
        .unwrap();
    assert!(rows.is_empty());
    assert_eq!(stats.corrupt_count, 200_000);
    assert_eq!(stats.corrupt.len(), 10);
    assert_eq!(stats.corrupt[9].raw, "broken 9");
}
