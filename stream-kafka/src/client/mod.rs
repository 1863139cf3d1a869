//! A small, blocking Kafka client on `kafka-protocol`'s messages: metadata, offsets, fetching
//! (read committed or uncommitted), an idempotent or transactional producer, and a few admin
//! requests. Why our own client rather than rdkafka or rskafka: `docs/kafka.md`.
//!
//! Every operation retries what Kafka calls retriable (a leader moving, a coordinator loading, a
//! broker that does not answer) until [`Config::retry_timeout`] has passed, then fails with an
//! error that says what it was doing, where, and the last thing the broker said.

pub mod admin;
mod conn;
pub mod fetch;
pub mod produce;
pub mod txn;

use conn::{Conn, Request};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic},
    ApiKey, ApiVersionsRequest, BrokerId, ListOffsetsRequest, MetadataRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

/// A topic and a partition.
pub type TopicPartition = (String, i32);

/// The protocol versions this client speaks (all supported by Kafka 3.x and 4.x brokers).
pub(crate) mod version {
    pub const API_VERSIONS: i16 = 3;
    pub const METADATA: i16 = 12;
    pub const LIST_OFFSETS: i16 = 7;
    pub const FETCH: i16 = 12;
    pub const PRODUCE: i16 = 9;
    pub const FIND_COORDINATOR: i16 = 3;
    pub const INIT_PRODUCER_ID: i16 = 4;
    pub const ADD_PARTITIONS_TO_TXN: i16 = 3;
    pub const END_TXN: i16 = 3;
    pub const CREATE_TOPICS: i16 = 7;
    pub const DELETE_TOPICS: i16 = 4;
    pub const DELETE_RECORDS: i16 = 2;
}

/// What went wrong talking to Kafka.
#[derive(Clone, Debug, PartialEq)]
pub enum KafkaError {
    /// The connection to a broker failed or timed out.
    Io {
        /// The broker's address.
        addr: String,
        /// What the socket said.
        error: String,
    },
    /// A broker answered with an error code.
    Broker {
        /// The error.
        error: ResponseError,
        /// What it answered about (a topic, a partition, a transactional id).
        context: String,
    },
    /// A broker sent something this client cannot read.
    Protocol(String),
    /// Anything else (a missing topic, a retry budget spent), fully described.
    Other(String),
}

impl KafkaError {
    /// Whether trying again may help: a lost connection, or an error Kafka marks retriable.
    pub fn retriable(&self) -> bool {
        match self {
            KafkaError::Io { .. } => true,
            KafkaError::Broker { error, .. } => {
                error.is_retriable()
                    || matches!(
                        error,
                        ResponseError::ConcurrentTransactions
                            | ResponseError::CoordinatorLoadInProgress
                            | ResponseError::CoordinatorNotAvailable
                            | ResponseError::NotCoordinator
                    )
            }
            _ => false,
        }
    }

    pub(crate) fn broker(code: i16, context: impl Into<String>) -> Option<KafkaError> {
        ResponseError::try_from_code(code).map(|error| KafkaError::Broker {
            error,
            context: context.into(),
        })
    }
}

impl fmt::Display for KafkaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KafkaError::Io { addr, error } => write!(f, "Kafka broker {addr}: {error}"),
            KafkaError::Broker { error, context } => {
                write!(
                    f,
                    "{context}: the broker answered {error} ({})",
                    error.code()
                )
            }
            KafkaError::Protocol(m) | KafkaError::Other(m) => f.write_str(m),
        }
    }
}

/// Result of a client operation.
pub type KResult<T> = Result<T, KafkaError>;

/// The client's settings (the `kafka.*` options that apply to it).
#[derive(Clone, Debug)]
pub struct Config {
    /// `kafka.bootstrap.servers`: `host:port` of some brokers.
    pub bootstrap: Vec<String>,
    /// `kafka.client.id`.
    pub client_id: String,
    /// `kafka.request.timeout.ms`: how long one request waits for its answer (30 s).
    pub request_timeout: Duration,
    /// How long an operation keeps retrying before it fails (`kafka.default.api.timeout.ms`,
    /// 60 s).
    pub retry_timeout: Duration,
    /// `kafka.isolation.level`: read only committed records (`read_committed`) or all
    /// (`read_uncommitted`, the default).
    pub read_committed: bool,
    /// `kafka.fetch.max.bytes` (50 MiB).
    pub fetch_max_bytes: i32,
    /// `kafka.max.partition.fetch.bytes` (8 MiB).
    pub partition_fetch_bytes: i32,
    /// `kafka.fetch.max.wait.ms` (500 ms).
    pub fetch_max_wait: Duration,
    /// `kafka.acks`: -1 (`all`, the default), 1 or 0.
    pub acks: i16,
    /// `kafka.batch.size`: bytes of records per partition and produce request (1 MiB).
    pub batch_size: usize,
    /// `kafka.transaction.timeout.ms` (15 min): how long a transaction may stay open; a query
    /// restarted after a crash must commit its last batch within it.
    pub transaction_timeout: Duration,
}

