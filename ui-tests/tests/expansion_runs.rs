//! The code `stream!` generates runs and computes what the pipeline says (the ui tests only check
//! that it compiles).

use std::collections::BTreeMap;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: u64,
    price: u64,
    bidder: String,
}

/// (auction, cheap) -> (n, total, top, low, mean)
type Stats = BTreeMap<(u64, bool), (i64, u64, u64, u64, f64)>;

fn bids() -> Vec<Bid> {
    (0..60u64)
        .map(|i| Bid {
            auction: i % 4,
            price: (i * 37) % 50,
            bidder: format!("b{}", i % 3),
        })
        .collect()
}

/// The items, sorted (rows come in no particular order).
fn sorted<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.into_iter().collect();
    v.sort();
    v
}

/// Runs `query` on [`bids`] pushed into `input`, to the end.
fn run_on_bids<T: Record>(query: DataStreamWriter<T>, input: &MemoryStream<Bid>) {
    let handle = Session::local().start(query).unwrap();
    input.add_data(bids());
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
}

#[test]
fn select_with_column_group_by_agg_in_complete_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let threshold = 10u64;
    let query = stream! {
        read_stream::<Bid>(input.clone())
            .filter(price >= lit(threshold) && bidder != "b2")
            .select(auction, price * 2 as double_price, price)
            .with_column(cheap, price < 25)
            .group_by(auction, cheap)
            .agg(count() as n, sum(double_price) as total, max(price) as top, min(price) as low, avg(price) as mean)
            .write_stream(sink.clone())
            .output_mode(Complete)
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data(bids());
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let batches = sink.batches();
    let (_, rows) = batches.last().unwrap();
    let got: Stats = rows
        .iter()
        .map(|r| ((r.auction, r.cheap), (r.n, r.total, r.top, r.low, r.mean)))
        .collect();
    let mut want: BTreeMap<(u64, bool), Vec<u64>> = BTreeMap::new();
    for b in bids() {
        if b.price >= threshold && b.bidder != "b2" {
            want.entry((b.auction, b.price < 25))
                .or_default()
                .push(b.price);
        }
    }
    let want: Stats = want
        .into_iter()
        .map(|(k, v)| {
            let s: u64 = v.iter().sum();
            let n = v.len();
            (
                k,
                (
                    n as i64,
                    2 * s,
                    *v.iter().max().unwrap(),
                    *v.iter().min().unwrap(),
                    s as f64 / n as f64,
                ),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// `select` moves a column it reads once out of the row and clones one it reads twice: both
/// must give every row its own values.
#[test]
fn select_moves_columns_read_once_and_clones_columns_read_twice() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Bid>(input.clone())
            .select(bidder, bidder as again, auction)
            .with_column(last, again)
            .select(last, auction, bidder)
            .write_stream(sink.clone())
    };
    run_on_bids(query, &input);
    let got = sorted(
        sink.rows()
            .into_iter()
            .map(|r| (r.last, r.auction, r.bidder)),
    );
    let want = sorted(
        bids()
            .into_iter()
            .map(|b| (b.bidder.clone(), b.auction, b.bidder)),
    );
    assert_eq!(got, want);
}

#[test]
fn with_column_on_a_user_struct_keeps_its_columns() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Bid>(input.clone())
            .with_column(bonus, price + 1)
            .r#where(bonus > 40)
            .select(auction, bonus, bidder)
            .write_stream(sink.clone())
    };
    run_on_bids(query, &input);
    let got = sorted(
        sink.rows()
            .into_iter()
            .map(|r| (r.auction, r.bonus, r.bidder)),
    );
    let want = sorted(
        bids()
            .into_iter()
            .filter(|b| b.price + 1 > 40)
            .map(|b| (b.auction, b.price + 1, b.bidder)),
    );
    assert_eq!(got, want);
}

