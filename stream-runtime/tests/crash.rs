//! The crash harness: a query is crashed at each named point of a batch (`STREAM_CRASH_AT`, see
//! `src/crash.rs`: the process aborts as `kill -9` would), restarted from its checkpoint, and
//! its output must be exactly an uninterrupted run's: every batch id with the same rows, each
//! batch that ran twice with the same rows both times (Spark's `foreachBatch` contract), nothing
//! lost, nothing extra; and the uninterrupted run's rows must equal a naive computation. On 1
//! worker, 2 workers and 2 processes; also a process of a 2-process cluster killed from outside.
//! The same query into a file sink (`files_` scenarios) exercises `after-sink-files`, where only
//! a partitioned sink stops: the rows its `_spark_metadata` lists must be the naive computation's,
//! each once, and every part file left in its directory listed. A `map_groups_with_state`
//! query (`group_state_` scenarios: a running count and total per user) crashes at the same
//! points: its per-key state must resume exactly. A deduplication within the watermark
//! (`dedup_` scenarios) is crashed at every point too, against its naive computation.
//!
//! A test binary without the test harness (like `cluster.rs`): the parent runs scenarios, each
//! starting this binary as children (`--child LAYOUT PROCESS HOSTFILE DIR SINK`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};
use stream_runtime::prelude::*;

mod crash_join;
mod sink_log;

/// How long a run may take before the parent calls it a hang.
const HANG: Duration = Duration::from_secs(90);
/// Input files; one per batch.
const FILES: u64 = 14;
/// Users in the input.
const USERS: u64 = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let rest = &args[i + 1..];
        child(
            &rest[0],
            &rest[1],
            Path::new(&rest[2]),
            Path::new(&rest[3]),
            &rest[4],
        );
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-')).cloned();
    let reference = Scenario::new("reference", "w1").uninterrupted();
    assert_eq!(
        all_rows(&reference),
        naive(),
        "the uninterrupted run equals the naive computation"
    );
    let join_reference = Scenario::new("join-reference", "w1")
        .with_sink("join")
        .uninterrupted();
    let events: Vec<_> = (0..FILES)
        .flat_map(|f| (0..PER_FILE).map(move |j| event(f, j)))
        .collect();
    assert_eq!(
        all_rows(&join_reference),
        crash_join::naive(&events),
        "the uninterrupted join equals the naive computation"
    );
    assert!(
        crash_join::naive(&events)
            .iter()
            .any(|r| r.contains("\"next_amount\":null")),
        "the join has NULL rows to restore"
    );
    let points = [
        "after-offsets@3",
        "before-sink-commit@3",
        "after-sink-commit@3",
        "after-commit@3",
        "during-snapshot",
    ];
    let mut failed = Vec::new();
    let mut run = |name: String, test: &dyn Fn()| {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            return;
        }
        let started = Instant::now();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(test)) {
            Ok(()) => println!("test {name} ... ok ({:.1?})", started.elapsed()),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(name);
            }
        }
    };
    for layout in ["w1", "w2", "p2"] {
        for point in points {
            run(format!("crash_{point}_on_{layout}"), &|| {
                crash_and_restart(point, layout, "foreach", &reference)
            });
        }
    }
    // A stream-stream join: both sides' waiting rows restored with its state.
    for layout in ["w1", "w2", "p2"] {
        for point in ["after-offsets@3", "before-sink-commit@3", "during-snapshot"] {
            run(format!("join_crash_{point}_on_{layout}"), &|| {
                crash_and_restart(point, layout, "join", &join_reference)
            });
        }
    }
    // Batch 6 is the first to write rows (it closes the first windows).
    let file_points = [
        "after-sink-files@6",
        "before-sink-commit@6",
        "after-sink-commit@6",
    ];
    for layout in ["w1", "w2", "p2"] {
        for point in file_points {
            run(format!("files_crash_{point}_on_{layout}"), &|| {
                file_sink_crash_and_restart(point, layout)
            });
        }
    }
    run("a_dead_process_then_a_restart_of_both".into(), &|| {
        dead_process(&reference)
    });
    // A query of another kind: map_groups_with_state's per-key state.
    let mut gs = Scenario::new("group-state-reference", "w1");
    gs.sink = "group_state";
    let gs_reference = gs.uninterrupted();
    let first_calls: BTreeMap<u64, Vec<String>> = gs_reference
        .iter()
        .map(|(b, c)| (*b, c[0].clone()))
        .collect();
    assert_eq!(
        first_calls,
        naive_group_state(),
        "the uninterrupted group-state run equals the naive computation"
    );
    for layout in ["w1", "w2", "p2"] {
        for point in points {
            run(format!("group_state_crash_{point}_on_{layout}"), &|| {
                let mut s =
                    Scenario::new(&format!("gs-{}-{layout}", point.replace('@', "-")), layout);
                s.sink = "group_state";
                crash_then_restart(&s, point, &gs_reference)
            });
        }
    }
    // A deduplication (its keys in state, released by the watermark) crashed at every point.
    {
        let mut s = Scenario::new("dedup-reference", "w1");
        s.sink = "dedup";
        let dedup_reference = s.uninterrupted();
        assert_eq!(
            all_rows(&dedup_reference),
            naive_dedup(),
            "the uninterrupted deduplication equals the naive computation"
        );
        for layout in ["w1", "w2", "p2"] {
            for point in points {
                run(format!("dedup_crash_{point}_on_{layout}"), &|| {
                    dedup_crash_and_restart(point, layout, &dedup_reference)
                });
            }
        }
    }
    if !failed.is_empty() {
        eprintln!("failed: {failed:?}");
        std::process::exit(1);
    }
}

