//! Nexmark q3, q4 and q9 (the join queries) against naive computations over the dumped
//! events: both engines, one and two workers and two processes (`-n 2`), two event rates (at 1M events/s auctions live a
//! few milliseconds, so bids fall on both ends of `BETWEEN`; at 10K events/s they live
//! longer than the run, so only the end-of-input watermark closes them). The naive
//! computations are nested maps over the JSON events, straight from the Flink SQL text.
//! Also checked: some bids sit on an end of their auction's lifetime and change the result, and
//! some come in an earlier batch than their auction. Run `cargo build -p examples --examples`
//! first: this test runs the built binary.

mod common;

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

const EVENTS: u64 = 30_000;
const RATES: [&str; 2] = ["10000", "1000000"];

/// Events per batch: at 1M events/s, batches of half a millisecond, so that some bids come
/// a batch before their auction (generated later in the same millisecond).
fn batch(rate: &str) -> u64 {
    if rate == "10000" {
        3000
    } else {
        500
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexmark-joins-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One run of the benchmark: the dumped events and the result rows (raw lines).
struct Output {
    events: Vec<Value>,
    lines: Vec<String>,
}

/// Runs the benchmark; the events are read back only with `dump`.
/// `workers` is `-w W` or, as `"n2"`, `-n 2` (two processes of one worker).
fn run(query: &str, engine: &str, workers: &str, rate: &str, dir: &Path, dump: bool) -> Output {
    let (events, out) = (dir.join("events.jsonl"), dir.join("out.jsonl"));
    let mut command = Command::new(common::example_binary("nexmark"));
    command.args(["--query", query, "--engine", engine]);
    match workers {
        "n2" => command
            .args(["-n", "2", "-h"])
            .arg(common::loopback_host_file(&dir.join("hosts"))),
        w => command.args(["-w", w]),
    };
    command
        .args(["--events", &EVENTS.to_string(), "--event-rate", rate])
        .args(["--batch", &batch(rate).to_string(), "--output"])
        .arg(&out);
    if dump {
        command.arg("--dump-events").arg(&events);
    }
    let result = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "nexmark {query} {engine} failed: {stderr}"
    );
    let read = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    let events = match dump {
        true => read(&events)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        false => Vec::new(),
    };
    Output {
        events,
        lines: read(&out),
    }
}

/// The rows, parsed, sorted by their text; checks that every line has exactly `keys` in
/// that order.
fn rows(lines: &[String], keys: &[&str]) -> Vec<Value> {
    let mut rows: Vec<Value> = lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v.as_object().unwrap().len(), keys.len(), "{l}");
            let at: Vec<usize> = keys
                .iter()
                .map(|k| {
                    l.find(&format!("\"{k}\":"))
                        .unwrap_or_else(|| panic!("{k}: {l}"))
                })
                .collect();
            assert!(
                at.windows(2).all(|w| w[0] < w[1]),
                "key order {keys:?}: {l}"
            );
            exact_floats(v, l)
        })
        .collect();
    rows.sort_by_key(|v| v.to_string());
    rows
}

/// `row` with its floats read again from the text with Rust's correctly rounded parser
/// (serde_json's default one may be 1 ulp off; the naive values are exact means).
fn exact_floats(mut row: Value, line: &str) -> Value {
    for (k, v) in row.as_object_mut().unwrap() {
        if v.is_f64() {
            let from = line.find(&format!("\"{k}\":")).unwrap() + k.len() + 3;
            let text: String = line[from..]
                .chars()
                .take_while(|c| !matches!(c, ',' | '}'))
                .collect();
            *v = json!(text.parse::<f64>().unwrap());
        }
    }
    row
}

fn sorted(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(|v| v.to_string());
    rows
}

fn of_kind<'a>(events: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    events.iter().filter(move |e| e["kind"] == kind)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap()
}

/// q3, naively: the join's pairs (persons looked up by id), with its filters.
fn naive_q3(events: &[Value]) -> Vec<Value> {
    let mut people: HashMap<u64, Vec<&Value>> = HashMap::new();
    for p in of_kind(events, "person") {
        people.entry(u(&p["id"])).or_default().push(p);
    }
    let mut out = Vec::new();
    for a in of_kind(events, "auction") {
        for p in people.get(&u(&a["seller"])).into_iter().flatten() {
            let state = p["state"].as_str().unwrap();
            if u(&a["category"]) == 10 && (state == "OR" || state == "ID" || state == "CA") {
                out.push(json!({"name": p["name"], "city": p["city"], "state": p["state"], "id": a["id"]}));
            }
        }
    }
    sorted(out)
}

/// Each auction's bids with `B.dateTime BETWEEN A.dateTime AND A.expires` (or, with
/// `inclusive == false`, strictly inside, to see that the ends matter).
fn joined(events: &[Value], inclusive: bool) -> BTreeMap<u64, (&Value, Vec<&Value>)> {
    let mut auctions: BTreeMap<u64, (&Value, Vec<&Value>)> = of_kind(events, "auction")
        .map(|a| (u(&a["id"]), (a, Vec::new())))
        .collect();
    for b in of_kind(events, "bid") {
        if let Some((a, bids)) = auctions.get_mut(&u(&b["auction"])) {
            let (t, start, end) = (i(&b["dateTime"]), i(&a["dateTime"]), i(&a["expires"]));
            let inside = if inclusive {
                start <= t && t <= end
            } else {
                start < t && t < end
            };
            if inside {
                bids.push(b);
            }
        }
    }
    auctions
}

