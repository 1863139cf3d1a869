//! Random inputs: rows in arrival order, split into micro-batches, and the static table.

use super::pipeline::{R, S};
use proptest::prelude::*;

/// The rows of a run, in the order they arrive, and where the micro-batches end.
#[derive(Clone, Debug)]
pub struct Input {
    pub rows: Vec<R>,
    /// The end (exclusive) of every micro-batch but the last, increasing.
    pub cuts: Vec<usize>,
    pub table: Vec<S>,
}

impl Input {
    /// The micro-batches, in order.
    pub fn batches(&self) -> Vec<&[R]> {
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in self.cuts.iter().chain([&self.rows.len()]) {
            out.push(&self.rows[from..cut]);
            from = cut;
        }
        out
    }

    /// The largest event time, in ms.
    pub fn max_ts(&self) -> i64 {
        self.rows.iter().map(|r| r.ts.millis()).max().unwrap_or(0)
    }

    /// The watermark each row is judged by in a stream (the previous batch's: the largest event
    /// time of the earlier batches less the delay, never below 0), in row order.
    pub fn judges(&self, delay: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut max_before: Option<i64> = None;
        for batch in self.batches() {
            let judge = max_before.map_or(0, |m| (m - delay).max(0));
            out.extend(batch.iter().map(|_| judge));
            let m = batch.iter().map(|r| r.ts.millis()).max();
            max_before = max_before.max(m);
        }
        out
    }
}

/// Rows, split into one to six micro-batches, and a static table. Event times wander: each row
/// is at most `lateness` ms before the latest event time so far (or anywhere after it, up to a
/// few seconds). With `lateness` below the watermark delay no row is ever late, whatever the
/// split.
pub fn input(lateness: i64) -> impl Strategy<Value = Input> {
    let row = (0i64..5, -20i64..=20, 0i64..=(lateness + 2500));
    (
        proptest::collection::vec(row, 0..40),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        proptest::collection::vec((0i64..6, -5i64..=5), 0..6),
    )
        .prop_map(move |(raw, cuts, table)| {
            let mut latest = 0i64;
            let rows: Vec<R> = raw
                .into_iter()
                .map(|(k, v, step)| {
                    // At most `lateness` before the latest time so far; never before 1 ms.
                    let ts = (latest - lateness + step).max(1);
                    latest = latest.max(ts);
                    R::new(k, v, ts)
                })
                .collect();
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(rows.len() + 1)).collect();
            cuts.sort();
            cuts.dedup();
            cuts.retain(|&c| c > 0 && c < rows.len());
            let table = table.into_iter().map(|(k, x)| S { k, x }).collect();
            Input { rows, cuts, table }
        })
}
