//! Stream-static joins through the builder API: every supported kind against a naive nested
//! loop, 1 and 2 workers; unsupported kinds rejected; the stream side keeps no state.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    bidder: u64,
    price: u64,
}

#[derive(Record)]
struct Person {
    id: u64,
    name: String,
}

#[derive(Record)]
struct Out {
    bidder: u64,
    price: u64,
    name: Option<String>,
}

fn people() -> Vec<Person> {
    (0..20u64)
        .filter(|i| i % 3 != 0)
        .flat_map(|i| {
            // Person 4 appears twice: an inner join matches both rows.
            let n = if i == 4 { 2 } else { 1 };
            (0..n).map(move |k| Person {
                id: i,
                name: format!("p{i}-{k}"),
            })
        })
        .collect()
}

fn bids(batch: u64) -> Vec<Bid> {
    (0..30u64)
        .map(|i| Bid {
            bidder: (i * 7 + batch) % 25,
            price: i + 100 * batch,
        })
        .collect()
}

/// The naive result of a join kind over all batches.
fn naive(how: JoinType) -> Vec<Out> {
    let table = people();
    let mut out = Vec::new();
    for b in (0..3).flat_map(bids) {
        let matches: Vec<&Person> = table.iter().filter(|p| p.id == b.bidder).collect();
        match how {
            JoinType::Inner => out.extend(matches.iter().map(|p| Out {
                bidder: b.bidder,
                price: b.price,
                name: Some(p.name.clone()),
            })),
            JoinType::LeftOuter if matches.is_empty() => out.push(Out {
                bidder: b.bidder,
                price: b.price,
                name: None,
            }),
            JoinType::LeftOuter => out.extend(matches.iter().map(|p| Out {
                bidder: b.bidder,
                price: b.price,
                name: Some(p.name.clone()),
            })),
            JoinType::LeftSemi if !matches.is_empty() => out.push(Out {
                bidder: b.bidder,
                price: b.price,
                name: None,
            }),
            JoinType::LeftAnti if matches.is_empty() => out.push(Out {
                bidder: b.bidder,
                price: b.price,
                name: None,
            }),
            _ => {}
        }
    }
    out.sort();
    out
}

fn run(session: Session, how: JoinType) -> (Vec<Out>, Vec<u64>) {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let q = read_stream::<Bid>(input.clone())
        .join_static(
            StaticTable::from_rows(people()),
            |b| b.bidder,
            |p| p.id,
            how,
            |b, p| Out {
                bidder: b.bidder,
                price: b.price,
                name: p.map(|p| p.name.clone()),
            },
        )
        .write_stream(sink.clone());
    let q = session.start(q).unwrap();
    for batch in 0..3 {
        input.add_data(bids(batch));
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
    let state: Vec<u64> = q
        .recent_progress()
        .iter()
        .map(|p| p.state_operators[0].num_rows_total)
        .collect();
    let mut rows = sink.rows();
    rows.sort();
    (rows, state)
}

#[test]
fn every_supported_kind_matches_a_nested_loop() {
    for how in [
        JoinType::Inner,
        JoinType::LeftOuter,
        JoinType::LeftSemi,
        JoinType::LeftAnti,
    ] {
        for session in [Session::local(), Session::with_workers(2)] {
            let (rows, state) = run(session, how);
            assert_eq!(rows, naive(how), "{how:?}");
            // After every batch the join holds the static rows and nothing of the stream.
            assert!(
                state.iter().all(|n| *n == people().len() as u64),
                "{how:?}: {state:?}"
            );
        }
    }
}

#[test]
fn static_on_the_left_right_outer_keeps_every_stream_row() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let q = StaticTable::from_rows(people())
        .join_stream(
            read_stream::<Bid>(input.clone()),
            |p| p.id,
            |b| b.bidder,
            JoinType::RightOuter,
            |p, b| Out {
                bidder: b.bidder,
                price: b.price,
                name: p.map(|p| p.name.clone()),
            },
        )
        .write_stream(sink.clone())
        .start()
        .unwrap();
    for batch in 0..3 {
        input.add_data(bids(batch));
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
    let mut rows = sink.rows();
    rows.sort();
    assert_eq!(rows, naive(JoinType::LeftOuter));
}

#[test]
fn unsupported_kinds_are_rejected_when_the_query_starts() {
    let join = |how| {
        read_stream::<Bid>(MemoryStream::new())
            .join_static(
                StaticTable::from_rows(people()),
                |b| b.bidder,
                |p| p.id,
                how,
                |b, _| Out {
                    bidder: b.bidder,
                    price: b.price,
                    name: None,
                },
            )
            .write_stream(MemorySink::new())
            .start()
    };
    for how in [JoinType::RightOuter, JoinType::FullOuter] {
        let err = join(how).err().expect("rejected");
        assert!(err.to_string().contains("is not supported"), "{err}");
    }
    let err = StaticTable::from_rows(people())
        .join_stream(
            read_stream::<Bid>(MemoryStream::new()),
            |p| p.id,
            |b| b.bidder,
            JoinType::LeftOuter,
            |_, b| Out {
                bidder: b.bidder,
                price: b.price,
                name: None,
            },
        )
        .write_stream(MemorySink::new())
        .start()
        .err()
        .expect("rejected");
    assert!(err.to_string().contains("inner or right_outer"), "{err}");
}
