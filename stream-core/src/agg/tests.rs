use super::*;

#[derive(Clone)]
struct Row {
    k: &'static str,
    v: i32,
    x: f64,
}

/// Folds rows with the aggregate machinery, merging in uneven partial groups, and compares
/// with a plain loop.
#[test]
fn partial_merges_match_a_plain_fold() {
    let rows: Vec<Row> = (0..50)
        .map(|i| Row {
            k: if i % 3 == 0 { "a" } else { "b" },
            v: (i * 7 % 11) - 5,
            x: i as f64 / 4.0,
        })
        .collect();
    let aggs = (
        count(),
        sum(|r: &Row| r.v),
        min(|r: &Row| r.x),
        max(|r: &Row| r.v),
        avg(|r: &Row| r.v),
    );
    let a: Vec<&Row> = rows.iter().filter(|r| r.k == "a").collect();
    // Partials of uneven size, then merged (one of them twice, with n = 2 standing for a copy).
    let mut acc = aggs.init(a[0]);
    for r in &a[1..] {
        acc.merge(&aggs.init(r));
    }
    let out = aggs.finish(&acc);
    let n = a.len() as i64;
    let s: i64 = a.iter().map(|r| r.v as i64).sum();
    assert_eq!(out.0, n);
    assert_eq!(out.1, s);
    assert_eq!(out.2, a.iter().map(|r| r.x).fold(f64::INFINITY, f64::min));
    assert_eq!(out.3, a.iter().map(|r| r.v).max().unwrap());
    assert!((out.4 - s as f64 / n as f64).abs() < 1e-12);
    let mut twice = acc.clone();
    twice.scale(2);
    assert_eq!(aggs.finish(&twice).0, 2 * n);
    assert_eq!(aggs.finish(&twice).1, 2 * s);
    assert_eq!(aggs.finish(&twice).3, aggs.finish(&acc).3);
    let _ = rows[0].k;
}

/// A row with NULLs and extreme values.
#[derive(Clone, Debug)]
struct Wide {
    v: Option<i64>,
    x: Option<f64>,
    big: i64,
    u: u64,
}

