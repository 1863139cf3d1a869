//! Runs the `nexmark` example binary (built by `cargo test`) on small inputs: both engines
//! give the same result rows for every query (with one and two workers, unpaced and paced),
//! the rows match naive computations over the dumped events, and the last stdout line is the
//! JSON object with exactly the documented keys. No timing is checked.

mod common;
/// The example's shared helpers, compiled here too so that their unit tests run.
#[allow(dead_code)]
#[path = "../nexmark/common.rs"]
mod nexmark_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const QUERIES: [&str; 5] = ["q0", "q1", "q2", "bids-count", "bids-window"];
const KEYS: [&str; 9] = [
    "query",
    "engine",
    "events",
    "workers",
    "elapsed_s",
    "events_per_s",
    "cpu_s",
    "events_per_s_per_core",
    "peak_rss_mb",
];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexmark-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
    let last = stdout.lines().last().expect("a JSON line on stdout");
    let json: serde_json::Value = serde_json::from_str(last).unwrap();
    let mut rows: Vec<String> = std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    rows.sort();
    (json, rows)
}

fn check_keys(json: &serde_json::Value, paced: bool) {
    let obj = json.as_object().expect("a JSON object");
    let mut expected: Vec<&str> = KEYS.to_vec();
    if paced {
        expected.push("latency_ms");
        let lat = obj["latency_ms"]
            .as_object()
            .expect("latency_ms is an object");
        let mut keys: Vec<&str> = lat.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["max", "p50", "p99", "p999"]);
        assert!(lat.values().all(|v| v.is_number()), "{json}");
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    expected.sort();
    assert_eq!(keys, expected, "{json}");
    for k in &KEYS[2..] {
        assert!(obj[*k].is_number(), "{k} in {json}");
    }
}

fn compare_engines(name: &str, events: &str, extra: &[&str]) {
    let dir = temp_dir(name);
    for q in QUERIES {
        let mut results = Vec::new();
        for engine in ["dsl", "baseline"] {
            let mut args = vec!["--query", q, "--events", events, "--engine", engine];
            args.extend_from_slice(extra);
            let (json, rows) = run(&args, &dir.join(format!("{q}-{engine}.jsonl")));
            check_keys(&json, extra.contains(&"--pace"));
            assert_eq!(json["query"], q);
            assert_eq!(json["engine"], engine);
            assert_eq!(json["events"].as_u64(), events.parse().ok());
            // Paced batches follow the wall clock, so an update-mode query's intermediate
            // versions differ between runs; its final row per key does not.
            let rows = if q == "bids-count" && extra.contains(&"--pace") {
                final_counts(&rows)
            } else {
                rows
            };
            results.push(rows);
        }
        assert!(!results[0].is_empty(), "{q}: no result rows");
        assert!(
            results[0] == results[1],
            "{q} {extra:?}: dsl and baseline differ ({} vs {} rows)",
            results[0].len(),
            results[1].len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The last (highest) count of every auction, from update-mode rows.
fn final_counts(rows: &[String]) -> Vec<String> {
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    for r in rows {
        let v: serde_json::Value = serde_json::from_str(r).unwrap();
        let (a, n) = (v["auction"].as_u64().unwrap(), v["bids"].as_u64().unwrap());
        let e = last.entry(a).or_default();
        *e = (*e).max(n);
    }
    last.iter()
        .map(|(a, n)| format!("{{\"auction\":{a},\"bids\":{n}}}"))
        .collect()
}

#[test]
fn dsl_and_baseline_agree_on_one_worker() {
    compare_engines("w1", "20000", &["--batch", "3000"]);
}

#[test]
fn dsl_and_baseline_agree_on_two_workers() {
    compare_engines("w2", "20000", &["-w", "2", "--batch", "7000"]);
}

#[test]
fn dsl_and_baseline_agree_when_paced_and_report_latency() {
    compare_engines("paced", "24000", &["--pace", "80000"]);
}

#[test]
fn q2_is_the_filter_of_the_dumped_bids() {
    let dir = temp_dir("q2");
    let dump = dir.join("events.jsonl");
    let dump_arg = dump.to_str().unwrap();
    let (_, rows) = run(
        &[
            "--query",
            "q2",
            "--events",
            "30000",
            "--dump-events",
            dump_arg,
        ],
        &dir.join("out.jsonl"),
    );
    let text = std::fs::read_to_string(&dump).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 30_000);
    assert_eq!(events[0]["kind"], "person");
    assert_eq!(events[0]["id"], 1000);
    let mut expected: Vec<String> = events
        .iter()
        .filter(|e| e["kind"] == "bid" && e["auction"].as_u64().unwrap() % 123 == 0)
        .map(|e| format!("{{\"auction\":{},\"price\":{}}}", e["auction"], e["price"]))
        .collect();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(rows, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bids_window_is_a_naive_window_count() {
    let n: i64 = 45_000;
    let dir = temp_dir("window");
    let (_, rows) = run(
        &[
            "--query",
            "bids-window",
            "--events",
            &n.to_string(),
            "--batch",
            "4000",
        ],
        &dir.join("out.jsonl"),
    );
    // The input is bounded: at its end every window closes, the last one ([40 s, 50 s), 5000
    // rows) included.
    let mut windows: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
    for v in 0..n {
        let (auction, price) = ((v * 7) % 1000, (v * 31) % 10_000);
        let start = v - v % 10_000;
        let w = windows.entry((start, auction)).or_insert((0, 0));
        w.0 += 1;
        w.1 = w.1.max(price);
    }
    let mut expected: Vec<String> = windows
        .iter()
        .map(|((start, auction), (bids, top))| {
            format!(
                "{{\"window\":{{\"start\":{start},\"end\":{}}},\"auction\":{auction},\"bids\":{bids},\"max_price\":{top}}}",
                start + 10_000
            )
        })
        .collect();
    expected.sort();
    assert_eq!(rows.len(), 5000);
    assert_eq!(rows, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
