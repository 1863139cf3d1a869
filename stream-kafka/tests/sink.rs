//! The Kafka sink against the real broker: columns as Spark takes them, at least once by
//! default, exactly once with transactions.

mod common;

use common::*;
use stream_kafka::Kafka;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Out {
    key: Option<String>,
    value: String,
    partition: i32,
}

#[derive(Record)]
struct Routed {
    topic: String,
    value: Vec<u8>,
}

#[derive(Record)]
struct NoValue {
    key: String,
}

#[derive(Record)]
struct NumberValue {
    value: i64,
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[test]
fn writes_value_key_and_partition_columns_at_least_once() {
    let t = topic("sink-alo", 3);
    let input = MemoryStream::<Out>::new();
    let query = Session::with_workers(2)
        .start(
            read_stream(input.clone())
                .write_stream(Kafka::sink().bootstrap_servers(bootstrap()).topic(&t)),
        )
        .unwrap();
    let rows: Vec<Out> = (0..60)
        .map(|i| Out {
            key: (i % 2 == 0).then(|| format!("k{i}")),
            value: format!("v{i}"),
            partition: i % 3,
        })
        .collect();
    input.add_data(rows);
    query.process_all_available().unwrap();
    query.stop().unwrap();
    let expected: Vec<(i32, Option<String>, String)> = (0..60)
        .map(|i| {
            (
                i % 3,
                (i % 2 == 0).then(|| format!("k{i}")),
                format!("v{i}"),
            )
        })
        .collect();
    assert_eq!(sorted(read_all(&t, false)), sorted(expected));
}

#[test]
fn a_topic_column_routes_rows_and_keys_pick_partitions_as_java_does() {
    let (a, b) = (topic("sink-route-a", 1), topic("sink-route-b", 4));
    let input = MemoryStream::<Routed>::new();
    let query = read_stream(input.clone())
        .write_stream(Kafka::sink().bootstrap_servers(bootstrap()))
        .start()
        .unwrap();
    input.add_data([
        Routed {
            topic: a.clone(),
            value: b"to a".to_vec(),
        },
        Routed {
            topic: b.clone(),
            value: b"to b".to_vec(),
        },
    ]);
    query.process_all_available().unwrap();
    query.stop().unwrap();
    assert_eq!(read_all(&a, false), [(0, None, "to a".to_string())]);
    assert_eq!(read_all(&b, false).len(), 1);
    // Keyed rows: murmur2(key) % partitions, the Java producer's default partitioner.
    #[derive(Record)]
    struct Keyed {
        key: String,
        value: String,
    }
    let input = MemoryStream::<Keyed>::new();
    let query = read_stream(input.clone())
        .write_stream(Kafka::sink().bootstrap_servers(bootstrap()).topic(&b))
        .start()
        .unwrap();
    input.add_data(["21", "foobar", "abc"].map(|k| Keyed {
        key: k.into(),
        value: k.into(),
    }));
    query.process_all_available().unwrap();
    query.stop().unwrap();
    // Kafka's murmur2 of these keys (UtilsTest) are -973932308, -790332482 and 479470107;
    // toPositive(h) % 4.
    let part = |h: i32| (h & 0x7fff_ffff) % 4;
    let mut got: Vec<(i32, String)> = read_all(&b, false)
        .into_iter()
        .filter_map(|(p, k, _)| k.map(|k| (p, k)))
        .collect();
    got.sort();
    let mut expected = vec![
        (part(-973932308), "21".to_string()),
        (part(-790332482), "foobar".to_string()),
        (part(479470107), "abc".to_string()),
    ];
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn columns_are_checked_as_spark_checks_them() {
    let check = |e: StreamError, expected: &str| {
        assert!(
            e.to_string().contains(expected),
            "expected `{expected}` in: {e}"
        )
    };
    let e = read_stream(MemoryStream::<NoValue>::new())
        .write_stream(Kafka::sink().bootstrap_servers(bootstrap()).topic("t"))
        .start()
        .err()
        .expect("refused at start");
    check(e, "Required attribute 'value' not found");
    let e = read_stream(MemoryStream::<NumberValue>::new())
        .write_stream(Kafka::sink().bootstrap_servers(bootstrap()).topic("t"))
        .start()
        .err()
        .expect("refused at start");
    check(e, "value attribute type must be a String or BinaryType");
    let e = read_stream(MemoryStream::<Out>::new())
        .write_stream(Kafka::sink().bootstrap_servers(bootstrap()))
        .start()
        .err()
        .expect("refused at start");
    check(
        e,
        "topic option required when no 'topic' attribute is present",
    );
    let e = read_stream(MemoryStream::<Out>::new())
        .write_stream(
            Kafka::sink()
                .bootstrap_servers(bootstrap())
                .topic("t")
                .option("kafka.value.serializer", "x"),
        )
        .start()
        .err()
        .expect("refused at start");
    check(e, "Kafka option 'value.serializer' is not supported");
}

#[test]
fn exactly_once_commits_each_batch_in_transactions_that_read_committed_consumers_see() {
    let t = topic("sink-eos", 2);
    let dir = temp_dir("sink-eos-checkpoint");
    let input = MemoryStream::<Out>::new();
    let sink = || {
        Kafka::sink()
            .bootstrap_servers(bootstrap())
            .topic(&t)
            .exactly_once(true)
    };
    let query = Session::with_workers(2)
        .start(
            read_stream(input.clone())
                .write_stream(sink())
                .checkpoint_location(&dir),
        )
        .unwrap();
    let batch = |from: i32| -> Vec<Out> {
        (from..from + 10)
            .map(|i| Out {
                key: None,
                value: format!("v{i}"),
                partition: i % 2,
            })
            .collect()
    };
    input.add_data(batch(0));
    query.process_all_available().unwrap();
    input.add_data(batch(10));
    query.process_all_available().unwrap();
    query.stop().unwrap();
    let values = |committed: bool| -> Vec<String> {
        sorted(
            read_all(&t, committed)
                .into_iter()
                .map(|(_, _, v)| v)
                .collect(),
        )
    };
    let expected: Vec<String> = sorted((0..20).map(|i| format!("v{i}")).collect());
    assert_eq!(values(true), expected);
    // The sink logged each batch's transactions, committed.
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("sink/txn/1")).unwrap()).unwrap();
    assert_eq!(log["committed"], serde_json::Value::Bool(true));
    let ids: Vec<String> = log["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transactional_id"].as_str().unwrap().to_string())
        .collect();
    // Two workers write, each in its transaction named by its key-group range.
    let query_id: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metadata")).unwrap()).unwrap();
    let id = query_id["id"].as_str().unwrap();
    for (i, id_) in sorted(ids).iter().enumerate() {
        let range = ["kg0-64", "kg64-128"][i];
        assert_eq!(id_, &format!("stream-kafka-{id}-{range}"));
    }
}
