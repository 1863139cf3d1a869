//! Writing records: an idempotent producer (a producer id, and sequence numbers per partition
//! so that a retried request is not written twice), transactional when given a transactional
//! id. Records are buffered per partition and sent in one Produce request per leader when a
//! partition's buffer is full and at [`Producer::flush`].

use super::{version, Client, KResult, KafkaError, TopicPartition};
use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, TopicName, TransactionalId};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

/// One record to write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutRecord {
    /// The partition, or `None` for the default partitioner (murmur2 of the key, as Kafka's
    /// Java producer; a partition per batch for records without a key).
    pub partition: Option<i32>,
    /// The key.
    pub key: Option<Bytes>,
    /// The value.
    pub value: Option<Bytes>,
    /// The headers.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// A producer: its id and epoch once initialised, its sequence numbers, its buffers.
pub struct Producer {
    /// The transactional id, for a transactional producer.
    pub(crate) transactional_id: Option<String>,
    pub(crate) producer_id: i64,
    pub(crate) epoch: i16,
    sequences: HashMap<TopicPartition, i32>,
    buffers: BTreeMap<TopicPartition, Buffer>,
    /// Partitions added to the open transaction.
    pub(crate) in_transaction: HashSet<TopicPartition>,
    partition_counts: HashMap<String, i32>,
    /// For records without key: the partition of the current batch, by topic.
    sticky: HashMap<String, i32>,
    /// Records acknowledged by the brokers.
    pub records_written: u64,
}

#[derive(Default)]
struct Buffer {
    records: Vec<Record>,
    bytes: usize,
}

impl Producer {
    /// An idempotent producer (`None`) or a transactional one.
    pub fn new(transactional_id: Option<String>) -> Producer {
        Producer {
            transactional_id,
            producer_id: -1,
            epoch: -1,
            sequences: HashMap::new(),
            buffers: BTreeMap::new(),
            in_transaction: HashSet::new(),
            partition_counts: HashMap::new(),
            sticky: HashMap::new(),
            records_written: 0,
        }
    }

    /// The producer id (-1 before the first write or [`init`](Producer::init)).
    pub fn producer_id(&self) -> i64 {
        self.producer_id
    }

    /// The producer's epoch.
    pub fn epoch(&self) -> i16 {
        self.epoch
    }

    /// Buffers `record` for `topic`, sending full buffers.
    pub fn send(&mut self, client: &mut Client, topic: &str, record: OutRecord) -> KResult<()> {
        if self.producer_id < 0 {
            self.init(client)?;
        }
        let partition = match record.partition {
            Some(p) => p,
            None => self.choose(client, topic, record.key.as_deref())?,
        };
        let tp = (topic.to_string(), partition);
        let size = record.key.as_ref().map_or(0, |k| k.len())
            + record.value.as_ref().map_or(0, |v| v.len())
            + record
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()))
                .sum::<usize>()
            + 16;
        let buffer = self.buffers.entry(tp).or_default();
        buffer.bytes += size;
        buffer.records.push(Record {
            transactional: self.transactional_id.is_some(),
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: self.producer_id,
            producer_epoch: self.epoch,
            timestamp_type: TimestampType::Creation,
            offset: 0,
            sequence: 0,
            timestamp: now_ms(),
            key: record.key,
            value: record.value,
            headers: record
                .headers
                .into_iter()
                .map(|(k, v)| (StrBytes::from_string(k), v))
                .collect(),
        });
        if buffer.bytes >= client.config.batch_size {
            // A full batch ends the sticky partition of records without key.
            self.sticky.remove(topic);
            self.flush(client)?;
        }
        Ok(())
    }

    /// The partition of a record: murmur2 of its key, as Kafka's default partitioner.
    fn choose(&mut self, client: &mut Client, topic: &str, key: Option<&[u8]>) -> KResult<i32> {
        let count = match self.partition_counts.get(topic) {
            Some(c) => *c,
            None => {
                let topics = [topic.to_string()];
                let meta = client.metadata(Some(&topics))?;
                let count = match meta.get(topic) {
                    Some(Ok(parts)) if !parts.is_empty() => parts.len() as i32,
                    Some(Err(e)) => {
                        return Err(KafkaError::Other(format!(
                            "cannot write to Kafka topic `{topic}`: {e}{}",
                            if *e == ResponseError::UnknownTopicOrPartition {
                                " (the topic does not exist; create it first)"
                            } else {
                                ""
                            }
                        )))
                    }
                    _ => {
                        return Err(KafkaError::Other(format!(
                            "cannot write to Kafka topic `{topic}`: the broker sent no partitions"
                        )))
                    }
                };
                self.partition_counts.insert(topic.to_string(), count);
                count
            }
        };
        Ok(match key {
            Some(k) => (murmur2(k) & 0x7fff_ffff) % count,
            None => {
                let next = self.sticky.len() as i32;
                *self.sticky.entry(topic.to_string()).or_insert(next % count)
            }
        })
    }

    /// Gets a producer id (and, for a transactional id, fences its earlier users and aborts
    /// their open transaction).
    pub fn init(&mut self, client: &mut Client) -> KResult<()> {
        let (id, epoch) = client.init_producer_id(self.transactional_id.as_deref())?;
        self.producer_id = id;
        self.epoch = epoch;
        self.sequences.clear();
        self.in_transaction.clear();
        Ok(())
    }

    /// Sends every buffered record and waits until the brokers have them.
    pub fn flush(&mut self, client: &mut Client) -> KResult<()> {
        if self.buffers.is_empty() {
            return Ok(());
        }
        // Encode each partition's batch once, with its sequence numbers: a retried request
        // sends the same bytes, which the broker recognises as duplicates.
        let mut batches: Vec<(TopicPartition, Bytes, u64)> = Vec::new();
        for (tp, buffer) in std::mem::take(&mut self.buffers) {
            let seq = self.sequences.entry(tp.clone()).or_insert(0);
            let mut records = buffer.records;
            for (i, r) in records.iter_mut().enumerate() {
                r.offset = i as i64;
                r.sequence = seq.wrapping_add(i as i32);
            }
            *seq = seq.wrapping_add(records.len() as i32);
            let mut buf = BytesMut::with_capacity(buffer.bytes + 256);
            let options = RecordEncodeOptions {
                version: 2,
                compression: Compression::None,
            };
            RecordBatchEncoder::encode(&mut buf, records.iter(), &options).map_err(|e| {
                KafkaError::Protocol(format!("cannot encode records for `{}`: {e}", tp.0))
            })?;
            batches.push((tp, buf.freeze(), records.len() as u64));
        }
        if self.transactional_id.is_some() {
            let new: Vec<TopicPartition> = batches
                .iter()
                .map(|(tp, _, _)| tp.clone())
                .filter(|tp| !self.in_transaction.contains(tp))
                .collect();
            if !new.is_empty() {
                client.add_partitions_to_txn(self, &new)?;
                self.in_transaction.extend(new);
            }
        }
        let count: u64 = batches.iter().map(|b| b.2).sum();
        let n = batches.len();
        let what = || format!("writing {n} record batches");
        let transactional_id = self.transactional_id.clone();
        let mut pending = batches;
        client.retry(&what, |c| {
            pending = produce_once(c, transactional_id.as_deref(), std::mem::take(&mut pending))?;
            if pending.is_empty() {
                Ok(())
            } else {
                Err(KafkaError::Broker {
                    error: ResponseError::NotLeaderOrFollower,
                    context: format!("writing to {} partitions", pending.len()),
                })
            }
        })?;
        self.records_written += count;
        Ok(())
    }
}

