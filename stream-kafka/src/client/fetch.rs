//! Reading a partition's records between two offsets: Fetch requests to the leader, record
//! batches decoded by `kafka-protocol`, and, when reading committed records, the records of
//! aborted transactions left out as Kafka's consumer leaves them out (by the aborted
//! transactions the broker lists and the abort markers in the log).

use super::{version, Client, KResult, KafkaError, OffsetSpec, TopicPartition};
use bytes::{Buf, Bytes};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Record, RecordBatchDecoder};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// What reading a range found besides its records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RangeStats {
    /// Records passed on.
    pub records: u64,
    /// Offsets of the range that no longer exist (deleted by retention, or a topic deleted and
    /// created again), skipped because `fail_on_data_loss` is off.
    pub offsets_lost: u64,
}

/// What to do when offsets of the range are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDataLoss {
    /// Fail with an error that names the partition and the offsets.
    Fail,
    /// Skip them and count them.
    Skip,
}

/// Spark's advice in a data-loss error (`KafkaSourceProvider.INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE`).
pub(crate) const FAIL_ON_DATA_LOSS_TRUE: &str = "Some data may have been lost because they are \
    not available in Kafka any more; either the data was aged out by Kafka or the topic may have \
    been deleted before all the data in the topic was processed. If you don't want your \
    streaming query to fail on such cases, set the source option `fail_on_data_loss` to `false`.";

/// How long reading a range may see no progress before it fails (Spark's
/// `kafkaConsumer.pollTimeoutMs`, 120 s).
pub(crate) const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(120);

impl Client {
    /// Reads the records of `tp` at offsets `[from, until)`, in offset order, passing each to
    /// `emit`. Offsets that are gone follow `on_loss`; a range that stops making progress for
    /// `poll_timeout` fails.
    pub fn read_range(
        &mut self,
        tp: &TopicPartition,
        from: i64,
        until: i64,
        on_loss: OnDataLoss,
        poll_timeout: Duration,
        emit: &mut dyn FnMut(&Record),
    ) -> KResult<RangeStats> {
        let mut stats = RangeStats::default();
        let mut next = from;
        let mut last_progress = Instant::now();
        while next < until {
            let what = || {
                format!(
                    "fetching topic `{}` partition {} at offset {next}",
                    tp.0, tp.1
                )
            };
            let fetched = self.retry(&what, |c| c.fetch_once(tp, next))?;
            let data = match fetched {
                Fetched::Data(data) => data,
                Fetched::OutOfRange => {
                    let lost_to = self.lost_until(tp, next, until)?;
                    let message = format!(
                        "Kafka topic `{}` partition {}: offsets {next} to {} were planned for \
                         this batch but are no longer available (the log now starts at {lost_to})",
                        tp.0,
                        tp.1,
                        until - 1
                    );
                    if on_loss == OnDataLoss::Fail {
                        return Err(KafkaError::Other(format!(
                            "{message}. {FAIL_ON_DATA_LOSS_TRUE}"
                        )));
                    }
                    stats.offsets_lost += (lost_to.min(until) - next) as u64;
                    next = lost_to.min(until);
                    continue;
                }
            };
            let before = next;
            next = self.decode(tp, &data, next, until, &mut stats, emit)?;
            if next > before {
                last_progress = Instant::now();
            } else if data.end <= next {
                // The log ends before the planned range does: the records were deleted (a topic
                // deleted and created again).
                let message = format!(
                    "Kafka topic `{}` partition {}: offsets {next} to {} were planned for this \
                     batch but the partition now ends at {}",
                    tp.0,
                    tp.1,
                    until - 1,
                    data.end
                );
                if on_loss == OnDataLoss::Fail {
                    return Err(KafkaError::Other(format!(
                        "{message}. {FAIL_ON_DATA_LOSS_TRUE}"
                    )));
                }
                stats.offsets_lost += (until - next) as u64;
                next = until;
            } else if last_progress.elapsed() > poll_timeout {
                return Err(KafkaError::Other(format!(
                    "Kafka topic `{}` partition {}: no records from offset {next} (planned up to \
                     {until}) within {} ms (kafkaConsumer.pollTimeoutMs)",
                    tp.0,
                    tp.1,
                    poll_timeout.as_millis()
                )));
            }
        }
        Ok(stats)
    }

    /// Where the log of `tp` now starts, once offset `at` turned out to be out of range.
    fn lost_until(&mut self, tp: &TopicPartition, at: i64, until: i64) -> KResult<i64> {
        let tps = [tp.clone()];
        let earliest = self.list_offsets(&tps, OffsetSpec::Earliest)?;
        let start = earliest.get(tp).copied().flatten().unwrap_or(until);
        // An offset past the end (a topic created again) is lost up to the planned end.
        Ok(if start <= at { until } else { start })
    }

