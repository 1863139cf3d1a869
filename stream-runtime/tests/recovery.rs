//! Checkpoints: a query restarted on its checkpoint resumes where it stopped (the same id, a
//! new run id, no file read twice), an interrupted batch runs again exactly (the same batch id,
//! the same rows), and a checkpoint in use refuses a second query.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use stream_runtime::prelude::*;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("recovery-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("in")).unwrap();
        TempDir(d)
    }
    fn input(&self) -> PathBuf {
        self.0.join("in")
    }
    fn checkpoint(&self) -> PathBuf {
        self.0.join("checkpoint")
    }
    /// Writes input file `n` with `lines` values, modified `n` seconds after the epoch.
    fn file(&self, n: u64, lines: &[&str]) {
        let path = self.input().join(format!("{n:03}.json"));
        let text: String = lines
            .iter()
            .map(|l| format!("{{\"value\":\"{l}\"}}\n"))
            .collect();
        std::fs::write(&path, text).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(n))
            .unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type Seen = Arc<Mutex<Vec<(u64, Vec<String>)>>>;

/// Runs the files of `dir` through a query with a checkpoint until they are all read; returns
/// the batches the sink got (id, sorted values) and the query's ids.
fn run(dir: &TempDir, workers: usize) -> (Vec<(u64, Vec<String>)>, String, String) {
    let seen: Seen = Arc::default();
    let into = seen.clone();
    let query = read_stream::<Line>(Files::json(dir.input()).max_files_per_trigger(1))
        .write_stream(ForeachBatch::new(move |id, rows: Vec<Line>| {
            let mut values: Vec<String> = rows.into_iter().map(|l| l.value).collect();
            values.sort();
            into.lock().unwrap().push((id, values));
        }))
        .checkpoint_location(dir.checkpoint())
        .trigger(AvailableNow);
    let q = Session::with_workers(workers).start(query).unwrap();
    q.await_termination().unwrap();
    let batches = seen.lock().unwrap().clone();
    (batches, q.id().to_string(), q.run_id().to_string())
}

fn batch(id: u64, values: &[&str]) -> (u64, Vec<String>) {
    (id, values.iter().map(|v| v.to_string()).collect())
}

#[test]
fn a_restarted_query_resumes_after_the_last_committed_batch() {
    for workers in [1, 2] {
        let dir = TempDir::new(&format!("resume-{workers}"));
        dir.file(1, &["a", "b"]);
        dir.file(2, &["c"]);
        let (first, id, run_id) = run(&dir, workers);
        assert_eq!(first, [batch(0, &["a", "b"]), batch(1, &["c"])]);
        dir.file(3, &["d"]);
        dir.file(4, &["e", "f"]);
        let (second, id2, run_id2) = run(&dir, workers);
        assert_eq!(second, [batch(2, &["d"]), batch(3, &["e", "f"])]);
        assert_eq!(id, id2, "the query id is the checkpoint's");
        assert_ne!(run_id, run_id2, "every run has its own id");
        // Spark's layout.
        let ckpt = dir.checkpoint();
        for file in ["metadata", "offsets/3", "commits/3", "sources/0/4"] {
            assert!(ckpt.join(file).is_file(), "{file}");
        }
        let offsets = std::fs::read_to_string(ckpt.join("offsets/3")).unwrap();
        let lines: Vec<&str> = offsets.lines().collect();
        assert_eq!(lines[0], "v1");
        assert!(lines[1].contains("\"batchWatermarkMs\":0"), "{offsets}");
        assert_eq!(lines[2], "4", "the file source's offset: 4 files");
        let commit = std::fs::read_to_string(ckpt.join("commits/3")).unwrap();
        assert_eq!(commit, "v1\n{\"nextBatchWatermarkMs\":0}");
    }
}

#[test]
fn an_interrupted_batch_runs_again_with_the_same_rows() {
    let dir = TempDir::new("replay");
    dir.file(1, &["a", "b"]);
    dir.file(2, &["c"]);
    let (first, _, _) = run(&dir, 1);
    assert_eq!(first.len(), 2);
    // As if the process died after the sink got batch 1 but before its commit was logged; and
    // a new file arrived meanwhile.
    std::fs::remove_file(dir.checkpoint().join("commits/1")).unwrap();
    dir.file(3, &["d"]);
    let (second, _, _) = run(&dir, 1);
    assert_eq!(
        second,
        [batch(1, &["c"]), batch(2, &["d"])],
        "batch 1 again, exactly, then the new file"
    );
}