#[test]
fn union_and_group_by_key_count() {
    let a = MemoryStream::new();
    let b = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        let left = read_stream::<Bid>(a.clone()).filter(|b| b.auction == 1);
        let right = read_stream::<Bid>(b.clone()).where_(auction == 2);
        left.union(right)
            .group_by_key(|b| b.auction)
            .count()
            .write_stream(sink.clone())
            .output_mode(Update)
    };
    let handle = Session::local().start(query).unwrap();
    a.add_data(bids());
    b.add_data(bids());
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let got: BTreeMap<u64, i64> = sink.rows().into_iter().map(|r| (r.key, r.count)).collect();
    assert_eq!(got, BTreeMap::from([(1, 15), (2, 15)]));
}

#[derive(Record)]
struct Click {
    page: String,
    #[event_time]
    at: Timestamp,
}

fn click(page: &str, secs: i64) -> Click {
    Click {
        page: page.into(),
        at: Timestamp::from_millis(secs * 1000),
    }
}

#[test]
fn windowed_aggregation_with_a_watermark_in_append_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Click>(input.clone())
            .with_watermark(at, "5 seconds")
            .group_by(window(at, "10 seconds"), page)
            .agg(count() as n)
            .write_stream(sink.clone())
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data([click("a", 1), click("a", 2), click("b", 3), click("a", 12)]);
    handle.process_all_available().unwrap();
    // Event time 30 s moves the watermark to 25 s: the windows [0, 10) and [10, 20) close.
    input.add_data([click("a", 30)]);
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let got: BTreeMap<(i64, String), i64> = sink
        .rows()
        .into_iter()
        .map(|r| ((r.window.start.millis() / 1000, r.page), r.n))
        .collect();
    let want = BTreeMap::from([
        ((0, "a".to_string()), 2),
        ((0, "b".to_string()), 1),
        ((10, "a".to_string()), 1),
    ]);
    assert_eq!(got, want);
}

#[derive(Record)]
struct Order {
    customer: u64,
    amount: u64,
    day: u64,
}

#[derive(Record)]
struct Customer {
    id: u64,
    state: String,
    since: u64,
}

fn orders() -> Vec<Order> {
    (0..40u64)
        .map(|i| Order {
            customer: i % 7,
            amount: (i * 13) % 30 + 1,
            day: i % 3,
        })
        .collect()
}

/// Customers 0..5 (5 and 6 are unknown), in three states.
fn customers() -> Vec<Customer> {
    (0..5u64)
        .map(|id| Customer {
            id,
            state: ["OR", "WA", "CA"][id as usize % 3].to_string(),
            since: id % 3,
        })
        .collect()
}

#[test]
fn inner_join_grouped_by_a_static_column_and_sorted_in_complete_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        let customers = read_static::<Customer>(customers());
        read_stream::<Order>(input.clone())
            .join(customers, customer == id)
            .filter(customers.since <= day)
            .group_by(customers.state)
            .agg(count() as n, sum(amount) as total)
            .order_by(total.desc(), state)
            .write_stream(sink.clone())
            .output_mode(Complete)
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data(orders());
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let got: Vec<(String, i64, u64)> = sink
        .rows()
        .into_iter()
        .map(|r| (r.state, r.n, r.total))
        .collect();
    let mut want: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for o in orders() {
        for c in customers() {
            if o.customer == c.id && c.since <= o.day {
                let e = want.entry(c.state).or_default();
                e.0 += 1;
                e.1 += o.amount;
            }
        }
    }
    let mut want: Vec<(String, i64, u64)> = want.into_iter().map(|(s, (n, t))| (s, n, t)).collect();
    want.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    assert_eq!(got, want);
}

