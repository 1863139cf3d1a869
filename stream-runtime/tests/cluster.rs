//! Queries on a cluster of two processes on loopback: failures end the query everywhere within a
//! bounded time, with an error that says what happened (a panic, a dead or missing process, a
//! malformed record); the handle works the same on every process; every process reads its
//! share of every source; processes that built different queries are refused.
//!
//! A test binary without the test harness: run without arguments it is the parent, which starts
//! itself twice per scenario as processes 0 and 1 (`--child SCENARIO PROCESS HOSTFILE DIR`), and
//! checks what each printed. Each child prints `RESULT ok` or `RESULT err <message>` when its
//! query ends, and other `KEY value` lines on the way.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use stream_runtime::prelude::*;

/// How long a scenario may take before the parent gives up on it (a hang).
const HANG: Duration = Duration::from_secs(60);
/// How long a failed query may take to end on every process.
const BOUND: Duration = Duration::from_secs(20);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let rest = &args[i + 1..];
        child(&rest[0], &rest[1], Path::new(&rest[2]), Path::new(&rest[3]));
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-')).cloned();
    let scenarios: &[(&str, fn())] = &[
        (
            "every_process_reads_its_share",
            every_process_reads_its_share,
        ),
        (
            "two_queries_run_at_once_on_every_process",
            two_queries_at_once,
        ),
        (
            "a_panic_on_process_1_ends_the_query_everywhere",
            panic_everywhere,
        ),
        ("a_killed_process_ends_the_query_everywhere", killed_process),
        (
            "a_missing_process_is_named_after_a_timeout",
            missing_process,
        ),
        ("stop_on_process_1_stops_every_process", stop_on_process_1),
        (
            "a_malformed_record_on_process_1_fails_every_process",
            malformed_everywhere,
        ),
        (
            "progress_and_process_all_available_on_every_process",
            progress_everywhere,
        ),
        (
            "processes_that_built_different_queries_are_refused",
            different_queries,
        ),
        (
            "a_batch_query_gives_the_same_result_on_1_and_2_workers_and_2_processes",
            batch_everywhere,
        ),
    ];
    let mut failed = Vec::new();
    for (name, run) in scenarios {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let started = Instant::now();
        match std::panic::catch_unwind(run) {
            Ok(()) => println!("test {name} ... ok ({:.1?})", started.elapsed()),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    if !failed.is_empty() {
        eprintln!("failed: {failed:?}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------- the parent

/// A running child process and what it printed so far.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    /// Waits for a line starting with `prefix`; returns its rest.
    fn wait_for(&mut self, prefix: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        if let Some(l) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return Some(l[prefix.len()..].trim().to_string());
        }
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if let Some(rest) = l.strip_prefix(prefix) {
                        return Some(rest.trim().to_string());
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// The child's result: `Ok(())` or `Err(message)`, within `within`; kills it on a hang.
    fn result(&mut self, within: Duration) -> Result<(), String> {
        match self.wait_for("RESULT", within) {
            Some(r) if r == "ok" => Ok(()),
            Some(r) => {
                let err = r.strip_prefix("err").unwrap_or(&r).trim().to_string();
                println!("    error: {err}");
                Err(err)
            }
            None => {
                let _ = self.child.kill();
                panic!("the child hung; it printed {:?}", self.seen)
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scenario's cluster: a host file with two free loopback ports, and a scratch directory for
/// the scenario's data.
struct Cluster {
    hosts: PathBuf,
    dir: PathBuf,
    ports: [u16; 2],
}

impl Cluster {
    fn new(scenario: &str) -> Cluster {
        let port = || {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let ports = [port(), port()];
        let dir = std::env::temp_dir().join(format!("cluster-{scenario}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let hosts =
            std::env::temp_dir().join(format!("cluster-{scenario}-{}.hosts", std::process::id()));
        std::fs::write(
            &hosts,
            format!("127.0.0.1:{}\n127.0.0.1:{}\n", ports[0], ports[1]),
        )
        .unwrap();
        Cluster { hosts, dir, ports }
    }

    fn spawn(&self, scenario: &str, process: usize) -> Proc {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--child", scenario, &process.to_string()])
            .arg(&self.hosts)
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Proc {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Both processes of `scenario`, process 1 first.
    fn both(&self, scenario: &str) -> (Proc, Proc) {
        let p1 = self.spawn(scenario, 1);
        let p0 = self.spawn(scenario, 0);
        (p0, p1)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.hosts);
    }
}

fn every_process_reads_its_share() {
    let c = Cluster::new("share");
    for f in 0..4 {
        let lines: String = (0..25)
            .map(|i| format!("{{\"value\":\"{f}-{i}\"}}\n"))
            .collect();
        std::fs::write(c.dir.join(format!("part-{f}.json")), lines).unwrap();
    }
    let (mut p0, mut p1) = c.both("share");
    assert_eq!(p0.result(HANG), Ok(()));
    assert_eq!(p1.result(HANG), Ok(()));
    assert_eq!(p0.wait_for("ROWS", HANG).as_deref(), Some("100"));
}

fn two_queries_at_once() {
    let c = Cluster::new("two");
    for f in 0..3 {
        let lines: String = (0..10)
            .map(|i| format!("{{\"value\":\"{f}-{i}\"}}\n"))
            .collect();
        std::fs::write(c.dir.join(format!("part-{f}.json")), lines).unwrap();
    }
    let (mut p0, mut p1) = c.both("two");
    assert_eq!(p0.result(HANG), Ok(()));
    assert_eq!(p1.result(HANG), Ok(()));
    assert_eq!(p0.wait_for("ROWS", HANG).as_deref(), Some("30 30"));
}

fn panic_everywhere() {
    let c = Cluster::new("panic");
    let (mut p0, mut p1) = c.both("panic");
    for (p, name) in [(&mut p0, "process 0"), (&mut p1, "process 1")] {
        let err = p.result(BOUND).expect_err(name);
        assert!(err.contains("boom at value 3"), "{name}: {err}");
    }
}

fn killed_process() {
    let c = Cluster::new("kill");
    let (mut p0, mut p1) = c.both("kill");
    assert!(p0.wait_for("RUNNING", HANG).is_some(), "{:?}", p0.seen);
    p1.child.kill().unwrap();
    let started = Instant::now();
    let err = p0.result(BOUND).expect_err("process 0 fails");
    assert!(started.elapsed() < BOUND);
    let addr = format!("127.0.0.1:{}", c.ports[1]);
    assert!(err.contains("process 1") && err.contains(&addr), "{err}");
}

fn missing_process() {
    let c = Cluster::new("missing");
    let mut p0 = c.spawn("missing", 0);
    let err = p0.result(BOUND).expect_err("process 0 fails");
    let addr = format!("127.0.0.1:{}", c.ports[1]);
    assert!(err.contains("process 1") && err.contains(&addr), "{err}");
}

fn stop_on_process_1() {
    let c = Cluster::new("stop");
    let (mut p0, mut p1) = c.both("stop");
    assert_eq!(p1.result(BOUND), Ok(()));
    assert_eq!(p0.result(BOUND), Ok(()));
}

fn malformed_everywhere() {
    let c = Cluster::new("malformed");
    std::fs::write(c.dir.join("a-good.json"), "{\"value\":\"x\"}\n").unwrap();
    std::fs::write(c.dir.join("b-bad.json"), "{\"value\":\"y\"}\nnot json\n").unwrap();
    let (mut p0, mut p1) = c.both("malformed");
    for (p, name) in [(&mut p0, "process 0"), (&mut p1, "process 1")] {
        let err = p.result(BOUND).expect_err(name);
        assert!(err.contains("b-bad.json:2"), "{name}: {err}");
    }
}

fn progress_everywhere() {
    let c = Cluster::new("progress");
    let (mut p0, mut p1) = c.both("progress");
    assert_eq!(p1.result(HANG), Ok(()));
    assert_eq!(p0.result(HANG), Ok(()));
    let batch = p1
        .wait_for("LAST_BATCH", HANG)
        .expect("process 1 saw progress");
    assert!(batch.parse::<u64>().is_ok(), "{batch}");
}

fn different_queries() {
    let c = Cluster::new("differ");
    let (mut p0, mut p1) = c.both("differ");
    for (p, name) in [(&mut p0, "process 0"), (&mut p1, "process 1")] {
        let err = p.result(BOUND).expect_err(name);
        assert!(err.contains("different quer"), "{name}: {err}");
    }
}

/// The batch pipeline of `stream!` over the directory's files: one result, however it runs.
fn batch_everywhere() {
    let c = Cluster::new("batch");
    for f in 0..3 {
        let lines: String = (0..30)
            .map(|i| {
                let (shop, secs, price) = ((i + f) % 4, (i * 7 + f * 3) % 50, (i * 13 + f) % 17);
                format!("{{\"shop\":{shop},\"price\":{price},\"at\":\"1970-01-01T00:00:{secs:02}Z\"}}\n")
            })
            .collect();
        std::fs::write(c.dir.join(format!("part-{f}.json")), lines).unwrap();
    }
    let one = Session::local().collect(batch_query(&c.dir)).unwrap();
    let two = Session::with_workers(2)
        .collect(batch_query(&c.dir))
        .unwrap();
    assert_eq!(one, two, "1 worker vs 2 workers");
    assert!(!one.is_empty());
    let (mut p0, mut p1) = c.both("batch");
    assert_eq!(p0.result(HANG), Ok(()));
    assert_eq!(p1.result(HANG), Ok(()));
    assert_eq!(
        p0.wait_for("ROWS", HANG),
        Some(format!("{one:?}")),
        "2 processes vs 1 worker"
    );
}

#[derive(Record)]
struct Sale {
    shop: i64,
    price: i64,
    at: Timestamp,
}

#[derive(Record)]
struct Shop {
    id: i64,
    city: String,
}

/// Sales per city and 10-second window, joined with a bounded table, sorted.
fn batch_query(dir: &Path) -> Dataset<impl Record> {
    let shops: Vec<Shop> = ["Paris", "Lyon", "Paris"]
        .iter()
        .enumerate()
        .map(|(id, city)| Shop {
            id: id as i64,
            city: city.to_string(),
        })
        .collect();
    stream! {
        let shops = read::<Shop>(shops);
        read::<Sale>(Files::json(dir))
            .with_watermark(at, "1 second")
            .join(shops, shop == id)
            .group_by(window(at, "10 seconds"), shops.city)
            .agg(count() as n, sum(price) as total, max(price) as top)
            .select(city, window.start as start, n, total, top)
            .order_by(start, city)
    }
}

// ---------------------------------------------------------------- the children

fn child(scenario: &str, process: &str, hosts: &Path, dir: &Path) {
    let session = Session::from_arg_list(
        [
            "-n",
            "2",
            "-p",
            process,
            "-h",
            hosts.to_str().unwrap(),
            "-w",
            "1",
        ]
        .map(String::from),
    )
    .unwrap()
    .connect_timeout(Duration::from_secs(3));
    let p1 = process == "1";
    let result = match scenario {
        "share" => share(&session, dir, p1),
        "panic" => {
            let query = read_stream(RateMicroBatch::new(8))
                .map(|r: RateRow| {
                    if r.value == 3 {
                        panic!("boom at value 3");
                    }
                    r
                })
                .write_stream(Noop);
            session.start(query).and_then(|q| q.await_termination())
        }
        "kill" | "missing" => {
            let query = read_stream(RateMicroBatch::new(4))
                .write_stream(Noop)
                .trigger(Trigger::ProcessingTime(50));
            session.start(query).and_then(|q| {
                while q.last_progress().is_none() && q.is_active() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                println!("RUNNING");
                q.await_termination()
            })
        }
        "stop" => {
            let query = read_stream(RateMicroBatch::new(4))
                .write_stream(Noop)
                .trigger(Trigger::ProcessingTime(50));
            session.start(query).and_then(|q| {
                if p1 {
                    std::thread::sleep(Duration::from_millis(500));
                    q.stop()
                } else {
                    q.await_termination()
                }
            })
        }
        "malformed" => {
            let query = read_stream::<Line>(Files::json(dir).mode(Mode::FailFast))
                .write_stream(Noop)
                .trigger(AvailableNow);
            session.start(query).and_then(|q| q.await_termination())
        }
        "progress" => {
            let input = MemoryStream::<Line>::new();
            let query = read_stream(input.clone()).write_stream(Noop);
            session.start(query).and_then(|q| {
                if !p1 {
                    input.add_data([Line { value: "a".into() }]);
                }
                // Returns on every process once a batch ran and nothing more is waiting.
                q.process_all_available()?;
                while q.last_progress().is_none() {
                    q.process_all_available()?;
                }
                println!("LAST_BATCH {}", q.last_progress().unwrap().batch_id);
                if p1 {
                    q.stop()
                } else {
                    q.await_termination()
                }
            })
        }
        "differ" => {
            let base = read_stream::<Line>(MemoryStream::new());
            let data = if p1 {
                base.filter(|l| !l.value.is_empty())
                    .with_watermark(|_| Timestamp(0), "1 second")
            } else {
                base
            };
            session
                .start(data.write_stream(Noop))
                .and_then(|q| q.await_termination())
        }
        "two" => two_at_once(&session, dir, process == "1"),
        "batch" => session.collect(batch_query(dir)).map(|rows| {
            if process == "0" {
                println!("ROWS {rows:?}");
            }
        }),
        other => panic!("unknown scenario {other}"),
    };
    match result {
        Ok(()) => println!("RESULT ok"),
        Err(e) => println!("RESULT err {}", e.to_string().replace('\n', " ")),
    }
}

#[derive(Record)]
struct Total {
    rows: i64,
}

/// Two queries of the session at once, each counting the directory's rows (each query of a
/// cluster has its own connections).
fn two_at_once(session: &Session, dir: &Path, p1: bool) -> Result<(), StreamError> {
    let start = |name: &str| -> Result<_, StreamError> {
        let total = std::sync::Arc::new(std::sync::Mutex::new(0i64));
        let into = total.clone();
        let query = read_stream::<Line>(Files::json(dir))
            .group_by_key(|_| 0u8)
            .agg(|a| (a.count(),), |_, (rows,)| Total { rows })
            .write_stream(ForeachBatch::new(move |_, rows: Vec<Total>| {
                if let Some(t) = rows.first() {
                    *into.lock().unwrap() = t.rows;
                }
            }))
            .output_mode(Complete)
            .query_name(name)
            .trigger(AvailableNow);
        Ok((session.start(query)?, total))
    };
    let (first, a) = start("first")?;
    let (second, b) = start("second")?;
    first.await_termination()?;
    second.await_termination()?;
    if !p1 {
        println!("ROWS {} {}", a.lock().unwrap(), b.lock().unwrap());
    }
    Ok(())
}

/// Process 1 builds another query's source first (so its sources are numbered differently in
/// the process); both processes then count every row of the directory's files.
fn share(session: &Session, dir: &Path, p1: bool) -> Result<(), StreamError> {
    if p1 {
        let _unused = read_stream::<Line>(MemoryStream::new()).write_stream(Noop);
    }
    let totals = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let into = totals.clone();
    let query = read_stream::<Line>(Files::json(dir))
        .group_by_key(|_| 0u8)
        .agg(|a| (a.count(),), |_, (rows,)| Total { rows })
        .write_stream(ForeachBatch::new(move |id, rows: Vec<Total>| {
            into.lock()
                .unwrap()
                .insert(id, rows.first().map_or(0, |t| t.rows));
        }))
        .output_mode(Complete)
        .trigger(AvailableNow);
    let q = session.start(query)?;
    q.await_termination()?;
    if !p1 {
        let last = totals.lock().unwrap().values().last().copied().unwrap_or(0);
        println!("ROWS {last}");
    }
    Ok(())
}
