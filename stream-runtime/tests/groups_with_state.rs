//! `map_groups_with_state` / `flat_map_groups_with_state` against hand-worked results: a
//! running count per key, Spark's `FlatMapGroupsWithStateSuite` event-time timeout case, a
//! processing-time timeout, the errors Spark raises while running (as query errors naming the
//! key), the output-mode rules at start, and state kept across a restart on another number of
//! workers.

use std::time::{Duration, Instant};
use stream_runtime::prelude::*;

mod steps;

use steps::run_steps;

#[derive(Record)]
struct Click {
    user: String,
    #[event_time]
    ts: Timestamp,
}

#[derive(Record)]
struct UserCount {
    user: String,
    count: i64,
}

fn click(user: &str, secs: i64) -> Click {
    Click {
        user: user.into(),
        ts: Timestamp(secs * 1000),
    }
}

fn counts(rows: &[Vec<UserCount>]) -> Vec<Vec<(String, i64)>> {
    rows.iter()
        .map(|r| r.iter().map(|c| (c.user.clone(), c.count)).collect())
        .collect()
}

/// The running count of clicks per user, through `stream!` (Update mode, map).
#[test]
fn running_count_per_key_on_1_and_2_workers() {
    let steps = vec![
        vec![click("a", 1), click("b", 2), click("a", 3)],
        vec![click("a", 4), click("c", 5)],
        vec![],
        vec![click("b", 6), click("b", 7), click("c", 8)],
    ];
    // Worked by hand: each batch writes the users with clicks in it, with their totals so far.
    let want = vec![
        vec![("a".to_string(), 2), ("b".to_string(), 1)],
        vec![("a".to_string(), 3), ("c".to_string(), 1)],
        vec![],
        vec![("b".to_string(), 3), ("c".to_string(), 2)],
    ];
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let source = input.clone();
        let query = stream! {
            read_stream::<Click>(source)
                .group_by_key(|c: &Click| c.user.clone())
                .map_groups_with_state(NoTimeout, |user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
                    let count = state.get().copied().unwrap_or(0) + rows.len() as i64;
                    state.update(count);
                    UserCount { user, count }
                })
                .write_stream(sink.clone())
                .output_mode(Update)
        };
        let got = run_steps(
            Session::with_workers(workers),
            &input,
            query,
            &sink,
            &steps,
            Clone::clone,
        );
        assert_eq!(counts(&got), want, "{workers} workers");
    }
}

#[derive(Record)]
struct MaxTime {
    user: String,
    max_secs: i64,
}

/// Spark's `FlatMapGroupsWithStateSuite`, "streaming w/ event time timeout + watermark": the
/// state is the key's latest event time (s), the timeout 5 s after it, the watermark delay 10 s;
/// a timed-out key writes -1 and is removed.
#[test]
fn event_time_timeout_as_spark_suite() {
    let steps = vec![
        vec![click("a", 11), click("a", 13), click("a", 15)],
        // Watermark 15 - 10 = 5: a row at 4 is late and dropped before the function.
        vec![click("a", 4)],
        // Newer than the watermark; the max stays 15, the timeout 20.
        vec![click("a", 10)],
        // The batch writes b; the watermark moves to 21, past a's timeout (20): the batch
        // without data that follows times a out.
        vec![click("b", 31)],
    ];
    let want = vec![
        vec![("a".to_string(), 15)],
        vec![],
        vec![("a".to_string(), 15)],
        vec![("a".to_string(), -1), ("b".to_string(), 31)],
    ];
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let source = input.clone();
        let query = stream! {
            read_stream::<Click>(source)
                .with_watermark(ts, "10 seconds")
                .group_by_key(|c: &Click| c.user.clone())
                .flat_map_groups_with_state(Update, EventTimeTimeout, |user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
                    assert!(state.get_current_watermark_ms() >= 0);
                    if state.has_timed_out() {
                        state.remove();
                        return vec![MaxTime { user, max_secs: -1 }];
                    }
                    let latest = rows.map(|c| c.ts.millis() / 1000).max().unwrap_or(0);
                    let max_secs = latest.max(state.get().copied().unwrap_or(0));
                    state.update(max_secs);
                    state.set_timeout_timestamp(Timestamp((max_secs + 5) * 1000));
                    vec![MaxTime { user, max_secs }]
                })
                .write_stream(sink.clone())
                .output_mode(Update)
        };
        let got = run_steps(
            Session::with_workers(workers),
            &input,
            query,
            &sink,
            &steps,
            Clone::clone,
        );
        let got: Vec<Vec<(String, i64)>> = got
            .iter()
            .map(|r| r.iter().map(|m| (m.user.clone(), m.max_secs)).collect())
            .collect();
        assert_eq!(got, want, "{workers} workers");
    }
}

