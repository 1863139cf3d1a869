//! Runs the `nexmark` example binary on two processes (`-n 2`, on loopback ports of a host
//! file): for every query and both engines, the result rows equal those of one process with
//! the same total of workers (whose generator split, and so events, are the same), the dsl's
//! equal the baseline's, and the summary line covers both processes. Also: processes started
//! by hand (`-p`) each write their own rows and summary line. Build the binary first:
//! `cargo build -p examples --examples`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

// q3, q4 and q9 run on two processes in nexmark_joins.rs.
const QUERIES: [&str; 9] = [
    "q0",
    "q1",
    "q2",
    "q5",
    "q7",
    "q8",
    "q11",
    "bids-count",
    "bids-window",
];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexmark-procs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sorted_rows(path: &Path) -> Vec<String> {
    let mut rows: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(String::from)
        .collect();
    rows.sort();
    rows
}

/// Runs the benchmark with `args` plus `--output FILE`; returns the last stdout line (parsed)
/// and the result rows, sorted.
fn run(args: &[&str], out: &Path) -> (serde_json::Value, Vec<String>) {
    let result = Command::new(common::example_binary("nexmark"))
        .args(args)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "nexmark {args:?} failed: {stderr}");
    let stdout = String::from_utf8(result.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    // Nothing else on stdout: no connection chatter, no other process's line.
    assert_eq!(lines.len(), 1, "nexmark {args:?} printed {stdout:?}");
    let json: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    (json, sorted_rows(out))
}

/// Each query and engine on `-n 2 -w W` against `-n 1 -w 2W`.
fn two_processes_equal_one(name: &str, workers: usize, events: &str, batch: &str) {
    let dir = temp_dir(name);
    let hosts = common::loopback_host_file(&dir.join("hosts"));
    let hosts = hosts.to_str().unwrap();
    let (w2, w1) = ((2 * workers).to_string(), workers.to_string());
    for q in QUERIES {
        let mut per_engine = Vec::new();
        for engine in ["dsl", "baseline"] {
            let common = [
                "--query", q, "--events", events, "--engine", engine, "--batch", batch,
            ];
            let one_out = dir.join(format!("{q}-{engine}-n1.jsonl"));
            let mut one_args = common.to_vec();
            one_args.extend(["-w", &w2]);
            let (one_json, one) = run(&one_args, &one_out);
            assert!(one_json.get("processes").is_none(), "{one_json}");

            let two_out = dir.join(format!("{q}-{engine}-n2.jsonl"));
            let mut two_args = common.to_vec();
            two_args.extend(["-w", &w1, "-n", "2", "-h", hosts]);
            let (json, two) = run(&two_args, &two_out);
            assert!(!one.is_empty(), "{q} {engine}: no result rows");
            assert!(
                one == two,
                "{q} {engine}: -n 2 -w {w1} gives {} rows, -n 1 -w {w2} {}",
                two.len(),
                one.len()
            );
            // Process 1's file was appended to FILE and removed.
            let mut part = two_out.clone().into_os_string();
            part.push(".1");
            assert!(
                !Path::new(&part).exists(),
                "{q} {engine}: FILE.1 left behind"
            );

            assert_eq!(json["query"], q);
            assert_eq!(json["events"].as_u64(), events.parse().ok());
            assert_eq!(json["workers"].as_u64(), Some(workers as u64));
            assert_eq!(json["processes"].as_u64(), Some(2), "{json}");
            assert_eq!(json["process"].as_u64(), Some(0), "{json}");
            assert_eq!(
                json["result_rows"].as_u64(),
                Some(two.len() as u64),
                "{json}"
            );
            let cpus: Vec<f64> = json["cpu_s_per_process"]
                .as_array()
                .expect("cpu_s_per_process")
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(cpus.len(), 2, "{json}");
            let cpu = json["cpu_s"].as_f64().unwrap();
            assert!((cpu - cpus.iter().sum::<f64>()).abs() < 0.002, "{json}");
            let rss = json["peak_rss_mb_per_process"].as_array().unwrap();
            assert_eq!(rss.len(), 2, "{json}");
            // Each process holds at least the program: a few MB.
            assert!(rss.iter().all(|r| r.as_f64().unwrap() > 1.0), "{json}");
            per_engine.push(two);
        }
        assert!(
            per_engine[0] == per_engine[1],
            "{q}: on two processes dsl and baseline differ"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_processes_of_one_worker_equal_one_process_of_two() {
    two_processes_equal_one("w1", 1, "20000", "3000");
}

#[test]
fn two_processes_of_two_workers_equal_one_process_of_four() {
    two_processes_equal_one("w2", 2, "16000", "5000");
}

/// Processes started by hand (`-p`, as on several machines): each writes `FILE` / `FILE.1`
/// and prints its own line; together they hold the rows of one process.
#[test]
fn processes_started_by_hand_each_write_their_rows() {
    let dir = temp_dir("by-hand");
    for engine in ["dsl", "baseline"] {
        let one_out = dir.join(format!("{engine}-n1.jsonl"));
        let base = ["--query", "q1", "--events", "12000", "--engine", engine];
        let mut one_args = base.to_vec();
        one_args.extend(["-w", "2"]);
        let (_, one) = run(&one_args, &one_out);

        let out = dir.join(format!("{engine}-n2.jsonl"));
        let mut args: Vec<std::ffi::OsString> = base.iter().map(Into::into).collect();
        args.extend(["--output".into(), out.clone().into_os_string()]);
        let (p0, p1) = common::run_two_processes("nexmark", &args);
        let mut rows = sorted_rows(&out);
        let mut part = out.into_os_string();
        part.push(".1");
        rows.extend(sorted_rows(Path::new(&part)));
        rows.sort();
        assert!(!one.is_empty());
        assert!(
            rows == one,
            "{engine}: {} rows by hand, {} in one process",
            rows.len(),
            one.len()
        );
        for (i, output) in [(0, p0), (1, p1)] {
            let stdout = String::from_utf8(output.stdout).unwrap();
            let json: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert_eq!(json["process"].as_u64(), Some(i), "{json}");
            assert_eq!(json["cpu_s_per_process"].as_array().map(Vec::len), Some(1));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pacing_is_refused_on_two_processes() {
    let result = Command::new(common::example_binary("nexmark"))
        .args([
            "--query", "q0", "--events", "1000", "--pace", "1000", "-n", "2",
        ])
        .output()
        .unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("--pace measures latency in one process"),
        "{stderr}"
    );
}
