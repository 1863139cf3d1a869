//! What the Kafka tests share: the broker, unique topic names, writing records.
#![allow(dead_code)]

use bytes::Bytes;
use stream_kafka::client::produce::{OutRecord, Producer};
use stream_kafka::client::{Client, Config};

/// The broker's bootstrap address (see `stream_kafka::test_broker`).
pub fn bootstrap() -> String {
    stream_kafka::test_broker()
}

/// A client of the test broker.
pub fn client() -> Client {
    Client::new(Config::new(&bootstrap()))
}

/// A name no other test (or earlier run) uses.
pub fn unique(name: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// A new topic with `partitions` partitions.
pub fn topic(name: &str, partitions: i32) -> String {
    let t = unique(name);
    client().create_topic(&t, partitions, &[]).unwrap();
    t
}

/// Writes `(partition, key, value)` records.
pub fn write(topic: &str, records: &[(i32, Option<&str>, &str)]) {
    let mut c = client();
    let mut p = Producer::new(None);
    for (partition, key, value) in records {
        p.send(
            &mut c,
            topic,
            OutRecord {
                partition: Some(*partition),
                key: key.map(|k| Bytes::from(k.to_string())),
                value: Some(Bytes::from(value.to_string())),
                headers: Vec::new(),
            },
        )
        .unwrap();
    }
    p.flush(&mut c).unwrap();
}

/// A fresh temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(unique(name));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
