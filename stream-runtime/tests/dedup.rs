//! Deduplication through the builder API: its state is released by the watermark (and kept
//! without one), restored from a checkpoint on another number of workers, and the queries
//! Spark rejects are refused when they start. Expected results are worked out by hand from
//! Spark's rules (docs/deduplication.md); the conformance scenarios check the rest.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use stream_runtime::prelude::*;
use stream_runtime::QueryProgress;

#[derive(Record)]
struct Click {
    user: String,
    ts: Timestamp,
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("dedup-{name}-{}", std::process::id()));
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
    /// Writes input file `n` with clicks `(user, ms)`, modified `n` seconds after the epoch.
    fn file(&self, n: u64, clicks: &[(&str, i64)]) {
        let path = self.input().join(format!("{n:03}.json"));
        let text: String = clicks
            .iter()
            .map(|(user, ms)| format!("{{\"user\":\"{user}\",\"ts\":\"{}\"}}\n", iso(*ms)))
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

fn iso(ms: i64) -> String {
    let t = Timestamp(ms).to_string();
    let (date, time) = t.split_at(10);
    format!("{date}T{}Z", time.trim())
}

/// What a run gave: per batch with rows, its id and its clicks `(user, ms)`, sorted; and the
/// progress of every batch.
type Run = (Vec<(u64, Vec<(String, i64)>)>, Vec<QueryProgress>);

/// Reads every file of `dir` (one per batch) through `dedup`, on `workers` workers.
fn run(
    dir: &TempDir,
    workers: usize,
    checkpoint: bool,
    dedup: impl FnOnce(Dataset<Click>) -> Dataset<Click>,
) -> Run {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    let input = read_stream::<Click>(Files::json(dir.input()).max_files_per_trigger(1));
    let mut query = dedup(input)
        .write_stream(ForeachBatch::new(move |id, rows: Vec<Click>| {
            let mut clicks: Vec<(String, i64)> =
                rows.into_iter().map(|c| (c.user, c.ts.millis())).collect();
            clicks.sort();
            if !clicks.is_empty() {
                into.lock().unwrap().push((id, clicks));
            }
        }))
        .trigger(AvailableNow);
    if checkpoint {
        query = query.checkpoint_location(dir.checkpoint());
    }
    let q = Session::with_workers(workers).start(query).unwrap();
    q.await_termination().unwrap();
    let batches = seen.lock().unwrap().clone();
    (batches, q.recent_progress())
}

fn clicks(id: u64, c: &[(&str, i64)]) -> (u64, Vec<(String, i64)>) {
    (id, c.iter().map(|(u, t)| (u.to_string(), *t)).collect())
}

/// `withWatermark(ts, 5 s).dropDuplicates(user, ts)`.
fn on_user_and_time(ds: Dataset<Click>) -> Dataset<Click> {
    ds.with_watermark_on("ts", |c| c.ts, "5 seconds")
        .drop_duplicates_on("ts", |c| c.ts, true, |c| (c.user.clone(), c.ts))
}

/// The files of [`state_follows_the_watermark`]. Every file waits from the start, so batch `n`
/// reads file `n`, runs under the watermark of the files before it (max - 5 s) and judges late
/// rows by the batch before's.
fn three_files(dir: &TempDir) {
    dir.file(0, &[("a", 1000), ("a", 1000), ("b", 2000)]);
    dir.file(1, &[("c", 20_000)]);
    // Watermark 15 s (late rows: at or below 0): (a, 1) is a duplicate, (c, 20) too.
    dir.file(2, &[("a", 1000), ("c", 20_000), ("d", 21_000)]);
}

#[test]
fn state_follows_the_watermark_when_the_key_holds_the_event_time() {
    for workers in [1, 2] {
        let dir = TempDir::new(&format!("watermark-{workers}"));
        three_files(&dir);
        let (batches, progress) = run(&dir, workers, false, on_user_and_time);
        assert_eq!(
            batches,
            [
                clicks(0, &[("a", 1000), ("b", 2000)]),
                clicks(1, &[("c", 20_000)]),
                clicks(2, &[("d", 21_000)]),
            ]
        );
        let state = |b: usize| &progress[b].state_operators[0];
        assert_eq!(state(0).operator_name, "dedupe");
        let duplicates: Vec<u64> = (0..progress.len())
            .map(|b| state(b).custom_metrics["numDroppedDuplicateRows"])
            .collect();
        assert_eq!(duplicates, [1, 0, 2, 0], "Spark's numDroppedDuplicateRows");
        assert_eq!(state(0).num_rows_total, 2);
        assert_eq!(state(1).num_rows_total, 3);
        // Batch 2 evicts (a, 1 s) and (b, 2 s) at its watermark, 15 s, after reading its rows.
        assert_eq!((state(2).num_rows_total, state(2).num_rows_removed), (2, 2));
        // Then a batch without data runs under 16 s; nothing is left to evict.
        assert_eq!(progress.len(), 4, "{progress:?}");
        assert_eq!(progress[3].num_input_rows, 0);
        assert_eq!(state(3).num_rows_total, 2);
    }
}

#[test]
fn without_a_watermark_every_key_stays() {
    for workers in [1, 2] {
        let dir = TempDir::new(&format!("forever-{workers}"));
        three_files(&dir);
        dir.file(3, &[("b", 90_000), ("e", 95_000)]);
        let (batches, progress) = run(&dir, workers, false, |ds| {
            ds.drop_duplicates(|c| c.user.clone())
        });
        assert_eq!(
            batches,
            [
                clicks(0, &[("a", 1000), ("b", 2000)]),
                clicks(1, &[("c", 20_000)]),
                clicks(2, &[("d", 21_000)]),
                clicks(3, &[("e", 95_000)]),
            ]
        );
        let totals: Vec<u64> = progress
            .iter()
            .map(|p| p.state_operators[0].num_rows_total)
            .collect();
        assert_eq!(totals, [2, 3, 4, 5], "no batch without data, no eviction");
    }
}

#[test]
fn state_is_restored_on_another_number_of_workers() {
    let dir = TempDir::new("rescale");
    dir.file(0, &[("a", 1000), ("b", 2000)]);
    dir.file(1, &[("c", 20_000)]);
    let (first, _) = run(&dir, 2, true, on_user_and_time);
    assert_eq!(
        first,
        [
            clicks(0, &[("a", 1000), ("b", 2000)]),
            clicks(1, &[("c", 20_000)])
        ]
    );
    // On 1 worker: (c, 20 s) is still in state; the watermark is 15 s.
    dir.file(2, &[("c", 20_000), ("d", 21_000), ("a", 1000)]);
    let (second, _) = run(&dir, 1, true, on_user_and_time);
    assert_eq!(
        second,
        [clicks(3, &[("d", 21_000)])],
        "after the no-data batch 2"
    );
    // On 2 workers again: (c, 20 s) and (d, 21 s) are still in state (watermark 16 s).
    dir.file(3, &[("c", 20_000), ("d", 21_000), ("e", 30_000)]);
    let (third, _) = run(&dir, 2, true, on_user_and_time);
    assert_eq!(third, [clicks(5, &[("e", 30_000)])]);
}

#[test]
fn spark_rejected_deduplications_fail_at_start() {
    let start = |query: DataStreamWriter<Click>| match Session::local().start(query) {
        Ok(_) => panic!("the query started"),
        Err(e) => e.to_string(),
    };
    let err = start(
        read_stream::<Click>(MemoryStream::new())
            .drop_duplicates_within_watermark_on("ts", |c| c.ts, |c| c.user.clone())
            .write_stream(MemorySink::new()),
    );
    assert!(
        err.contains("drop_duplicates_within_watermark is not supported on streaming Datasets without a watermark")
            && err.contains("with_watermark"),
        "{err}"
    );
    #[derive(Record)]
    struct Count {
        user: String,
        n: i64,
    }
    let err = match Session::local().start(
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c| c.user.clone())
            .agg(|a| (a.count(),), |user, (n,)| Count { user, n })
            .drop_duplicates(|c| c.user.clone())
            .write_stream(MemorySink::new())
            .output_mode(Update),
    ) {
        Ok(_) => panic!("the query started"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("drop_duplicates is not supported after an aggregation"),
        "{err}"
    );
}

/// Runs `query` to its end.
fn finish<T: Record>(query: DataStreamWriter<T>) -> Result<(), String> {
    Session::local()
        .start(query)
        .and_then(|q| q.await_termination())
        .map_err(|e| e.to_string())
}

#[test]
fn a_changed_key_of_the_same_types_is_refused_on_restart() {
    let dir = TempDir::new("changed-key");
    dir.file(0, &[("a", 1000), ("b", 2000)]);
    let original = || {
        finish(stream! {
            read_stream::<Click>(Files::json(dir.input()))
                .with_watermark(ts, "5 seconds")
                .select(user, user as other, ts)
                .drop_duplicates(user, ts)
                .write_stream(ForeachBatch::new(|_, _: Vec<_>| {}))
                .checkpoint_location(dir.checkpoint())
                .trigger(AvailableNow)
        })
    };
    original().unwrap();
    let e = finish(stream! {
        read_stream::<Click>(Files::json(dir.input()))
            .with_watermark(ts, "5 seconds")
            .select(user, user as other, ts)
            .drop_duplicates(other, ts)
            .write_stream(ForeachBatch::new(|_, _: Vec<_>| {}))
            .checkpoint_location(dir.checkpoint())
            .trigger(AvailableNow)
    })
    .unwrap_err();
    assert!(
        e.contains("the query changed since its checkpoint")
            && e.contains("(user, ts)")
            && e.contains("(other, ts)"),
        "{e}"
    );
    original().expect("the original query still resumes");
}
