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

/// Every record of `topic` (all partitions), read committed or not: (partition, key, value).
pub fn read_all(topic: &str, read_committed: bool) -> Vec<(i32, Option<String>, String)> {
    use stream_kafka::client::fetch::OnDataLoss;
    use stream_kafka::client::OffsetSpec;
    let mut config = Config::new(&bootstrap());
    config.read_committed = read_committed;
    let mut c = Client::new(config);
    let topics = [topic.to_string()];
    let parts = match c.metadata(Some(&topics)).unwrap().remove(topic).unwrap() {
        Ok(p) => p,
        Err(e) => panic!("topic {topic}: {e}"),
    };
    let tps: Vec<(String, i32)> = parts
        .iter()
        .map(|p| (topic.to_string(), p.partition))
        .collect();
    let ends = c.list_offsets(&tps, OffsetSpec::Latest).unwrap();
    let mut out = Vec::new();
    for tp in &tps {
        let end = ends[tp].unwrap_or(0);
        c.read_range(
            tp,
            0,
            end,
            OnDataLoss::Fail,
            std::time::Duration::from_secs(10),
            &mut |r| {
                out.push((
                    tp.1,
                    r.key
                        .as_ref()
                        .map(|k| String::from_utf8(k.to_vec()).unwrap()),
                    String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap(),
                ))
            },
        )
        .unwrap();
    }
    out
}