/// What the sink got: batch id -> the rows of each call with that id.
type Batches = BTreeMap<u64, Vec<Vec<String>>>;

/// Crashes a run at `point`, restarts it, and compares with the reference.
fn crash_and_restart(point: &str, layout: &str, sink: &'static str, reference: &Batches) {
    let name = format!("{sink}-{}-{layout}", point.replace('@', "-"));
    let s = Scenario::new(&name, layout).with_sink(sink);
    crash_then_restart(&s, point, reference)
}

/// Crashes a scenario's run at `point`, restarts it, and compares with the reference.
fn crash_then_restart(s: &Scenario, point: &str, reference: &Batches) {
    let statuses = s.run(Some(point));
    assert!(
        statuses.iter().any(|st| !st.success()),
        "a process crashed at {point}: {statuses:?}"
    );
    let statuses = s.run(None);
    assert!(statuses.iter().all(|st| st.success()), "{statuses:?}");
    check_exactly_once(&s.batches(), reference);
}

/// Crashes a run of the deduplication at `point`, restarts it, and compares with its reference.
fn dedup_crash_and_restart(point: &str, layout: &str, reference: &Batches) {
    let mut s = Scenario::new(
        &format!("dedup-{}-{layout}", point.replace('@', "-")),
        layout,
    );
    s.sink = "dedup";
    let statuses = s.run(Some(point));
    assert!(
        statuses.iter().any(|st| !st.success()),
        "a process crashed at {point}: {statuses:?}"
    );
    let statuses = s.run(None);
    assert!(statuses.iter().all(|st| st.success()), "{statuses:?}");
    check_exactly_once(&s.batches(), reference);
}

/// The deduplication's result, computed naively from Spark's rules. Every file is waiting from
/// the start, so batch `f` reads file `f` and no batch without data runs between them. Batch
/// `f` runs under the watermark `W_f` = max event time of the files before it - 5 s (0 at
/// least) and judges late rows by the previous batch's, `W_{f-1}` (0 for the first): a row at
/// or below it is dropped; in row order, a row of a user not remembered is kept and its user
/// remembered until `ts + 5 s`; at the end of the batch, the users whose expiry is at or below
/// `W_f` are forgotten.
fn naive_dedup() -> Vec<String> {
    let mut kept = Vec::new();
    let mut remembered: BTreeMap<String, i64> = BTreeMap::new();
    let (mut max_before, mut late) = (i64::MIN, 0);
    for f in 0..FILES {
        let watermark = max_before.saturating_sub(5_000).max(0);
        let mut rows: Vec<Payment> = (0..PER_FILE)
            .map(|j| {
                let (user, amount, ts) = event(f, j);
                max_before = max_before.max(ts);
                Payment {
                    user,
                    amount,
                    ts: Timestamp(ts),
                }
            })
            .collect();
        rows.sort();
        for row in rows {
            if row.ts.millis() > late && !remembered.contains_key(&row.user) {
                remembered.insert(row.user.clone(), row.ts.millis() + 5_000);
                kept.push(Record::to_json(&row));
            }
        }
        remembered.retain(|_, expiry| *expiry > watermark);
        late = watermark;
    }
    kept.sort();
    kept
}

