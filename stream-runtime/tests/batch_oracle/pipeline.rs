//! Random pipelines, built at run time through the builder API (the route the property test
//! takes: `stream!` pipelines are fixed when the test compiles, the builder's are values).
//!
//! Every operator maps rows of one type, [`R`], to rows of the same type (an aggregation writes
//! its key, window and aggregates into `R`'s columns), so any sequence of operators is a
//! pipeline. Operators come in families, each with its strategy, its builder call ([`build`])
//! and its naive meaning (`naive.rs`): to add a family (issue 10's `drop_duplicates` and
//! stream-stream joins), add a variant to [`Op`], a strategy to [`op`], and both meanings.

use proptest::prelude::*;
use std::fmt;
use stream_runtime::prelude::*;
use stream_runtime::{JoinType, Timestamp};

/// The one row type of every pipeline. A source row has `n = c = 1`, `lo = hi = v`, `w = 0`; an
/// aggregation writes its key to `k`, `sum(v)` to `v`, `max(ts)` (or its window's last
/// instant) to `ts`, `sum(n)` to `n` (source rows so far), `count()` to `c`, `min(lo)` and
/// `max(hi)` to `lo` and `hi`, and its group's start (window start, event time, 0) to `w`.
#[derive(Record)]
pub struct R {
    pub k: i64,
    pub v: i64,
    pub ts: Timestamp,
    pub n: i64,
    pub c: i64,
    pub lo: i64,
    pub hi: i64,
    pub w: i64,
}

impl R {
    /// A source row.
    pub fn new(k: i64, v: i64, ts: i64) -> R {
        R {
            k,
            v,
            ts: Timestamp(ts),
            n: 1,
            c: 1,
            lo: v,
            hi: v,
            w: 0,
        }
    }
}

/// A row of the static table that joins use.
#[derive(Record)]
pub struct S {
    pub k: i64,
    pub x: i64,
}

/// A predicate of `filter`.
#[derive(Clone, Copy, Debug)]
pub enum Pred {
    /// `v > c`
    VAbove(i64),
    /// `k mod m != r`
    KNotMod(i64, i64),
    /// `(v + c) mod 3 != 0`
    VMix(i64),
    /// `c >= n` (after an aggregation: groups of at least `n` rows)
    CountAtLeast(i64),
}

impl Pred {
    pub fn holds(self, r: &R) -> bool {
        match self {
            Pred::VAbove(c) => r.v > c,
            Pred::KNotMod(m, rem) => r.k.rem_euclid(m) != rem,
            Pred::VMix(c) => (r.v + c).rem_euclid(3) != 0,
            Pred::CountAtLeast(n) => r.c >= n,
        }
    }
}

/// A projection: a new row from a row.
#[derive(Clone, Copy, Debug)]
pub enum Proj {
    /// `v = v * a + b`
    V(i64, i64),
    /// `k = (k + c) mod m`
    K(i64, i64),
}

impl Proj {
    pub fn apply(self, mut r: R) -> R {
        match self {
            Proj::V(a, b) => r.v = r.v * a + b,
            Proj::K(c, m) => r.k = (r.k + c).rem_euclid(m),
        }
        r
    }
    /// Keeps an aggregation's groups apart (its key `k` and group start `w`).
    pub fn keeps_groups(self) -> bool {
        matches!(self, Proj::V(..))
    }
}

/// How an aggregation groups rows (the key is always `k mod m`).
#[derive(Clone, Copy, Debug)]
pub enum Grouping {
    /// `group_by_key(k mod m)`
    Key(i64),
    /// `group_by_event_time("ts", (ts, k mod m))`
    EventTime(i64),
    /// `group_by_window_on(window(ts, size, slide), k mod m)`, in ms
    Window { size: i64, slide: i64, m: i64 },
    /// `group_by_session_on(session_window(ts, gap), k mod m)`, in ms
    Session { gap: i64, m: i64 },
}

impl Grouping {
    /// The key's modulus.
    pub fn m(self) -> i64 {
        match self {
            Grouping::Key(m) | Grouping::EventTime(m) => m,
            Grouping::Window { m, .. } | Grouping::Session { m, .. } => m,
        }
    }
}

/// One operator of a pipeline.
#[derive(Clone, Debug)]
pub enum Op {
    // ---- projections and filters ----
    Filter(Pred),
    Map(Proj),
    /// Rows with an even `v` twice (the copy with `v + 1`), the others once.
    FlatMap,
    /// The rows of two branches of the same rows, each a chain of projections and filters.
    Union(Vec<Op>, Vec<Op>),
    // ---- aggregations ----
    Agg(Grouping),
    // ---- stream-static joins ----
    /// Joins with the static table on `k mod m == table.k`; `dataset`: the table is a bounded
    /// dataset (`read`), not a `read_static` table.
    Join {
        how: JoinType,
        m: i64,
        dataset: bool,
    },
    // ---- order_by + limit (complete mode only on a stream) ----
    /// Sorted by every column (`v` descending first), the first `n` rows.
    TopN(usize),
}