#[test]
fn left_outer_join_rows_are_records_with_nullable_static_columns() {
    let input = MemoryStream::new();
    let joined = MemorySink::new();
    let projected = MemorySink::new();
    // A tuple key: customer and day both match.
    let query = stream! {
        let customers = read_static::<Customer>(customers());
        read_stream::<Order>(input.clone())
            .join(customers, customer == customers.id && day == since, "left_outer")
            .write_stream(joined.clone())
    };
    let projection = stream! {
        let customers = read_static::<Customer>(customers());
        let orders = read_stream::<Order>(input.clone());
        customers
            .join(orders, id == customer, "right_outer")
            .select(customer, amount, customers.state as state)
            .write_stream(projected.clone())
    };
    let handle = Session::local().start(query).unwrap();
    let handle2 = Session::local().start(projection).unwrap();
    input.add_data(orders());
    handle.process_all_available().unwrap();
    handle2.process_all_available().unwrap();
    handle.stop().unwrap();
    handle2.stop().unwrap();

    // The joined rows: the order's columns, then the customer's (NULL where none matches).
    let mut got: Vec<String> = joined.rows().iter().map(|r| r.to_json()).collect();
    got.sort();
    let mut want: Vec<String> = orders()
        .into_iter()
        .map(|o| {
            let c = customers()
                .into_iter()
                .find(|c| c.id == o.customer && c.since == o.day);
            let (id, state, since) = match c {
                Some(c) => (c.id.to_string(), format!("\"{}\"", c.state), c.since.to_string()),
                None => ("null".into(), "null".into(), "null".into()),
            };
            format!(
                r#"{{"customer":{},"amount":{},"day":{},"id":{id},"state":{state},"since":{since}}}"#,
                o.customer, o.amount, o.day
            )
        })
        .collect();
    want.sort();
    assert_eq!(got, want);

    let mut got: Vec<(u64, u64, Option<String>)> = projected
        .rows()
        .into_iter()
        .map(|r| (r.customer, r.amount, r.state))
        .collect();
    got.sort();
    let mut want: Vec<(u64, u64, Option<String>)> = orders()
        .into_iter()
        .map(|o| {
            let state = customers()
                .into_iter()
                .find(|c| c.id == o.customer)
                .map(|c| c.state);
            (o.customer, o.amount, state)
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn semi_and_anti_joins_keep_the_stream_rows() {
    let input = MemoryStream::new();
    let semi = MemorySink::new();
    let anti = MemorySink::new();
    let with_customer = stream! {
        let customers = read_static::<Customer>(customers());
        read_stream::<Order>(input.clone())
            .join(customers, customer == id, "left_semi")
            .select(customer, amount)
            .write_stream(semi.clone())
    };
    let without = stream! {
        let customers = read_static::<Customer>(customers());
        read_stream::<Order>(input.clone())
            .join(customers, customer == id, "left_anti")
            .select(customer, amount)
            .write_stream(anti.clone())
    };
    let h1 = Session::local().start(with_customer).unwrap();
    let h2 = Session::local().start(without).unwrap();
    input.add_data(orders());
    h1.process_all_available().unwrap();
    h2.process_all_available().unwrap();
    h1.stop().unwrap();
    h2.stop().unwrap();
    let mut got_semi: Vec<(u64, u64)> = semi
        .rows()
        .into_iter()
        .map(|r| (r.customer, r.amount))
        .collect();
    let mut got_anti: Vec<(u64, u64)> = anti
        .rows()
        .into_iter()
        .map(|r| (r.customer, r.amount))
        .collect();
    got_semi.sort();
    got_anti.sort();
    let all: Vec<(u64, u64)> = orders()
        .into_iter()
        .map(|o| (o.customer, o.amount))
        .collect();
    let (mut want_semi, mut want_anti): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(c, _)| customers().iter().any(|p| p.id == *c));
    want_semi.sort();
    want_anti.sort();
    assert_eq!(got_semi, want_semi);
    assert_eq!(got_anti, want_anti);
}

#[derive(Record)]
struct Visit {
    user: String,
    idle_ms: i64,
    #[event_time]
    at: Timestamp,
}

fn visit(user: &str, ms: i64, idle_ms: i64) -> Visit {
    Visit {
        user: user.into(),
        idle_ms,
        at: Timestamp::from_millis(ms),
    }
}

fn visits() -> Vec<Visit> {
    // Gaps between a user's visits are never exactly the session gap (5 s).
    (0..30i64)
        .map(|i| {
            let user = ["u", "v", "w"][i as usize % 3];
            visit(user, (i * i * 397) % 60_000, 1_000 + (i % 4) * 2_500 - 1)
        })
        .collect()
}

/// Sessions per user from `[start, end)` intervals, merged while they overlap:
/// user -> [(start, end, count)].
fn naive_sessions(rows: &[(String, i64, i64)]) -> BTreeMap<String, Vec<(i64, i64, i64)>> {
    let mut per_user: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for (user, start, end) in rows {
        per_user
            .entry(user.clone())
            .or_default()
            .push((*start, *end));
    }
    per_user
        .into_iter()
        .map(|(user, mut spans)| {
            spans.sort();
            let mut out: Vec<(i64, i64, i64)> = Vec::new();
            for (s, e) in spans {
                match out.last_mut() {
                    Some(last) if s < last.1 => {
                        last.1 = last.1.max(e);
                        last.2 += 1;
                    }
                    _ => out.push((s, e, 1)),
                }
            }
            (user, out)
        })
        .collect()
}

#[test]
fn session_windows_with_a_fixed_gap_in_append_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Visit>(input.clone())
            .with_watermark(at, "1 second")
            .group_by(session_window(at, "5 seconds"), user)
            .agg(count() as n)
            .write_stream(sink.clone())
            .output_mode(Append)
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data(visits());
    handle.process_all_available().unwrap();
    // Far in the future: the watermark passes every session of `visits()`.
    input.add_data([visit("z", 1_000_000, 1)]);
    handle.process_all_available().unwrap();
    input.add_data([visit("z", 1_000_001, 1)]);
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let mut got: BTreeMap<String, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for r in sink.rows() {
        got.entry(r.user).or_default().push((
            r.session_window.start.millis(),
            r.session_window.end.millis(),
            r.n,
        ));
    }
    got.values_mut().for_each(|v| v.sort());
    let rows: Vec<(String, i64, i64)> = visits()
        .into_iter()
        .map(|v| (v.user, v.at.millis(), v.at.millis() + 5_000))
        .collect();
    assert_eq!(got, naive_sessions(&rows));
}

#[test]
fn session_windows_with_a_gap_per_row_sorted_in_complete_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Visit>(input.clone())
            .group_by(user, session_window(at, idle_ms - 1) as visit)
            .agg(count() as n)
            .order_by(n.desc(), user, visit.start)
            .write_stream(sink.clone())
            .output_mode(Complete)
    };
    let handle = Session::local().start(query).unwrap();
    // A gap of zero or less drops the row, as in Spark.
    input.add_data(visits().into_iter().chain([visit("u", 99_000, 1)]));
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let got: Vec<(String, i64, i64, i64)> = sink
        .rows()
        .into_iter()
        .map(|r| (r.user, r.visit.start.millis(), r.visit.end.millis(), r.n))
        .collect();
    let rows: Vec<(String, i64, i64)> = visits()
        .into_iter()
        .map(|v| (v.user, v.at.millis(), v.at.millis() + v.idle_ms - 1))
        .collect();
    let mut want: Vec<(String, i64, i64, i64)> = naive_sessions(&rows)
        .into_iter()
        .flat_map(|(u, s)| s.into_iter().map(move |(a, b, n)| (u.clone(), a, b, n)))
        .collect();
    want.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    assert_eq!(got, want);
}