    fn fetch_once(&mut self, tp: &TopicPartition, offset: i64) -> KResult<Fetched> {
        let leader = self.leader(tp)?;
        let req = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(self.config.fetch_max_wait.as_millis() as i32)
            .with_min_bytes(1)
            .with_max_bytes(self.config.fetch_max_bytes)
            .with_isolation_level(i8::from(self.config.read_committed))
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(TopicName(StrBytes::from_string(tp.0.clone())))
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(tp.1)
                    .with_fetch_offset(offset)
                    .with_current_leader_epoch(-1)
                    .with_last_fetched_epoch(-1)
                    .with_log_start_offset(-1)
                    .with_partition_max_bytes(self.config.partition_fetch_bytes)])]);
        let resp = self.send(leader, &req, version::FETCH)?;
        let context = || format!("fetching topic `{}` partition {}", tp.0, tp.1);
        if let Some(e) = KafkaError::broker(resp.error_code, context()) {
            return Err(e);
        }
        let part = resp
            .responses
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|p| p.partition_index == tp.1)
            .ok_or_else(|| KafkaError::Protocol(format!("{}: no data in the answer", context())))?;
        match ResponseError::try_from_code(part.error_code) {
            None => {}
            Some(ResponseError::OffsetOutOfRange) => return Ok(Fetched::OutOfRange),
            Some(error) => {
                return Err(KafkaError::Broker {
                    error,
                    context: context(),
                })
            }
        }
        let end = if self.config.read_committed && part.last_stable_offset >= 0 {
            part.last_stable_offset
        } else {
            part.high_watermark
        };
        let mut aborted: Vec<(i64, i64)> = part
            .aborted_transactions
            .unwrap_or_default()
            .iter()
            .map(|a| (a.first_offset, a.producer_id.0))
            .collect();
        aborted.sort_unstable();
        Ok(Fetched::Data(FetchData {
            records: part.records.unwrap_or_default(),
            end,
            aborted,
        }))
    }

    /// Passes on the records of `data` in `[next, until)`; returns the next offset to fetch.
    fn decode(
        &self,
        tp: &TopicPartition,
        data: &FetchData,
        mut next: i64,
        until: i64,
        stats: &mut RangeStats,
        emit: &mut dyn FnMut(&Record),
    ) -> KResult<i64> {
        let mut buf = data.records.clone();
        let mut aborted = data.aborted.iter().peekable();
        let mut aborting: HashSet<i64> = HashSet::new();
        // Each batch: base offset (8), length (4), then `length` bytes; the last batch of a
        // response may be cut short.
        while buf.remaining() >= 12 {
            let base = i64::from_be_bytes(buf[..8].try_into().expect("8 bytes"));
            let len = i32::from_be_bytes(buf[8..12].try_into().expect("4 bytes"));
            if len < 49 || buf.remaining() < 12 + len as usize {
                break;
            }
            let mut batch = buf.split_to(12 + len as usize);
            let last = base + i64::from(i32::from_be_bytes(batch[23..27].try_into().expect("4")));
            let attributes = i16::from_be_bytes(batch[21..23].try_into().expect("2 bytes"));
            let (transactional, control) = (attributes & 0x10 != 0, attributes & 0x20 != 0);
            let producer = i64::from_be_bytes(batch[43..51].try_into().expect("8 bytes"));
            if last < next {
                continue;
            }
            let set = RecordBatchDecoder::decode(&mut batch).map_err(|e| {
                KafkaError::Protocol(format!(
                    "Kafka topic `{}` partition {}: cannot decode the record batch at offset \
                     {base}: {e}{}",
                    tp.0,
                    tp.1,
                    if e.to_string().to_lowercase().contains("lz4")
                        || e.to_string().to_lowercase().contains("zstd")
                    {
                        " (build stream-kafka with its `lz4` or `zstd` feature to read it)"
                    } else {
                        ""
                    }
                ))
            })?;
            let mut skip = control;
            if self.config.read_committed && producer >= 0 {
                // Transactions that aborted and began at or before this batch.
                while let Some((first, pid)) = aborted.peek() {
                    if *first > last {
                        break;
                    }
                    aborting.insert(*pid);
                    aborted.next();
                }
                if control {
                    // An abort marker ends that producer's aborted transaction.
                    let abort = set.records.first().is_some_and(|r| {
                        r.key
                            .as_ref()
                            .is_some_and(|k| k.len() >= 4 && k[2..4] == [0, 0])
                    });
                    if abort {
                        aborting.remove(&producer);
                    }
                } else if transactional && aborting.contains(&producer) {
                    skip = true;
                }
            }
            if !skip {
                for r in &set.records {
                    if r.offset >= next && r.offset < until {
                        stats.records += 1;
                        emit(r);
                    }
                }
            }
            next = next.max(last + 1);
            if next >= until {
                return Ok(until);
            }
        }
        Ok(next)
    }
}

/// One partition's answer to a Fetch.
struct FetchData {
    records: Bytes,
    /// The end of what a consumer may read: the high watermark, or the last stable offset.
    end: i64,
    /// Aborted transactions in the data: (first offset, producer id), by first offset.
    aborted: Vec<(i64, i64)>,
}

enum Fetched {
    Data(FetchData),
    OutOfRange,
}

/// Groups partitions by topic, for requests.
pub(crate) fn by_topic(tps: &[TopicPartition]) -> BTreeMap<&str, Vec<i32>> {
    let mut out: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in tps {
        out.entry(t).or_default().push(*p);
    }
    out
}
