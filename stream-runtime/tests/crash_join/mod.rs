//! The crash harness's stream-stream join: the payments joined with themselves (each payment
//! with the same user's payments 1 to 1.5 seconds later, left outer, 5-second watermarks on both
//! inputs), whose state (both sides' waiting rows) must survive a crash as an aggregation's does.

use std::path::Path;
use stream_runtime::prelude::*;

/// A payment as both inputs read it.
#[derive(Record)]
pub struct Payment {
    pub user: String,
    pub amount: i64,
    pub ts: Timestamp,
}

/// A payment and a later one of the same user, or NULLs.
#[derive(Record)]
pub struct Followed {
    pub user: String,
    pub amount: i64,
    pub ts: Timestamp,
    pub next_amount: Option<i64>,
    pub next_ts: Option<Timestamp>,
}

fn followed(a: &Payment, b: Option<&Payment>) -> Followed {
    Followed {
        user: a.user.clone(),
        amount: a.amount,
        ts: a.ts,
        next_amount: b.map(|b| b.amount),
        next_ts: b.map(|b| b.ts),
    }
}

/// The join query, reading `dir/in` on both sides.
pub fn query(dir: &Path) -> Dataset<Followed> {
    let payments = || {
        read_stream(Files::json::<Payment>(dir.join("in")).max_files_per_trigger(1))
            .with_watermark_on("ts", |p: &Payment| p.ts, "5 seconds")
    };
    let on = JoinOn::keys(|a: &Payment| a.user.clone(), |b: &Payment| b.user.clone()).time_range(
        ("ts", |a: &Payment| a.ts),
        ("ts", |b: &Payment| b.ts),
        "1 second",
        "1500 milliseconds",
    );
    payments().join_stream(payments(), on, JoinType::LeftOuter, |a, b| {
        followed(a.expect("a left outer join has the left row"), b)
    })
}

/// The join computed naively over `events`: every pair, and each payment without one once the
/// final watermark (max event time - 5 s) passed its bound (ts + 1.5 s). A payment at time 0 is
/// late on both sides (at or below the first batch's watermark, 0, as in Spark).
pub fn naive(events: &[(String, i64, i64)]) -> Vec<String> {
    let events: Vec<_> = events.iter().filter(|e| e.2 > 0).cloned().collect();
    let pay = |(user, amount, ts): &(String, i64, i64)| Payment {
        user: user.clone(),
        amount: *amount,
        ts: Timestamp(*ts),
    };
    let watermark = events.iter().map(|e| e.2).max().unwrap_or(0) - 5_000;
    let mut rows = Vec::new();
    for a in events.iter().map(pay) {
        let mut matched = false;
        for b in events.iter().map(pay) {
            let gap = b.ts.millis() - a.ts.millis();
            if a.user == b.user && (1_000..=1_500).contains(&gap) {
                rows.push(followed(&a, Some(&b)).to_json());
                matched = true;
            }
        }
        if !matched && a.ts.millis() + 1_500 < watermark {
            rows.push(followed(&a, None).to_json());
        }
    }
    rows.sort();
    rows
}