mod chained_windows {
    use stream_runtime::prelude::*;

    #[derive(Record)]
    struct Ev {
        word: String,
        #[event_time]
        ts: Timestamp,
    }

    /// 10 ms windows counted per word, then 30 ms windows over `window_time(window)` summing the
    /// counts: each outer window once, when the watermark passes it, with the rows it holds.
    #[test]
    fn chained_window_aggregation_matches_a_naive_count() {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = stream! {
            read_stream::<Ev>(input.clone())
                .with_watermark(ts, "0 seconds")
                .group_by(window(ts, "10 milliseconds"), word)
                .agg(count() as n)
                .group_by(window(window_time(window), "30 milliseconds"), word)
                .agg(sum(n) as total)
                .write_stream(sink.clone())
                .output_mode(Append)
        };
        let handle = query.start().unwrap();
        let mut all = Vec::new();
        for step in 0..5i64 {
            let rows: Vec<Ev> = (0..20)
                .map(|i| Ev {
                    word: ["a", "b", "c"][i as usize % 3].to_string(),
                    ts: Timestamp(step * 20 + (i * 7) % 20),
                })
                .collect();
            all.extend(rows.iter().map(|e| (e.word.clone(), e.ts.millis())));
            input.add_data(rows);
            handle.process_all_available().unwrap();
        }
        handle.stop().unwrap();
        let watermark = all.iter().map(|(_, t)| *t).max().unwrap();
        let mut expected = std::collections::BTreeMap::new();
        for (word, t) in &all {
            let start = t / 30 * 30;
            if start + 30 <= watermark {
                *expected.entry((start, word.clone())).or_insert(0i64) += 1;
            }
        }
        let got: std::collections::BTreeMap<(i64, String), i64> = sink
            .rows()
            .into_iter()
            .map(|r| ((r.window.start.millis(), r.word.clone()), r.total))
            .collect();
        assert_eq!(got.len(), sink.rows().len(), "each window once");
        assert_eq!(got, expected);
    }
}

