//! Kafka values parsed with `select(from_json::<T>(value))` against the real broker: malformed
//! values follow the mode and are reported by topic, partition and offset.

mod common;

use common::*;
use stream_kafka::{Kafka, KafkaRow};
use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: i64,
    price: i64,
}

/// Partition 0: a good bid, a bad one (offset 1), a good one; partition 1: one good bid.
fn bids_topic() -> String {
    let t = topic("values", 2);
    write(
        &t,
        &[
            (0, None, r#"{"auction":1,"price":10}"#),
            (0, None, r#"{"auction":2,"price":"#),
            (0, None, r#"{"auction":3,"price":30}"#),
            (1, None, r#"{"auction":4,"price":40}"#),
        ],
    );
    t
}

fn source(t: &str) -> stream_kafka::KafkaSourceBuilder {
    Kafka::source()
        .bootstrap_servers(bootstrap())
        .subscribe(t)
        .starting_offsets("earliest")
}

fn auctions(rows: &[Bid]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = rows.iter().map(|b| (b.auction, b.price)).collect();
    v.sort();
    v
}

#[test]
fn permissive_keeps_a_bad_value_aside_with_its_topic_partition_and_offset() {
    let t = bids_topic();
    let sink = MemorySink::new();
    let src = source(&t);
    let query = Session::with_workers(2)
        .start(stream! {
            read_stream::<KafkaRow>(src)
                .select(from_json::<Bid>(value))
                .write_stream(sink.clone())
        })
        .unwrap();
    query.process_all_available().unwrap();
    assert_eq!(auctions(&sink.rows()), [(1, 10), (3, 30), (4, 40)]);
    let corrupt = query.corrupt_records();
    assert_eq!(corrupt.len(), 1, "{corrupt:?}");
    assert_eq!(corrupt[0].file, format!("Kafka topic `{t}` partition 0"));
    assert_eq!(corrupt[0].line, 1, "the offset");
    assert_eq!(corrupt[0].raw, r#"{"auction":2,"price":"#);
    let counted: u64 = query
        .recent_progress()
        .iter()
        .filter_map(|p| p.sources[0].metrics.get("numCorruptRecords"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 1);
    query.stop().unwrap();
}

#[test]
fn fail_fast_names_the_bad_values_offset_and_drop_malformed_counts_it() {
    let t = bids_topic();
    let src = source(&t);
    let query = Session::with_workers(2)
        .start(stream! {
            read_stream::<KafkaRow>(src)
                .select(from_json::<Bid>(value, Mode::FailFast))
                .write_stream(MemorySink::new())
        })
        .unwrap();
    let e = query.await_termination().unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "malformed record at Kafka topic `{t}` partition 0:1: "
        )),
        "{e}"
    );
    assert!(e.contains("from_json(value)"), "{e}");

    let sink = MemorySink::new();
    let src = source(&t);
    let query = Session::with_workers(2)
        .start(stream! {
            read_stream::<KafkaRow>(src)
                .select(from_json::<Bid>(value, Mode::DropMalformed))
                .write_stream(sink.clone())
        })
        .unwrap();
    query.process_all_available().unwrap();
    assert_eq!(auctions(&sink.rows()), [(1, 10), (3, 30), (4, 40)]);
    let dropped: u64 = query
        .recent_progress()
        .iter()
        .filter_map(|p| p.sources[0].metrics.get("numDroppedMalformedRecords"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(dropped, 1);
    assert!(query.corrupt_records().is_empty());
    query.stop().unwrap();
}
