//! Listeners and the query manager (Spark's `StreamingQueryListener` and `spark.streams`):
//! started is delivered before `start()` returns, the other events asynchronously and in order,
//! a blocked listener blocks no batch, terminated carries the error and its class; `streams()`
//! lists, finds and waits for queries.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream_runtime::listener::{
    QueryIdleEvent, QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent,
    StreamingQueryListener,
};
use stream_runtime::prelude::*;

const BOUND: Duration = Duration::from_secs(20);

/// What a listener saw, in order.
#[derive(Clone, Debug)]
enum Seen {
    Started(QueryStartedEvent),
    Progress(QueryProgressEvent),
    Idle(QueryIdleEvent),
    Terminated(QueryTerminatedEvent),
}

/// Records every event; its progress callback first waits for `gate` to be opened, if any.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: Option<Arc<Mutex<Receiver<()>>>>,
}

impl Recorder {
    fn gated() -> (Recorder, Sender<()>) {
        let (open, gate) = channel();
        let r = Recorder {
            gate: Some(Arc::new(Mutex::new(gate))),
            ..Recorder::default()
        };
        (r, open)
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    /// Waits until `done` holds of what was seen.
    fn wait(&self, what: &str, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let start = Instant::now();
        loop {
            let seen = self.seen();
            if done(&seen) {
                return seen;
            }
            assert!(
                start.elapsed() < BOUND,
                "no {what} within {BOUND:?}: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl StreamingQueryListener for Recorder {
    fn on_query_started(&self, e: &QueryStartedEvent) {
        self.seen.lock().unwrap().push(Seen::Started(e.clone()));
    }
    fn on_query_progress(&self, e: &QueryProgressEvent) {
        if let Some(gate) = &self.gate {
            let _ = gate.lock().unwrap().recv();
        }
        self.seen.lock().unwrap().push(Seen::Progress(e.clone()));
    }
    fn on_query_idle(&self, e: &QueryIdleEvent) {
        self.seen.lock().unwrap().push(Seen::Idle(e.clone()));
    }
    fn on_query_terminated(&self, e: &QueryTerminatedEvent) {
        self.seen.lock().unwrap().push(Seen::Terminated(e.clone()));
    }
}

fn is_terminated(s: &[Seen]) -> bool {
    matches!(s.last(), Some(Seen::Terminated(_)))
}

fn memory_query(input: &MemoryStream<RateRow>, name: &str) -> DataStreamWriter<RateRow> {
    read_stream::<RateRow>(input.clone())
        .write_stream(MemorySink::new())
        .query_name(name)
}

fn row(value: i64) -> RateRow {
    RateRow {
        timestamp: Timestamp(value * 1000),
        value,
    }
}

#[test]
fn started_before_start_returns_then_progress_in_order_then_terminated() {
    let session = Session::local();
    let recorder = Recorder::default();
    session.add_listener(recorder.clone());
    let input = MemoryStream::new();
    let q = session.start(memory_query(&input, "ordered")).unwrap();
    // Synchronous: already there when start() returned.
    match recorder.seen().as_slice() {
        [Seen::Started(e)] => {
            assert_eq!((e.id.as_str(), e.run_id.as_str()), (q.id(), q.run_id()));
            assert_eq!(e.name.as_deref(), Some("ordered"));
            assert!(e.timestamp.ends_with('Z'), "{}", e.timestamp);
        }
        other => panic!("expected only the started event, got {other:?}"),
    }
    for batch in 0..4 {
        input.add_data([row(batch), row(batch + 10)]);
        q.process_all_available().unwrap();
    }
    let reports = q.recent_progress();
    q.stop().unwrap();
    let seen = recorder.wait("terminated event", is_terminated);
    let progress: Vec<_> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Progress(p) => Some(p.progress.clone()),
            _ => None,
        })
        .collect();
    // The same reports as the handle's (as JSON: a NaN rate is not equal to itself), in order:
    // batches 0, 1, 2, 3 of 2 rows each.
    let json =
        |ps: &[stream_runtime::QueryProgress]| ps.iter().map(|p| p.json()).collect::<Vec<_>>();
    assert_eq!(json(&progress), json(&reports));
    let batches: Vec<u64> = progress.iter().map(|p| p.batch_id).collect();
    assert_eq!(batches, vec![0, 1, 2, 3]);
    assert!(progress.iter().all(|p| p.num_input_rows == 2));
    assert!(matches!(seen.first(), Some(Seen::Started(_))));
    match seen.last() {
        Some(Seen::Terminated(t)) => {
            assert_eq!((t.id.as_str(), t.run_id.as_str()), (q.id(), q.run_id()));
            assert_eq!(
                (t.exception.as_ref(), t.error_class_on_exception.as_ref()),
                (None, None)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_blocked_listener_blocks_no_batch_and_still_gets_every_event_in_order() {
    let session = Session::local();
    let (blocked, open) = Recorder::gated();
    let free = Recorder::default();
    session.add_listener(blocked.clone());
    session.add_listener(free.clone());
    let input = MemoryStream::new();
    let q = session.start(memory_query(&input, "blocked")).unwrap();
    // Five batches run while the first listener is stuck in its first progress callback.
    for batch in 0..5 {
        input.add_data([row(batch)]);
        q.process_all_available().unwrap();
    }
    assert_eq!(q.last_progress().unwrap().batch_id, 4);
    // The other listener is not held up by the stuck one.
    free.wait("5 progress events", |s| {
        s.iter().filter(|e| matches!(e, Seen::Progress(_))).count() == 5
    });
    assert_eq!(blocked.seen().len(), 1, "only started so far");
    for _ in 0..5 {
        open.send(()).unwrap();
    }
    let seen = blocked.wait("5 progress events", |s| s.len() == 6);
    let batches: Vec<u64> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Progress(p) => Some(p.progress.batch_id),
            _ => None,
        })
        .collect();
    assert_eq!(batches, vec![0, 1, 2, 3, 4]);
    q.stop().unwrap();
}

#[test]
fn terminated_carries_the_error_and_its_class() {
    let session = Session::local();
    let recorder = Recorder::default();
    session.add_listener(recorder.clone());
    let input = MemoryStream::new();
    let query = read_stream::<RateRow>(input.clone()).write_stream(ForeachBatch::new(
        |_, _rows: Vec<RateRow>| panic!("the sink broke"),
    ));
    let q = session.start(query).unwrap();
    input.add_data([row(1)]);
    let error = q.await_termination_timeout(BOUND).unwrap_err();
    let seen = recorder.wait("terminated event", is_terminated);
    let Some(Seen::Terminated(t)) = seen.last() else {
        unreachable!()
    };
    assert_eq!(t.exception.as_deref(), Some(error.to_string().as_str()));
    assert!(t.exception.as_ref().unwrap().contains("the sink broke"));
    assert_eq!(t.error_class_on_exception.as_deref(), Some("STREAM_FAILED"));
    let json: serde_json::Value = serde_json::from_str(&t.json()).unwrap();
    assert_eq!(json["errorClassOnException"], "STREAM_FAILED");
    assert_eq!(json["runId"], q.run_id());
}

#[test]
fn an_idle_query_says_so_every_interval_and_not_before_its_first_round() {
    let session = Session::local().no_data_progress_event_interval(Duration::from_millis(200));
    let recorder = Recorder::default();
    session.add_listener(recorder.clone());
    let input = MemoryStream::new();
    let q = session.start(memory_query(&input, "idle")).unwrap();
    input.add_data([row(1)]);
    q.process_all_available().unwrap();
    let seen = recorder.wait("two idle events", |s| {
        s.iter().filter(|e| matches!(e, Seen::Idle(_))).count() >= 2
    });
    let idle: Vec<&QueryIdleEvent> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Idle(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(idle
        .iter()
        .all(|e| e.id == q.id() && e.run_id == q.run_id() && e.timestamp.ends_with('Z')));
    // The first idle event comes after the batch's progress (which restarts the clock).
    let first_idle = seen
        .iter()
        .position(|s| matches!(s, Seen::Idle(_)))
        .unwrap();
    let progress = seen
        .iter()
        .position(|s| matches!(s, Seen::Progress(_)))
        .unwrap();
    assert!(progress < first_idle, "{seen:?}");
    q.stop().unwrap();

    // With Spark's default interval (10 s), a short idle spell posts nothing.
    let session = Session::local();
    let quiet = Recorder::default();
    session.add_listener(quiet.clone());
    let q = session
        .start(memory_query(&MemoryStream::new(), "quiet"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    q.stop().unwrap();
    let seen = quiet.wait("terminated event", is_terminated);
    assert!(!seen.iter().any(|s| matches!(s, Seen::Idle(_))), "{seen:?}");
}

#[test]
fn a_removed_listener_hears_nothing_more() {
    let session = Session::local();
    let recorder = Recorder::default();
    let id = session.add_listener(recorder.clone());
    assert!(session.remove_listener(id));
    assert!(!session.remove_listener(id));
    let input = MemoryStream::new();
    let q = session.start(memory_query(&input, "unheard")).unwrap();
    q.stop().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(recorder.seen().is_empty());
}

#[test]
fn streams_lists_finds_and_waits_for_queries() {
    let session = Session::local();
    let streams = session.streams();
    let (a_in, b_in) = (MemoryStream::new(), MemoryStream::new());
    let a = session.start(memory_query(&a_in, "a")).unwrap();
    let b = session.start(memory_query(&b_in, "b")).unwrap();
    let mut names: Vec<_> = streams
        .active()
        .iter()
        .map(|q| q.name().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    // A handle from the manager does not own the query: dropping it stops nothing.
    let found = streams.get(a.id()).expect("a is active");
    assert_eq!(found.run_id(), a.run_id());
    drop(found);
    assert!(a.is_active());
    assert!(streams.get("no-such-id").is_none());
    // Nothing ended yet.
    assert!(!streams
        .await_any_termination_timeout(Duration::from_millis(100))
        .unwrap());
    a.stop().unwrap();
    assert!(streams.await_any_termination_timeout(BOUND).unwrap());
    assert!(streams.get(a.id()).is_none());
    assert_eq!(streams.active().len(), 1);
    streams.reset_terminated();
    assert!(!streams
        .await_any_termination_timeout(Duration::from_millis(100))
        .unwrap());

    // A query that fails: its error, from another thread waiting on the manager.
    let waiter = {
        let streams = streams.clone();
        std::thread::spawn(move || streams.await_any_termination())
    };
    let failing = read_stream::<RateRow>(b_in.clone())
        .map(|_: RateRow| -> RateRow { panic!("boom in c") })
        .write_stream(Noop);
    let c = session.start(failing).unwrap();
    b_in.add_data([row(1)]);
    let e = waiter.join().unwrap().unwrap_err();
    assert!(e.to_string().contains("boom in c"), "{e}");
    assert!(c.exception().is_some());
    // The error stays until reset, even after another query ends cleanly.
    b.stop().unwrap();
    assert!(streams.await_any_termination().is_err());
}

#[test]
fn progress_breaks_the_batch_duration_down_by_phase() {
    let dir = std::env::temp_dir().join(format!("listeners-phases-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let input = MemoryStream::new();
    // 40 ms in the dataflow, 60 ms in the sink: each shows in its own phase.
    let query = read_stream::<RateRow>(input.clone())
        .map(|r: RateRow| {
            std::thread::sleep(Duration::from_millis(40));
            r
        })
        .write_stream(ForeachBatch::new(|_, _rows: Vec<RateRow>| {
            std::thread::sleep(Duration::from_millis(60))
        }))
        .checkpoint_location(&dir);
    let q = Session::local().start(query).unwrap();
    input.add_data([row(1)]);
    q.process_all_available().unwrap();
    let p = q.last_progress().unwrap();
    q.stop().unwrap();
    let d = &p.duration_ms;
    let phases = [
        "latestOffset",
        "walCommit",
        "getBatch",
        "processing",
        "stateCommit",
        "addBatch",
        "commitOffsets",
    ];
    for k in phases.iter().chain(&["triggerExecution"]) {
        assert!(d.contains_key(*k), "{k} missing: {d:?}");
    }
    assert!(d["processing"] >= 40, "{d:?}");
    assert!(
        d["addBatch"] >= 60 && d["addBatch"] < 40 + 60 + 1000,
        "{d:?}"
    );
    // One worker: the phases are disjoint parts of the trigger.
    let sum: u64 = phases.iter().map(|k| d[*k]).sum();
    assert!(sum <= d["triggerExecution"], "{d:?}");
    assert_eq!(p.batch_duration, d["triggerExecution"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_console_progress_line_shows_batches_rows_and_the_watermark_and_ends_with_the_query() {
    use stream_runtime::listener::ConsoleProgress;
    let session = Session::local().console_progress(false);
    let out = Shared::default();
    session.add_listener(ConsoleProgress::to_writer(Box::new(out.clone())));
    let input = MemoryStream::new();
    let query = read_stream::<RateRow>(input.clone())
        .with_watermark_on("timestamp", |r: &RateRow| r.timestamp, "1 second")
        .write_stream(MemorySink::new())
        .query_name("progress");
    let q = session.start(query).unwrap();
    for batch in [[row(0), row(10)], [row(1), row(11)], [row(3), row(13)]] {
        input.add_data(batch);
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
    let deadline = Instant::now() + BOUND;
    let text = loop {
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        if text.ends_with('\n') {
            break text;
        }
        assert!(Instant::now() < deadline, "no final line: {text:?}");
        std::thread::sleep(Duration::from_millis(10));
    };
    // Each redraw returns to the start of the line and clears the rest of it; the last one
    // shows batch 2, every row read (6), and the watermark batch 2 ran under: the latest event
    // time of the batches before it (11 s) less 1 second (no stateful operator, so no no-data
    // batch follows).
    let last = text.trim_end().rsplit('\r').next().unwrap();
    let last = last.strip_suffix("\x1b[K").unwrap_or(last);
    assert!(
        last.starts_with("[progress] batch 2 | 6 rows | "),
        "{text:?}"
    );
    assert!(
        last.ends_with(" rows/s | watermark 1970-01-01T00:00:10.000Z"),
        "{text:?}"
    );
    assert_eq!(text.matches('\n').count(), 1, "{text:?}");
}