#[derive(Record)]
struct TwoTimes {
    key: String,
    a: Timestamp,
    b: Timestamp,
}

fn two_times(key: &str, a_secs: i64, b_secs: i64) -> TwoTimes {
    TwoTimes {
        key: key.into(),
        a: Timestamp::from_millis(a_secs * 1000),
        b: Timestamp::from_millis(b_secs * 1000),
    }
}

/// The watermark is on `a`, the window on `b`: Spark's watermark closes only groups keyed by its
/// own column, so the window's rows are never late. The macro names both columns to the builder
/// (`with_watermark_on("a")`, `group_by_window_on(.., "b")`), which then drops nothing.
#[test]
fn a_watermark_on_another_column_drops_no_row_of_a_window() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<TwoTimes>(input.clone())
            .with_watermark(a, "0 seconds")
            .group_by(window(b, "10 seconds"), key)
            .agg(count() as n)
            .write_stream(sink.clone())
            .output_mode(Update)
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data([two_times("x", 100, 100)]);
    handle.process_all_available().unwrap();
    // The watermark on `a` is now 100 s; a row whose `b` is 5 s is not late for the window on
    // `b`.
    input.add_data([two_times("x", 200, 5)]);
    handle.process_all_available().unwrap();
    let progress = handle.recent_progress();
    handle.stop().unwrap();
    let got = sorted(
        sink.rows()
            .into_iter()
            .map(|r| (r.window.start.millis() / 1000, r.key, r.n)),
    );
    assert_eq!(got, [(0, "x".to_string(), 1), (100, "x".to_string(), 1)]);
    let dropped: u64 = progress
        .iter()
        .flat_map(|p| &p.state_operators)
        .map(|s| s.num_rows_dropped_by_watermark)
        .sum();
    assert_eq!(dropped, 0);
}

/// After a projection renames the watermarked column, a window on the new name is still closed
/// by the watermark (Append mode emits it), and late rows are dropped.
#[test]
fn a_window_on_a_renamed_watermark_column_closes_in_append_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<TwoTimes>(input.clone())
            .with_watermark(a, "0 seconds")
            .select(key, a as t)
            .group_by(window(t, "10 seconds"), key)
            .agg(count() as n)
            .write_stream(sink.clone())
            .output_mode(Append)
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data([two_times("x", 1, 0), two_times("x", 2, 0)]);
    handle.process_all_available().unwrap();
    input.add_data([two_times("x", 30, 0)]);
    handle.process_all_available().unwrap();
    // 3 s is behind the watermark (30 s): late, dropped.
    input.add_data([two_times("x", 3, 0), two_times("x", 31, 0)]);
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let got = sorted(
        sink.rows()
            .into_iter()
            .map(|r| (r.window.start.millis() / 1000, r.key, r.n)),
    );
    assert_eq!(got, [(0, "x".to_string(), 2)]);
}