#[derive(Record)]
struct Timed {
    user: String,
    count: i64,
    /// The batch's processing time when the function ran.
    at_ms: i64,
}

/// A processing-time timeout fires in a batch without data once the wall clock passes the
/// timeout, and never before it: the timed-out call's batch time is more than the duration
/// after the batch that set it.
#[test]
fn processing_time_timeout_fires_without_new_data() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Click>(input.clone())
            .group_by_key(|c| c.user.clone())
            .flat_map_groups_with_state(
                Update,
                ProcessingTimeTimeout,
                |user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
                    let at_ms = state.get_current_processing_time_ms();
                    if state.has_timed_out() {
                        state.remove();
                        return Some(Timed {
                            user,
                            count: -1,
                            at_ms,
                        });
                    }
                    let count = state.get().copied().unwrap_or(0) + rows.len() as i64;
                    state.update(count);
                    state.set_timeout_duration("300 milliseconds");
                    Some(Timed { user, count, at_ms })
                },
            )
            .write_stream(sink.clone())
            .output_mode(Update);
        let q = Session::with_workers(workers).start(query).unwrap();
        input.add_data(vec![click("a", 1), click("a", 2)]);
        q.process_all_available().unwrap();
        let first = sink.rows();
        assert_eq!(first.len(), 1, "{workers} workers");
        assert_eq!((first[0].user.as_str(), first[0].count), ("a", 2));
        let deadline = Instant::now() + Duration::from_secs(20);
        while sink.rows().len() < 2 {
            assert!(Instant::now() < deadline, "the timeout never fired");
            std::thread::sleep(Duration::from_millis(20));
        }
        q.stop().unwrap();
        let rows = sink.rows();
        assert_eq!(rows.len(), 2, "{workers} workers: {rows:?}");
        assert_eq!((rows[1].user.as_str(), rows[1].count), ("a", -1));
        assert!(
            rows[1].at_ms > rows[0].at_ms + 300,
            "fired at {} for a timeout set at {} + 300 ms",
            rows[1].at_ms,
            rows[0].at_ms
        );
    }
}

/// A wrong use of `GroupState`.
type Misuse = fn(&mut GroupState<i64>);

fn failing_query(
    timeout: GroupStateTimeout,
    misuse: Misuse,
) -> (MemoryStream<Click>, DataStreamWriter<UserCount>) {
    let input = MemoryStream::new();
    let query = read_stream::<Click>(input.clone())
        .with_watermark_on("ts", |c| c.ts, "10 seconds")
        .group_by_key(|c| c.user.clone())
        .map_groups_with_state(timeout, move |user, rows, state: &mut GroupState<i64>| {
            let count = rows.len() as i64;
            state.update(count);
            if user == "bad" {
                misuse(state);
            }
            UserCount { user, count }
        })
        .write_stream(MemorySink::new())
        .output_mode(Update);
    (input, query)
}

