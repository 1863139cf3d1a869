//! SQL NULLs (`None`): a NULL join key matches nothing, not even another NULL, in every kind
//! of stream-static join; aggregates ignore NULLs.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Order {
    id: u64,
    customer: Option<String>,
}

#[derive(Record)]
struct Customer {
    name: Option<String>,
    state: String,
}

#[derive(Record)]
struct Out {
    id: u64,
    state: Option<String>,
}

fn orders() -> Vec<Order> {
    vec![
        Order {
            id: 1,
            customer: Some("ann".into()),
        },
        Order {
            id: 2,
            customer: None,
        },
        Order {
            id: 3,
            customer: Some("bob".into()),
        },
    ]
}

fn customers() -> Vec<Customer> {
    vec![
        Customer {
            name: Some("ann".into()),
            state: "OR".into(),
        },
        // A NULL name: must not match order 2's NULL customer.
        Customer {
            name: None,
            state: "CA".into(),
        },
    ]
}

/// Runs `orders()` joined with `customers()` by `how`; returns (id, state) sorted.
fn join(how: JoinType, workers: usize) -> Vec<(u64, Option<String>)> {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Order>(input.clone())
        .join_static(
            StaticTable::from_rows(customers()),
            |o| o.customer.clone(),
            |c| c.name.clone(),
            how,
            |o, c| Out {
                id: o.id,
                state: c.map(|c| c.state.clone()),
            },
        )
        .write_stream(sink.clone());
    let q = Session::with_workers(workers).start(query).unwrap();
    input.add_data(orders());
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let mut rows: Vec<(u64, Option<String>)> =
        sink.rows().into_iter().map(|r| (r.id, r.state)).collect();
    rows.sort();
    rows
}

#[test]
fn a_null_join_key_matches_nothing() {
    for workers in [1, 2] {
        let or = Some("OR".to_string());
        assert_eq!(join(JoinType::Inner, workers), [(1, or.clone())]);
        assert_eq!(
            join(JoinType::LeftOuter, workers),
            [(1, or.clone()), (2, None), (3, None)]
        );
        assert_eq!(join(JoinType::LeftSemi, workers), [(1, None)]);
        assert_eq!(join(JoinType::LeftAnti, workers), [(2, None), (3, None)]);
    }
}

#[derive(Record)]
struct Reading {
    k: String,
    v: Option<i64>,
}

#[derive(Record)]
struct Stats {
    k: String,
    low: Option<i64>,
    high: Option<i64>,
    total: Option<i64>,
    values: i64,
    rows: i64,
}

/// `min(3, NULL, 5)` is 3 (SQL ignores NULLs); a group of only NULLs gives NULL.
#[test]
fn aggregates_ignore_nulls() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Reading>(input.clone())
        .group_by_key(|r| r.k.clone())
        .agg(
            |a| {
                (
                    a.min(|r: &Reading| r.v),
                    a.max(|r: &Reading| r.v),
                    a.sum(|r: &Reading| r.v),
                    a.count_non_null(|r: &Reading| r.v),
                    a.count(),
                )
            },
            |k, (low, high, total, values, rows)| Stats {
                k,
                low,
                high,
                total,
                values,
                rows,
            },
        )
        .write_stream(sink.clone())
        .output_mode(Complete);
    let q = Session::with_workers(2).start(query).unwrap();
    let r = |k: &str, v| Reading { k: k.into(), v };
    input.add_data([r("a", Some(3)), r("a", None), r("a", Some(5)), r("b", None)]);
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let mut rows: Vec<_> = sink
        .batches()
        .last()
        .unwrap()
        .1
        .iter()
        .map(|s| (s.k.clone(), s.low, s.high, s.total, s.values, s.rows))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("a".to_string(), Some(3), Some(5), Some(8), 2, 3),
            ("b".to_string(), None, None, None, 0, 1)
        ]
    );
}
