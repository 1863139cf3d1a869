//! Nexmark's window queries (q5, q7, q8, q11) against naive computations over the dumped
//! events, written here straight from the Flink SQL (docs/nexmark.md 2): both engines, one and
//! two workers, a low and a high event rate, small batches (so that windows close along the
//! run, not only at its end). Every window closes at the end of the bounded input.

mod common;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const SIZE: i64 = 10_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexmark-win-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the benchmark; returns its output rows as raw lines.
fn run(args: &[&str], out: &Path, dump: Option<&Path>) -> Vec<String> {
    let mut cmd = Command::new(common::example_binary("nexmark"));
    cmd.args(args).arg("--output").arg(out);
    if let Some(d) = dump {
        cmd.arg("--dump-events").arg(d);
    }
    let result = cmd.output().unwrap();
    assert!(
        result.status.success(),
        "nexmark {args:?} failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Rows as canonical JSON (sorted keys), sorted; the raw lines must have the keys in `keys`'
/// order.
fn canonical(lines: &[String], keys: &[&str]) -> Vec<String> {
    let mut rows: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut at = 0;
            for k in keys {
                let pos = l[at..]
                    .find(&format!("\"{k}\":"))
                    .unwrap_or_else(|| panic!("{l}: key {k} missing or out of order"));
                at += pos + 1;
            }
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v.as_object().unwrap().len(), keys.len(), "{l}");
            v.to_string()
        })
        .collect();
    rows.sort();
    rows
}

fn win(start: i64) -> Value {
    json!({"start": start, "end": start + SIZE})
}