/// The errors Spark throws from `GroupState` fail the query with an error naming the key, not
/// a panic.
#[test]
fn misuses_of_group_state_fail_the_query_naming_the_key() {
    let cases: [(GroupStateTimeout, Misuse, &str); 5] = [
        (
            NoTimeout,
            |s| s.set_timeout_timestamp_ms(100_000),
            "without EventTimeTimeout",
        ),
        (
            EventTimeTimeout,
            |s| s.set_timeout_duration("1 minute"),
            "without ProcessingTimeTimeout",
        ),
        (
            ProcessingTimeTimeout,
            |s| s.set_timeout_duration_ms(0),
            "must be positive",
        ),
        (
            EventTimeTimeout,
            // The watermark is 20 s - 10 s = 10 s in the second batch.
            |s| s.set_timeout_timestamp_ms(5_000),
            "cannot be earlier than the current watermark (10000)",
        ),
        (
            ProcessingTimeTimeout,
            |s| {
                s.remove();
                s.set_timeout_duration("1 minute")
            },
            "cannot set a timeout when the state is not defined",
        ),
    ];
    for (timeout, misuse, message) in cases {
        let (input, query) = failing_query(timeout, misuse);
        let q = Session::local().start(query).unwrap();
        input.add_data(vec![click("good", 20)]);
        q.process_all_available().unwrap();
        input.add_data(vec![click("good", 21), click("bad", 21)]);
        let err = q
            .process_all_available()
            .expect_err("the misuse fails the query")
            .to_string();
        assert!(err.contains("\"bad\""), "names the key: {err}");
        assert!(err.contains(message), "says what is wrong: {err}");
        assert!(!err.contains("panicked"), "not a panic: {err}");
    }
}

/// Spark's analysis rules, as errors when the query starts (the builder's side).
#[test]
fn output_mode_rules_at_start() {
    let count = |user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
        state.update(rows.len() as i64);
        UserCount {
            user,
            count: rows.len() as i64,
        }
    };
    let err = Session::local()
        .start(
            read_stream::<Click>(MemoryStream::new())
                .group_by_key(|c| c.user.clone())
                .map_groups_with_state(NoTimeout, count)
                .write_stream(MemorySink::new())
                .output_mode(Append),
        )
        .err()
        .expect("map_groups_with_state in Append is refused")
        .to_string();
    assert!(
        err.contains("map_groups_with_state is not supported with Append"),
        "{err}"
    );
    let err = Session::local()
        .start(
            read_stream::<Click>(MemoryStream::new())
                .group_by_key(|c| c.user.clone())
                .map_groups_with_state(EventTimeTimeout, count)
                .write_stream(MemorySink::new())
                .output_mode(Update),
        )
        .err()
        .expect("EventTimeTimeout without a watermark is refused")
        .to_string();
    assert!(err.contains("EventTimeTimeout needs a watermark"), "{err}");
}

#[derive(Record)]
struct Visit {
    user: String,
}

