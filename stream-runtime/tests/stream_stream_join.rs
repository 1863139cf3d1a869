//! Stream-stream joins through the builder API: every join kind on a hand-worked scenario (rows,
//! batches and watermarks worked out by hand from Spark's rules), equal windows, filters in an
//! outer join, the rules checked when a query starts, and random inputs against a nested loop,
//! on 1 and 2 workers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use stream_runtime::prelude::*;

#[derive(Record)]
struct L {
    k: u64,
    lt: Timestamp,
    lv: i64,
}

#[derive(Record)]
struct R {
    rk: u64,
    rt: Timestamp,
    rv: i64,
}

/// A joined row: seconds for times, `None` for the NULL side.
#[derive(Record)]
struct Out {
    k: Option<u64>,
    lt: Option<i64>,
    lv: Option<i64>,
    rk: Option<u64>,
    rt: Option<i64>,
    rv: Option<i64>,
}

fn l(k: u64, secs: i64, lv: i64) -> L {
    L {
        k,
        lt: Timestamp(secs * 1000),
        lv,
    }
}

fn r(rk: u64, secs: i64, rv: i64) -> R {
    R {
        rk,
        rt: Timestamp(secs * 1000),
        rv,
    }
}

fn out(left: Option<(u64, i64, i64)>, right: Option<(u64, i64, i64)>) -> Out {
    Out {
        k: left.map(|x| x.0),
        lt: left.map(|x| x.1),
        lv: left.map(|x| x.2),
        rk: right.map(|x| x.0),
        rt: right.map(|x| x.1),
        rv: right.map(|x| x.2),
    }
}

fn combine(a: Option<&L>, b: Option<&R>) -> Out {
    out(
        a.map(|a| (a.k, a.lt.millis() / 1000, a.lv)),
        b.map(|b| (b.rk, b.rt.millis() / 1000, b.rv)),
    )
}

/// `rk == k AND rt BETWEEN lt AND lt + 10 seconds`.
fn range_10s() -> JoinOn<L, R, u64> {
    JoinOn::keys(|a: &L| a.k, |b: &R| b.rk).time_range(
        ("lt", |a: &L| a.lt),
        ("rt", |b: &R| b.rt),
        "0 seconds",
        "10 seconds",
    )
}

/// A step: rows for the left input, or for the right.
enum Step {
    Left(Vec<L>),
    Right(Vec<R>),
}

/// What a run gave: each batch's rows (sorted), watermark (seconds) and late rows.
struct Run {
    batches: BTreeMap<u64, Vec<Out>>,
    watermarks: Vec<i64>,
    dropped: u64,
}

