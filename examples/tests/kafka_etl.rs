//! `examples/kafka_etl` against the real broker: killed with `kill -9` at random moments and
//! restarted, on 1 and 2 workers, and crashed at the sink's commit in every batch, it leaves in
//! its output topic exactly what an uninterrupted run leaves, as Kafka's own Java consumer
//! reads it with `isolation.level=read_committed`, and in its output directory exactly the
//! rows an uninterrupted run commits (by the file sink's `_spark_metadata` log); the
//! uninterrupted run's windows equal a naive computation over the bids written. Run as a
//! two-process cluster, it writes the same.

mod common;

use common::{example_binary, output_lines, run_two_processes};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stream_runtime::source::nexmark::{event, Event, NexmarkConfig};

/// Nexmark events written to the input topic (10 s of event time: 4 closed 2-second windows).
const EVENTS: u64 = 100_000;

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn etl(args: &[&str]) -> Command {
    let mut c = Command::new(example_binary("kafka_etl"));
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// `run`'s arguments: input topic, output topic and directory (`<checkpoint>-out`), checkpoint.
fn run_args<'a>(
    bootstrap: &'a str,
    input: &'a str,
    output: &'a str,
    checkpoint: &'a str,
) -> Vec<String> {
    [
        "run",
        "--bootstrap",
        bootstrap,
        "--input",
        input,
        "--output",
        output,
        "--output-dir",
        &format!("{checkpoint}-out"),
        "--checkpoint",
        checkpoint,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The rows the file sink committed in `<checkpoint>-out`, each as `auction<TAB>value` with
/// the value's keys in the order the Kafka rows have them (sorted), sorted.
fn committed_files(checkpoint: &str) -> Vec<String> {
    let (lines, _) = output_lines(std::path::Path::new(&format!("{checkpoint}-out")));
    let mut rows: Vec<String> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}\t{v}", v["auction"])
        })
        .collect();
    rows.sort();
    rows
}

fn remove(checkpoint: &str) {
    let _ = std::fs::remove_dir_all(checkpoint);
    let _ = std::fs::remove_dir_all(format!("{checkpoint}-out"));
}