/// Grouping by the watermarked column itself is allowed in Append mode (Spark): a group is final
/// once the watermark passes its event time.
#[test]
fn group_by_the_watermarked_column_in_append_mode() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<TwoTimes>(input.clone())
            .with_watermark(a, "5 seconds")
            .group_by(a, key)
            .agg(count() as n)
            .write_stream(sink.clone())
            .output_mode(Append)
    };
    let handle = Session::local().start(query).unwrap();
    input.add_data([
        two_times("x", 10, 0),
        two_times("x", 10, 0),
        two_times("y", 12, 0),
    ]);
    handle.process_all_available().unwrap();
    assert!(sink.rows().is_empty(), "nothing is final yet");
    // 16 s moves the watermark to 11 s: (10 s, x) is final.
    input.add_data([two_times("x", 16, 0)]);
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let got: Vec<(i64, String, i64)> = sink
        .rows()
        .into_iter()
        .map(|r| (r.a.millis() / 1000, r.key, r.n))
        .collect();
    assert_eq!(got, [(10, "x".to_string(), 2)]);
}

#[derive(Record)]
struct Reading {
    sensor: u64,
    value: Option<i64>,
    temp: Option<f64>,
}

/// `count(col)` counts the non-NULL values; `sum` and `avg` of nullable columns skip NULLs.
#[test]
fn count_sum_and_avg_of_nullable_columns() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Reading>(input.clone())
            .group_by(sensor)
            .agg(count() as rows, count(value), sum(value), avg(temp), sum(temp) as total_temp)
            .write_stream(sink.clone())
            .output_mode(Complete)
    };
    let handle = Session::local().start(query).unwrap();
    let reading = |sensor, value, temp| Reading {
        sensor,
        value,
        temp,
    };
    input.add_data([
        reading(1, Some(3), Some(1.0)),
        reading(1, None, Some(3.0)),
        reading(1, Some(4), None),
        reading(2, None, None),
    ]);
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let batches = sink.batches();
    let (_, rows) = batches.last().unwrap();
    let got = sorted(rows.iter().map(|r| {
        (
            r.sensor,
            r.rows,
            r.count_value,
            r.sum_value,
            r.avg_temp.map(|t| (t * 10.0) as i64),
            r.total_temp.map(|t| (t * 10.0) as i64),
        )
    }));
    assert_eq!(
        got,
        [
            (1, 3, 2, Some(7), Some(20), Some(40)),
            (2, 1, 0, None, None, None)
        ]
    );
}

/// `with_idle_timeout` right after `with_watermark` reaches the builder.
#[test]
fn idle_timeout_after_a_watermark() {
    let (busy, idle) = (MemoryStream::new(), MemoryStream::new());
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<TwoTimes>(busy.clone())
            .with_watermark(a, "0 seconds")
            .union(
                read_stream::<TwoTimes>(idle.clone())
                    .with_watermark(a, "0 seconds")
                    .with_idle_timeout("1 second")
            )
            .group_by(window(a, "10 seconds"))
            .count()
            .write_stream(sink.clone())
            .output_mode(Update)
    };
    let handle = Session::local().start(query).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    busy.add_data([two_times("x", 100, 0)]);
    handle.process_all_available().unwrap();
    let wm = handle.last_progress().unwrap().event_time["watermark"].clone();
    handle.stop().unwrap();
    assert_eq!(wm, "1970-01-01T00:01:40.000Z");
}
