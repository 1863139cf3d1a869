//! Runs the `file_etl` example binary (built by `cargo test`) and kills it with `kill -9` at
//! random moments while input files keep arriving, restarting it each time with 1 or 2
//! workers and a random `--max-files-per-trigger`; then a last run with `--available-now`. The
//! output directory, read through its `_spark_metadata` log by a reader written here, must
//! hold exactly the windows a naive computation over all the input gives, each once, as Spark's
//! JSON writer writes them, and no file the log does not list.
//!
//! A handful of kills by default; `STREAM_KILLS=1000` for the long run, `STREAM_KILL_SEED=S` to
//! repeat a run (the seed is printed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

mod common;

use common::{listed, logged_lines, output_lines};

/// 2026-01-01T00:00:00Z, epoch milliseconds.
const BASE: i64 = 1_767_225_600_000;
/// Files arrive in bursts (those added while one process runs), burst `b` with event times in
/// `[SPAN * b, SPAN * b + BURST)` past `BASE`. A directory listing that runs while files are
/// renamed into place may see a later file of a burst and not an earlier one (`readdir` is no
/// snapshot), so a burst's files may be read in any order; as a burst spans at most the
/// watermark's delay (5 seconds), no row is ever late, however files are ordered within a
/// burst and batched, and the expected windows do not depend on where the kills fall.
const SPAN: i64 = 7_000;
const BURST: i64 = 5_000;

/// xorshift64*: the test's random choices, repeatable from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Dirs(PathBuf);

