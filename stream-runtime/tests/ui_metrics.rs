//! The Prometheus endpoint: Spark's gauges in Prometheus naming, labelled by query name or id,
//! the batch duration by phase and the rows dropped by the watermark, on a hand-worked query;
//! a query's series go when it ends.

mod ui_support;

use std::collections::BTreeMap;
use stream_runtime::prelude::*;
use stream_runtime::ui::Ui;
use ui_support::{get, wait_for};

#[derive(Record)]
struct Event {
    t: Timestamp,
}

fn at(secs: i64) -> Event {
    Event {
        t: Timestamp(secs * 1000),
    }
}

/// `name{labels} value` lines of the text format, keyed by `name{labels}` as written.
fn scrape(ui: &Ui) -> BTreeMap<String, f64> {
    let r = get(ui.addr(), "/metrics");
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type
    );
    r.body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

#[test]
fn spark_gauges_phases_and_dropped_rows_per_query() {
    let session = Session::local();
    let ui = Ui::serve(&session, 0).unwrap();
    let input = MemoryStream::new();
    let query = stream! {
        read_stream::<Event>(input.clone())
            .with_watermark(t, "5 seconds")
            .group_by(window(t, "10 seconds"))
            .agg(count() as n)
            .write_stream(MemorySink::new())
            .output_mode(Append)
            .query_name("windows")
    };
    let q = session.start(query).unwrap();
    // Worked by hand: windows [0,10), [10,20), [20,30) open; the watermark moves to 25 - 5 =
    // 20 s, which closes the first two. Then 3 s is late (its window ended at 10 s <= 20 s,
    // dropped) and 27 s joins [20,30): the watermark moves to 22 s, one window stays open.
    input.add_data([at(1), at(12), at(25)]);
    q.process_all_available().unwrap();
    input.add_data([at(3), at(27)]);
    q.process_all_available().unwrap();
    let m = wait_for("the last batch's metrics", || {
        let m = scrape(&ui);
        (m.get("spark_streaming_event_time_watermark{query=\"windows\"}") == Some(&22_000.0))
            .then_some(m)
    });
    let g = |name: &str| m[&format!("{name}{{query=\"windows\"}}")];
    assert_eq!(g("spark_streaming_states_rows_total"), 1.0);
    assert_eq!(g("spark_streaming_rows_dropped_by_watermark_total"), 1.0);
    assert!(g("spark_streaming_states_used_bytes") > 0.0);
    // The rest is read from the last progress report, as Spark's gauges are.
    let last = q.last_progress().unwrap();
    assert_eq!(
        g("spark_streaming_latency"),
        last.duration_ms["triggerExecution"] as f64
    );
    assert_eq!(
        g("spark_streaming_states_used_bytes"),
        last.state_operators[0].memory_used_bytes as f64
    );
    for (name, value) in [
        (
            "spark_streaming_input_rate_total",
            last.input_rows_per_second,
        ),
        (
            "spark_streaming_processing_rate_total",
            last.processed_rows_per_second,
        ),
    ] {
        assert!(
            g(name) == value || (g(name).is_nan() && value.is_nan()),
            "{name}: {} vs {value}",
            g(name)
        );
    }
    for phase in [
        "latestOffset",
        "walCommit",
        "getBatch",
        "processing",
        "stateCommit",
        "addBatch",
        "commitOffsets",
        "triggerExecution",
    ] {
        let key =
            format!("spark_streaming_batch_duration_ms{{phase=\"{phase}\",query=\"windows\"}}");
        assert_eq!(
            m.get(&key),
            Some(&(last.duration_ms[phase] as f64)),
            "{key}"
        );
    }

    // An unnamed query is labelled by its id; a stopped query's series go.
    let other = MemoryStream::new();
    let unnamed = session
        .start(read_stream::<Event>(other.clone()).write_stream(Noop))
        .unwrap();
    other.add_data([at(1)]);
    unnamed.process_all_available().unwrap();
    let id_label = format!("spark_streaming_latency{{query=\"{}\"}}", unnamed.id());
    wait_for("the unnamed query's series", || {
        scrape(&ui).contains_key(&id_label).then_some(())
    });
    q.stop().unwrap();
    wait_for("the stopped query's series to go", || {
        let m = scrape(&ui);
        (!m.keys().any(|k| k.contains("query=\"windows\"")) && m.contains_key(&id_label))
            .then_some(())
    });
    unnamed.stop().unwrap();
}

#[test]
fn the_port_must_be_free_and_unknown_paths_are_404() {
    let session = Session::local();
    let ui = Ui::serve(&session, 0).unwrap();
    let taken = ui.addr().port();
    let Err(e) = Ui::serve(&session, taken) else {
        panic!("a second UI on the same port")
    };
    assert!(e.to_string().contains(&format!("127.0.0.1:{taken}")), "{e}");
    assert_eq!(get(ui.addr(), "/nothing-here").status, 404);
    let page = get(ui.addr(), "/");
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(get(ui.addr(), "/ui.js").body.contains("function lineChart"));
    // The UI stops when dropped (tiny_http's accept thread closes the port a moment later).
    let addr = ui.addr();
    drop(ui);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(std::time::Instant::now() < deadline, "{addr} still open");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn the_sessions_ui_port_serves_while_a_clone_of_the_session_lives() {
    let session = Session::from_arg_list(["--ui-port".to_string(), "0".to_string()]).unwrap();
    let url = session.ui_url().expect("the session serves a UI");
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let clone = session.clone();
    drop(session);
    // A query started on the clone is listed and measured.
    let input = MemoryStream::new();
    let query = stream! {
        read_stream::<Event>(input.clone())
            .write_stream(MemorySink::new())
            .query_name("through_the_option")
    };
    let q = clone.start(query).unwrap();
    input.add_data([at(1)]);
    q.process_all_available().unwrap();
    wait_for("the query's gauges", || {
        get(addr, "/metrics")
            .body
            .contains("query=\"through_the_option\"")
            .then_some(())
    });
    assert!(get(addr, "/api/queries")
        .body
        .contains("through_the_option"));
    q.stop().unwrap();
    drop(q);
    drop(clone);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(std::time::Instant::now() < deadline, "{addr} still open");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
