//! What a pipeline means, computed naively over all its input at once (plain Rust over vectors,
//! sharing no code with the engine): the check of the batch results, and, with the rows' late
//! watermarks, of what a stream may drop.

use super::pipeline::{joined, sort_key, Grouping, Op, Pipeline, R, S};
use std::collections::BTreeMap;
use stream_runtime::{JoinType, Timestamp};

/// A row and, in a stream whose stateful operators drop late rows, the watermark it is judged
/// by (the previous batch's: Spark's watermark for late events); `None`: nothing is late.
type Judged = (R, Option<i64>);

/// The pipeline's result over `rows`, sorted. With `judges`, rows whose groups the first
/// aggregation judges late are dropped there, as a stream in append or update mode drops them:
/// a row is late for a window (a session window `[ts, ts + gap)`, an event time) ending at or
/// below its judge.
pub fn result(p: &Pipeline, rows: &[R], judges: Option<&[i64]>, table: &[S]) -> Vec<R> {
    let rows: Vec<Judged> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.clone(), judges.map(|j| j[i])))
        .collect();
    let mut out: Vec<R> = apply_all(rows, &p.ops, table)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    if !matches!(p.ops.last(), Some(Op::TopN(_))) {
        out.sort();
    }
    out
}

fn apply_all(mut rows: Vec<Judged>, ops: &[Op], table: &[S]) -> Vec<Judged> {
    for op in ops {
        rows = apply(rows, op, table);
    }
    rows
}

fn apply(rows: Vec<Judged>, op: &Op, table: &[S]) -> Vec<Judged> {
    match op {
        Op::Filter(p) => rows.into_iter().filter(|(r, _)| p.holds(r)).collect(),
        Op::Map(p) => rows.into_iter().map(|(r, j)| (p.apply(r), j)).collect(),
        Op::FlatMap => rows
            .into_iter()
            .flat_map(|(r, j)| {
                let copy = (r.v % 2 == 0).then(|| {
                    (
                        R {
                            v: r.v + 1,
                            ..r.clone()
                        },
                        j,
                    )
                });
                std::iter::once((r, j)).chain(copy)
            })
            .collect(),
        Op::Union(a, b) => {
            let mut left = apply_all(rows.clone(), a, table);
            left.extend(apply_all(rows, b, table));
            left
        }
        Op::Agg(g) => aggregate(rows, *g),
        Op::Join { how, m, .. } => rows
            .into_iter()
            .flat_map(|(r, j)| {
                let matches: Vec<&S> = table.iter().filter(|s| s.k == r.k.rem_euclid(*m)).collect();
                let out: Vec<R> = match how {
                    JoinType::Inner => matches.iter().map(|s| joined(&r, Some(s))).collect(),
                    JoinType::LeftOuter | JoinType::RightOuter if matches.is_empty() => {
                        vec![joined(&r, None)]
                    }
                    JoinType::LeftOuter | JoinType::RightOuter => {
                        matches.iter().map(|s| joined(&r, Some(s))).collect()
                    }
                    JoinType::LeftSemi if !matches.is_empty() => vec![joined(&r, None)],
                    JoinType::LeftAnti if matches.is_empty() => vec![joined(&r, None)],
                    _ => vec![],
                };
                out.into_iter().map(move |r| (r, j))
            })
            .collect(),
        Op::TopN(n) => {
            let mut rows = rows;
            rows.sort_by_key(|(r, _)| sort_key(r));
            rows.truncate(*n);
            rows
        }
    }
}

/// One group's aggregates.
#[derive(Default)]
struct Acc {
    c: i64,
    v: i64,
    n: i64,
    lo: Option<i64>,
    hi: Option<i64>,
    max_ts: Option<Timestamp>,
}

impl Acc {
    fn add(&mut self, r: &R) {
        self.c += 1;
        self.v += r.v;
        self.n += r.n;
        self.lo = Some(self.lo.map_or(r.lo, |lo| lo.min(r.lo)));
        self.hi = Some(self.hi.map_or(r.hi, |hi| hi.max(r.hi)));
        self.max_ts = Some(self.max_ts.map_or(r.ts, |t| t.max(r.ts)));
    }
    fn row(&self, k: i64, ts: Timestamp, w: i64) -> R {
        R {
            k,
            v: self.v,
            ts,
            n: self.n,
            c: self.c,
            lo: self.lo.expect("a group has rows"),
            hi: self.hi.expect("a group has rows"),
            w,
        }
    }
}

/// Late for a group that ends at `end`: at or below the judge.
fn late(end: i64, judge: Option<i64>) -> bool {
    judge.is_some_and(|j| end <= j)
}

/// An aggregation's output rows. Its input's judges apply here; its output is judged by
/// nothing (a later aggregation of a chain reads closed groups only, never late).
fn aggregate(rows: Vec<Judged>, g: Grouping) -> Vec<Judged> {
    let key = |r: &R| r.k.rem_euclid(g.m());
    let mut out = Vec::new();
    match g {
        Grouping::Key(_) => {
            let mut groups: BTreeMap<i64, Acc> = BTreeMap::new();
            for (r, _) in &rows {
                groups.entry(key(r)).or_default().add(r);
            }
            for (k, acc) in groups {
                out.push(acc.row(k, acc.max_ts.expect("a group has rows"), 0));
            }
        }
        Grouping::EventTime(_) => {
            let mut groups: BTreeMap<(i64, i64), Acc> = BTreeMap::new();
            for (r, j) in &rows {
                if !late(r.ts.millis(), *j) {
                    groups.entry((r.ts.millis(), key(r))).or_default().add(r);
                }
            }
            for ((ts, k), acc) in groups {
                out.push(acc.row(k, Timestamp(ts), ts));
            }
        }
        Grouping::Window { size, slide, .. } => {
            let mut groups: BTreeMap<(i64, i64), Acc> = BTreeMap::new();
            for (r, j) in &rows {
                let t = r.ts.millis();
                // Every start `s` (a multiple of the slide) with `s <= t < s + size`.
                let mut start = t.div_euclid(slide) * slide;
                while start + size > t {
                    if !late(start + size, *j) {
                        groups.entry((start, key(r))).or_default().add(r);
                    }
                    start -= slide;
                }
            }
            for ((start, k), acc) in groups {
                out.push(acc.row(k, Timestamp(start + size - 1), start));
            }
        }
        Grouping::Session { gap, .. } => {
            let mut by_key: BTreeMap<i64, Vec<&R>> = BTreeMap::new();
            for (r, j) in &rows {
                if !late(r.ts.millis() + gap, *j) {
                    by_key.entry(key(r)).or_default().push(r);
                }
            }
            for (k, mut rs) in by_key {
                rs.sort_by_key(|r| r.ts);
                // Rows at most the gap apart form one session `[first, last + gap)`: sessions
                // that touch merge, as in Spark.
                let mut session: Option<(i64, i64, Acc)> = None;
                for r in rs {
                    let t = r.ts.millis();
                    match &mut session {
                        Some((_, end, acc)) if t <= *end => {
                            *end = (*end).max(t + gap);
                            acc.add(r);
                        }
                        _ => {
                            if let Some((start, end, acc)) = session.take() {
                                out.push(acc.row(k, Timestamp(end - 1), start));
                            }
                            let mut acc = Acc::default();
                            acc.add(r);
                            session = Some((t, t + gap, acc));
                        }
                    }
                }
                if let Some((start, end, acc)) = session {
                    out.push(acc.row(k, Timestamp(end - 1), start));
                }
            }
        }
    }
    out.into_iter().map(|r| (r, None)).collect()
}
