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
    let handle = Session::local().start(query).unwrap();
    input.add_data(bids());
    handle.process_all_available().unwrap();
    handle.stop().unwrap();
    let mut got: Vec<(u64, u64, String)> = sink
        .rows()
        .into_iter()
        .map(|r| (r.auction, r.bonus, r.bidder))
        .collect();
    got.sort();
    let mut want: Vec<(u64, u64, String)> = bids()
        .into_iter()
        .filter(|b| b.price + 1 > 40)
        .map(|b| (b.auction, b.price + 1, b.bidder))
        .collect();
    want.sort();
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