/// A pipeline: a watermark delay on `ts`, then operators.
#[derive(Clone)]
pub struct Pipeline {
    pub delay: i64,
    pub ops: Vec<Op>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "with_watermark(ts, {} ms)", self.delay)?;
        for op in &self.ops {
            write!(f, " . {op:?}")?;
        }
        Ok(())
    }
}

impl Pipeline {
    /// How many aggregations the pipeline's main line has (not counting unions' branches).
    pub fn aggregations(&self) -> usize {
        self.ops.iter().filter(|o| matches!(o, Op::Agg(_))).count()
    }
    /// Whether a union's branch aggregates.
    pub fn branch_aggregates(&self) -> bool {
        self.ops.iter().any(|o| match o {
            Op::Union(a, b) => a.iter().chain(b).any(|o| matches!(o, Op::Agg(_))),
            _ => false,
        })
    }
    /// Whether some path through the pipeline meets a session window as its first aggregation.
    pub fn session_first(&self) -> bool {
        fn walk(ops: &[Op], seen: bool) -> bool {
            let mut seen = seen;
            for (i, op) in ops.iter().enumerate() {
                match op {
                    Op::Agg(Grouping::Session { .. }) if !seen => return true,
                    Op::Agg(_) => seen = true,
                    Op::Union(a, b) => {
                        let rest = &ops[i + 1..];
                        return [a, b].iter().any(|branch| {
                            let mut path = (*branch).clone();
                            path.extend(rest.iter().cloned());
                            walk(&path, seen)
                        });
                    }
                    _ => {}
                }
            }
            false
        }
        walk(&self.ops, false)
    }
    /// The operators after the last aggregation.
    pub fn after_last_aggregation(&self) -> &[Op] {
        match self.ops.iter().rposition(|o| matches!(o, Op::Agg(_))) {
            Some(i) => &self.ops[i + 1..],
            None => &self.ops,
        }
    }
}

// ---------------------------------------------------------------- strategies, by family

fn pred() -> impl Strategy<Value = Pred> {
    prop_oneof![
        (-15i64..15).prop_map(Pred::VAbove),
        (2i64..4, 0i64..2).prop_map(|(m, r)| Pred::KNotMod(m, r)),
        (0i64..3).prop_map(Pred::VMix),
        (1i64..4).prop_map(Pred::CountAtLeast),
    ]
}

fn proj() -> impl Strategy<Value = Proj> {
    prop_oneof![
        (-2i64..=2, -5i64..=5).prop_map(|(a, b)| Proj::V(a, b)),
        (0i64..3, 2i64..6).prop_map(|(c, m)| Proj::K(c, m)),
    ]
}

/// Projections and filters (no union: a branch of a union).
fn stateless() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => pred().prop_map(Op::Filter),
        3 => proj().prop_map(Op::Map),
        1 => Just(Op::FlatMap),
    ]
}

/// A branch of a union: projections and filters, and now and then an aggregation.
fn branch() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(prop_oneof![6 => stateless(), 1 => aggregation()], 0..3)
}

/// The projection family: filters, maps, flat maps, unions of two branches.
fn projection() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => stateless(),
        1 => (branch(), branch()).prop_map(|(a, b)| Op::Union(a, b)),
    ]
}

/// The aggregation family: by key, event time, tumbling or sliding window, session window.
fn aggregation() -> impl Strategy<Value = Op> {
    let m = 1i64..5;
    prop_oneof![
        m.clone().prop_map(Grouping::Key),
        m.clone().prop_map(Grouping::EventTime),
        (
            prop::sample::select(vec![1000i64, 2000, 5000]),
            1i64..=4,
            m.clone()
        )
            .prop_map(|(size, parts, m)| Grouping::Window {
                size,
                // Tumbling (1 part), or sliding by a divisor or not of the size.
                slide: (size / parts).max(1),
                m
            }),
        (prop::sample::select(vec![300i64, 1000, 2500]), m)
            .prop_map(|(gap, m)| { Grouping::Session { gap, m } }),
    ]
    .prop_map(Op::Agg)
}

/// The stream-static join family.
fn join() -> impl Strategy<Value = Op> {
    (
        prop::sample::select(vec![
            JoinType::Inner,
            JoinType::LeftOuter,
            JoinType::LeftSemi,
            JoinType::LeftAnti,
            JoinType::RightOuter,
        ]),
        2i64..6,
        any::<bool>(),
    )
        .prop_map(|(how, m, dataset)| Op::Join { how, m, dataset })
}

/// One operator, of any family.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => projection(),
        3 => aggregation(),
        2 => join(),
        1 => (1usize..6).prop_map(Op::TopN),
    ]
}

