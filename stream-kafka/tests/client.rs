//! The client against a real broker: topics, writes, reads, transactions.

use bytes::Bytes;
use std::time::Duration;
use stream_kafka::client::fetch::OnDataLoss;
use stream_kafka::client::produce::{OutRecord, Producer};
use stream_kafka::client::txn::TxnHandle;
use stream_kafka::client::{Client, Config, OffsetSpec};

fn client(read_committed: bool) -> Client {
    let mut config = Config::new(&stream_kafka::test_broker());
    config.read_committed = read_committed;
    Client::new(config)
}

fn unique(name: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn values(c: &mut Client, topic: &str, partition: i32, until: i64) -> Vec<String> {
    let mut out = Vec::new();
    c.read_range(
        &(topic.to_string(), partition),
        0,
        until,
        OnDataLoss::Fail,
        Duration::from_secs(10),
        &mut |r| out.push(String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap()),
    )
    .unwrap();
    out
}

fn record(partition: i32, value: &str) -> OutRecord {
    OutRecord {
        partition: Some(partition),
        value: Some(Bytes::from(value.to_string())),
        ..OutRecord::default()
    }
}

#[test]
fn writes_and_reads_back_in_order() {
    let topic = unique("client-rw");
    let mut c = client(false);
    c.create_topic(&topic, 2, &[]).unwrap();
    let mut p = Producer::new(None);
    for i in 0..1000 {
        p.send(&mut c, &topic, record(i % 2, &format!("v{i}")))
            .unwrap();
    }
    p.flush(&mut c).unwrap();
    let tps = [(topic.clone(), 0), (topic.clone(), 1)];
    let latest = c.list_offsets(&tps, OffsetSpec::Latest).unwrap();
    assert_eq!(latest[&tps[0]], Some(500));
    assert_eq!(latest[&tps[1]], Some(500));
    let got = values(&mut c, &topic, 1, 500);
    let expected: Vec<String> = (0..1000)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("v{i}"))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn transactions_commit_by_handle_and_aborted_records_are_not_read_committed() {
    let topic = unique("client-txn");
    let mut c = client(true);
    c.create_topic(&topic, 1, &[]).unwrap();
    let id = unique("txn");
    // First transaction: aborted by a new producer with the same id (fencing).
    let mut p = Producer::new(Some(id.clone()));
    for i in 0..10 {
        p.send(&mut c, &topic, record(0, &format!("aborted{i}")))
            .unwrap();
    }
    p.flush(&mut c).unwrap();
    let mut p2 = Producer::new(Some(id.clone()));
    p2.init(&mut c).unwrap();
    for i in 0..5 {
        p2.send(&mut c, &topic, record(0, &format!("committed{i}")))
            .unwrap();
    }
    p2.flush(&mut c).unwrap();
    // Committed by another client, by handle, as the driver commits a worker's transaction.
    let handle = TxnHandle {
        transactional_id: id.clone(),
        producer_id: p2.producer_id(),
        epoch: p2.epoch(),
    };
    let mut driver = client(true);
    assert_eq!(
        driver.end_txn(&handle, true).unwrap(),
        stream_kafka::client::txn::TxnOutcome::Committed
    );
    // A second commit of the same transaction (a driver restarted mid-commit) is a commit.
    assert_eq!(
        driver.end_txn(&handle, true).unwrap(),
        stream_kafka::client::txn::TxnOutcome::Committed
    );
    let tp = (topic.clone(), 0);
    let end = c
        .list_offsets(std::slice::from_ref(&tp), OffsetSpec::Latest)
        .unwrap()[&tp]
        .unwrap();
    let got = values(&mut c, &topic, 0, end);
    let expected: Vec<String> = (0..5).map(|i| format!("committed{i}")).collect();
    assert_eq!(got, expected);
    // Read uncommitted, the aborted records are there too.
    let mut all = client(false);
    let end = all
        .list_offsets(std::slice::from_ref(&tp), OffsetSpec::Latest)
        .unwrap()[&tp]
        .unwrap();
    assert_eq!(values(&mut all, &topic, 0, end).len(), 15);
}