fn fold<T, A: Aggregates<T>>(aggs: &A, rows: &[T]) -> A::Acc {
    let mut acc = aggs.init(&rows[0]);
    for r in &rows[1..] {
        acc.merge(&aggs.init(r));
    }
    acc
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn avg_of_integers_sums_in_double_and_does_not_wrap() {
    let rows = [i64::MAX, i64::MAX];
    let aggs = (avg(|r: &i64| *r),);
    // (2^63 - 1) as a double is 2^63; the mean of two of them is 2^63.
    assert_eq!(
        aggs.finish(&fold(&aggs, &rows)).0,
        9_223_372_036_854_775_808.0
    );
    let rows = [i64::MIN, i64::MIN, i64::MAX];
    // (-2^63 - 2^63 + 2^63) / 3, in doubles.
    assert_eq!(
        aggs.finish(&fold(&aggs, &rows)).0,
        -9_223_372_036_854_775_808.0 / 3.0
    );
    let rows = [u64::MAX, u64::MAX];
    let aggs = (avg(|r: &u64| *r),);
    assert_eq!(
        aggs.finish(&fold(&aggs, &rows)).0,
        18_446_744_073_709_551_616.0
    );
}

#[test]
fn sum_of_integers_never_wraps_silently() {
    let aggs = (sum(|r: &i64| *r),);
    // A total that fits is exact, whatever the order of the partials (the intermediate
    // i64::MAX + 1 is not an overflow: the sum is kept wider).
    let rows = [i64::MAX, 1, -1];
    assert_eq!(aggs.finish(&fold(&aggs, &rows)).0, i64::MAX);
    let rows = [i64::MIN, -1, 1, i64::MAX, 1];
    assert_eq!(aggs.finish(&fold(&aggs, &rows)).0, 0);
    // A total that does not fit i64 is Spark's ARITHMETIC_OVERFLOW, not a wrapped value.
    let acc = fold(&aggs, &[i64::MAX, 1]);
    let msg = panic_message(|| {
        aggs.finish(&acc);
    });
    assert!(
        msg.contains("ARITHMETIC_OVERFLOW") && msg.contains("i64"),
        "{msg}"
    );
    assert!(msg.contains("9223372036854775808"), "{msg}");
    let acc = fold(&aggs, &[i64::MIN, -1]);
    let msg = panic_message(|| {
        aggs.finish(&acc);
    });
    assert!(msg.contains("ARITHMETIC_OVERFLOW"), "{msg}");
    // Scaling a partial (n copies of its rows) overflows the same way.
    let mut acc = fold(&aggs, &[i64::MAX / 2 + 1]);
    acc.scale(2);
    let msg = panic_message(|| {
        aggs.finish(&acc);
    });
    assert!(msg.contains("ARITHMETIC_OVERFLOW"), "{msg}");
    // Unsigned sums too.
    let aggs = (sum(|r: &u64| *r),);
    assert_eq!(aggs.finish(&fold(&aggs, &[u64::MAX - 1, 1])).0, u64::MAX);
    let acc = fold(&aggs, &[u64::MAX, 1]);
    let msg = panic_message(|| {
        aggs.finish(&acc);
    });
    assert!(
        msg.contains("ARITHMETIC_OVERFLOW") && msg.contains("u64"),
        "{msg}"
    );
    // Small integer columns sum into i64 without overflowing their own type.
    let aggs = (sum(|r: &i8| *r),);
    assert_eq!(aggs.finish(&fold(&aggs, &[127i8, 127, 127])).0, 381);
}

#[test]
fn nulls_are_ignored_by_min_max_sum_avg_and_count_of_a_column() {
    let row = |v: Option<i64>, x: Option<f64>| Wide { v, x, big: 0, u: 0 };
    let rows = [
        row(Some(3), None),
        row(None, Some(2.5)),
        row(Some(5), Some(-1.0)),
        row(None, None),
    ];
    let aggs = (
        min(|r: &Wide| r.v),
        max(|r: &Wide| r.v),
        sum(|r: &Wide| r.v),
        avg(|r: &Wide| r.v),
        min(|r: &Wide| r.x),
        max(|r: &Wide| r.x),
        count_non_null(|r: &Wide| r.v),
        count(),
    );
    let out = aggs.finish(&fold(&aggs, &rows));
    assert_eq!(out.0, Some(3));
    assert_eq!(out.1, Some(5));
    assert_eq!(out.2, Some(8));
    assert_eq!(out.3, Some(4.0));
    assert_eq!(out.4, Some(-1.0));
    assert_eq!(out.5, Some(2.5));
    assert_eq!(out.6, 2);
    assert_eq!(out.7, 4);
    // NULL only when every input is NULL (count is then 0).
    let nulls = [row(None, None), row(None, None)];
    let out = aggs.finish(&fold(&aggs, &nulls));
    assert_eq!(
        (out.0, out.1, out.2, out.3, out.4, out.5, out.6, out.7),
        (None, None, None, None, None, None, 0, 2)
    );
    // A NULL first or last, and in a partial of its own, changes nothing.
    let rows = [row(None, None), row(Some(7), None), row(None, None)];
    let out = aggs.finish(&fold(&aggs, &rows));
    assert_eq!(
        (out.0, out.1, out.2, out.3, out.6),
        (Some(7), Some(7), Some(7), Some(7.0), 1)
    );
    // A column that is not nullable counts every row.
    let aggs = (count_non_null(|r: &Wide| r.big),);
    assert_eq!(aggs.finish(&fold(&aggs, &rows)).0, 3);
}

/// Merging partials in any split and association, and scaling, equals folding all rows.
#[test]
fn partials_merge_associatively_and_scale_in_any_split() {
    let rows: Vec<Wide> = (0..23i64)
        .map(|i| Wide {
            v: (i % 4 != 1).then_some((i * 37 % 19) - 9),
            x: (i % 5 != 2).then_some((i * 13 % 17) as f64 / 4.0 - 2.0),
            big: if i % 2 == 0 {
                i64::MAX - i
            } else {
                i64::MIN + i
            },
            u: u64::MAX / 32 + i as u64,
        })
        .collect();
    let aggs = (
        sum(|r: &Wide| r.v),
        avg(|r: &Wide| r.v),
        min(|r: &Wide| r.x),
        max(|r: &Wide| r.x),
        sum(|r: &Wide| r.big),
        sum(|r: &Wide| r.u),
        count_non_null(|r: &Wide| r.x),
        avg(|r: &Wide| r.x),
    );
    let all = fold(&aggs, &rows);
    // Against a naive computation.
    let vs: Vec<i64> = rows.iter().filter_map(|r| r.v).collect();
    let xs: Vec<f64> = rows.iter().filter_map(|r| r.x).collect();
    let out = aggs.finish(&all);
    assert_eq!(out.0, Some(vs.iter().sum::<i64>()));
    assert_eq!(out.1, Some(vs.iter().sum::<i64>() as f64 / vs.len() as f64));
    assert_eq!(out.2, xs.iter().copied().reduce(f64::min));
    assert_eq!(out.3, xs.iter().copied().reduce(f64::max));
    let big: i128 = rows.iter().map(|r| r.big as i128).sum();
    assert_eq!(out.4 as i128, big);
    let u: u128 = rows.iter().map(|r| r.u as u128).sum();
    assert_eq!(out.5 as u128, u);
    assert_eq!(out.6, xs.len() as i64);
    assert_eq!(out.7, Some(xs.iter().sum::<f64>() / xs.len() as f64));
    for a in 1..rows.len() {
        for b in a..rows.len() {
            let (p, q) = (fold(&aggs, &rows[..a]), fold(&aggs, &rows[a..]));
            let mut pq = p.clone();
            pq.merge(&q);
            let mut qp = q.clone();
            qp.merge(&p);
            assert_eq!(pq, all, "split at {a}");
            assert_eq!(qp, all, "split at {a}, reversed");
            if b > a {
                let (l, m, r) = (
                    fold(&aggs, &rows[..a]),
                    fold(&aggs, &rows[a..b]),
                    fold(&aggs, &rows[b..]),
                );
                let mut left = l.clone();
                left.merge(&m);
                left.merge(&r);
                let mut right = m.clone();
                right.merge(&r);
                let mut l2 = l.clone();
                l2.merge(&right);
                assert_eq!(left, all, "split at {a}, {b}");
                assert_eq!(l2, all, "split at {a}, {b}, right first");
            }
        }
    }
    // scale(n): a partial standing for n copies of its rows.
    for n in 1..5i64 {
        let mut scaled = fold(&aggs, &rows[..7]);
        scaled.scale(n);
        let copies: Vec<Wide> = (0..n).flat_map(|_| rows[..7].iter().cloned()).collect();
        assert_eq!(scaled, fold(&aggs, &copies), "n = {n}");
    }
}