fn events(dump: &Path) -> Vec<Value> {
    std::fs::read_to_string(dump)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn bids(events: &[Value]) -> impl Iterator<Item = &Value> {
    events.iter().filter(|e| e["kind"] == "bid")
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap()
}

/// q5: per hopping window `[s, s + 10 s)` (s a multiple of 2 s) the bids per auction; the
/// auctions whose count is at least every auction's count of the window.
fn naive_q5(events: &[Value]) -> Vec<String> {
    let mut counts: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
    for b in bids(events) {
        let t = int(&b["dateTime"]);
        let mut s = t.div_euclid(2_000) * 2_000;
        while s > t - SIZE {
            *counts
                .entry(s)
                .or_default()
                .entry(int(&b["auction"]))
                .or_default() += 1;
            s -= 2_000;
        }
    }
    let mut rows = Vec::new();
    for (s, per_auction) in &counts {
        let maxn = per_auction.values().max().unwrap();
        for (a, n) in per_auction {
            if n >= maxn {
                rows.push(json!({"window": win(*s), "auction": a, "num": n}).to_string());
            }
        }
    }
    rows.sort();
    rows
}

/// q7: the max price per tumbling window, by its end E; the bids with that price and
/// `E - 10 s <= dateTime <= E`.
fn naive_q7(events: &[Value]) -> Vec<String> {
    let mut maxprice: BTreeMap<i64, i64> = BTreeMap::new();
    for b in bids(events) {
        let t = int(&b["dateTime"]);
        let end = t.div_euclid(SIZE) * SIZE + SIZE;
        let m = maxprice.entry(end).or_insert(i64::MIN);
        *m = (*m).max(int(&b["price"]));
    }
    let mut rows = Vec::new();
    for (end, max) in &maxprice {
        for b in bids(events) {
            let t = int(&b["dateTime"]);
            if int(&b["price"]) == *max && end - SIZE <= t && t <= *end {
                rows.push(
                    json!({"auction": b["auction"], "price": b["price"], "bidder": b["bidder"],
                           "date_time": t, "extra": b["extra"]})
                    .to_string(),
                );
            }
        }
    }
    rows.sort();
    rows
}

/// q8: people per tumbling window joined with the sellers of auctions of the same window.
fn naive_q8(events: &[Value]) -> Vec<String> {
    let start = |e: &Value| int(&e["dateTime"]).div_euclid(SIZE) * SIZE;
    let sellers: BTreeSet<(i64, i64)> = events
        .iter()
        .filter(|e| e["kind"] == "auction")
        .map(|a| (start(a), int(&a["seller"])))
        .collect();
    let people: BTreeSet<(i64, i64, String)> = events
        .iter()
        .filter(|e| e["kind"] == "person")
        .map(|p| {
            (
                start(p),
                int(&p["id"]),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut rows: Vec<String> = people
        .iter()
        .filter(|(s, id, _)| sellers.contains(&(*s, *id)))
        .map(|(s, id, name)| json!({"id": id, "name": name, "window": win(*s)}).to_string())
        .collect();
    rows.sort();
    rows
}

/// q11: per bidder, bids in time order; a bid at most 10 s after the session's last bid
/// extends it (windows that touch merge); a session ends 10 s after its last bid.
fn naive_q11(events: &[Value]) -> Vec<String> {
    let mut times: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for b in bids(events) {
        times
            .entry(int(&b["bidder"]))
            .or_default()
            .push(int(&b["dateTime"]));
    }
    let mut rows = Vec::new();
    for (bidder, mut ts) in times {
        ts.sort();
        let (mut first, mut last, mut n) = (ts[0], ts[0], 0);
        for t in ts {
            if t > last + SIZE {
                rows.push(
                    json!({"bidder": bidder, "bid_count": n,
                                 "window": {"start": first, "end": last + SIZE}})
                    .to_string(),
                );
                (first, n) = (t, 0);
            }
            last = t;
            n += 1;
        }
        rows.push(
            json!({"bidder": bidder, "bid_count": n, "window": {"start": first, "end": last + SIZE}})
                .to_string(),
        );
    }
    rows.sort();
    rows
}

/// Runs `query` with both engines, on one and two workers, at a low and a high event rate,
/// and compares each result with `naive` over the dumped events.
fn check(query: &str, events_n: &str, keys: &[&str], naive: fn(&[Value]) -> Vec<String>) {
    let dir = temp_dir(query);
    for rate in ["1000", "1000000"] {
        for workers in ["1", "2"] {
            let dump = dir.join(format!("events-{rate}-{workers}.jsonl"));
            let mut expected = None;
            for engine in ["dsl", "baseline"] {
                let args = [
                    "--query",
                    query,
                    "--events",
                    events_n,
                    "--event-rate",
                    rate,
                    "-w",
                    workers,
                    "--engine",
                    engine,
                    "--batch",
                    "2500",
                ];
                let out = dir.join(format!("{engine}-{rate}-{workers}.jsonl"));
                let first = expected.is_none();
                let lines = run(&args, &out, first.then_some(dump.as_path()));
                let expected = expected.get_or_insert_with(|| naive(&events(&dump)));
                assert!(!expected.is_empty(), "{query}: the naive result is empty");
                let rows = canonical(&lines, keys);
                assert!(
                    rows == *expected,
                    "{query} {engine} rate {rate} -w {workers}: {} rows, expected {}; first \
                     difference: {:?}",
                    rows.len(),
                    expected.len(),
                    rows.iter().zip(expected.iter()).find(|(a, b)| a != b)
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn q5_is_the_naive_hot_items() {
    check("q5", "30000", &["window", "auction", "num"], naive_q5);
}

#[test]
fn q7_is_the_naive_highest_bid() {
    check(
        "q7",
        "30000",
        &["auction", "price", "bidder", "date_time", "extra"],
        naive_q7,
    );
}

#[test]
fn q8_is_the_naive_new_users_join() {
    check("q8", "40000", &["id", "name", "window"], naive_q8);
}

#[test]
fn q11_is_the_naive_user_sessions() {
    check(
        "q11",
        "30000",
        &["bidder", "bid_count", "window"],
        naive_q11,
    );
}

/// The boundaries the issue names, on the naive computations themselves (hand-worked), so that
/// the comparisons above test what the SQL says.
#[test]
fn naive_boundaries_are_the_sql_ones() {
    let bid = |auction: i64, price: i64, bidder: i64, t: i64| {
        json!({"kind": "bid", "auction": auction, "bidder": bidder, "price": price,
               "dateTime": t, "extra": ""})
    };
    // q7: a bid exactly at 20 s is in [20 s, 30 s) for the maximum, and tested against the
    // window ending at 20 s too (BETWEEN is closed).
    let ev = [
        bid(1, 5, 1, 12_000),
        bid(2, 5, 2, 20_000),
        bid(3, 9, 3, 25_000),
    ];
    let rows = naive_q7(&ev);
    let times: Vec<i64> = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["date_time"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(times.len(), 3, "{rows:?}");
    for t in [12_000, 20_000, 25_000] {
        assert!(times.contains(&t), "{rows:?}");
    }
    // q5: a bid at 9.999 s is in the five windows starting at 0, 2, ..., 8 s; one at 10 s
    // starts the window [10 s, 20 s) and leaves [0, 10 s).
    let rows = naive_q5(&[bid(7, 1, 1, 9_999), bid(8, 1, 1, 10_000)]);
    let starts: Vec<i64> = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["window"]["start"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(starts.len(), 10, "{rows:?}");
    assert!(rows.contains(&json!({"window": win(0), "auction": 7, "num": 1}).to_string()));
    assert!(!rows.contains(&json!({"window": win(0), "auction": 8, "num": 1}).to_string()));
    assert!(rows.contains(&json!({"window": win(10_000), "auction": 8, "num": 1}).to_string()));
    // q11: bids 10 s apart touch and merge; 10.001 s apart do not.
    let rows = naive_q11(&[bid(1, 1, 4, 0), bid(1, 1, 4, 10_000), bid(1, 1, 4, 20_001)]);
    assert_eq!(
        rows,
        [
            json!({"bidder": 4, "bid_count": 1, "window": {"start": 20_001, "end": 30_001}})
                .to_string(),
            json!({"bidder": 4, "bid_count": 2, "window": {"start": 0, "end": 20_000}}).to_string(),
        ]
    );
}