/// Crashes a run into a file sink at `point`, restarts it, and reads the output through its
/// log.
fn file_sink_crash_and_restart(point: &str, layout: &str) {
    let mut s = Scenario::new(
        &format!("files-{}-{layout}", point.replace('@', "-")),
        layout,
    );
    s.sink = "files";
    let statuses = s.run(Some(point));
    assert!(
        statuses.iter().any(|st| !st.success()),
        "a process crashed at {point}: {statuses:?}"
    );
    let out = s.dir.join("files");
    let logged = sink_log::listed(&out);
    // On one worker, that worker wrote the batch's rows before the crash; on more, the crashed
    // one may have had none of them.
    if point.starts_with("after-sink-files") && layout == "w1" {
        let on_disk = part_files(&out);
        assert!(
            on_disk.iter().any(|f| !logged.contains(f)),
            "the crash left files the log does not list: {on_disk:?}"
        );
    }
    let statuses = s.run(None);
    assert!(statuses.iter().all(|st| st.success()), "{statuses:?}");
    let logged = sink_log::listed(&out);
    let mut sorted = logged.clone();
    sorted.sort();
    assert_eq!(part_files(&out), sorted, "every part file is listed, once");
    let mut rows: Vec<String> = logged
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines().map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    rows.sort();
    assert_eq!(rows, naive_json_lines(), "the committed rows, each once");
}

/// The part files in a file sink's directory, sorted.
fn part_files(out: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    files.sort();
    files
}

/// Process 1 of a 2-process run is killed from outside mid-run: process 0 fails with an error
/// naming it; a restart of both resumes exactly once.
fn dead_process(reference: &Batches) {
    let s = Scenario::new("dead-process", "p2");
    let (mut p0, mut p1) = (s.spawn(0, None, true), s.spawn(1, None, true));
    p0.wait_for("BATCH 2").expect("process 0 runs batches");
    p1.child.kill().unwrap();
    let status = p0.wait(HANG);
    assert!(!status.success());
    let err = p0.lines_with("RESULT err").join("\n");
    assert!(
        err.contains("process 1"),
        "process 0's error names process 1: {err}"
    );
    let _ = p1.wait(HANG);
    let statuses = s.run(None);
    assert!(statuses.iter().all(|st| st.success()), "{statuses:?}");
    check_exactly_once(&s.batches(), reference);
}

fn check_exactly_once(got: &Batches, reference: &Batches) {
    for (batch, calls) in got {
        assert!(
            calls.windows(2).all(|w| w[0] == w[1]),
            "batch {batch} ran again with other rows: {calls:?}"
        );
    }
    let once: BTreeMap<u64, &Vec<String>> = got.iter().map(|(b, c)| (*b, &c[0])).collect();
    let expected: BTreeMap<u64, &Vec<String>> =
        reference.iter().map(|(b, c)| (*b, &c[0])).collect();
    assert_eq!(once, expected, "the batches equal an uninterrupted run's");
}

/// Every row the sink got, once per batch.
fn all_rows(batches: &Batches) -> Vec<String> {
    let mut rows: Vec<String> = batches.values().flat_map(|c| c[0].clone()).collect();
    rows.sort();
    rows
}

/// Event `j` of file `f`: user, amount, event time in ms (times rise with the files).
fn event(f: u64, j: u64) -> (String, i64, i64) {
    let user = format!("u{}", (f * 7 + j) % USERS);
    let amount = ((f * 31 + j * 17) % 100) as i64;
    let ts = (f * 3_000 + j * 250) as i64;
    (user, amount, ts)
}

const PER_FILE: u64 = 10;