type Batch = (TopicPartition, Bytes, u64);

/// Sends `batches` to their leaders; returns those to send again (their leader moved).
fn produce_once(
    client: &mut Client,
    transactional_id: Option<&str>,
    batches: Vec<Batch>,
) -> KResult<Vec<Batch>> {
    let mut by_leader: BTreeMap<i32, Vec<Batch>> = BTreeMap::new();
    let mut retry = Vec::new();
    for b in batches {
        match client.leader(&b.0) {
            Ok(l) => by_leader.entry(l).or_default().push(b),
            Err(e) if e.retriable() => retry.push(b),
            Err(e) => return Err(e),
        }
    }
    for (leader, batches) in by_leader {
        let mut topics: BTreeMap<&str, Vec<&Batch>> = BTreeMap::new();
        for b in &batches {
            topics.entry(&b.0 .0).or_default().push(b);
        }
        let req = ProduceRequest::default()
            .with_transactional_id(
                transactional_id.map(|t| TransactionalId(StrBytes::from_string(t.to_string()))),
            )
            .with_acks(client.config.acks)
            .with_timeout_ms(client.config.request_timeout.as_millis() as i32)
            .with_topic_data(
                topics
                    .iter()
                    .map(|(t, bs)| {
                        TopicProduceData::default()
                            .with_name(TopicName(StrBytes::from_string(t.to_string())))
                            .with_partition_data(
                                bs.iter()
                                    .map(|b| {
                                        PartitionProduceData::default()
                                            .with_index(b.0 .1)
                                            .with_records(Some(b.1.clone()))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        let resp = match client.send(leader, &req, version::PRODUCE) {
            Ok(r) => r,
            Err(e) if e.retriable() => {
                retry.extend(batches);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut failed: HashSet<TopicPartition> = HashSet::new();
        for t in resp.responses {
            let topic = t.name.0.to_string();
            for p in t.partition_responses {
                let tp = (topic.clone(), p.index);
                match ResponseError::try_from_code(p.error_code) {
                    // Written before, by a request whose answer was lost.
                    None | Some(ResponseError::DuplicateSequenceNumber) => {}
                    Some(e) if e.is_retriable() => {
                        failed.insert(tp);
                    }
                    Some(error) => {
                        let detail = p.error_message.map(|m| format!(": {}", m.as_str()));
                        return Err(KafkaError::Broker {
                            error,
                            context: format!(
                                "writing to Kafka topic `{topic}` partition {}{}{}",
                                p.index,
                                detail.unwrap_or_default(),
                                fenced_hint(error)
                            ),
                        });
                    }
                }
            }
        }
        retry.extend(batches.into_iter().filter(|b| failed.contains(&b.0)));
    }
    Ok(retry)
}

/// What a fencing error means here.
pub(crate) fn fenced_hint(error: ResponseError) -> &'static str {
    match error {
        ResponseError::ProducerFenced | ResponseError::InvalidProducerEpoch => {
            " (another writer with the same transactional id started: a second run of this query \
             on the same checkpoint, or a transaction the broker aborted after \
             kafka.transaction.timeout.ms)"
        }
        _ => "",
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), which its default
/// partitioner applies to keys: records with a key land where a Java producer puts them.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, b) in rest.iter().enumerate().rev() {
            h ^= u32::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

#[cfg(test)]
mod tests {
    use super::murmur2;

    #[test]
    fn murmur2_matches_kafkas_java_implementation() {
        // Kafka's own test vectors (clients/.../utils/UtilsTest.testMurmur2).
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (data, expected) in cases {
            assert_eq!(murmur2(data), expected, "{}", String::from_utf8_lossy(data));
        }
    }
}
