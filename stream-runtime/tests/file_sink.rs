//! The file sink end to end: a windowed aggregation writes its closed windows to files with a
//! checkpoint, on one and two workers; what readers that honour `_spark_metadata` see (our file
//! source, and Spark itself through pyspark) is exactly the committed rows, computed here
//! naively, even with the files of an attempt that never committed in the directory; a batch
//! run again is not written twice; CSV with a header and partitions, and Parquet, read back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use stream_runtime::prelude::*;
use stream_runtime::sink::Sink;

mod sink_log;
mod spark;

use sink_log::listed;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("file-sink-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("in")).unwrap();
        TempDir(d)
    }
    fn input(&self) -> PathBuf {
        self.0.join("in")
    }
    fn output(&self) -> PathBuf {
        self.0.join("out")
    }
    fn checkpoint(&self) -> PathBuf {
        self.0.join("checkpoint")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Record)]
struct Pay {
    user: String,
    amount: i64,
    ts: Timestamp,
}

#[derive(Record)]
struct Total {
    window: Window,
    user: String,
    n: i64,
    total: i64,
}

/// A window's row without the struct (CSV cannot hold one).
#[derive(Record)]
struct Flat {
    start: Timestamp,
    end: Timestamp,
    user: String,
    n: i64,
    total: i64,
}

/// 2026-01-01T00:00:00Z.
const BASE: i64 = 1_767_225_600_000;

/// `2026-01-01T00:00:05.123Z` for `BASE + ms` (within the day).
fn iso(ms: i64) -> String {
    let t = ms - BASE;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

/// The rows of input file `i`: event times in `[7 s * i, 7 s * (i + 1))`, so that no row is
/// ever late for a 5-second watermark delay, however the files are batched.
fn rows(i: u64) -> Vec<(String, i64, i64)> {
    let mut x = i * 7919 + 13;
    (0..12)
        .map(|j| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let user = format!("u{}", (x >> 33) % 4);
            let amount = ((x >> 40) % 100) as i64;
            let ts = BASE + i as i64 * 7000 + j * 583;
            (user, amount, ts)
        })
        .collect()
}

/// Writes input files `files`, modified a second apart in order.
fn write_input(dir: &Path, files: std::ops::Range<u64>) {
    for i in files {
        let text: String = rows(i)
            .iter()
            .map(|(u, a, ts)| {
                format!(
                    "{{\"user\":\"{u}\",\"amount\":{a},\"ts\":\"{}\"}}\n",
                    iso(*ts)
                )
            })
            .collect();
        let path = dir.join(format!("{i:03}.json"));
        std::fs::write(&path, text).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + i))
            .unwrap();
    }
}

/// (window start, user) -> (n, total): the windows a run over input files `0..files` emits in
/// Append mode, computed naively: 10-second windows per user, closed once the watermark (the
/// latest event time less 5 seconds) reaches their end.
fn expected(files: u64) -> BTreeMap<(i64, String), (i64, i64)> {
    let all: Vec<_> = (0..files).flat_map(rows).collect();
    let watermark = all.iter().map(|r| r.2).max().unwrap() - 5000;
    let mut out = BTreeMap::new();
    for (user, amount, ts) in all {
        let start = ts - ts.rem_euclid(10_000);
        if start + 10_000 <= watermark {
            let e = out.entry((start, user)).or_insert((0, 0));
            e.0 += 1;
            e.1 += amount;
        }
    }
    out
}

fn totals(rows: Vec<Total>) -> BTreeMap<(i64, String), (i64, i64)> {
    let mut out = BTreeMap::new();
    for r in rows {
        assert_eq!(r.window.end.millis() - r.window.start.millis(), 10_000);
        let dup = out.insert((r.window.start.millis(), r.user.clone()), (r.n, r.total));
        assert!(
            dup.is_none(),
            "window {:?} of {} written twice",
            r.window,
            r.user
        );
    }
    out
}

/// The windowed aggregation of the input, as the builder writes it.
fn windows(input: &Path) -> Dataset<Total> {
    read_stream::<Pay>(Files::json(input).max_files_per_trigger(1))
        .with_watermark_on("ts", |p| p.ts, "5 seconds")
        .group_by_window_on(
            WindowSpec::tumbling("10 seconds").unwrap(),
            "ts",
            |p| p.ts,
            |p| p.user.clone(),
        )
        .agg(
            |a| (a.count(), a.sum(|p: &Pay| p.amount)),
            |window, user, (n, total)| Total {
                window,
                user,
                n,
                total,
            },
        )
}