impl Dirs {
    fn new(name: &str) -> Dirs {
        let d = std::env::temp_dir().join(format!("file-etl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("in")).unwrap();
        Dirs(d)
    }
    fn input(&self) -> PathBuf {
        self.0.join("in")
    }
    fn output(&self) -> PathBuf {
        self.0.join("out")
    }
    fn checkpoint(&self) -> PathBuf {
        self.0.join("checkpoint")
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// `2026-01-01T00:00:05.123Z` for `BASE + ms`.
fn iso(ms: i64) -> String {
    let t = ms - BASE;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

/// The rows (user, amount, event time) of input file `i`, of burst `burst`.
fn rows(i: u64, burst: u64) -> Vec<(String, i64, i64)> {
    let mut rng = Rng(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n = 1 + rng.below(20);
    (0..n)
        .map(|_| {
            let user = format!("u{}", rng.below(10));
            let amount = rng.below(1000) as i64;
            let ts = BASE + burst as i64 * SPAN + rng.below(BURST as u64) as i64;
            (user, amount, ts)
        })
        .collect()
}

/// The input directory, and the burst of each file written so far.
struct Input {
    dir: PathBuf,
    bursts: Vec<u64>,
}

impl Input {
    fn new(dirs: &Dirs) -> Input {
        Input {
            dir: dirs.input(),
            bursts: Vec::new(),
        }
    }

    /// Writes the next input file, of burst `burst`, complete under a hidden name, dates it
    /// (files are taken in modification-time order) and renames it into place, so the query
    /// never sees half a file.
    fn add(&mut self, burst: u64) {
        let i = self.bursts.len() as u64;
        self.bursts.push(burst);
        let text: String = rows(i, burst)
            .iter()
            .map(|(u, a, ts)| {
                format!(
                    "{{\"user\": \"{u}\", \"amount\": {a}, \"ts\": \"{}\"}}\n",
                    iso(*ts)
                )
            })
            .collect();
        let tmp = self.dir.join(format!(".{i:05}.json.tmp"));
        std::fs::write(&tmp, text).unwrap();
        let f = std::fs::File::options().write(true).open(&tmp).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i))
            .unwrap();
        drop(f);
        std::fs::rename(&tmp, self.dir.join(format!("{i:05}.json"))).unwrap();
    }

    /// The output lines a run over the files written so far writes, computed naively.
    fn expected(&self) -> Vec<String> {
        let all: Vec<_> = (0..)
            .zip(&self.bursts)
            .flat_map(|(i, b)| rows(i, *b))
            .collect();
        expected(&all)
    }
}

/// The output lines a run over rows `all` writes, as Spark's JSON writer writes them, sorted:
/// 10-second windows per user, those the final watermark (latest event time less 5 seconds)
/// has closed.
fn expected(all: &[(String, i64, i64)]) -> Vec<String> {
    let Some(latest) = all.iter().map(|r| r.2).max() else {
        return Vec::new();
    };
    let watermark = latest - 5000;
    let mut windows: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for (user, amount, ts) in all.iter().cloned() {
        let start = ts - (ts - BASE).rem_euclid(10_000);
        if start + 10_000 <= watermark {
            let w = windows.entry((start, user)).or_default();
            w.0 += 1;
            w.1 += amount;
        }
    }
    let mut lines: Vec<String> = windows
        .into_iter()
        .map(|((start, user), (n, total))| {
            format!(
                "{{\"window\":{{\"start\":\"{}\",\"end\":\"{}\"}},\"user\":\"{user}\",\"n\":{n},\"total\":{total}}}",
                iso(start),
                iso(start + 10_000)
            )
        })
        .collect();
    lines.sort();
    lines
}

/// The highest batch id in checkpoint log `dir` (`offsets` or `commits`).
fn last_batch(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .max()
}

/// Asserts that the output lines are the expected ones, showing the differences.
fn same(lines: &[String], want: &[String]) {
    if lines == want {
        return;
    }
    let have: BTreeSet<&String> = lines.iter().collect();
    let wanted: BTreeSet<&String> = want.iter().collect();
    let missing: Vec<_> = wanted.difference(&have).take(20).collect();
    let extra: Vec<_> = have.difference(&wanted).take(20).collect();
    panic!(
        "{} lines, {} expected; missing (first 20): {missing:#?}\nnot expected (first 20): \
         {extra:#?}",
        lines.len(),
        want.len()
    );
}

fn etl(dirs: &Dirs, workers: u64, max_files: Option<u64>, available_now: bool) -> Command {
    let mut cmd = Command::new(common::example_binary("file_etl"));
    cmd.arg("--input")
        .arg(dirs.input())
        .arg("--output")
        .arg(dirs.output())
        .arg("--checkpoint")
        .arg(dirs.checkpoint())
        .args(["-w", &workers.to_string()]);
    if let Some(k) = max_files {
        cmd.args(["--max-files-per-trigger", &k.to_string()]);
    }
    if available_now {
        cmd.arg("--available-now");
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

fn finish(dirs: &Dirs, workers: u64) {
    let out = etl(dirs, workers, None, true).output().unwrap();
    assert!(
        out.status.success(),
        "the --available-now run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn available_now_writes_the_windows_and_exits() {
    let dirs = Dirs::new("once");
    let mut input = Input::new(&dirs);
    for i in 0..10 {
        input.add(i);
    }
    finish(&dirs, 2);
    let (lines, _) = output_lines(&dirs.output());
    same(&lines, &input.expected());
    // More files, a restart on one worker: the next windows, and the earlier ones not again.
    for i in 10..16 {
        input.add(i);
    }
    let out = etl(&dirs, 1, Some(2), true).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same(&output_lines(&dirs.output()).0, &input.expected());
}

/// Two processes (one worker each) write one output: the file sink's workers on both, its
/// commits on process 0; a restart as one process goes on.
#[test]
fn two_processes_write_the_windows_once() {
    let dirs = Dirs::new("processes");
    let mut input = Input::new(&dirs);
    for i in 0..8 {
        input.add(i);
    }
    let args: Vec<std::ffi::OsString> = vec![
        "--input".into(),
        dirs.input().into(),
        "--output".into(),
        dirs.output().into(),
        "--checkpoint".into(),
        dirs.checkpoint().into(),
        "--max-files-per-trigger".into(),
        "3".into(),
        "--available-now".into(),
    ];
    common::run_two_processes("file_etl", &args);
    same(&output_lines(&dirs.output()).0, &input.expected());
    let writers: BTreeSet<String> = listed(&dirs.output())
        .0
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy()[..10].to_string())
        .collect();
    assert_eq!(
        writers,
        BTreeSet::from(["part-00000".to_string(), "part-00001".to_string()]),
        "both processes' workers wrote files"
    );
    for i in 8..12 {
        input.add(i);
    }
    finish(&dirs, 2);
    same(&output_lines(&dirs.output()).0, &input.expected());
}

/// Without `--available-now` the query keeps running and picks up files as they come.
#[test]
fn it_runs_until_killed_picking_up_new_files() {
    let dirs = Dirs::new("running");
    let mut input = Input::new(&dirs);
    let mut child = etl(&dirs, 2, None, false).spawn().unwrap();
    // Two files a burst; from the fourth, windows close.
    for burst in 0..6 {
        input.add(burst);
        input.add(burst);
        let want = input.expected();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = dirs
                .output()
                .join("_spark_metadata")
                .is_dir()
                .then(|| logged_lines(&listed(&dirs.output()).0));
            if seen.as_ref() == Some(&want) {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let out = child.wait_with_output().unwrap();
                panic!(
                    "it ended ({status}): {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert!(
                Instant::now() < deadline,
                "after 60 s, the output of {burst} bursts is {seen:?}, not {want:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "still running");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_bad_command_line_is_refused_with_the_usage() {
    let dirs = Dirs::new("usage");
    let out = Command::new(common::example_binary("file_etl"))
        .arg("--input")
        .arg(dirs.input())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--output") && err.contains("--checkpoint"),
        "{err}"
    );
    let out = Command::new(common::example_binary("file_etl"))
        .args(["--input", "a", "--output", "b", "--checkpoint", "c"])
        .args(["--max-files-per-trigger", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Kills the query with `kill -9` at random moments while files arrive, restarting it with 1
/// or 2 workers; the output is exactly once.
#[test]
fn killed_at_random_moments_the_output_is_exactly_once() {
    let kills: u64 = std::env::var("STREAM_KILLS")
        .map(|k| k.parse().expect("STREAM_KILLS is a number"))
        .unwrap_or(6);
    let seed: u64 = std::env::var("STREAM_KILL_SEED")
        .map(|s| s.parse().expect("STREAM_KILL_SEED is a number"))
        .unwrap_or_else(|_| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("file_etl kill test: {kills} kills, STREAM_KILL_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let dirs = Dirs::new("kills");
    let mut input = Input::new(&dirs);
    // Kills that left a batch planned (in `offsets`) and not committed.
    let mut mid_batch = 0;
    let started = Instant::now();
    for kill in 0..kills {
        let workers = 1 + rng.below(2);
        let max_files = [None, Some(1), Some(2), Some(3)][rng.below(4) as usize];
        let mut child = etl(&dirs, workers, max_files, false).spawn().unwrap();
        // Files arrive while it runs; it is killed at a random moment: while starting,
        // recovering, between batches or in the middle of one.
        std::thread::sleep(Duration::from_millis(rng.below(600)));
        for _ in 0..rng.below(4) {
            input.add(kill);
        }
        std::thread::sleep(Duration::from_millis(rng.below(900)));
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "kill {kill}: the query ended by itself ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let ckpt = dirs.checkpoint();
        if last_batch(&ckpt.join("offsets")) > last_batch(&ckpt.join("commits")) {
            mid_batch += 1;
        }
        if (kill + 1) % 50 == 0 {
            eprintln!(
                "{} kills ({mid_batch} in a batch), {} files, {:?}",
                kill + 1,
                input.bursts.len(),
                started.elapsed()
            );
        }
    }
    input.add(kills);
    finish(&dirs, 1 + rng.below(2));
    let (lines, batches) = output_lines(&dirs.output());
    let want = input.expected();
    eprintln!(
        "file_etl kill test: {kills} kills ({mid_batch} in a batch), {} files, {batches} \
         batches, {} windows, {:?}",
        input.bursts.len(),
        want.len(),
        started.elapsed()
    );
    if lines != want {
        eprintln!("seed {seed}; directories kept: {}", dirs.0.display());
    }
    same(&lines, &want);
}
