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
