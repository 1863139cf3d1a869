//! A query restarted from its checkpoint after a change (Spark's "Recovery Semantics after
//! Changes in a Streaming Query"): allowed changes start and resume; disallowed ones are refused
//! before any data is read, with an error that lists every change and why.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    ts: Timestamp,
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("changes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("in")).unwrap();
        Dir(d)
    }
    fn input(&self) -> PathBuf {
        self.0.join("in")
    }
    fn checkpoint(&self) -> PathBuf {
        self.0.join("checkpoint")
    }
    /// Input file `n`: clicks of users a and b at second `n`.
    fn file(&self, n: u64) {
        let ts = format!("2026-01-01T00:00:{n:02}Z");
        let rows = format!(
            "{{\"user\":\"a\",\"page\":\"p\",\"ts\":\"{ts}\"}}\n{{\"user\":\"b\",\"page\":\"q\",\"ts\":\"{ts}\"}}\n"
        );
        std::fs::write(self.input().join(format!("{n:03}.json")), rows).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type Rows = Arc<Mutex<Vec<String>>>;

/// Keeps the rows of every batch, as text (the queries' row types are `stream!`'s own).
fn sink<R: Record>(rows: &Rows) -> ForeachBatch<impl FnMut(u64, Vec<R>) + Send + 'static> {
    let into = rows.clone();
    ForeachBatch::new(move |_, batch: Vec<R>| {
        into.lock()
            .unwrap()
            .extend(batch.iter().map(|r| format!("{r:?}")));
    })
}

/// A row of a query that lost its aggregation.
#[derive(Record)]
struct Counted {
    window: Window,
    user: String,
    n: i64,
}

/// The original query: clicks per user per 10-second window.
fn original(dir: &Dir, rows: &Rows) -> DataStreamWriter<impl Record> {
    stream! {
        read_stream::<Click>(Files::json(dir.input()))
            .with_watermark(ts, "5 seconds")
            .group_by(window(ts, "10 seconds"), user)
            .agg(count() as n)
            .write_stream(sink(rows))
            .output_mode(Append)
            .checkpoint_location(dir.checkpoint())
            .trigger(AvailableNow)
    }
}

fn run<R: Record>(query: DataStreamWriter<R>) -> Result<(), StreamError> {
    let q = Session::local().start(query)?;
    q.await_termination()
}

#[test]
fn allowed_changes_resume_from_the_checkpoint() {
    let dir = Dir::new("allowed");
    let rows = Rows::default();
    dir.file(1);
    run(original(&dir, &rows)).unwrap();
    dir.file(12);
    dir.file(30);
    // A filter added before the aggregation, and another sink: both allowed.
    let other = Rows::default();
    let changed = stream! {
        read_stream::<Click>(Files::json(dir.input()))
            .filter(page != "never")
            .with_watermark(ts, "5 seconds")
            .group_by(window(ts, "10 seconds"), user)
            .agg(count() as n)
            .write_stream(sink(&other))
            .output_mode(Append)
            .checkpoint_location(dir.checkpoint())
            .trigger(AvailableNow)
    };
    run(changed).unwrap();
    // The state of window [0, 10) survived the restart: it holds the first run's clicks.
    let mut got = other.lock().unwrap().clone();
    got.sort();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(
        got[0].contains("user: \"a\"") && got[0].contains("n: 1"),
        "{got:?}"
    );
}

/// Starts `changed` on a checkpoint written by the original query; returns its error, and
/// checks that it read nothing.
fn refused(name: &str, changed: impl FnOnce(&Dir, &Rows) -> Result<(), StreamError>) -> String {
    let dir = Dir::new(name);
    let rows = Rows::default();
    dir.file(1);
    dir.file(12);
    run(original(&dir, &rows)).unwrap();
    dir.file(30);
    let after = Rows::default();
    let e = changed(&dir, &after).expect_err("the changed query is refused");
    assert!(after.lock().unwrap().is_empty(), "nothing was read");
    // Refused, the checkpoint is as it was: the original query still resumes from it.
    run(original(&dir, &rows)).unwrap();
    assert_eq!(rows.lock().unwrap().len(), 4, "{:?}", rows.lock().unwrap());
    e.to_string()
}

#[test]
fn a_changed_window_and_key_are_refused_with_every_change_listed() {
    let e = refused("window-and-key", |dir, rows| {
        run(stream! {
            read_stream::<Click>(Files::json(dir.input()))
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "20 seconds"), user, page)
                .agg(count() as n)
                .select(window, user, n)
                .write_stream(sink(rows))
                .output_mode(Append)
                .checkpoint_location(dir.checkpoint())
                .trigger(AvailableNow)
        })
    });
    assert!(e.contains("the query changed since its checkpoint"), "{e}");
    assert!(
        e.contains("key (grouping columns) changed from `{user: string}` to `{user: string, page: string}`"),
        "{e}"
    );
    assert!(
        e.contains("parameters changed from `tumbling windows of 10000 ms` to `tumbling windows of 20000 ms`"),
        "{e}"
    );
    assert!(e.contains("new checkpoint_location"), "{e}");
}

#[test]
fn a_changed_aggregate_is_refused() {
    let e = refused("aggregate", |dir, rows| {
        run(stream! {
            read_stream::<Click>(Files::json(dir.input()))
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "10 seconds"), user)
                .agg(count() as n, max(page) as last)
                .select(window, user, n)
                .write_stream(sink(rows))
                .output_mode(Append)
                .checkpoint_location(dir.checkpoint())
                .trigger(AvailableNow)
        })
    });
    assert!(
        e.contains("stateful operator 0 (window aggregation): its state (aggregates) changed"),
        "{e}"
    );
}

#[test]
fn a_changed_output_mode_of_a_stateful_query_is_refused() {
    let e = refused("mode", |dir, rows| {
        run(stream! {
            read_stream::<Click>(Files::json(dir.input()))
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "10 seconds"), user)
                .agg(count() as n)
                .write_stream(sink(rows))
                .output_mode(Complete)
                .checkpoint_location(dir.checkpoint())
                .trigger(AvailableNow)
        })
    });
    assert!(
        e.contains("the output mode changed from append to complete"),
        "{e}"
    );
}

#[test]
fn a_removed_aggregation_and_a_changed_source_are_refused() {
    let e = refused("removed", |dir, rows| {
        let other = dir.0.join("other");
        std::fs::create_dir_all(&other).unwrap();
        run(stream! {
            read_stream::<Click>(Files::json(&other))
                .map(|c| Counted { window: Window { start: c.ts, end: c.ts }, user: c.user, n: 1 })
                .write_stream(sink(rows))
                .output_mode(Append)
                .checkpoint_location(dir.checkpoint())
                .trigger(AvailableNow)
        })
    });
    assert!(
        e.contains("stateful operator 0 (window aggregation) was removed"),
        "{e}"
    );
    assert!(e.contains("source 0 changed from FileStreamSource["), "{e}");
}

#[test]
fn a_corrupt_query_record_names_the_file() {
    let dir = Dir::new("corrupt");
    let rows = Rows::default();
    dir.file(1);
    run(original(&dir, &rows)).unwrap();
    let path = dir.checkpoint().join("query");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let e = run(original(&dir, &rows)).unwrap_err().to_string();
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(e.contains("corrupt or truncated"), "{e}");
}