/// The query's result, computed naively: count and sum per user per 10-second window, for the
/// windows the final watermark (max event time - 5 s) has closed (append mode, no late rows).
fn naive() -> Vec<String> {
    let mut groups: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    let mut max_ts = i64::MIN;
    for f in 0..FILES {
        for j in 0..PER_FILE {
            let (user, amount, ts) = event(f, j);
            max_ts = max_ts.max(ts);
            let g = groups.entry((ts - ts % 10_000, user)).or_default();
            g.0 += 1;
            g.1 += amount;
        }
    }
    let watermark = max_ts - 5_000;
    let mut rows: Vec<String> = groups
        .into_iter()
        .filter(|((start, _), _)| start + 10_000 <= watermark)
        .map(|((start, user), (n, total))| {
            format!(
                "{{\"window\":{{\"start\":{start},\"end\":{}}},\"user\":\"{user}\",\"n\":{n},\"total\":{total}}}",
                start + 10_000
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The group-state query's batches, computed naively: batch `f` reads file `f` and writes
/// each user of that file with their count and total so far.
fn naive_group_state() -> BTreeMap<u64, Vec<String>> {
    let mut so_far: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for f in 0..FILES {
        let mut users = std::collections::BTreeSet::new();
        for j in 0..PER_FILE {
            let (user, amount, _) = event(f, j);
            let e = so_far.entry(user.clone()).or_default();
            e.0 += 1;
            e.1 += amount;
            users.insert(user);
        }
        let mut lines: Vec<String> = users
            .iter()
            .map(|u| {
                let (n, total) = so_far[u];
                format!("{{\"user\":\"{u}\",\"n\":{n},\"total\":{total}}}")
            })
            .collect();
        lines.sort();
        out.insert(f, lines);
    }
    out
}

/// [`naive`] as Spark's JSON writer writes the rows (the file sink's lines).
fn naive_json_lines() -> Vec<String> {
    // Event times are within the first minute of 1970-01-01.
    let iso = |ms: i64| {
        format!(
            "1970-01-01T00:{:02}:{:02}.{:03}Z",
            ms / 60_000,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let mut rows: Vec<String> = naive()
        .iter()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let w = &v["window"];
            format!(
                "{{\"window\":{{\"start\":\"{}\",\"end\":\"{}\"}},\"user\":{},\"n\":{},\"total\":{}}}",
                iso(w["start"].as_i64().unwrap()),
                iso(w["end"].as_i64().unwrap()),
                v["user"],
                v["n"],
                v["total"]
            )
        })
        .collect();
    rows.sort();
    rows
}

// ---------------------------------------------------------------- the parent's runs

/// A scenario's directory (input, checkpoint, sink output) and layout.
struct Scenario {
    dir: PathBuf,
    layout: String,
    hosts: PathBuf,
    /// `foreach` (a `ForeachBatch` writing a file per call into `out/`), `files` (a JSON
    /// file sink in `files/`), `group_state` (`foreach`, from a `map_groups_with_state`
    /// query), `dedup` (a deduplication into the `foreach` sink) or `join` (the join query of
    /// `crash_join` into `out/`).
    sink: &'static str,
}

impl Scenario {
    fn new(name: &str, layout: &str) -> Scenario {
        let dir = std::env::temp_dir().join(format!("crash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::create_dir_all(dir.join("out")).unwrap();
        for f in 0..FILES {
            let text: String = (0..PER_FILE)
                .map(|j| {
                    let (user, amount, ts) = event(f, j);
                    format!(
                        "{{\"user\":\"{user}\",\"amount\":{amount},\"ts\":\"{}\"}}\n",
                        iso(ts)
                    )
                })
                .collect();
            let path = dir.join("in").join(format!("{f:03}.json"));
            std::fs::write(&path, text).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000 + f))
                .unwrap();
        }
        let port = || {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let hosts = dir.join("hosts");
        std::fs::write(
            &hosts,
            format!("127.0.0.1:{}\n127.0.0.1:{}\n", port(), port()),
        )
        .unwrap();
        Scenario {
            dir,
            layout: layout.into(),
            hosts,
            sink: "foreach",
        }
    }

    fn with_sink(mut self, sink: &'static str) -> Scenario {
        self.sink = sink;
        self
    }

    fn processes(&self) -> usize {
        if self.layout == "p2" {
            2
        } else {
            1
        }
    }

    fn spawn(&self, process: usize, crash_at: Option<&str>, slow: bool) -> Proc {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--child", &self.layout, &process.to_string()])
            .arg(&self.hosts)
            .arg(&self.dir)
            .arg(self.sink)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("STREAM_CRASH_AT");
        if let Some(point) = crash_at {
            cmd.env("STREAM_CRASH_AT", point);
        }
        if slow {
            cmd.env("CRASH_TEST_SLOW", "1");
        }
        let mut child = cmd.spawn().unwrap();
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

    /// Runs every process until it ends; the crash point is armed on process 0 (the driver).
    fn run(&self, crash_at: Option<&str>) -> Vec<ExitStatus> {
        let mut procs: Vec<Proc> = (0..self.processes())
            .rev()
            .map(|p| self.spawn(p, crash_at.filter(|_| p == 0), false))
            .collect();
        procs.iter_mut().map(|p| p.wait(HANG)).collect()
    }

    /// An uninterrupted run's batches.
    fn uninterrupted(self) -> Batches {
        let statuses = self.run(None);
        assert!(statuses.iter().all(|s| s.success()), "{statuses:?}");
        self.batches()
    }

    /// What the sink got, from its files `out/<batch>.<call>`.
    fn batches(&self) -> Batches {
        let mut out = Batches::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("out"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let batch: u64 = name.split('.').next().unwrap().parse().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            out.entry(batch)
                .or_default()
                .push(text.lines().map(str::to_string).collect());
        }
        out
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running child and what it printed so far.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn wait_for(&mut self, prefix: &str) -> Option<String> {
        let deadline = Instant::now() + HANG;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return Some(rest.to_string());
            }
        }
        None
    }

    fn lines_with(&mut self, prefix: &str) -> Vec<String> {
        self.seen.extend(self.lines.try_iter());
        self.seen
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.seen.extend(self.lines.try_iter());
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("a child hung; it printed {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn iso(ms: i64) -> String {
    let t = Timestamp(ms).to_string();
    let (date, time) = t.split_at(10);
    format!("{date}T{}Z", time.trim())
}

// ---------------------------------------------------------------- the child

#[derive(Record)]
struct Payment {
    user: String,
    amount: i64,
    ts: Timestamp,
}

#[derive(Record)]
struct Running {
    user: String,
    n: i64,
    total: i64,
}

fn child(layout: &str, process: &str, hosts: &Path, dir: &Path, sink: &str) {
    let args: Vec<&str> = match layout {
        "w1" => vec!["-w", "1"],
        "w2" => vec!["-w", "2"],
        _ => vec![
            "-n",
            "2",
            "-p",
            process,
            "-h",
            hosts.to_str().unwrap(),
            "-w",
            "1",
        ],
    };
    let session = Session::from_arg_list(args.into_iter().map(String::from))
        .unwrap()
        .connect_timeout(Duration::from_secs(5));
    let (out, slow) = (
        dir.join("out"),
        std::env::var_os("CRASH_TEST_SLOW").is_some(),
    );
    let input = Files::json(dir.join("in")).max_files_per_trigger(1);
    let started = if sink == "group_state" {
        session.start(stream! {
            read_stream::<Payment>(input)
                .group_by_key(|p: &Payment| p.user.clone())
                .map_groups_with_state(NoTimeout, |user: String, rows: GroupRows<Payment>, state: &mut GroupState<(i64, i64)>| {
                    let (mut n, mut total) = state.get().copied().unwrap_or((0, 0));
                    for p in rows {
                        n += 1;
                        total += p.amount;
                    }
                    state.update((n, total));
                    Running { user, n, total }
                })
                .write_stream(foreach(out, slow))
                .output_mode(Update)
                .checkpoint_location(dir.join("checkpoint"))
                .trigger(AvailableNow)
        })
    } else if sink == "dedup" {
        session.start(stream! {
            read_stream::<Payment>(input)
                .with_watermark(ts, "5 seconds")
                .drop_duplicates_within_watermark(user)
                .write_stream(foreach(out, slow))
                .output_mode(Append)
                .checkpoint_location(dir.join("checkpoint"))
                .trigger(AvailableNow)
        })
    } else if sink == "files" {
        session.start(stream! {
            read_stream::<Payment>(input)
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "10 seconds"), user)
                .agg(count() as n, sum(amount) as total)
                .write_stream(Files::json(dir.join("files")))
                .output_mode(Append)
                .checkpoint_location(dir.join("checkpoint"))
                .trigger(AvailableNow)
        })
    } else if sink == "join" {
        session.start(
            crash_join::query(dir)
                .write_stream(foreach(out, slow))
                .checkpoint_location(dir.join("checkpoint"))
                .trigger(Trigger::AvailableNow),
        )
    } else {
        session.start(stream! {
            read_stream::<Payment>(input)
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "10 seconds"), user)
                .agg(count() as n, sum(amount) as total)
                .write_stream(foreach(out, slow))
                .output_mode(Append)
                .checkpoint_location(dir.join("checkpoint"))
                .trigger(AvailableNow)
        })
    };
    match started.and_then(|q| q.await_termination()) {
        Ok(()) => println!("RESULT ok"),
        Err(e) => {
            println!("RESULT err {}", e.to_string().replace('\n', " "));
            std::process::exit(1);
        }
    }
}

/// The sink of the `foreach`, `dedup` and `group_state` runs: a file per call in `out`, named by batch id.
fn foreach<T: Record>(
    out: PathBuf,
    slow: bool,
) -> ForeachBatch<impl FnMut(u64, Vec<T>) + Send + 'static> {
    ForeachBatch::new(move |batch: u64, rows: Vec<T>| {
        let mut lines: Vec<String> = rows.iter().map(|r: &_| Record::to_json(r)).collect();
        lines.sort();
        // One file per call, written whole: a crash leaves either all of it or nothing.
        let call = format!("{batch:04}.{}-{}", std::process::id(), unique());
        let tmp = out.join(format!(".{call}"));
        std::fs::write(
            &tmp,
            lines.iter().map(|l| l.clone() + "\n").collect::<String>(),
        )
        .unwrap();
        std::fs::rename(&tmp, out.join(call)).unwrap();
        println!("BATCH {batch}");
        if slow {
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// A number unique within this process.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
