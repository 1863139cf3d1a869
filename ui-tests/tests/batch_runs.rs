//! Batch pipelines of `stream!` (`read::<T>(source)`) run and compute what they say, for every
//! operator family, on 1 and 2 workers: each result is compared with a naive computation over
//! the same rows written out in plain Rust here.

use std::collections::BTreeMap;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Sale {
    shop: String,
    item: u64,
    price: i64,
    #[event_time]
    at: Timestamp,
}

#[derive(Record)]
struct Shop {
    name: String,
    city: String,
}

#[derive(Record)]
struct Priced {
    item: u64,
    price: i64,
}

/// 40 sales in 4 shops (`s3` has no row in [`shops`]), over 80 seconds, not in time order.
fn sales() -> Vec<Sale> {
    (0..40u64)
        .map(|i| Sale {
            shop: format!("s{}", i % 4),
            item: i % 5,
            price: ((i * 37) % 23) as i64 - 3,
            at: Timestamp(((i * 7919) % 80) as i64 * 1000),
        })
        .collect()
}

fn shops() -> Vec<Shop> {
    ["s0 Paris", "s1 Lyon", "s2 Paris", "s9 Nice"]
        .iter()
        .map(|s| {
            let (name, city) = s.split_once(' ').unwrap();
            Shop {
                name: name.into(),
                city: city.into(),
            }
        })
        .collect()
}

fn sessions() -> [Session; 2] {
    [Session::local(), Session::with_workers(2)]
}

fn sorted<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.into_iter().collect();
    v.sort();
    v
}

#[test]
fn projections_filters_and_closures_collect_every_row() {
    let got = stream! {
        read::<Sale>(sales())
            .filter(price > 5)
            .with_column(double, price * 2)
            .select(shop, item, double)
            .collect()
    }
    .unwrap();
    let got = sorted(got.into_iter().map(|r| (r.shop, r.item, r.double)));
    let want = sorted(
        sales()
            .into_iter()
            .filter(|s| s.price > 5)
            .map(|s| (s.shop, s.item, s.price * 2)),
    );
    assert_eq!(got, want);
    let closures = stream! {
        read::<Sale>(sales())
            .map(|s: Sale| Priced { item: s.item, price: s.price })
            .filter(|p: &Priced| p.item != 2)
    };
    for session in sessions() {
        let got = sorted(
            session
                .collect(closures.clone())
                .unwrap()
                .into_iter()
                .map(|p| (p.item, p.price)),
        );
        let want = sorted(
            sales()
                .into_iter()
                .map(|s| (s.item, s.price))
                .filter(|p| p.0 != 2),
        );
        assert_eq!(got, want);
    }
}