fn run(
    workers: usize,
    how: JoinType,
    on: JoinOn<L, R, u64>,
    left_delay: Option<&str>,
    right_delay: Option<&str>,
    steps: Vec<Step>,
) -> Run {
    let (a, b) = (MemoryStream::new(), MemoryStream::new());
    let mut left = read_stream::<L>(a.clone());
    if let Some(d) = left_delay {
        left = left.with_watermark_on("lt", |x| x.lt, d);
    }
    let mut right = read_stream::<R>(b.clone());
    if let Some(d) = right_delay {
        right = right.with_watermark_on("rt", |x| x.rt, d);
    }
    let got = Arc::new(Mutex::new(BTreeMap::new()));
    let sink = {
        let got = got.clone();
        ForeachBatch::new(move |id, mut rows: Vec<Out>| {
            rows.sort();
            got.lock().unwrap().insert(id, rows);
        })
    };
    let q = Session::with_workers(workers)
        .start(left.join_stream(right, on, how, combine).write_stream(sink))
        .unwrap();
    for step in steps {
        match step {
            Step::Left(rows) => a.add_data(rows),
            Step::Right(rows) => b.add_data(rows),
        };
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
    let progress = q.recent_progress();
    let watermarks = (progress.iter())
        .map(|p| {
            p.event_time.get("watermark").map_or(-1, |w| {
                Timestamp::parse_iso(w).expect("an ISO time").millis() / 1000
            })
        })
        .collect();
    let dropped = (progress.iter())
        .map(|p| p.state_operators[0].num_rows_dropped_by_watermark)
        .sum();
    let batches = std::mem::take(&mut *got.lock().unwrap());
    Run {
        batches,
        watermarks,
        dropped,
    }
}

/// The hand-worked scenario (both watermarks 0 s, so an input's watermark is its latest
/// batch's max; the global one is the min of both):
///
/// | batch | input | watermark | what happens |
/// |---|---|---|---|
/// | 0 | L k1@10 k2@20 | 0 | stored |
/// | 1 | R k1@15 k3@16 k2@40 | 0 | k1@15 joins k1@10 |
/// | 2 | no data | 20 | R k1@15 (matched) and k3@16 (unmatched) expire at rt + 1 ms |
/// | 3 | L k2@35 | 20 | joins R k2@40 |
/// | 4 | no data | 35 | L k1@10 and k2@20 (unmatched) expire at lt + 10 s + 1 ms |
/// | 5 | R k2@30 k9@100 | 35 | k2@30 is late (30 <= 35) |
/// | 6 | L k5@200 | 35 | stored |
/// | 7 | no data | 100 | R k2@40, L k2@35 expire (matched) |
/// | 8 | R k5@205 | 100 | joins L k5@200 |
/// | 9 | no data | 200 | R k9@100 (unmatched) expires |
fn scenario() -> Vec<Step> {
    vec![
        Step::Left(vec![l(1, 10, 1), l(2, 20, 2)]),
        Step::Right(vec![r(1, 15, 100), r(3, 16, 300), r(2, 40, 200)]),
        Step::Left(vec![l(2, 35, 3)]),
        Step::Right(vec![r(2, 30, 201), r(9, 100, 900)]),
        Step::Left(vec![l(5, 200, 5)]),
        Step::Right(vec![r(5, 205, 500)]),
    ]
}

fn expected(how: JoinType) -> BTreeMap<u64, Vec<Out>> {
    let pair = |a, b| out(Some(a), Some(b));
    let mut e: BTreeMap<u64, Vec<Out>> = (0..10).map(|b| (b, Vec::new())).collect();
    let semi = how == JoinType::LeftSemi;
    let matched = |e: &mut BTreeMap<u64, Vec<Out>>, batch, a, b| {
        let row = if semi { out(Some(a), None) } else { pair(a, b) };
        e.get_mut(&batch).unwrap().push(row);
    };
    matched(&mut e, 1, (1, 10, 1), (1, 15, 100));
    matched(&mut e, 3, (2, 35, 3), (2, 40, 200));
    matched(&mut e, 8, (5, 200, 5), (5, 205, 500));
    if matches!(how, JoinType::RightOuter | JoinType::FullOuter) {
        e.get_mut(&2).unwrap().push(out(None, Some((3, 16, 300))));
        e.get_mut(&9).unwrap().push(out(None, Some((9, 100, 900))));
    }
    if matches!(how, JoinType::LeftOuter | JoinType::FullOuter) {
        e.get_mut(&4).unwrap().push(out(Some((2, 20, 2)), None));
    }
    e
}

#[test]
fn every_kind_on_a_hand_worked_scenario() {
    use JoinType::*;
    for how in [Inner, LeftOuter, RightOuter, FullOuter, LeftSemi] {
        for workers in [1, 2] {
            let got = run(
                workers,
                how,
                range_10s(),
                Some("0 seconds"),
                Some("0 seconds"),
                scenario(),
            );
            let ctx = format!("{how:?}, {workers} workers");
            assert_eq!(got.batches, expected(how), "{ctx}");
            assert_eq!(
                got.watermarks,
                [0, 0, 20, 20, 35, 35, 35, 100, 100, 200],
                "{ctx}"
            );
            assert_eq!(got.dropped, 1, "{ctx}: R k2@30 is late");
        }
    }
}

#[test]
fn inner_join_without_watermarks_keeps_every_row() {
    for workers in [1, 2] {
        let got = run(
            workers,
            JoinType::Inner,
            range_10s(),
            None,
            None,
            scenario(),
        );
        // No watermark: no batch without data, nothing late, nothing evicted, so R k2@30
        // (in [20, 30]) joins L k2@20 as well.
        let rows: Vec<Out> = got.batches.into_values().flatten().collect();
        let pair = |a, b| out(Some(a), Some(b));
        assert_eq!(
            rows,
            [
                pair((1, 10, 1), (1, 15, 100)),
                pair((2, 35, 3), (2, 40, 200)),
                pair((2, 20, 2), (2, 30, 201)),
                pair((5, 200, 5), (5, 205, 500)),
            ]
        );
    }
}

#[test]
fn equal_windows_release_rows_at_the_window_end() {
    // 10-second windows of each side's event time, and the key: a row expires when the
    // watermark reaches its window's end, and is late when its window ended at or before the
    // previous batch's watermark.
    let window = |t: Timestamp| {
        WindowSpec::tumbling("10 seconds")
            .unwrap()
            .windows_of(t)
            .next()
            .unwrap()
    };
    let on = JoinOn::keys(|a: &L| a.k, |b: &R| b.rk).windows(
        ("lt", move |a: &L| window(a.lt)),
        ("rt", move |b: &R| window(b.rt)),
    );
    let steps = vec![
        Step::Left(vec![l(1, 3, 1), l(2, 5, 2), l(1, 12, 3)]),
        // Watermark after: min(12, 25) = 12: windows ending at 10 close.
        Step::Right(vec![r(1, 7, 100), r(1, 25, 101)]),
        // k1@9's window ended (10 <= 12): late. Watermark after: min(21, 25) = 21.
        Step::Left(vec![l(1, 21, 4), l(1, 9, 5)]),
    ];
    for workers in [1, 2] {
        let got = run(
            workers,
            JoinType::LeftOuter,
            on.clone(),
            Some("0 seconds"),
            Some("0 seconds"),
            steps_clone(&steps),
        );
        let pair = |a, b| out(Some(a), Some(b));
        let mut e: BTreeMap<u64, Vec<Out>> = (0..5).map(|b| (b, Vec::new())).collect();
        e.insert(1, vec![pair((1, 3, 1), (1, 7, 100))]);
        e.insert(2, vec![out(Some((2, 5, 2)), None)]);
        e.insert(3, vec![pair((1, 21, 4), (1, 25, 101))]);
        e.insert(4, vec![out(Some((1, 12, 3)), None)]);
        assert_eq!(got.batches, e, "{workers} workers");
        assert_eq!(got.watermarks, [0, 0, 12, 12, 21]);
        assert_eq!(got.dropped, 1);
    }
}

fn steps_clone(steps: &[Step]) -> Vec<Step> {
    steps
        .iter()
        .map(|s| match s {
            Step::Left(v) => Step::Left(v.clone()),
            Step::Right(v) => Step::Right(v.clone()),
        })
        .collect()
}

#[test]
fn a_filtered_out_row_of_the_outer_side_is_unmatched_not_dropped() {
    // `lv >= 2` in a left outer join: k1@10 (lv 1) comes out at once with NULLs and never
    // waits (Spark's pre-join filter); k2@12 (lv 2) joins.
    let on = range_10s()
        .left_filter(|a| a.lv >= 2)
        .right_filter(|b| b.rv != 7);
    let steps = vec![
        Step::Left(vec![l(1, 10, 1), l(2, 12, 2)]),
        Step::Right(vec![r(1, 15, 100), r(2, 14, 200), r(2, 15, 7)]),
    ];
    for workers in [1, 2] {
        let got = run(
            workers,
            JoinType::LeftOuter,
            on.clone(),
            Some("0 seconds"),
            Some("0 seconds"),
            steps_clone(&steps),
        );
        assert_eq!(got.batches[&0], [out(Some((1, 10, 1)), None)]);
        assert_eq!(got.batches[&1], [out(Some((2, 12, 2)), Some((2, 14, 200)))]);
    }
}

#[test]
fn the_rules_are_checked_when_the_query_starts() {
    let start = |how, on: JoinOn<L, R, u64>, wl: bool, wr: bool| {
        let mut left = read_stream::<L>(MemoryStream::new());
        if wl {
            left = left.with_watermark_on("lt", |x| x.lt, "1 second");
        }
        let mut right = read_stream::<R>(MemoryStream::new());
        if wr {
            right = right.with_watermark_on("rt", |x| x.rt, "1 second");
        }
        left.join_stream(right, on, how, combine)
            .write_stream(MemorySink::new())
            .start()
    };
    let keys = || JoinOn::keys(|a: &L| a.k, |b: &R| b.rk);
    let err = start(JoinType::LeftOuter, keys(), true, true)
        .err()
        .expect("no range");
    assert!(
        err.to_string().contains("add a time range condition"),
        "{err}"
    );
    let err = start(JoinType::FullOuter, range_10s(), true, false)
        .err()
        .expect("one watermark");
    assert!(
        err.to_string().contains("with_watermark on both inputs"),
        "{err}"
    );
    let err = start(JoinType::LeftAnti, range_10s(), true, true)
        .err()
        .expect("anti");
    assert!(err.to_string().contains("left_anti"), "{err}");
    assert!(start(JoinType::LeftSemi, range_10s(), false, true).is_ok());
    assert!(start(JoinType::Inner, keys(), false, false).is_ok());
    // Append only.
    let left = read_stream::<L>(MemoryStream::new());
    let right = read_stream::<R>(MemoryStream::new());
    let err = left
        .join_stream(right, keys(), JoinType::Inner, combine)
        .write_stream(MemorySink::new())
        .output_mode(Update)
        .start()
        .err()
        .expect("update");
    assert!(
        err.to_string().contains("only in Append output mode"),
        "{err}"
    );
    // A malformed range.
    let on = keys().time_range(
        ("lt", |a: &L| a.lt),
        ("rt", |b: &R| b.rt),
        "5 seconds",
        "1 second",
    );
    let err = start(JoinType::Inner, on, true, true)
        .err()
        .expect("empty range");
    assert!(err.to_string().contains("empty"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Random inputs against a nested loop.

/// A small deterministic generator (xorshift), so that a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The join of all rows by definition: every pair that satisfies the condition, plus each
/// outer side's rows that have none.
fn nested_loop(how: JoinType, left: &[L], right: &[R], lower: i64, upper: i64) -> Vec<Out> {
    let ok = |a: &L, b: &R| {
        a.k == b.rk
            && b.rt.millis() >= a.lt.millis() + lower
            && b.rt.millis() <= a.lt.millis() + upper
    };
    let mut rows = Vec::new();
    for a in left {
        let n = right.iter().filter(|b| ok(a, b)).count();
        match how {
            JoinType::LeftSemi if n > 0 => rows.push(combine(Some(a), None)),
            JoinType::LeftSemi => {}
            _ => rows.extend(
                right
                    .iter()
                    .filter(|b| ok(a, b))
                    .map(|b| combine(Some(a), Some(b))),
            ),
        }
        if n == 0 && matches!(how, JoinType::LeftOuter | JoinType::FullOuter) {
            rows.push(combine(Some(a), None));
        }
    }
    if matches!(how, JoinType::RightOuter | JoinType::FullOuter) {
        for b in right.iter().filter(|b| !left.iter().any(|a| ok(a, b))) {
            rows.push(combine(None, Some(b)));
        }
    }
    rows.sort();
    rows
}

#[test]
fn random_inputs_match_a_nested_loop() {
    use JoinType::*;
    // Batch `b` holds times in [10 b + 1, 10 b + 30] seconds and the delays are 30 s, so no row
    // is ever late (a row at the watermark is: 0 in the first batch); a last batch far in the future moves the watermark past every row, so every
    // unmatched row comes out. The result is then the join of all rows by definition.
    for (seed, how) in [
        (1, Inner),
        (2, LeftOuter),
        (3, RightOuter),
        (4, FullOuter),
        (5, LeftSemi),
    ] {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        let (mut left, mut right, mut steps) = (Vec::new(), Vec::new(), Vec::new());
        for b in 0..12i64 {
            let t = |rng: &mut Rng| b * 10 + 1 + rng.next(30) as i64;
            let ls: Vec<L> = (0..rng.next(6))
                .map(|i| l(rng.next(5), t(&mut rng), b * 10 + i as i64))
                .collect();
            let rs: Vec<R> = (0..rng.next(6))
                .map(|i| r(rng.next(5), t(&mut rng), b * 10 + i as i64))
                .collect();
            left.extend(ls.iter().cloned());
            right.extend(rs.iter().cloned());
            steps.push(Step::Left(ls));
            steps.push(Step::Right(rs));
        }
        let (lf, rf) = (l(99, 100_000, 0), r(98, 100_000, 0));
        left.push(lf.clone());
        right.push(rf.clone());
        steps.push(Step::Left(vec![lf]));
        steps.push(Step::Right(vec![rf]));
        // One more batch moves the watermark past the last rows (their own NULL rows).
        steps.push(Step::Left(vec![l(97, 200_000, 0)]));
        steps.push(Step::Right(vec![r(96, 200_000, 0)]));
        let (lower, upper) = (-5_000, 8_000);
        let on = JoinOn::keys(|a: &L| a.k, |b: &R| b.rk).time_range(
            ("lt", |a: &L| a.lt),
            ("rt", |b: &R| b.rt),
            "-5 seconds",
            "8 seconds",
        );
        let want = nested_loop(how, &left, &right, lower, upper);
        for workers in [1, 2] {
            let got = run(
                workers,
                how,
                on.clone(),
                Some("30 seconds"),
                Some("30 seconds"),
                steps_clone(&steps),
            );
            assert_eq!(
                got.dropped, 0,
                "{how:?}, {workers} workers: {:?}",
                got.watermarks
            );
            let mut rows: Vec<Out> = got.batches.into_values().flatten().collect();
            rows.sort();
            assert_eq!(rows, want, "{how:?}, {workers} workers");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The same scenario written in `stream!`, each kind with another form of the time range.

/// `(k, lt, lv, rv)` in seconds of every batch's rows, from a `stream!` query's sink.
type Flat = Vec<(u64, i64, i64, Option<i64>)>;

fn flat(rows: &BTreeMap<u64, Vec<Out>>) -> Flat {
    let mut v: Flat = (rows.values().flatten())
        .filter_map(|o| Some((o.k?, o.lt?, o.lv?, o.rv)))
        .collect();
    v.sort();
    v
}

fn feed(a: &MemoryStream<L>, b: &MemoryStream<R>, q: &StreamingQuery) {
    for step in scenario() {
        match step {
            Step::Left(rows) => a.add_data(rows),
            Step::Right(rows) => b.add_data(rows),
        };
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
}

#[test]
fn stream_macro_joins_match_the_hand_worked_scenario() {
    let (a, b) = (MemoryStream::new(), MemoryStream::new());
    let sink = MemorySink::new();
    let q = stream! {
        let rights = read_stream::<R>(b.clone()).with_watermark(rt, "0 seconds");
        read_stream::<L>(a.clone())
            .with_watermark(lt, "0 seconds")
            .join(
                rights,
                k == rights.rk && rights.rt >= lt && rights.rt <= lt + interval("10 seconds"),
                "left_outer",
            )
            .select(k, lt, lv, rights.rv as rv)
            .write_stream(sink.clone())
    }
    .start()
    .unwrap();
    feed(&a, &b, &q);
    let mut got: Flat = (sink.rows().iter())
        .map(|r| (r.k, r.lt.millis() / 1000, r.lv, r.rv))
        .collect();
    got.sort();
    assert_eq!(got, flat(&expected(JoinType::LeftOuter)));

    // Inner, with the bounds written from the left's side and a strict one.
    let (a, b) = (MemoryStream::new(), MemoryStream::new());
    let sink = MemorySink::new();
    let q = stream! {
        let rights = read_stream::<R>(b.clone()).with_watermark(rt, "0 seconds");
        read_stream::<L>(a.clone())
            .with_watermark(lt, "0 seconds")
            .join(
                rights,
                rights.rk == k
                    && lt < rights.rt + interval("1 millisecond")
                    && lt >= rights.rt - interval("10 seconds"),
            )
            .select(k, lt, lv, rights.rv as rv)
            .write_stream(sink.clone())
    }
    .start()
    .unwrap();
    feed(&a, &b, &q);
    let mut got: Flat = (sink.rows().iter())
        .map(|r| (r.k, r.lt.millis() / 1000, r.lv, Some(r.rv)))
        .collect();
    got.sort();
    assert_eq!(got, flat(&expected(JoinType::Inner)));

    // Left semi, with a filter on the right rows (every right row passes it).
    let (a, b) = (MemoryStream::new(), MemoryStream::new());
    let sink = MemorySink::new();
    let q = stream! {
        let rights = read_stream::<R>(b.clone()).with_watermark(rt, "0 seconds");
        read_stream::<L>(a.clone())
            .with_watermark(lt, "0 seconds")
            .join(
                rights,
                k == rights.rk
                    && rights.rt >= lt
                    && rights.rt <= lt + interval("10 seconds")
                    && rights.rv >= 100,
                "left_semi",
            )
            .write_stream(sink.clone())
    }
    .start()
    .unwrap();
    feed(&a, &b, &q);
    let mut got: Vec<(u64, i64, i64)> = (sink.rows().iter())
        .map(|r: &L| (r.k, r.lt.millis() / 1000, r.lv))
        .collect();
    got.sort();
    let want: Vec<(u64, i64, i64)> = flat(&expected(JoinType::LeftSemi))
        .into_iter()
        .map(|(k, lt, lv, _)| (k, lt, lv))
        .collect();
    assert_eq!(got, want);
}

/// `stream!`'s window equality (`lw == rights.rw`, each a `window(time, "10 seconds")` of a
/// watermarked column) bounds the state as the builder's `.windows(..)`: the hand-worked
/// scenario of `equal_windows_release_rows_at_the_window_end`.
#[test]
fn stream_macro_joins_on_equal_windows() {
    for workers in [1, 2] {
        let (a, b) = (MemoryStream::new(), MemoryStream::new());
        let sink = MemorySink::new();
        let q = stream! {
            let rights = read_stream::<R>(b.clone())
                .with_watermark(rt, "0 seconds")
                .select(rk, rt, rv, window(rt, "10 seconds") as rw);
            read_stream::<L>(a.clone())
                .with_watermark(lt, "0 seconds")
                .select(k, lt, lv, window(lt, "10 seconds") as lw)
                .join(rights, k == rights.rk && lw == rights.rw, "left_outer")
                .select(k, lt, lv, lw, rights.rv as rv)
                .write_stream(sink.clone())
        };
        let q = Session::with_workers(workers).start(q).unwrap();
        a.add_data(vec![l(1, 3, 1), l(2, 5, 2), l(1, 12, 3)]);
        q.process_all_available().unwrap();
        b.add_data(vec![r(1, 7, 100), r(1, 25, 101)]);
        q.process_all_available().unwrap();
        // k1@9's window ended at 10, at or below the watermark 12: late, dropped.
        a.add_data(vec![l(1, 21, 4), l(1, 9, 5)]);
        q.process_all_available().unwrap();
        q.stop().unwrap();
        let mut got: Vec<(u64, i64, i64, i64, Option<i64>)> = (sink.rows().iter())
            .map(|r| {
                (
                    r.k,
                    r.lt.millis() / 1000,
                    r.lv,
                    r.lw.start.millis() / 1000,
                    r.rv,
                )
            })
            .collect();
        got.sort();
        let expected = [
            (1, 3, 1, 0, Some(100)),
            (1, 12, 3, 10, None),
            (1, 21, 4, 20, Some(101)),
            (2, 5, 2, 0, None),
        ];
        assert_eq!(got, expected, "{workers} workers");
    }
}