/// A pipeline of one to five operators. A `TopN` is moved to the end, where `order_by` and
/// `limit` belong.
pub fn pipeline() -> impl Strategy<Value = Pipeline> {
    (
        prop::sample::select(vec![0i64, 1000, 3000]),
        proptest::collection::vec(op(), 1..6),
    )
        .prop_map(|(delay, mut ops)| {
            let tops: Vec<Op> = ops
                .iter()
                .filter(|o| matches!(o, Op::TopN(_)))
                .cloned()
                .collect();
            ops.retain(|o| !matches!(o, Op::TopN(_)));
            ops.extend(tops.into_iter().take(1));
            Pipeline { delay, ops }
        })
}

// ---------------------------------------------------------------- the builder calls

/// The pipeline's operators applied to `rows` through the builder API.
pub fn build(mut rows: Dataset<R>, ops: &[Op], table: &[S]) -> Dataset<R> {
    for op in ops {
        rows = apply(rows, op, table);
    }
    rows
}

/// The aggregates every aggregation computes, and its output row.
macro_rules! aggregate {
    ($grouped:expr, |$($key:pat_param),*| $k:expr, $ts:expr, $w:expr) => {
        $grouped.agg(
            |a| {
                (
                    a.count(),
                    a.sum(|r: &R| r.v),
                    a.sum(|r: &R| r.n),
                    a.min(|r: &R| r.lo),
                    a.max(|r: &R| r.hi),
                    a.max(|r: &R| r.ts),
                )
            },
            |$($key),*, (c, v, n, lo, hi, max_ts)| {
                R { k: $k, v, ts: $ts(max_ts), n, c, lo, hi, w: $w }
            },
        )
    };
}

fn apply(rows: Dataset<R>, op: &Op, table: &[S]) -> Dataset<R> {
    match op.clone() {
        Op::Filter(p) => rows.filter(move |r| p.holds(r)),
        Op::Map(p) => rows.map(move |r| p.apply(r)),
        Op::FlatMap => rows.flat_map(|r: R| {
            let mut out = vec![r.clone()];
            if r.v % 2 == 0 {
                out.push(R { v: r.v + 1, ..r });
            }
            out
        }),
        Op::Union(a, b) => build(rows.clone(), &a, table).union(build(rows, &b, table)),
        Op::Agg(g) => match g {
            Grouping::Key(m) => {
                aggregate!(
                    rows.group_by_key(move |r| r.k.rem_euclid(m)),
                    |k| k,
                    |t| t,
                    0
                )
            }
            Grouping::EventTime(m) => aggregate!(
                rows.group_by_event_time("ts", |r| r.ts, move |r| (r.ts, r.k.rem_euclid(m))),
                |(ts, k)| k,
                |_| ts,
                ts.millis()
            ),
            Grouping::Window { size, slide, m } => {
                let spec = WindowSpec::sliding(&format!("{size} ms"), &format!("{slide} ms"))
                    .expect("a valid window");
                aggregate!(
                    rows.group_by_window_on(spec, "ts", |r| r.ts, move |r| r.k.rem_euclid(m)),
                    |win, k| k,
                    |_| window_time(win),
                    win.start.millis()
                )
            }
            Grouping::Session { gap, m } => {
                let gap = SessionGap::fixed(&format!("{gap} ms")).expect("a valid gap");
                aggregate!(
                    rows.group_by_session_on(gap, "ts", |r| r.ts, move |r| r.k.rem_euclid(m)),
                    |win, k| k,
                    |_| window_time(win),
                    win.start.millis()
                )
            }
        },
        Op::Join { how, m, dataset } => {
            let table: StaticTable<S> = if dataset {
                StaticTable::from_dataset(read(table.to_vec()))
            } else {
                read_static(table.to_vec())
            };
            let key = move |r: &R| r.k.rem_euclid(m);
            if how == JoinType::RightOuter {
                table.join_stream(rows, |s: &S| s.k, key, how, |s, r| joined(r, s))
            } else {
                rows.join_static(table, key, |s: &S| s.k, how, joined)
            }
        }
        Op::TopN(n) => rows.order_by(sort_key).limit(n),
    }
}

/// A joined row: `v + x` where a table row matched, `lo - 1` where none did (outer joins),
/// the stream row itself for semi and anti joins.
pub fn joined(r: &R, s: Option<&S>) -> R {
    match s {
        Some(s) => R {
            v: r.v + s.x,
            ..r.clone()
        },
        None => R {
            lo: r.lo - 1,
            ..r.clone()
        },
    }
}

/// `TopN`'s order: `v` descending, then every other column (a total order).
pub fn sort_key(r: &R) -> (std::cmp::Reverse<i64>, R) {
    (std::cmp::Reverse(r.v), r.clone())
}
