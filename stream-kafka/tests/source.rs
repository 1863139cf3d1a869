//! The Kafka source against the real broker: Spark's options, schema and offsets.

mod common;

use common::*;
use std::time::Duration;
use stream_kafka::{Kafka, KafkaRow};
use stream_runtime::prelude::*;
use stream_runtime::source::{IntoSource, ReadLimit};

fn values(rows: &[KafkaRow]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap()).unwrap())
        .collect();
    v.sort();
    v
}

fn run_to_end(
    source: stream_kafka::KafkaSourceBuilder,
    workers: usize,
) -> (Vec<KafkaRow>, StreamingQuery) {
    let sink = MemorySink::new();
    let query = Session::with_workers(workers)
        .start(read_stream::<KafkaRow>(source).write_stream(sink.clone()))
        .unwrap();
    query.process_all_available().unwrap();
    (sink.rows(), query)
}

#[test]
fn reads_every_partition_on_two_workers_with_sparks_schema_and_offsets() {
    let t = topic("src-all", 3);
    let records: Vec<(i32, Option<String>, String)> = (0..300)
        .map(|i| (i % 3, Some(format!("k{i}")), format!("v{i:03}")))
        .collect();
    let refs: Vec<(i32, Option<&str>, &str)> = records
        .iter()
        .map(|(p, k, v)| (*p, k.as_deref(), v.as_str()))
        .collect();
    write(&t, &refs);
    let source = Kafka::source()
        .bootstrap_servers(bootstrap())
        .subscribe(&t)
        .starting_offsets("earliest");
    let (rows, query) = run_to_end(source, 2);
    let expected: Vec<String> = (0..300).map(|i| format!("v{i:03}")).collect();
    assert_eq!(values(&rows), expected);
    // Spark's schema: the partition a record was written to, its offset there, its key.
    for r in &rows {
        let i: i32 = String::from_utf8(r.value.clone().unwrap()).unwrap()[1..]
            .parse()
            .unwrap();
        assert_eq!(r.topic, t);
        assert_eq!(r.partition, i % 3);
        assert_eq!(r.offset, i64::from(i / 3));
        assert_eq!(r.key.as_deref(), Some(format!("k{i}").as_bytes()));
        assert_eq!(r.timestamp_type, 0);
        assert!(r.headers.is_none());
    }
    let progress = query.last_progress().unwrap();
    let expected_end: serde_json::Value =
        serde_json::from_str(&format!(r#"{{"{t}":{{"0":100,"1":100,"2":100}}}}"#)).unwrap();
    let ends: Vec<serde_json::Value> = query
        .recent_progress()
        .iter()
        .map(|p| p.sources[0].end_offset.clone())
        .collect();
    assert!(ends.contains(&expected_end), "{ends:?}");
    assert!(progress.sources[0].description.contains(&t));
    query.stop().unwrap();
}

#[test]
fn latest_json_and_timestamp_starting_offsets() {
    let t = topic("src-start", 2);
    write(
        &t,
        &[(0, None, "old0"), (1, None, "old1"), (0, None, "old2")],
    );
    // Latest (the default): only what comes after the query started.
    let sink = MemorySink::new();
    let query =
        read_stream::<KafkaRow>(Kafka::source().bootstrap_servers(bootstrap()).subscribe(&t))
            .write_stream(sink.clone())
            .start()
            .unwrap();
    query.process_all_available().unwrap();
    write(&t, &[(1, None, "new0")]);
    std::thread::sleep(Duration::from_millis(200));
    query.process_all_available().unwrap();
    assert_eq!(values(&sink.rows()), ["new0"]);
    query.stop().unwrap();
    // JSON: partition 0 from offset 1, partition 1 from the end (-1).
    let json = format!(r#"{{"{t}":{{"0":1,"1":-1}}}}"#);
    let (rows, q) = run_to_end(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_offsets(json),
        1,
    );
    q.stop().unwrap();
    assert_eq!(values(&rows), ["old2"]);
    // JSON that leaves a partition out: Spark's error.
    let json = format!(r#"{{"{t}":{{"0":1}}}}"#);
    let q = read_stream::<KafkaRow>(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_offsets(json),
    )
    .write_stream(MemorySink::new())
    .start()
    .unwrap();
    let e = q.await_termination().unwrap_err().to_string();
    assert!(e.contains("you must specify all TopicPartitions"), "{e}");
    // A timestamp after every record: strategy `latest` starts at the end, `error` fails.
    let future = i64::MAX / 2;
    let (rows, q) = run_to_end(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_timestamp(future)
            .starting_offsets_by_timestamp_strategy("latest"),
        1,
    );
    q.stop().unwrap();
    assert!(rows.is_empty());
    let q = read_stream::<KafkaRow>(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_timestamp(future),
    )
    .write_stream(MemorySink::new())
    .start()
    .unwrap();
    let e = q.await_termination().unwrap_err().to_string();
    assert!(
        e.contains("No offset matched from request of topic-partition"),
        "{e}"
    );
    // A timestamp of 0: everything.
    let (rows, q) = run_to_end(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_timestamp(0),
        1,
    );
    q.stop().unwrap();
    assert_eq!(values(&rows), ["new0", "old0", "old1", "old2"]);
}

#[test]
fn max_offsets_per_trigger_splits_in_proportion() {
    let t = topic("src-max", 2);
    let mut records = Vec::new();
    for i in 0..90 {
        records.push((0, None, "a"));
        if i < 30 {
            records.push((1, None, "b"));
        }
    }
    write(&t, &records);
    let source = Kafka::source()
        .bootstrap_servers(bootstrap())
        .subscribe(&t)
        .starting_offsets("earliest")
        .max_offsets_per_trigger(40)
        .build();
    let split = stream_runtime::source::Source::plan(&source, None, &ReadLimit::Default)
        .unwrap()
        .unwrap();
    // 40 of 120 waiting: 90/120 * 40 = 30 from partition 0, 30/120 * 40 = 10 from partition 1.
    let expected: serde_json::Value =
        serde_json::from_str(&format!(r#"{{"{t}":{{"0":30,"1":10}}}}"#)).unwrap();
    assert_eq!(split.end, expected);
    let (rows, q) = run_to_end(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_offsets("earliest")
            .max_offsets_per_trigger(40),
        1,
    );
    let sizes: Vec<u64> = q
        .recent_progress()
        .iter()
        .map(|p| p.num_input_rows)
        .filter(|n| *n > 0)
        .collect();
    q.stop().unwrap();
    assert_eq!(rows.len(), 120);
    assert_eq!(sizes, [40, 40, 40]);
}

#[test]
fn min_offsets_per_trigger_waits_until_enough_or_the_delay() {
    let t = topic("src-min", 1);
    write(&t, &[(0, None, "1"), (0, None, "2")]);
    let source = Kafka::source()
        .bootstrap_servers(bootstrap())
        .subscribe(&t)
        .starting_offsets("earliest")
        .min_offsets_per_trigger(3)
        .max_trigger_delay("1s")
        .into_source();
    // The first trigger fires (no batch yet, as Spark's clock starts at 0).
    let first = source.plan(None, &ReadLimit::Default).unwrap().unwrap();
    write(&t, &[(0, None, "3")]);
    // One new offset, less than 3, and the delay has not passed: no batch.
    assert_eq!(
        source.plan(Some(&first.end), &ReadLimit::Default).unwrap(),
        None
    );
    std::thread::sleep(Duration::from_millis(1100));
    let late = source
        .plan(Some(&first.end), &ReadLimit::Default)
        .unwrap()
        .unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&format!(r#"{{"{t}":{{"0":3}}}}"#)).unwrap();
    assert_eq!(late.end, expected);
}

#[test]
fn a_new_topic_matching_the_pattern_is_picked_up_from_its_start() {
    let prefix = unique("src-pattern");
    let first = format!("{prefix}-a");
    common::client().create_topic(&first, 1, &[]).unwrap();
    write(&first, &[(0, None, "a1")]);
    let sink = MemorySink::new();
    let query = read_stream::<KafkaRow>(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe_pattern(format!("{prefix}-.*"))
            .starting_offsets("earliest"),
    )
    .write_stream(sink.clone())
    .start()
    .unwrap();
    query.process_all_available().unwrap();
    let second = format!("{prefix}-b");
    common::client().create_topic(&second, 2, &[]).unwrap();
    write(&second, &[(0, None, "b1"), (1, None, "b2")]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sink.rows().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    query.stop().unwrap();
    assert_eq!(values(&sink.rows()), ["a1", "b1", "b2"]);
}

#[test]
fn a_topic_that_does_not_exist_is_a_clear_error() {
    let missing = unique("src-missing");
    let q = read_stream::<KafkaRow>(
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&missing),
    )
    .write_stream(MemorySink::new())
    .start()
    .unwrap();
    let e = q.await_termination().unwrap_err().to_string();
    assert!(
        e.contains(&format!("Kafka topic `{missing}` does not exist")),
        "{e}"
    );
}

#[test]
fn options_are_checked_as_spark_checks_them() {
    let cases: Vec<(stream_kafka::KafkaSourceBuilder, &str)> = vec![
        (
            Kafka::source().bootstrap_servers(bootstrap()),
            "One of the following options must be specified",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .assign(r#"{"a":[0]}"#),
            "Only one of the following options",
        ),
        (
            Kafka::source().subscribe("a"),
            "Option 'kafka.bootstrap.servers' must be specified",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .option("kafka.auto.offset.reset", "earliest"),
            "Kafka option 'auto.offset.reset' is not supported",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .option("kafka.value.deserializer", "x"),
            "Kafka option 'value.deserializer' is not supported",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .option("kafka.enable.auto.commit", "true"),
            "Kafka option 'enable.auto.commit' is not supported",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .option("endingOffsets", "latest"),
            "ending offset not valid in streaming queries",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .option("startingOfsets", "latest"),
            "unknown Kafka source option `startingOfsets`",
        ),
        (
            Kafka::source()
                .bootstrap_servers(bootstrap())
                .subscribe("a")
                .min_offsets_per_trigger(10)
                .max_offsets_per_trigger(5),
            "The value of minOffsetPerTrigger(10) is higher than the maxOffsetsPerTrigger(5).",
        ),
    ];
    for (builder, expected) in cases {
        let q = read_stream::<KafkaRow>(builder)
            .write_stream(MemorySink::new())
            .start()
            .unwrap();
        let e = q.await_termination().unwrap_err().to_string();
        assert!(e.contains(expected), "expected `{expected}` in: {e}");
    }
}