#[test]
fn a_checkpoint_in_use_refuses_a_second_query() {
    let dir = TempDir::new("in-use");
    let first = read_stream::<Line>(Files::json(dir.input()))
        .write_stream(Noop)
        .checkpoint_location(dir.checkpoint())
        .start()
        .unwrap();
    let second = read_stream::<Line>(Files::json(dir.input()))
        .write_stream(Noop)
        .checkpoint_location(dir.checkpoint())
        .start();
    let err = second.err().expect("refused").to_string();
    assert!(err.contains("in use by another running query"), "{err}");
    first.stop().unwrap();
}

#[test]
fn a_corrupt_checkpoint_file_is_an_error_naming_it() {
    let dir = TempDir::new("corrupt");
    dir.file(1, &["a"]);
    run(&dir, 1);
    let offsets = dir.checkpoint().join("offsets/0");
    std::fs::write(&offsets, "v1\n{\"batchWatermarkMs\":").unwrap();
    std::fs::remove_file(dir.checkpoint().join("commits/0")).unwrap();
    let err = read_stream::<Line>(Files::json(dir.input()))
        .write_stream(Noop)
        .checkpoint_location(dir.checkpoint())
        .start()
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains(&offsets.display().to_string()), "{err}");
}

#[derive(Record)]
struct Ev {
    k: String,
    v: i64,
    #[event_time]
    ts: Timestamp,
}

#[derive(Record)]
struct Out {
    k: String,
    start: i64,
    end: i64,
    n: i64,
    total: i64,
}

/// The events of input file `i` (of 8): two keys, event times moving forward with some out of
/// order (none late for a 10-second watermark delay, so that where a run is stopped cannot
/// change what is late), so that windows and sessions open, update and close across files.
fn events(i: i64) -> Vec<String> {
    (0..6)
        .map(|j| {
            let ts = i * 4_000 + j * 700 - if j == 5 { 9_000 } else { 0 };
            let k = if (i + j) % 3 == 0 { "a" } else { "b" };
            format!(
                "{{\"k\":\"{k}\",\"v\":{},\"ts\":{}}}",
                i * 10 + j,
                ts.max(0) / 1000
            )
        })
        .collect()
}

/// One stateful query of each kind, as (name, output mode, builder).
type Build = fn(Dataset<Ev>) -> Dataset<Out>;

fn kinds() -> Vec<(&'static str, OutputMode, Build)> {
    vec![
        ("window append", Append, |ds| {
            ds.with_watermark(|e| e.ts, "10 seconds")
                .group_by_window(
                    WindowSpec::tumbling("5 seconds").unwrap(),
                    |e| e.ts,
                    |e| e.k.clone(),
                )
                .agg(|a| (a.count(), a.sum(|e: &Ev| e.v)), window_out)
        }),
        ("window complete", Complete, |ds| {
            ds.group_by_window(
                WindowSpec::tumbling("5 seconds").unwrap(),
                |e| e.ts,
                |e| e.k.clone(),
            )
            .agg(|a| (a.count(), a.sum(|e: &Ev| e.v)), window_out)
        }),
        ("key update", Update, |ds| {
            ds.group_by_key(|e| e.k.clone()).agg(
                |a| (a.count(), a.sum(|e: &Ev| e.v)),
                |k, (n, total)| Out {
                    k,
                    start: 0,
                    end: 0,
                    n,
                    total,
                },
            )
        }),
        ("session append", Append, |ds| {
            ds.with_watermark(|e| e.ts, "10 seconds")
                .group_by_session(
                    SessionGap::fixed("2 seconds").unwrap(),
                    |e| e.ts,
                    |e| e.k.clone(),
                )
                .agg(|a| (a.count(), a.sum(|e: &Ev| e.v)), window_out)
        }),
    ]
}

fn window_out(w: Window, k: String, (n, total): (i64, i64)) -> Out {
    Out {
        k,
        start: w.start.millis(),
        end: w.end.millis(),
        n,
        total,
    }
}

type Row = (String, i64, i64, i64, i64);

/// Every batch a sink got: its id and its rows.
type Batches = Vec<(u64, Vec<Row>)>;

