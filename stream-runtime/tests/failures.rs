//! Failures end a query cleanly, within a bounded time, on every worker: a panic in a user
//! closure, a sink, or a sink closure ends the query with an error that carries the panic's
//! message; `stop()` and dropping the handle always return.

use std::time::{Duration, Instant};
use stream_runtime::prelude::*;

/// How long a failed query may take to end.
const BOUND: Duration = Duration::from_secs(15);

/// Waits for `q` to end within [`BOUND`]; returns its error. A query that hangs is leaked (its
/// `Drop` would hang too) and the test fails.
fn ends_with_error(q: StreamingQuery) -> StreamError {
    let started = Instant::now();
    match q.await_termination_timeout(BOUND) {
        Ok(false) => {
            std::mem::forget(q);
            panic!("the query did not end within {BOUND:?}");
        }
        Ok(true) => panic!("the query ended without an error"),
        Err(e) => {
            assert!(started.elapsed() < BOUND);
            assert_eq!(q.exception(), Some(e.clone()), "exception() agrees");
            assert!(!q.is_active());
            e
        }
    }
}

/// A rate-micro-batch query whose `map` panics on value 3 (read by worker `3 % workers`).
fn panicking_map(workers: usize) -> StreamingQuery {
    let query = read_stream(RateMicroBatch::new(8))
        .map(|r: RateRow| {
            if r.value == 3 {
                panic!("boom at value 3");
            }
            r
        })
        .write_stream(Noop);
    Session::with_workers(workers).start(query).unwrap()
}

#[test]
fn a_panic_in_a_map_closure_ends_the_query_with_its_message() {
    for workers in [1, 2, 3] {
        let e = ends_with_error(panicking_map(workers));
        let text = e.to_string();
        assert!(
            text.contains("boom at value 3"),
            "{workers} workers: {text}"
        );
        assert!(text.contains("panicked"), "{workers} workers: {text}");
    }
}

#[test]
fn a_panic_in_foreach_batch_ends_the_query() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let query = read_stream::<RateRow>(input.clone()).write_stream(ForeachBatch::new(
            |id: u64, rows: Vec<RateRow>| {
                if id == 1 {
                    panic!("sink refused batch {id} with {} rows", rows.len());
                }
            },
        ));
        let q = Session::with_workers(workers).start(query).unwrap();
        for v in 0..3 {
            input.add_data([RateRow {
                timestamp: Timestamp(v),
                value: v,
            }]);
            // Each call is its own batch until the query fails.
            let _ = q.process_all_available();
        }
        let e = ends_with_error(q);
        assert!(
            e.to_string().contains("sink refused batch 1 with 1 rows"),
            "{e}"
        );
    }
}

#[test]
fn a_panic_in_a_foreach_writer_on_another_worker_ends_the_query() {
    let query = read_stream(RateMicroBatch::new(10)).write_stream(Foreach::new(|r: &RateRow| {
        if r.value == 5 {
            panic!("writer failed on row {}", r.value);
        }
    }));
    let e = ends_with_error(Session::with_workers(2).start(query).unwrap());
    assert!(e.to_string().contains("writer failed on row 5"), "{e}");
}

#[test]
fn a_panic_in_an_aggregation_key_ends_the_query() {
    let query = read_stream(RateMicroBatch::new(10))
        .group_by_key(|r: &RateRow| {
            assert!(r.value != 7, "no key for value {}", r.value);
            r.value % 3
        })
        .count()
        .write_stream(MemorySink::new())
        .output_mode(Complete);
    let e = ends_with_error(Session::with_workers(2).start(query).unwrap());
    assert!(e.to_string().contains("no key for value 7"), "{e}");
}

#[test]
fn stop_and_drop_return_after_a_failure() {
    let q = panicking_map(2);
    let started = Instant::now();
    // `stop` returns the error that ended the query, if it had ended.
    let _ = q.stop();
    assert!(started.elapsed() < BOUND);
    let q = panicking_map(2);
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    drop(q);
    assert!(started.elapsed() < BOUND);
}