/// How many bids of a lifetime come in an earlier batch than their auction.
fn early_bids(events: &[Value], batch: u64) -> usize {
    let auctions: HashMap<u64, (usize, &Value)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == "auction")
        .map(|(n, a)| (u(&a["id"]), (n, a)))
        .collect();
    let batch = batch as usize;
    let early = |(n, b): &(usize, &Value)| {
        auctions.get(&u(&b["auction"])).is_some_and(|(m, a)| {
            n / batch < m / batch
                && i(&a["dateTime"]) <= i(&b["dateTime"])
                && i(&b["dateTime"]) <= i(&a["expires"])
        })
    };
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == "bid")
        .filter(early)
        .count()
}

/// q4, naively: the max price of each auction's bids, then the mean per category.
fn naive_q4(events: &[Value], inclusive: bool) -> Vec<Value> {
    let mut per_category: HashMap<u64, (u128, u64)> = HashMap::new();
    for (a, bids) in joined(events, inclusive).values() {
        if let Some(max) = bids.iter().map(|b| u(&b["price"])).max() {
            let c = per_category.entry(u(&a["category"])).or_default();
            c.0 += max as u128;
            c.1 += 1;
        }
    }
    sorted(
        per_category
            .into_iter()
            .map(|(category, (sum, n))| json!({"category": category, "avg_price": sum as f64 / n as f64}))
            .collect(),
    )
}

/// q9, naively: each auction's first bid by price descending, then time, then bidder.
fn naive_q9(events: &[Value], inclusive: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for (a, bids) in joined(events, inclusive).values() {
        let best = bids.iter().min_by_key(|b| {
            (
                std::cmp::Reverse(u(&b["price"])),
                i(&b["dateTime"]),
                u(&b["bidder"]),
            )
        });
        if let Some(b) = best {
            out.push(json!({
                "id": a["id"], "item_name": a["itemName"], "description": a["description"],
                "initial_bid": a["initialBid"], "reserve": a["reserve"], "date_time": a["dateTime"],
                "expires": a["expires"], "seller": a["seller"], "category": a["category"],
                "extra": a["extra"], "price": b["price"], "bidder": b["bidder"],
                "bid_date_time": b["dateTime"],
            }));
        }
    }
    sorted(out)
}

const Q3_KEYS: [&str; 4] = ["name", "city", "state", "id"];
const Q4_KEYS: [&str; 2] = ["category", "avg_price"];
const Q9_KEYS: [&str; 13] = [
    "id",
    "item_name",
    "description",
    "initial_bid",
    "reserve",
    "date_time",
    "expires",
    "seller",
    "category",
    "extra",
    "price",
    "bidder",
    "bid_date_time",
];

/// Runs `query` on both engines, 1 and 2 workers and 2 processes, both rates, and checks
/// every output
/// against `naive(events, true)`; returns whether some run's result depended on BETWEEN's
/// closed ends (`naive(events, false)` differs) and whether some run had bids in an earlier
/// batch than their auction.
fn check(query: &str, keys: &[&str], naive: fn(&[Value], bool) -> Vec<Value>) -> (bool, bool) {
    let (mut ends_matter, mut early) = (false, false);
    for rate in RATES {
        for workers in ["1", "2", "n2"] {
            let (mut expected, mut events) = (Vec::new(), Vec::new());
            // The dsl run dumps the events (they depend on the workers, not the engine).
            for engine in ["dsl", "baseline"] {
                let dir = temp_dir(&format!("{query}-{engine}-{workers}-{rate}"));
                let out = run(query, engine, workers, rate, &dir, engine == "dsl");
                if engine == "dsl" {
                    events = out.events;
                    expected = naive(&events, true);
                    assert!(!expected.is_empty(), "{query} at {rate}: no rows");
                }
                let got = rows(&out.lines, keys);
                assert!(
                    got == expected,
                    "{query} {engine} -w {workers} rate {rate}: {} rows, naive {}; first \
                     difference: {:?}",
                    got.len(),
                    expected.len(),
                    got.iter().zip(&expected).find(|(g, e)| g != e)
                );
                let _ = std::fs::remove_dir_all(&dir);
            }
            ends_matter |= naive(&events, false) != expected;
            early |= early_bids(&events, batch(rate)) > 0;
        }
    }
    (ends_matter, early)
}

#[test]
fn q3_is_the_naive_join() {
    check("q3", &Q3_KEYS, |events, _| naive_q3(events));
}
#[test]
fn q4_is_the_naive_mean_of_final_prices_with_closed_ends() {
    let (ends_matter, early) = check("q4", &Q4_KEYS, naive_q4);
    assert!(
        ends_matter,
        "no run had a bid on an end of a lifetime that changed the result"
    );
    assert!(
        early,
        "no run had a bid in an earlier batch than its auction"
    );
}

#[test]
fn q9_is_the_naive_winning_bid_with_closed_ends() {
    let (ends_matter, early) = check("q9", &Q9_KEYS, naive_q9);
    assert!(
        ends_matter,
        "no run had a bid on an end of a lifetime that changed the result"
    );
    assert!(
        early,
        "no run had a bid in an earlier batch than its auction"
    );
}