/// Runs `build` over the files present with a checkpoint until they are read; returns every
/// batch the sink got.
fn run_stateful(
    dir: &TempDir,
    mode: OutputMode,
    build: Build,
    workers: usize,
) -> Vec<(u64, Vec<Row>)> {
    run_stateful_with(dir, mode, build, workers, AvailableNow)
}

/// As [`run_stateful`], with another trigger.
fn run_stateful_with(
    dir: &TempDir,
    mode: OutputMode,
    build: Build,
    workers: usize,
    trigger: Trigger,
) -> Vec<(u64, Vec<Row>)> {
    let seen: Arc<Mutex<Batches>> = Arc::default();
    let into = seen.clone();
    let query = build(read_stream::<Ev>(
        Files::json(dir.input()).max_files_per_trigger(1),
    ))
    .write_stream(ForeachBatch::new(move |id, rows: Vec<Out>| {
        let mut rows: Vec<Row> = rows
            .into_iter()
            .map(|o| (o.k, o.start, o.end, o.n, o.total))
            .collect();
        rows.sort();
        into.lock().unwrap().push((id, rows));
    }))
    .output_mode(mode)
    .checkpoint_location(dir.checkpoint())
    .trigger(trigger);
    let q = Session::with_workers(workers).start(query).unwrap();
    q.await_termination().unwrap();
    let out = seen.lock().unwrap().clone();
    out
}

/// What a run's batches amount to: append, every row; update, each key's last row; complete,
/// the last table.
fn result(mode: OutputMode, batches: &[(u64, Vec<Row>)]) -> Vec<Row> {
    let mut out: Vec<Row> = match mode {
        Append => batches.iter().flat_map(|(_, r)| r.clone()).collect(),
        Complete => batches.last().map(|(_, r)| r.clone()).unwrap_or_default(),
        Update => {
            let mut last = std::collections::BTreeMap::new();
            for r in batches.iter().flat_map(|(_, r)| r) {
                last.insert((r.0.clone(), r.1), r.clone());
            }
            last.into_values().collect()
        }
    };
    out.sort();
    out
}

fn write_events(dir: &TempDir, files: std::ops::Range<i64>) {
    for i in files {
        let path = dir.input().join(format!("{i:03}.json"));
        std::fs::write(&path, events(i).join("\n") + "\n").unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(i as u64 + 1))
            .unwrap();
    }
}

/// A stateful query stopped after any file and restarted on its checkpoint, with the same or
/// another number of workers (state follows its key groups), ends with the same result as a
/// run that was never stopped.
#[test]
fn stateful_queries_resume_with_their_state_on_any_number_of_workers() {
    for (name, mode, build) in kinds() {
        let whole = TempDir::new("whole");
        write_events(&whole, 0..8);
        let want = result(mode, &run_stateful(&whole, mode, build, 1));
        assert!(!want.is_empty(), "{name}");
        for (split, before, after) in [(2, 1, 1), (5, 2, 1), (3, 1, 2), (6, 2, 2)] {
            let dir = TempDir::new(&format!("split-{split}-{before}-{after}"));
            write_events(&dir, 0..split);
            let mut batches = run_stateful(&dir, mode, build, before);
            write_events(&dir, split..8);
            batches.extend(run_stateful(&dir, mode, build, after));
            assert_eq!(
                result(mode, &batches),
                want,
                "{name}: stopped after {split} files, {before} then {after} workers"
            );
        }
    }
}

/// A query stopped after a batch that moved the watermark, before the batch without data that
/// closes the windows below it, runs that batch when it starts again, even without new data:
/// the windows are emitted as by a run that was never stopped (Spark would wait for new data).
#[test]
fn a_restart_runs_the_batch_without_data_the_last_batch_asked_for() {
    let (_, mode, build) = kinds()
        .into_iter()
        .find(|k| k.0 == "window append")
        .unwrap();
    let whole = TempDir::new("no-data-whole");
    write_events(&whole, 0..8);
    let want = result(mode, &run_stateful(&whole, mode, build, 1));
    assert!(!want.is_empty());
    for workers in [1, 2] {
        let dir = TempDir::new(&format!("no-data-restart-{workers}"));
        write_events(&dir, 0..8);
        // One batch of every file, and no batch without data after it (`Once`).
        let mut batches = run_stateful_with(&dir, mode, build, workers, Once);
        assert_eq!(batches.len(), 1);
        assert!(
            batches[0].1.is_empty(),
            "no window is closed by the first batch"
        );
        batches.extend(run_stateful(&dir, mode, build, workers));
        assert_eq!(result(mode, &batches), want, "{workers} workers");
    }
}