/// Runs the query to its end (it stops once it has read everything); returns how long it took.
fn run_to_end(
    bootstrap: &str,
    input: &str,
    output: &str,
    checkpoint: &str,
    workers: &str,
) -> Duration {
    let started = Instant::now();
    let mut args = run_args(bootstrap, input, output, checkpoint);
    args.extend(["-w".to_string(), workers.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = etl(&args).output().unwrap();
    assert!(
        out.status.success(),
        "kafka_etl run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// How many batches the Kafka query's checkpoint has committed (`kafka/commits/<batch>` files).
fn committed_batches(checkpoint: &str) -> usize {
    std::fs::read_dir(std::path::Path::new(checkpoint).join("kafka/commits"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().parse::<u64>().is_ok())
                .count()
        })
        .unwrap_or(0)
}

/// The output topic's rows, read by Kafka's Java console consumer with read_committed: key
/// and value lines, sorted (order across partitions is not defined). The consumer stops after
/// 10 s without a record; on a busy machine it may not have received the first one by then (it
/// joins a group first), so a read with fewer rows than `want` is done again, waiting 40 s.
fn read_committed(bootstrap: &str, topic: &str, want: usize) -> Vec<String> {
    let rows = read_committed_within(bootstrap, topic, "10000");
    if rows.len() >= want {
        return rows;
    }
    read_committed_within(bootstrap, topic, "40000")
}

fn read_committed_within(bootstrap: &str, topic: &str, timeout_ms: &str) -> Vec<String> {
    let libs = std::env::var("STREAM_KAFKA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.kafka"))
        .join("libs/*");
    let out = Command::new("java")
        .arg("-cp")
        .arg(&libs)
        .args([
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--isolation-level",
            "read_committed",
            "--timeout-ms",
            timeout_ms,
            "--formatter-property",
            "print.key=true",
        ])
        .stderr(Stdio::null())
        .output()
        .expect("java runs Kafka's console consumer (scripts/kafka/start.sh fetched its jars)");
    // Records are `key<TAB>value` lines; the tool's own log lines (it ends on its timeout
    // with a TimeoutException) have no tab.
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains('\t'))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// What the query must write, computed naively from the generated bids: per 2-second window
/// and auction, the count and the sum of prices, for the windows the final watermark (the
/// latest bid's time minus 1 s) has closed.
fn expected() -> Vec<String> {
    let config = NexmarkConfig::default();
    let mut windows: BTreeMap<(i64, u64), (u64, u64)> = BTreeMap::new();
    let mut max_time = i64::MIN;
    for i in 0..EVENTS {
        if let Event::Bid(b) = event(&config, i) {
            let t = b.date_time.millis();
            max_time = max_time.max(t);
            let start = t - t.rem_euclid(2000);
            let w = windows.entry((start, b.auction)).or_default();
            w.0 += 1;
            w.1 += b.price;
        }
    }
    let watermark = max_time - 1000;
    let mut rows: Vec<String> = windows
        .into_iter()
        .filter(|((start, _), _)| start + 2000 <= watermark)
        .map(|((start, auction), (bids, volume))| {
            let value = serde_json::json!({
                "window_start": start,
                "window_end": start + 2000,
                "auction": auction,
                "bids": bids,
                "volume": volume,
            });
            format!("{auction}\t{value}")
        })
        .collect();
    rows.sort();
    rows
}

/// Fails with the rows only one side has (at most 10 of each), when `got` is not `want`.
fn assert_same(what: &str, got: &[String], want: &[String]) {
    if got == want {
        return;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter()
            .filter(|r| !b.contains(r))
            .take(10)
            .cloned()
            .collect()
    };
    let mut distinct = got.to_vec();
    distinct.dedup();
    panic!(
        "{what}: {} rows ({} duplicates), {} expected\nunexpected: {:#?}\nmissing: {:#?}",
        got.len(),
        got.len() - distinct.len(),
        want.len(),
        only(got, want),
        only(want, got)
    );
}

/// A small pseudo-random generator (the kill moments), seeded from the clock; the seed is
/// printed so that a failing schedule can be read back.
struct Lcg(u64);

impl Lcg {
    fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (self.0 >> 33) % (hi - lo)
    }
}

#[test]
fn killed_at_random_moments_it_writes_exactly_what_an_uninterrupted_run_writes() {
    let bootstrap = stream_kafka::test_broker();
    let input = unique("etl-bids");
    let out = etl(&[
        "fill",
        "--bootstrap",
        &bootstrap,
        "--topic",
        &input,
        "--events",
        &EVENTS.to_string(),
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tmp = std::env::temp_dir();
    let cp = |name: &str| tmp.join(unique(name)).to_string_lossy().into_owned();

    // The uninterrupted run, and the naive computation.
    let reference = unique("etl-reference");
    let reference_cp = cp("etl-reference");
    let took = run_to_end(&bootstrap, &input, &reference, &reference_cp, "1");
    let batches = committed_batches(&reference_cp);
    assert!(batches > 5, "{batches} batches: too few to kill between");
    eprintln!("uninterrupted run: {batches} batches in {took:?}");
    let expected = expected();
    let uninterrupted = read_committed(&bootstrap, &reference, expected.len());
    assert!(!expected.is_empty());
    assert_same("the uninterrupted run", &uninterrupted, &expected);
    assert_same(
        "the uninterrupted run's files",
        &committed_files(&reference_cp),
        &expected,
    );
    remove(&reference_cp);

    // Two processes of one worker each share the partitions and write the same.
    let two = unique("etl-two-processes");
    let two_cp = cp("etl-two-processes");
    let args: Vec<std::ffi::OsString> = run_args(&bootstrap, &input, &two, &two_cp)
        .into_iter()
        .map(Into::into)
        .collect();
    run_two_processes("kafka_etl", &args);
    let got = read_committed(&bootstrap, &two, uninterrupted.len());
    assert_same("two processes", &got, &uninterrupted);
    assert_same("two processes' files", &committed_files(&two_cp), &expected);
    remove(&two_cp);

    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill schedule seed: {seed}");
    let mut rng = Lcg(seed);
    for workers in ["1", "2"] {
        let output = unique(&format!("etl-crash-w{workers}"));
        let checkpoint = cp(&format!("etl-crash-w{workers}"));
        let mut kills = Vec::new();
        let mut mid_run = 0;
        // Killed again and again, each run resuming the last, until one finishes by itself.
        for _ in 0..12 {
            let mut args = run_args(&bootstrap, &input, &output, &checkpoint);
            args.extend(["-w".to_string(), workers.to_string()]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut child = etl(&args).spawn().unwrap();
            // A random moment of the run's progress, whatever the machine's speed: once it has
            // committed 1 to 3 more batches, 0 to 300 ms into the next one.
            let before = committed_batches(&checkpoint);
            let target = (before + rng.next_ms(1, 4) as usize).min(batches - 1);
            while committed_batches(&checkpoint) < target && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(2));
            }
            let after = rng.next_ms(0, 300);
            let deadline = Instant::now() + Duration::from_millis(after);
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(2));
            }
            match child.try_wait().unwrap() {
                // It finished before the kill.
                Some(status) => {
                    assert!(status.success(), "a run failed on {workers} workers");
                    break;
                }
                None => {
                    // SIGKILL, as `kill -9`.
                    child.kill().unwrap();
                    child.wait().unwrap();
                    let done = committed_batches(&checkpoint);
                    if done > 0 && done < batches {
                        mid_run += 1;
                    }
                    kills.push((target, after, done));
                }
            }
        }
        eprintln!(
            "{workers} worker(s): killed (after batch, then ms, batches committed): {kills:?}"
        );
        assert!(
            mid_run > 0,
            "{workers} worker(s): no kill landed between the first and the last of {batches} \
             batches (kills at {kills:?}, seed {seed})"
        );
        run_to_end(&bootstrap, &input, &output, &checkpoint, workers);
        let got = read_committed(&bootstrap, &output, uninterrupted.len());
        let what = format!("{workers} worker(s), kills at {kills:?} (seed {seed})");
        assert_same(&what, &got, &uninterrupted);
        assert_same(
            &format!("{what}, files"),
            &committed_files(&checkpoint),
            &expected,
        );
        remove(&checkpoint);
    }

    // Crash points (the engine's STREAM_CRASH_AT aborts the process as `kill -9` would, at a
    // chosen moment): in every batch, on 2 workers, either after the workers wrote the batch
    // into their transactions and before the driver commits them, or after the sink committed
    // and before the checkpoint knows. Each run resumes the last and crashes in the next batch.
    let output = unique("etl-points");
    let checkpoint = cp("etl-points");
    for batch in 1..batches {
        let point = if batch % 3 == 0 {
            "after-sink-commit"
        } else {
            "before-sink-commit"
        };
        let mut args = run_args(&bootstrap, &input, &output, &checkpoint);
        args.extend(["-w".to_string(), "2".to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = etl(&args)
            .env("STREAM_CRASH_AT", format!("{point}@{batch}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A batch without rows for the sink may finish the run before the point is reached.
        assert!(
            !out.status.success() && stderr.contains("STREAM_CRASH_AT: crashing at")
                || out.status.success(),
            "{point}@{batch}: {stderr}"
        );
    }
    run_to_end(&bootstrap, &input, &output, &checkpoint, "2");
    let got = read_committed(&bootstrap, &output, uninterrupted.len());
    assert_same("crashed at every batch's sink commit", &got, &uninterrupted);
    assert_same(
        "crashed at every batch's sink commit, files",
        &committed_files(&checkpoint),
        &expected,
    );
    remove(&checkpoint);
}