impl Config {
    /// Defaults for brokers at `bootstrap`.
    pub fn new(bootstrap: &str) -> Config {
        Config {
            bootstrap: bootstrap
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            client_id: "stream-kafka".into(),
            request_timeout: Duration::from_secs(30),
            retry_timeout: Duration::from_secs(60),
            read_committed: false,
            fetch_max_bytes: 50 << 20,
            partition_fetch_bytes: 8 << 20,
            fetch_max_wait: Duration::from_millis(500),
            acks: -1,
            batch_size: 1 << 20,
            transaction_timeout: Duration::from_secs(900),
        }
    }
}

/// A partition as metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition's index.
    pub partition: i32,
    /// Its leader's node id (-1: none now).
    pub leader: i32,
}

/// A client of one Kafka cluster: a connection per broker, opened when first needed.
pub struct Client {
    pub(crate) config: Config,
    conns: HashMap<i32, Conn>,
    /// Known brokers: node id → `host:port`.
    brokers: HashMap<i32, String>,
    /// Known leaders.
    leaders: HashMap<TopicPartition, i32>,
}

/// The node id under which a bootstrap server's connection is kept until metadata names it.
const BOOTSTRAP_NODE: i32 = -1000;

impl Client {
    /// A client; it connects when first used.
    pub fn new(config: Config) -> Client {
        Client {
            config,
            conns: HashMap::new(),
            brokers: HashMap::new(),
            leaders: HashMap::new(),
        }
    }

    /// The bootstrap servers, for messages.
    pub fn bootstrap(&self) -> String {
        self.config.bootstrap.join(",")
    }