/// The state is checkpointed and restored by key group: a restart on 2 workers continues the
/// counts of a run on 1.
#[test]
fn state_survives_a_restart_on_another_number_of_workers() {
    let dir = std::env::temp_dir().join(format!("mgws-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    let run = |workers: usize, file: &str, users: &[&str]| -> Vec<(String, i64)> {
        let text: String = users
            .iter()
            .map(|u| format!("{{\"user\":\"{u}\"}}\n"))
            .collect();
        std::fs::write(dir.join("in").join(file), text).unwrap();
        let sink = MemorySink::new();
        let query = read_stream::<Visit>(Files::json(dir.join("in")))
            .group_by_key(|v| v.user.clone())
            .map_groups_with_state(NoTimeout, |user, rows, state: &mut GroupState<i64>| {
                let count = state.get().copied().unwrap_or(0) + rows.len() as i64;
                state.update(count);
                UserCount { user, count }
            })
            .write_stream(sink.clone())
            .output_mode(Update)
            .checkpoint_location(dir.join("checkpoint"))
            .trigger(AvailableNow);
        let q = Session::with_workers(workers).start(query).unwrap();
        q.await_termination().unwrap();
        let mut out: Vec<(String, i64)> =
            sink.rows().into_iter().map(|c| (c.user, c.count)).collect();
        out.sort();
        out
    };
    let users = ["a", "b", "c", "d", "e", "f"];
    assert_eq!(
        run(1, "1.json", &users),
        users.iter().map(|u| (u.to_string(), 1)).collect::<Vec<_>>()
    );
    let twice: Vec<&str> = users.iter().flat_map(|u| [*u, *u]).collect();
    assert_eq!(
        run(2, "2.json", &twice),
        users.iter().map(|u| (u.to_string(), 3)).collect::<Vec<_>>(),
        "each user's count continues from the first run's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An aggregation after `flat_map_groups_with_state(Append, ..)`, in Update mode (Spark's
/// allowed shape): the function drops each user's first click, the count counts the rest.
#[test]
fn an_aggregation_after_flat_map_groups_with_state() {
    let steps = vec![
        vec![click("a", 1), click("a", 2), click("b", 3)],
        vec![click("b", 4), click("a", 5)],
    ];
    // Worked by hand: a's second click, then b's second and a's third.
    let want = vec![
        vec![("a".to_string(), 1)],
        vec![("a".to_string(), 2), ("b".to_string(), 1)],
    ];
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Click>(input.clone())
            .group_by_key(|c| c.user.clone())
            .flat_map_groups_with_state(
                Append,
                NoTimeout,
                |_user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
                    let mut seen = state.get().copied().unwrap_or(0);
                    let mut out = Vec::new();
                    for c in rows {
                        seen += 1;
                        if seen > 1 {
                            out.push(c);
                        }
                    }
                    state.update(seen);
                    out
                },
            )
            .group_by_key(|c| c.user.clone())
            .count()
            .write_stream(sink.clone())
            .output_mode(Update);
        let session = Session::with_workers(workers);
        let got = run_steps(session, &input, query, &sink, &steps, |r| {
            (r.key.clone(), r.count)
        });
        assert_eq!(got, want, "{workers} workers");
    }
}

/// A processing-time timeout pending when the query stops fires after a restart, with no new
/// data (the restarted query runs a batch without data to learn of it).
#[test]
fn a_pending_processing_time_timeout_fires_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("mgws-timeout-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(dir.join("in").join("1.json"), "{\"user\":\"a\"}\n").unwrap();
    let start = || {
        let sink = MemorySink::new();
        let query = read_stream::<Visit>(Files::json(dir.join("in")))
            .group_by_key(|v| v.user.clone())
            .flat_map_groups_with_state(
                Update,
                ProcessingTimeTimeout,
                |user: String, rows: GroupRows<Visit>, state: &mut GroupState<i64>| {
                    if state.has_timed_out() {
                        state.remove();
                        return Some(UserCount { user, count: -1 });
                    }
                    let count = state.get().copied().unwrap_or(0) + rows.len() as i64;
                    state.update(count);
                    state.set_timeout_duration("2 seconds");
                    Some(UserCount { user, count })
                },
            )
            .write_stream(sink.clone())
            .output_mode(Update)
            .checkpoint_location(dir.join("checkpoint"));
        (Session::local().start(query).unwrap(), sink)
    };
    let (q, sink) = start();
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let first: Vec<(String, i64)> = sink.rows().into_iter().map(|c| (c.user, c.count)).collect();
    assert_eq!(first, [("a".to_string(), 1)], "stopped before the timeout");
    let (q, sink) = start();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.rows().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the timeout never fired after the restart"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    q.stop().unwrap();
    let after: Vec<(String, i64)> = sink.rows().into_iter().map(|c| (c.user, c.count)).collect();
    assert_eq!(after, [("a".to_string(), -1)]);
    let _ = std::fs::remove_dir_all(&dir);
}
