//! Faults against real brokers: offsets deleted by retention (`fail_on_data_loss`), and a broker
//! that stops mid-run (bounded retries, a clear error, then an exactly-once resume).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use stream_kafka::client::{Client, Config};
use stream_kafka::{Kafka, KafkaRow};
use stream_runtime::prelude::*;

fn values(rows: &[KafkaRow]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap()).unwrap())
        .collect();
    v.sort();
    v
}

/// Runs a query reading `source` on `checkpoint` until it has read what is there; returns its
/// rows and its handle (stopped by the caller), or the error that ended it.
fn run(
    source: stream_kafka::KafkaSourceBuilder,
    checkpoint: &Path,
) -> Result<(Vec<KafkaRow>, StreamingQuery), StreamError> {
    let sink = MemorySink::new();
    let query = read_stream::<KafkaRow>(source)
        .write_stream(sink.clone())
        .checkpoint_location(checkpoint)
        .start()?;
    query.process_all_available()?;
    Ok((sink.rows(), query))
}

#[test]
fn offsets_deleted_by_retention_fail_the_query_or_are_skipped_and_counted() {
    let t = topic("loss", 1);
    let cp = temp_dir("loss-cp");
    let source = || {
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(&t)
            .starting_offsets("earliest")
    };
    write(&t, &[(0, None, "a0"), (0, None, "a1"), (0, None, "a2")]);
    let (rows, q) = run(source(), &cp).unwrap();
    assert_eq!(values(&rows), ["a0", "a1", "a2"]);
    q.stop().unwrap();

    // Offsets 3..10 written, 3..6 deleted while the query was down.
    let more: Vec<String> = (3..10).map(|i| format!("a{i}")).collect();
    let refs: Vec<(i32, Option<&str>, &str)> = more.iter().map(|v| (0, None, v.as_str())).collect();
    write(&t, &refs);
    client().delete_records(&t, 0, 6).unwrap();

    // failOnDataLoss (default true): a clear error, Spark's advice.
    let e = match run(source(), &cp) {
        Ok((_, q)) => q.await_termination().unwrap_err(),
        Err(e) => e,
    }
    .to_string();
    assert!(e.contains(&t), "names the topic: {e}");
    assert!(e.contains("fail_on_data_loss"), "says how to go on: {e}");

    // Skipped and counted: the rest is read once.
    let (rows, q) = run(source().fail_on_data_loss(false), &cp).unwrap();
    assert_eq!(values(&rows), ["a6", "a7", "a8", "a9"]);
    let lost: u64 = q
        .recent_progress()
        .iter()
        .filter_map(|p| p.sources[0].metrics.get("numOffsetsLost"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(lost, 3);
    q.stop().unwrap();
}

#[test]
fn a_restart_with_another_subscription_is_refused() {
    let (a, b) = (topic("sub-a", 1), topic("sub-b", 1));
    write(&a, &[(0, None, "a0")]);
    let cp = temp_dir("sub-cp");
    let source = |t: &str| {
        Kafka::source()
            .bootstrap_servers(bootstrap())
            .subscribe(t)
            .starting_offsets("earliest")
    };
    let (rows, q) = run(source(&a), &cp).unwrap();
    assert_eq!(values(&rows), ["a0"]);
    q.stop().unwrap();
    // A rate limit may change.
    let (_, q) = run(source(&a).max_offsets_per_trigger(10), &cp).unwrap();
    q.stop().unwrap();
    let e = match run(source(&b), &cp) {
        Ok((_, q)) => q.await_termination().unwrap_err(),
        Err(e) => e,
    }
    .to_string();
    assert!(
        e.contains(&format!("KafkaV2[Subscribe[{a}]]")) && e.contains(&b),
        "names both subscriptions: {e}"
    );
}

/// A second broker of our own (the shared one must keep running for the other tests), on its
/// own port and directory, sharing the first one's jars; stopped and wiped when dropped.
struct OwnBroker {
    dir: PathBuf,
    port: u16,
}

impl OwnBroker {
    fn script(&self, name: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka/").to_string() + name)
            .env("STREAM_KAFKA_DIR", &self.dir)
            .env("STREAM_KAFKA_PORT", self.port.to_string());
        c
    }

    fn start(&self) -> String {
        let out = self.script("start.sh").output().unwrap();
        assert!(
            out.status.success(),
            "second broker: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .to_string()
    }

    fn stop(&self) {
        let out = self.script("stop.sh").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = self.script("stop.sh").arg("--wipe").output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_broker_stopped_mid_run_fails_the_query_in_bounded_time_and_a_restart_resumes_exactly_once() {
    bootstrap(); // the shared broker's jars are fetched
    let jars = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.kafka/libs"));
    let broker = OwnBroker {
        dir: temp_dir("own-broker"),
        port: 19192,
    };
    std::os::unix::fs::symlink(jars.canonicalize().unwrap(), broker.dir.join("libs")).unwrap();
    let address = broker.start();
    let mut c = Client::new(Config::new(&address));
    let t = unique("down");
    c.create_topic(&t, 2, &[]).unwrap();
    let produce = |c: &mut Client, from: usize, to: usize| {
        let mut p = stream_kafka::client::produce::Producer::new(None);
        for i in from..to {
            let record = stream_kafka::client::produce::OutRecord {
                partition: Some((i % 2) as i32),
                value: Some(format!("r{i:02}").into()),
                ..Default::default()
            };
            p.send(c, &t, record).unwrap();
        }
        p.flush(c).unwrap();
    };
    produce(&mut c, 0, 10);
    let cp = temp_dir("down-cp");
    let source = || {
        Kafka::source()
            .bootstrap_servers(&address)
            .subscribe(&t)
            .starting_offsets("earliest")
            .option("kafka.default.api.timeout.ms", "4000")
            .option("kafka.request.timeout.ms", "2000")
    };
    let sink = MemorySink::new();
    let query = read_stream::<KafkaRow>(source())
        .write_stream(sink.clone())
        .checkpoint_location(&cp)
        .trigger(Trigger::ProcessingTime(100))
        .start()
        .unwrap();
    query.process_all_available().unwrap();
    let first = values(&sink.rows());
    assert_eq!(first.len(), 10);

    broker.stop();
    let stopped = Instant::now();
    let e = query.await_termination().unwrap_err().to_string();
    let took = stopped.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "the query failed only after {took:?}"
    );
    assert!(e.contains(&address), "names the broker: {e}");
    assert!(e.contains("retries exhausted"), "says it retried: {e}");

    // The broker back, more records: the restarted query reads each record once in all.
    let address_again = broker.start();
    assert_eq!(address_again, address);
    let mut c = Client::new(Config::new(&address));
    produce(&mut c, 10, 20);
    let (rows, q) = run(source(), &cp).unwrap();
    q.stop().unwrap();
    let mut all = first;
    all.extend(values(&rows));
    all.sort();
    let want: Vec<String> = (0..20).map(|i| format!("r{i:02}")).collect();
    assert_eq!(all, want);
}