/// Runs the query into `sink` over the files present, to the end (`AvailableNow`).
fn run<S: Sink<Total>>(dir: &TempDir, sink: S, workers: usize) {
    let query = windows(&dir.input())
        .write_stream(sink)
        .checkpoint_location(dir.checkpoint())
        .trigger(AvailableNow);
    let q = Session::with_workers(workers).start(query).unwrap();
    q.await_termination().unwrap();
}

/// The rows the output's log lists, read by our file source.
fn committed(out: &Path) -> Vec<Total> {
    Files::json::<Total>(out).read_all().unwrap().0
}

/// The lines of the files the log lists, sorted (CSV headers left out).
fn listed_lines(out: &Path, header: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    for path in listed(out) {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rows = text.lines();
        if let Some(header) = header {
            if !text.is_empty() {
                assert_eq!(rows.next(), Some(header), "{}", path.display());
            }
        }
        lines.extend(rows.map(String::from));
    }
    lines.sort();
    lines
}

/// The expected windows as Spark's JSON writer writes them (the line the issue gives:
/// `{"window":{"start":…,"end":…},"user":"u7","n":3,"total":120}`), sorted.
fn json_lines(windows: &BTreeMap<(i64, String), (i64, i64)>) -> Vec<String> {
    let mut lines: Vec<String> = windows
        .iter()
        .map(|((start, user), (n, total))| {
            format!(
                "{{\"window\":{{\"start\":\"{}\",\"end\":\"{}\"}},\"user\":\"{user}\",\"n\":{n},\"total\":{total}}}",
                iso(*start),
                iso(start + 10_000)
            )
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn the_committed_rows_are_exactly_the_windows_on_any_number_of_workers() {
    for workers in [1, 2] {
        let dir = TempDir::new(&format!("json-{workers}"));
        write_input(&dir.input(), 0..8);
        run(&dir, Files::json(dir.output()), workers);
        assert_eq!(
            totals(committed(&dir.output())),
            expected(8),
            "{workers} workers"
        );
        assert_eq!(listed_lines(&dir.output(), None), json_lines(&expected(8)));
        // One log file per batch: 8 with data, and the batch without data that closes the
        // last windows.
        let log = dir.output().join("_spark_metadata");
        for batch in 0..9 {
            assert!(log.join(batch.to_string()).is_file(), "batch {batch}");
        }
        // Restarted with more input (and the other number of workers), it goes on.
        write_input(&dir.input(), 8..12);
        run(&dir, Files::json(dir.output()), 3 - workers);
        assert_eq!(totals(committed(&dir.output())), expected(12));
        assert!(
            log.join("9.compact").is_file(),
            "every 10th batch compacts the log"
        );
        assert!(!log.join("9").exists());
        assert_eq!(listed_lines(&dir.output(), None), json_lines(&expected(12)));
    }
}

#[test]
fn a_batch_run_again_after_a_crash_is_written_once() {
    let dir = TempDir::new("replay");
    write_input(&dir.input(), 0..6);
    run(&dir, Files::json(dir.output()), 2);
    let before = totals(committed(&dir.output()));
    // As if the process died after the sink logged the last batch, before its commit.
    let commits = dir.checkpoint().join("commits");
    let last = std::fs::read_dir(&commits)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    std::fs::remove_file(commits.join(last.to_string())).unwrap();
    let files_before = std::fs::read_dir(dir.output()).unwrap().count();
    run(&dir, Files::json(dir.output()), 1);
    assert_eq!(totals(committed(&dir.output())), before);
    assert_eq!(listed_lines(&dir.output(), None), json_lines(&expected(6)));
    assert_eq!(
        std::fs::read_dir(dir.output()).unwrap().count(),
        files_before
    );
    assert!(commits.join(last.to_string()).is_file(), "committed again");
}

/// Writes, as worker 0's attempt at `batch`, a file the log never lists (the attempt did not
/// commit): a window that does not exist.
fn uncommitted_attempt(out: &Path, batch: u64) {
    let sink = Files::json::<Total>(out).partitioned().unwrap();
    let mut w = sink.open(batch, 0).unwrap();
    let bogus = Total {
        window: Window {
            start: Timestamp(0),
            end: Timestamp(10_000),
        },
        user: "ghost".into(),
        n: 1,
        total: 1,
    };
    w.write(&mut [bogus].iter()).unwrap();
    w.finish().unwrap();
}

#[test]
fn files_of_an_attempt_that_did_not_commit_are_never_read_and_go_at_restart() {
    let dir = TempDir::new("orphan");
    write_input(&dir.input(), 0..5);
    run(&dir, Files::json(dir.output()), 1);
    let next = std::fs::read_dir(dir.checkpoint().join("commits"))
        .unwrap()
        .count() as u64;
    uncommitted_attempt(&dir.output(), next);
    let ghost = |out: &Path| {
        std::fs::read_dir(out).unwrap().any(|e| {
            let p = e.unwrap().path();
            p.is_file() && std::fs::read_to_string(&p).unwrap().contains("ghost")
        })
    };
    assert!(
        ghost(&dir.output()),
        "the attempt's file is in the directory"
    );
    assert_eq!(totals(committed(&dir.output())), expected(5));
    // A streaming read of the directory does not see it either.
    let seen = MemorySink::new();
    read_stream::<Total>(Files::json(dir.output()))
        .write_stream(seen.clone())
        .trigger(AvailableNow)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    assert_eq!(totals(seen.rows()), expected(5));
    // The query starts again: the attempt's file goes, and the next batches are written.
    write_input(&dir.input(), 5..9);
    run(&dir, Files::json(dir.output()), 2);
    assert!(!ghost(&dir.output()), "removed at restart");
    assert_eq!(totals(committed(&dir.output())), expected(9));
}

/// A restarted query may not write to another output directory: its `_spark_metadata` would
/// not match the checkpoint's batches (Spark's rule). Refused before anything is read.
#[test]
fn a_restart_refuses_another_output_directory() {
    let dir = TempDir::new("moved");
    write_input(&dir.input(), 0..4);
    run(&dir, Files::json(dir.output()), 1);
    let elsewhere = dir.0.join("elsewhere");
    let query = windows(&dir.input())
        .write_stream(Files::json(&elsewhere))
        .checkpoint_location(dir.checkpoint())
        .trigger(AvailableNow);
    let err = match Session::with_workers(1).start(query) {
        Err(e) => e,
        Ok(q) => q.await_termination().expect_err("refused"),
    }
    .to_string();
    assert!(
        err.contains("sink changed") && err.contains("elsewhere"),
        "{err}"
    );
    assert!(!elsewhere.exists(), "nothing written there");
    // The same directory, given relatively or not, is the same sink.
    run(&dir, Files::json(dir.output()), 2);
}

/// With a retention, compact files leave out the files older than it: the log stays bounded,
/// and readers no longer see those files (Spark's `retention` option of the file sink).
#[test]
fn retention_leaves_old_files_out_of_the_compact_files() {
    let dir = TempDir::new("retention");
    let retention = Duration::from_secs(2);
    let sink = |out: PathBuf| Files::json(out).retention(retention);
    write_input(&dir.input(), 0..4);
    run(&dir, sink(dir.output()), 1);
    let old = listed(&dir.output());
    let old_rows = totals(committed(&dir.output()));
    assert!(!old.is_empty() && !old_rows.is_empty());
    std::thread::sleep(retention + Duration::from_millis(500));
    // Enough batches for the log to compact at batch 9 (and 19).
    write_input(&dir.input(), 4..18);
    run(&dir, sink(dir.output()), 1);
    let log = dir.output().join("_spark_metadata");
    assert!(log.join("9.compact").is_file() && log.join("19.compact").is_file());
    let now = listed(&dir.output());
    for f in &old {
        assert!(
            !now.contains(f),
            "{} is older than the retention",
            f.display()
        );
        assert!(f.is_file(), "the sink leaves the files themselves");
    }
    // What readers see: the windows of the second run's files only (those of the last
    // batches, written just before the compaction, at least).
    let seen = totals(committed(&dir.output()));
    let all = expected(18);
    assert!(!seen.is_empty());
    for (key, value) in &seen {
        assert!(!old_rows.contains_key(key), "{key:?} is in an old file");
        assert_eq!(all.get(key), Some(value), "{key:?}");
    }
}

#[test]
fn csv_with_a_header_and_partitions_reads_back() {
    let dir = TempDir::new("csv");
    write_input(&dir.input(), 0..6);
    let query = windows(&dir.input())
        .map(|t| Flat {
            start: t.window.start,
            end: t.window.end,
            user: t.user,
            n: t.n,
            total: t.total,
        })
        .write_stream(
            Files::csv(dir.output())
                .header(true)
                .partition_by(&["user"]),
        )
        .checkpoint_location(dir.checkpoint())
        .trigger(AvailableNow);
    Session::with_workers(2)
        .start(query)
        .unwrap()
        .await_termination()
        .unwrap();
    // Hive-style directories, one per user, whose files hold the other columns, as Spark's
    // CSV writer writes them (timestamps as `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in UTC).
    let by_user = |user: &str| -> Vec<String> {
        let mut lines: Vec<String> = expected(6)
            .into_iter()
            .filter(|((_, u), _)| u == user)
            .map(|((start, _), (n, total))| {
                format!("{},{},{n},{total}", iso(start), iso(start + 10_000))
            })
            .collect();
        lines.sort();
        lines
    };
    for user in ["u0", "u1", "u2", "u3"] {
        let part = dir.output().join(format!("user={user}"));
        assert!(part.is_dir(), "{}", part.display());
        let mut lines = Vec::new();
        for path in listed(&dir.output()) {
            if path.parent() == Some(part.as_path()) {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut rows = text.lines();
                assert_eq!(rows.next(), Some("start,end,n,total"), "{}", path.display());
                lines.extend(rows.map(String::from));
            }
        }
        lines.sort();
        assert_eq!(lines, by_user(user), "{user}");
    }
    let read = Files::csv::<Flat>(dir.output())
        .header(true)
        .mode(Mode::FailFast)
        .read_all()
        .unwrap()
        .0;
    let rows = read
        .into_iter()
        .map(|f| Total {
            window: Window {
                start: f.start,
                end: f.end,
            },
            user: f.user,
            n: f.n,
            total: f.total,
        })
        .collect();
    assert_eq!(totals(rows), expected(6));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_read_back_as_a_stream() {
    for partition in [false, true] {
        let dir = TempDir::new(&format!("parquet-{partition}"));
        write_input(&dir.input(), 0..6);
        let mut sink = Files::parquet(dir.output());
        if partition {
            sink = sink.partition_by(&["user"]);
        }
        run(&dir, sink, 2);
        let seen = MemorySink::new();
        read_stream::<Total>(Files::parquet(dir.output()).mode(Mode::FailFast))
            .write_stream(seen.clone())
            .trigger(AvailableNow)
            .start()
            .unwrap()
            .await_termination()
            .unwrap();
        assert_eq!(totals(seen.rows()), expected(6), "partitioned: {partition}");
    }
}

/// Spark reads what we wrote: JSON (with the files of an attempt that did not commit beside
/// the committed ones), partitioned CSV and, with the `parquet` feature, Parquet. pyspark is
/// installed on demand (`scripts/pyspark/setup.sh`).
#[test]
fn spark_reads_exactly_the_committed_rows() {
    let dir = TempDir::new("spark");
    write_input(&dir.input(), 0..6);
    let json = dir.0.join("json");
    let query = windows(&dir.input())
        .write_stream(Files::json(&json))
        .checkpoint_location(dir.0.join("ckpt-json"))
        .trigger(AvailableNow);
    Session::with_workers(2)
        .start(query)
        .unwrap()
        .await_termination()
        .unwrap();
    uncommitted_attempt(&json, 100);
    let csv = dir.0.join("csv");
    let query = windows(&dir.input())
        .map(|t| Flat {
            start: t.window.start,
            end: t.window.end,
            user: t.user,
            n: t.n,
            total: t.total,
        })
        .write_stream(Files::csv(&csv).header(true).partition_by(&["user"]))
        .checkpoint_location(dir.0.join("ckpt-csv"))
        .trigger(AvailableNow);
    Session::with_workers(2)
        .start(query)
        .unwrap()
        .await_termination()
        .unwrap();
    #[cfg_attr(not(feature = "parquet"), allow(unused_mut))]
    let mut dirs = vec![("json", json), ("csv", csv)];
    #[cfg(feature = "parquet")]
    {
        let parquet = dir.0.join("parquet");
        let query = windows(&dir.input())
            .write_stream(Files::parquet(&parquet))
            .checkpoint_location(dir.0.join("ckpt-parquet"))
            .trigger(AvailableNow);
        Session::with_workers(2)
            .start(query)
            .unwrap()
            .await_termination()
            .unwrap();
        dirs.push(("parquet", parquet));
    }
    let read = spark::read(&dirs);
    // What Spark's `toJSON` gives for each row: its inferred schema for JSON (the window's
    // times as strings) and CSV (every column a string; the partition column from the
    // directory), the file's schema for Parquet (timestamps printed in UTC).
    let want = |strings: bool| -> Vec<serde_json::Value> {
        let mut rows: Vec<serde_json::Value> = expected(6)
            .into_iter()
            .map(|((start, user), (n, total))| {
                if strings {
                    serde_json::json!({"start": iso(start), "end": iso(start + 10_000),
                        "user": user, "n": n.to_string(), "total": total.to_string()})
                } else {
                    serde_json::json!({"window": {"start": iso(start), "end": iso(start + 10_000)},
                        "user": user, "n": n, "total": total})
                }
            })
            .collect();
        rows.sort_by_key(|r| r.to_string());
        rows
    };
    for (format, rows) in read {
        assert_eq!(rows, want(format == "csv"), "{format}");
    }
}