#[test]
fn a_group_by_aggregation_gives_the_final_table_and_ignores_the_watermark() {
    // The watermark would drop late rows on a stream; a batch query ignores it.
    let totals = stream! {
        read::<Sale>(sales())
            .with_watermark(at, "0 seconds")
            .group_by(shop)
            .agg(count() as n, sum(price) as total, max(price) as top)
            .order_by(total.desc(), shop)
    };
    let mut want: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for s in sales() {
        let e = want.entry(s.shop).or_insert((0, 0, i64::MIN));
        *e = (e.0 + 1, e.1 + s.price, e.2.max(s.price));
    }
    let mut want: Vec<(String, i64, i64, i64)> = want
        .into_iter()
        .map(|(k, (n, t, m))| (k, n, t, m))
        .collect();
    want.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for session in sessions() {
        let got: Vec<(String, i64, i64, i64)> = session
            .collect(totals.clone())
            .unwrap()
            .into_iter()
            .map(|r| (r.shop, r.n, r.total, r.top))
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn windows_and_session_windows_close_at_the_end_of_the_input() {
    let windows = stream! {
        read::<Sale>(sales())
            .group_by(window(at, "20 seconds", "10 seconds"), shop)
            .agg(count() as n, sum(price) as total)
            .select(shop, window.start as start, n, total)
    };
    let mut want: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    for s in sales() {
        let t = s.at.millis();
        // The sliding windows holding `t`: those starting at t - 10 s and t (rounded down).
        for start in [t / 10_000 * 10_000 - 10_000, t / 10_000 * 10_000] {
            let e = want.entry((s.shop.clone(), start)).or_default();
            *e = (e.0 + 1, e.1 + s.price);
        }
    }
    let want: Vec<(String, i64, i64, i64)> = want
        .into_iter()
        .map(|((k, start), (n, t))| (k, start, n, t))
        .collect();
    let sessions_q = stream! {
        read::<Sale>(sales())
            .group_by(session_window(at, "3 seconds"), item)
            .agg(count() as n)
            .select(item, session_window.start as start, session_window.end as end, n)
    };
    // Sessions per item: rows at most 3 s apart, touching ones merged.
    let mut by_item: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for s in sales() {
        by_item.entry(s.item).or_default().push(s.at.millis());
    }
    let mut want_sessions = Vec::new();
    for (item, mut ts) in by_item {
        ts.sort();
        let mut cur: Option<(i64, i64, i64)> = None;
        for t in ts {
            cur = match cur {
                Some((start, end, n)) if t <= end => Some((start, end.max(t + 3000), n + 1)),
                other => {
                    want_sessions.extend(other.map(|(s, e, n)| (item, s, e, n)));
                    Some((t, t + 3000, 1))
                }
            };
        }
        want_sessions.extend(cur.map(|(s, e, n)| (item, s, e, n)));
    }
    let want_sessions = sorted(want_sessions);
    for session in sessions() {
        let got = sorted(
            session
                .collect(windows.clone())
                .unwrap()
                .into_iter()
                .map(|r| (r.shop, r.start.millis(), r.n, r.total)),
        );
        assert_eq!(got, want);
        let got = sorted(
            session
                .collect(sessions_q.clone())
                .unwrap()
                .into_iter()
                .map(|r| (r.item, r.start.millis(), r.end.millis(), r.n)),
        );
        assert_eq!(got, want_sessions);
    }
}

#[test]
fn two_batch_inputs_join() {
    let inner = stream! {
        let shops = read::<Shop>(shops());
        read::<Sale>(sales())
            .join(shops, shop == name)
            .group_by(shops.city)
            .agg(count() as n, sum(price) as total)
    };
    let outer = stream! {
        let shops = read::<Shop>(shops());
        read::<Sale>(sales())
            .join(shops, shop == name, "left_outer")
            .select(shop, item, shops.city as city)
    };
    let anti = stream! {
        let shops = read::<Shop>(shops());
        read::<Sale>(sales()).join(shops, shop == name, "left_anti").select(shop, item)
    };
    let city = |shop: &str| shops().into_iter().find(|s| s.name == shop).map(|s| s.city);
    let mut want_inner: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in sales() {
        if let Some(c) = city(&s.shop) {
            let e = want_inner.entry(c).or_default();
            *e = (e.0 + 1, e.1 + s.price);
        }
    }
    let want_inner: Vec<(String, i64, i64)> = want_inner
        .into_iter()
        .map(|(c, (n, t))| (c, n, t))
        .collect();
    let want_outer = sorted(sales().into_iter().map(|s| {
        let c = city(&s.shop);
        (s.shop, s.item, c)
    }));
    let want_anti = sorted(
        sales()
            .into_iter()
            .filter(|s| city(&s.shop).is_none())
            .map(|s| (s.shop, s.item)),
    );
    for session in sessions() {
        let got = sorted(
            session
                .collect(inner.clone())
                .unwrap()
                .into_iter()
                .map(|r| (r.city, r.n, r.total)),
        );
        assert_eq!(got, want_inner);
        let got = sorted(
            session
                .collect(outer.clone())
                .unwrap()
                .into_iter()
                .map(|r| (r.shop, r.item, r.city)),
        );
        assert_eq!(got, want_outer);
        let got = sorted(
            session
                .collect(anti.clone())
                .unwrap()
                .into_iter()
                .map(|r| (r.shop, r.item)),
        );
        assert_eq!(got, want_anti);
    }
}

#[test]
fn a_stream_joins_a_batch_input() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        let shops = read::<Shop>(shops());
        read_stream::<Sale>(input.clone())
            .join(shops, shop == name)
            .select(shop, item, shops.city as city)
            .write_stream(sink.clone())
    };
    let q = Session::local().start(query).unwrap();
    input.add_data(sales());
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let got = sorted(sink.rows().into_iter().map(|r| (r.shop, r.item, r.city)));
    let want = sorted(sales().into_iter().filter_map(|s| {
        let c = shops().into_iter().find(|h| h.name == s.shop)?.city;
        Some((s.shop, s.item, c))
    }));
    assert_eq!(got, want);
}

#[test]
fn order_by_and_limit_keep_the_first_rows() {
    let got = stream! {
        read::<Sale>(sales())
            .select(shop, price, at)
            .order_by(price.desc(), at, shop)
            .limit(3)
            .collect()
    }
    .unwrap();
    let mut want: Vec<(i64, Timestamp, String)> = sales()
        .into_iter()
        .map(|s| (-s.price, s.at, s.shop))
        .collect();
    want.sort();
    want.truncate(3);
    let got: Vec<(i64, Timestamp, String)> =
        got.into_iter().map(|r| (-r.price, r.at, r.shop)).collect();
    assert_eq!(got, want);
}

#[test]
fn write_gives_the_sink_the_whole_result_once() {
    let sink = MemorySink::new();
    stream! {
        read::<Sale>(sales())
            .group_by(item)
            .count()
            .write(sink.clone())
    }
    .unwrap();
    let batches = sink.batches();
    assert_eq!(batches.len(), 1);
    let got = sorted(batches[0].1.iter().map(|r| (r.item, r.count)));
    let mut want: BTreeMap<u64, i64> = BTreeMap::new();
    for s in sales() {
        *want.entry(s.item).or_default() += 1;
    }
    assert_eq!(got, want.into_iter().collect::<Vec<_>>());
    // `show` prints the table (the console sink's format is tested in the runtime).
    stream! { read::<Sale>(sales()).select(shop, price).show(2) }.unwrap();
}