    /// Runs `op` until it succeeds, fails with an error that is not retriable, or the retry
    /// budget is spent; `what` says what it does, for the final error.
    pub(crate) fn retry<T>(
        &mut self,
        what: &dyn Fn() -> String,
        mut op: impl FnMut(&mut Client) -> KResult<T>,
    ) -> KResult<T> {
        let started = Instant::now();
        let deadline = started + self.config.retry_timeout;
        let mut backoff = Duration::from_millis(20);
        loop {
            match op(self) {
                Ok(v) => return Ok(v),
                Err(e) if e.retriable() => {
                    // Routing may be stale: ask for metadata again on the next try.
                    self.leaders.clear();
                    if let KafkaError::Io { .. } = e {
                        self.conns.clear();
                    }
                    if Instant::now() + backoff >= deadline {
                        return Err(KafkaError::Other(format!(
                            "{} failed for {:.0} s (retries exhausted, bootstrap servers {}): {e}",
                            what(),
                            started.elapsed().as_secs_f64(),
                            self.bootstrap()
                        )));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The connection to node `node`, opened if needed.
    fn conn(&mut self, node: i32) -> KResult<&mut Conn> {
        if !self.conns.contains_key(&node) {
            let addr = self.brokers.get(&node).cloned().ok_or_else(|| {
                KafkaError::Other(format!("no address is known for Kafka broker {node}"))
            })?;
            let conn = self.open(&addr)?;
            self.conns.insert(node, conn);
        }
        Ok(self.conns.get_mut(&node).expect("inserted above"))
    }

    /// Opens a connection and checks that the broker speaks the versions this client uses.
    fn open(&self, addr: &str) -> KResult<Conn> {
        let mut conn = Conn::connect(addr, &self.config.client_id, self.config.request_timeout)?;
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("stream-kafka"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let resp = conn.call(&req, version::API_VERSIONS)?;
        if let Some(e) = KafkaError::broker(resp.error_code, format!("ApiVersions to {addr}")) {
            return Err(e);
        }
        use version::*;
        let needed = [
            (ApiKey::Metadata, METADATA),
            (ApiKey::ListOffsets, LIST_OFFSETS),
            (ApiKey::Fetch, FETCH),
            (ApiKey::Produce, PRODUCE),
        ];
        for (key, v) in needed {
            let supported = resp.api_keys.iter().find(|k| k.api_key == key as i16);
            if !supported.is_some_and(|k| k.min_version <= v && v <= k.max_version) {
                return Err(KafkaError::Other(format!(
                    "Kafka broker {addr} does not support {key:?} version {v} (it supports {}); \
                     this client needs Kafka 3.0 or later",
                    supported.map_or("none".to_string(), |k| format!(
                        "{}..={}",
                        k.min_version, k.max_version
                    ))
                )));
            }
        }
        Ok(conn)
    }

    /// Sends `req` to `node` (a connection error drops the connection).
    pub(crate) fn send<R: Request>(
        &mut self,
        node: i32,
        req: &R,
        version: i16,
    ) -> KResult<R::Response> {
        let result = self.conn(node)?.call(req, version);
        if let Err(KafkaError::Io { .. }) = &result {
            self.conns.remove(&node);
        }
        result
    }

    /// Sends `req` to any broker: a known one, else a bootstrap server.
    pub(crate) fn send_any<R: Request>(&mut self, req: &R, version: i16) -> KResult<R::Response> {
        let mut nodes: Vec<i32> = self.conns.keys().copied().collect();
        nodes.extend(self.brokers.keys().copied());
        if let Some(node) = nodes.first().copied() {
            return self.send(node, req, version);
        }
        let mut last = None;
        for addr in self.config.bootstrap.clone() {
            match self.open(&addr) {
                Ok(conn) => {
                    self.conns.insert(BOOTSTRAP_NODE, conn);
                    return self.send(BOOTSTRAP_NODE, req, version);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| KafkaError::Other("no bootstrap servers are set".into())))
    }

    /// Remembers a broker's address (from a coordinator lookup).
    pub(crate) fn remember_broker(&mut self, node: i32, addr: String) {
        self.brokers.entry(node).or_insert(addr);
    }

    /// Some broker's node id.
    pub(crate) fn any_node(&mut self) -> KResult<i32> {
        if self.brokers.is_empty() {
            self.metadata_once(Some(&[]))?;
        }
        self.brokers.keys().min().copied().ok_or_else(|| {
            KafkaError::Other(format!(
                "the Kafka cluster at {} has no brokers",
                self.bootstrap()
            ))
        })
    }

    /// Metadata of `topics` (all topics when `None`): each topic's partitions with their
    /// leaders, or the error the broker gave for the topic. Brokers and leaders are remembered.
    pub fn metadata(
        &mut self,
        topics: Option<&[String]>,
    ) -> KResult<BTreeMap<String, Result<Vec<PartitionInfo>, ResponseError>>> {
        let what = || format!("reading the metadata of {topics:?}");
        self.retry(&what, |c| c.metadata_once(topics))
    }

    fn metadata_once(
        &mut self,
        topics: Option<&[String]>,
    ) -> KResult<BTreeMap<String, Result<Vec<PartitionInfo>, ResponseError>>> {
        let req = MetadataRequest::default()
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect()
            }))
            .with_allow_auto_topic_creation(false);
        let resp = self.send_any(&req, version::METADATA)?;
        let known: HashMap<i32, String> = resp
            .brokers
            .iter()
            .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
            .collect();
        if !known.is_empty() {
            // Move the bootstrap connection under its node id, once metadata names it.
            if let Some(conn) = self.conns.remove(&BOOTSTRAP_NODE) {
                if let Some((id, _)) = known.iter().find(|(_, a)| **a == conn.addr) {
                    self.conns.insert(*id, conn);
                }
            }
            self.brokers = known;
        }
        let mut out = BTreeMap::new();
        for t in resp.topics {
            let name = t.name.map(|n| n.0.to_string()).unwrap_or_default();
            match ResponseError::try_from_code(t.error_code) {
                // A topic being created or electing leaders: try again.
                Some(e) if e == ResponseError::LeaderNotAvailable => {
                    return Err(KafkaError::Broker {
                        error: e,
                        context: format!("metadata of topic `{name}`"),
                    })
                }
                Some(e) => {
                    out.insert(name, Err(e));
                }
                None => {
                    let mut parts: Vec<PartitionInfo> = t
                        .partitions
                        .iter()
                        .map(|p| PartitionInfo {
                            partition: p.partition_index,
                            leader: p.leader_id.0,
                        })
                        .collect();
                    parts.sort_by_key(|p| p.partition);
                    for p in &parts {
                        self.leaders.insert((name.clone(), p.partition), p.leader);
                    }
                    out.insert(name, Ok(parts));
                }
            }
        }
        Ok(out)
    }

    /// The leader of a partition (from metadata, asked for if unknown).
    pub(crate) fn leader(&mut self, tp: &TopicPartition) -> KResult<i32> {
        if let Some(l) = self.leaders.get(tp) {
            if *l >= 0 {
                return Ok(*l);
            }
        }
        let topics = [tp.0.clone()];
        let meta = self.metadata_once(Some(&topics))?;
        match meta.get(&tp.0) {
            Some(Ok(parts)) => match parts.iter().find(|p| p.partition == tp.1) {
                Some(p) if p.leader >= 0 => Ok(p.leader),
                Some(_) => Err(KafkaError::Broker {
                    error: ResponseError::LeaderNotAvailable,
                    context: format!("topic `{}` partition {}", tp.0, tp.1),
                }),
                None => Err(KafkaError::Other(format!(
                    "Kafka topic `{}` has no partition {}",
                    tp.0, tp.1
                ))),
            },
            Some(Err(e)) => Err(KafkaError::Broker {
                error: *e,
                context: format!("topic `{}`", tp.0),
            }),
            None => Err(KafkaError::Other(format!(
                "the broker sent no metadata for topic `{}`",
                tp.0
            ))),
        }
    }

    /// The offsets of `partitions` at `at`: the earliest (log start), the latest (the high
    /// watermark, or the last stable offset when reading committed records), or the first
    /// offset whose timestamp is at or after a time (`None` when no record is that late).
    pub fn list_offsets(
        &mut self,
        partitions: &[TopicPartition],
        at: OffsetSpec,
    ) -> KResult<BTreeMap<TopicPartition, Option<i64>>> {
        let what = || {
            format!(
                "listing the {at:?} offsets of {} partitions",
                partitions.len()
            )
        };
        self.retry(&what, |c| c.list_offsets_once(partitions, at))
    }

    fn list_offsets_once(
        &mut self,
        partitions: &[TopicPartition],
        at: OffsetSpec,
    ) -> KResult<BTreeMap<TopicPartition, Option<i64>>> {
        let mut by_leader: BTreeMap<i32, Vec<&TopicPartition>> = BTreeMap::new();
        for tp in partitions {
            by_leader.entry(self.leader(tp)?).or_default().push(tp);
        }
        let timestamp = match at {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::Timestamp(t) => t,
        };
        let mut out = BTreeMap::new();
        for (leader, tps) in by_leader {
            let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
            for (t, p) in tps {
                topics.entry(t).or_default().push(*p);
            }
            let req = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_isolation_level(i8::from(self.config.read_committed))
                .with_topics(
                    topics
                        .iter()
                        .map(|(t, ps)| {
                            ListOffsetsTopic::default()
                                .with_name(TopicName(StrBytes::from_string(t.to_string())))
                                .with_partitions(
                                    ps.iter()
                                        .map(|p| {
                                            ListOffsetsPartition::default()
                                                .with_partition_index(*p)
                                                .with_timestamp(timestamp)
                                        })
                                        .collect(),
                                )
                        })
                        .collect(),
                );
            let resp = self.send(leader, &req, version::LIST_OFFSETS)?;
            for t in resp.topics {
                let topic = t.name.0.to_string();
                for p in t.partitions {
                    let context =
                        format!("offsets of topic `{topic}` partition {}", p.partition_index);
                    if let Some(e) = KafkaError::broker(p.error_code, context) {
                        return Err(e);
                    }
                    out.insert(
                        (topic.clone(), p.partition_index),
                        (p.offset >= 0).then_some(p.offset),
                    );
                }
            }
        }
        Ok(out)
    }
}

/// Which offset of a partition [`Client::list_offsets`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The end of the log (high watermark, or last stable offset for read committed).
    Latest,
    /// The first offset whose timestamp is at or after this time (epoch ms).
    Timestamp(i64),
}