/// A batch interrupted after its state was written, but before its commit, runs again and
/// gives the same rows (its state files are written anew).
#[test]
fn an_interrupted_stateful_batch_gives_the_same_rows_again() {
    for (name, mode, build) in kinds() {
        for workers in [1, 2] {
            let dir = TempDir::new("stateful-replay");
            write_events(&dir, 0..5);
            let first = run_stateful(&dir, mode, build, workers);
            let (last_id, last_rows) = first.last().cloned().unwrap();
            std::fs::remove_file(dir.checkpoint().join(format!("commits/{last_id}"))).unwrap();
            let again = run_stateful(&dir, mode, build, workers);
            assert_eq!(
                again.first(),
                Some(&(last_id, last_rows)),
                "{name}, {workers} workers"
            );
        }
    }
}

/// A checkpoint's state can be read without its query: its operators, and an operator's keys
/// after a batch, through the library and the `stream-state` command.
#[test]
fn state_can_be_read_without_the_query() {
    let dir = TempDir::new("inspect");
    write_events(&dir, 0..5);
    let (_, mode, build) = kinds().into_iter().find(|k| k.0 == "key update").unwrap();
    let batches = run_stateful(&dir, mode, build, 2);
    let last = result(mode, &batches);
    let ops = stream_runtime::inspect::operators(&dir.checkpoint()).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].operator_name, "aggregation");
    assert_eq!(ops[0].max_batch_id, Some(batches.last().unwrap().0));
    let rows = stream_runtime::inspect::state(&dir.checkpoint(), 0, None).unwrap();
    let mut counts: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            // The value: the partial (row count and the aggregates' state), and the expiry.
            let partial = &r.value[0];
            (
                r.key.as_str().unwrap().to_string(),
                partial["rows"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    let want: Vec<(String, i64)> = last.iter().map(|r| (r.0.clone(), r.3)).collect();
    assert_eq!(counts, want);
    // The command prints the same, as JSON lines.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stream-state"))
        .arg(dir.checkpoint())
        .arg("0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), want.len());
    assert!(lines
        .iter()
        .all(|l| l["key"].is_string() && l["keyGroup"].is_u64()));
    let ops = std::process::Command::new(env!("CARGO_BIN_EXE_stream-state"))
        .arg(dir.checkpoint())
        .output()
        .unwrap();
    let text = String::from_utf8(ops.stdout).unwrap();
    assert!(text.contains("\"operatorName\":\"aggregation\""), "{text}");
}

/// Rows written, by (batch, worker).
type Written = std::collections::BTreeMap<(u64, usize), Vec<String>>;
/// Batches committed, with the workers' messages.
type Committed = Vec<(u64, Vec<serde_json::Value>)>;

/// A sink written by every worker and committed by the driver: what it got, per batch.
#[derive(Clone, Default)]
struct TwoPhase {
    /// Rows written, by (batch, worker), committed or not.
    written: Arc<Mutex<Written>>,
    /// Batches committed, in order, with the workers' messages.
    committed: Arc<Mutex<Committed>>,
}

struct TwoPhaseWriter {
    sink: TwoPhase,
    batch: u64,
    worker: usize,
    rows: Vec<String>,
}

impl stream_runtime::sink::BatchWriter<Line> for TwoPhaseWriter {
    fn write(&mut self, rows: &mut dyn Iterator<Item = &Line>) -> Result<(), StreamError> {
        self.rows.extend(rows.map(|l| l.value.clone()));
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<serde_json::Value, StreamError> {
        let n = self.rows.len();
        self.sink
            .written
            .lock()
            .unwrap()
            .insert((self.batch, self.worker), self.rows);
        Ok(serde_json::json!({ "worker": self.worker, "rows": n }))
    }
}

impl stream_runtime::sink::PartitionedSink<Line> for TwoPhase {
    fn open(
        &self,
        batch: u64,
        worker: usize,
    ) -> Result<Box<dyn stream_runtime::sink::BatchWriter<Line>>, StreamError> {
        Ok(Box::new(TwoPhaseWriter {
            sink: self.clone(),
            batch,
            worker,
            rows: Vec::new(),
        }))
    }
    fn commit(&self, batch: u64, messages: Vec<serde_json::Value>) -> Result<(), StreamError> {
        self.committed.lock().unwrap().push((batch, messages));
        Ok(())
    }
    fn last_committed(&self) -> Result<Option<u64>, StreamError> {
        Ok(self.committed.lock().unwrap().last().map(|(b, _)| *b))
    }
}

impl stream_runtime::sink::Sink<Line> for TwoPhase {
    fn description(&self) -> String {
        "TwoPhase".into()
    }
    fn add_batch(
        &mut self,
        _: stream_runtime::sink::BatchInfo,
        _: Vec<Line>,
    ) -> Result<(), StreamError> {
        unreachable!("a partitioned sink is written by the workers")
    }
    fn partitioned(&self) -> Option<Arc<dyn stream_runtime::sink::PartitionedSink<Line>>> {
        Some(Arc::new(self.clone()))
    }
}

/// Every worker writes its own rows of a batch, the driver commits the batch once with every
/// worker's message, and a batch the sink has already committed is not written again when it
/// runs again after a crash.
#[test]
fn a_partitioned_sink_is_written_by_every_worker_and_committed_once() {
    let dir = TempDir::new("two-phase");
    for f in 1..=3 {
        let lines: Vec<String> = (0..10).map(|i| format!("{f}-{i}")).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        dir.file(f, &lines);
    }
    let sink = TwoPhase::default();
    let run = |sink: &TwoPhase| {
        let query = read_stream::<Line>(Files::json(dir.input()).max_files_per_trigger(2))
            .write_stream(sink.clone())
            .checkpoint_location(dir.checkpoint())
            .trigger(AvailableNow);
        let q = Session::with_workers(2).start(query).unwrap();
        q.await_termination().unwrap();
        q.recent_progress()
    };
    let progress = run(&sink);
    let committed = sink.committed.lock().unwrap().clone();
    assert_eq!(
        committed.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
        [0, 1]
    );
    // Batch 0 read 2 files, one per worker: both wrote, both messages reached the commit.
    let workers: Vec<u64> = committed[0]
        .1
        .iter()
        .map(|m| m["worker"].as_u64().unwrap())
        .collect();
    assert_eq!(workers.len(), 2, "{committed:?}");
    let written = sink.written.lock().unwrap().clone();
    let batch0: usize = written
        .iter()
        .filter(|((b, _), _)| *b == 0)
        .map(|(_, r)| r.len())
        .sum();
    assert_eq!(batch0, 20);
    assert_eq!(progress[0].sink.num_output_rows, 20);
    // A crash after the sink committed batch 1 but before the checkpoint did: batch 1 runs
    // again; the sink, which has it, is neither written nor committed again.
    std::fs::remove_file(dir.checkpoint().join("commits/1")).unwrap();
    sink.written.lock().unwrap().clear();
    run(&sink);
    assert_eq!(
        sink.committed.lock().unwrap().len(),
        2,
        "no second commit of batch 1"
    );
    assert!(
        sink.written.lock().unwrap().is_empty(),
        "batch 1 not written again"
    );
}

/// A query without a checkpoint location runs, and its progress report says it is not fault
/// tolerant; with one, the report names the checkpoint.
#[test]
fn progress_says_whether_the_query_survives_a_crash() {
    let dir = TempDir::new("fault-tolerance");
    dir.file(1, &["a"]);
    let without = read_stream::<Line>(Files::json(dir.input()))
        .write_stream(MemorySink::new())
        .trigger(AvailableNow);
    let q = Session::local().start(without).unwrap();
    q.await_termination().unwrap();
    let report = q.last_progress().unwrap().fault_tolerance;
    assert!(report.starts_with("none:"), "{report}");
    assert!(report.contains("checkpoint_location"), "{report}");

    let (_, _, _) = run(&dir, 1);
    let with = read_stream::<Line>(Files::json(dir.input()))
        .write_stream(MemorySink::new())
        .checkpoint_location(dir.checkpoint().join("other"))
        .trigger(AvailableNow);
    let q = Session::local().start(with).unwrap();
    q.await_termination().unwrap();
    let report = q.last_progress().unwrap().fault_tolerance;
    assert_eq!(
        report,
        format!("checkpoint at {}", dir.checkpoint().join("other").display())
    );
}
