//! The Kafka sink: every worker writes its own rows of a batch; the driver commits the batch.
//!
//! At least once (Spark's guarantee, the default): each worker's rows are acknowledged by the
//! brokers before the batch commits; a batch run again after a crash is written again.
//!
//! Exactly once (beyond Spark): each worker writes in a Kafka transaction whose id is made of
//! the query id and the worker's key-group range; the driver commits every worker's
//! transaction once the batch is complete, after logging them (`log.rs`); a restart commits
//! what a crash interrupted mid-commit, and fences and aborts what the crashed run left open
//! (a new producer epoch for each id). Consumers reading committed records see each row once.

mod log;
mod rows;

use crate::client::produce::Producer;
use crate::client::txn::{TxnHandle, TxnOutcome};
use crate::client::{Client, Config};
use crate::options::{Options, SINK_FORBIDDEN};
use log::{Entry, TxnLog};
use rows::Columns;
use std::collections::{BTreeSet, HashMap};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use stream_core::OutputMode;
use stream_runtime::sink::{BatchInfo, BatchWriter, PartitionedSink, Sink, SinkRun};
use stream_runtime::{Record, Result, StreamError};

/// The builder of a Kafka sink: `Kafka::sink()`. It writes the columns `value` (string or
/// binary), and `key`, `topic`, `partition` and `headers` when the rows have them.
#[derive(Clone, Debug, Default)]
pub struct KafkaSink {
    options: Options,
    mode: Arc<Mutex<Option<OutputMode>>>,
}

impl KafkaSink {
    /// Sets an option by Spark's name (`topic`, `includeHeaders`), one of ours
    /// (`exactlyOnce`, `transactionalIdPrefix`), or a `kafka.*` option for the producer.
    pub fn option(mut self, key: &str, value: &str) -> Self {
        self.options.set(key, value);
        self
    }

    /// `kafka.bootstrap.servers` (required).
    pub fn bootstrap_servers(self, servers: impl std::fmt::Display) -> Self {
        self.option("kafka.bootstrap.servers", &servers.to_string())
    }

    /// `topic`: the topic of every row (overrides a `topic` column).
    pub fn topic(self, topic: &str) -> Self {
        self.option("topic", topic)
    }

    /// `includeHeaders`: write the rows' `headers` column.
    pub fn include_headers(self, on: bool) -> Self {
        self.option("includeHeaders", &on.to_string())
    }

    /// Exactly-once output with Kafka transactions (default: at least once, as Spark). Needs a
    /// checkpoint to survive restarts; readers see the rows once with
    /// `isolation.level=read_committed`.
    pub fn exactly_once(self, on: bool) -> Self {
        self.option("exactlyOnce", &on.to_string())
    }

    /// The prefix of the transactional ids (default `stream-kafka`).
    pub fn transactional_id_prefix(self, prefix: &str) -> Self {
        self.option("transactionalIdPrefix", prefix)
    }

    fn settings(&self) -> std::result::Result<SinkSettings, String> {
        let o = &self.options;
        o.check_known(
            "sink",
            &[
                "topic",
                "includeheaders",
                "exactlyonce",
                "transactionalidprefix",
            ],
        )?;
        let mut client = o.client(SINK_FORBIDDEN)?;
        // Records are flushed at the end of each batch: no lingering.
        client.read_committed = false;
        Ok(SinkSettings {
            topic: o.get("topic").map(str::to_string),
            include_headers: o.bool("includeheaders", false)?,
            exactly_once: o.bool("exactlyonce", false)?,
            prefix: o
                .get("transactionalidprefix")
                .unwrap_or("stream-kafka")
                .to_string(),
            client,
        })
    }
}

#[derive(Clone, Debug)]
struct SinkSettings {
    topic: Option<String>,
    include_headers: bool,
    exactly_once: bool,
    prefix: String,
    client: Config,
}

fn err(e: impl std::fmt::Display) -> StreamError {
    StreamError::Sink(format!("Kafka sink: {e}"))
}

impl<T: Record> Sink<T> for KafkaSink {
    fn description(&self) -> String {
        match self.settings() {
            Ok(s) => format!(
                "KafkaSink[{}{}]",
                s.topic.as_deref().unwrap_or("topic column"),
                if s.exactly_once { ", exactly once" } else { "" }
            ),
            Err(_) => "KafkaSink[invalid options]".into(),
        }
    }

    fn check_mode(&self, mode: OutputMode) -> Result<()> {
        let s = self.settings().map_err(err)?;
        Columns::of::<T>(s.topic.is_some(), s.include_headers).map_err(err)?;
        if mode == OutputMode::Complete && s.exactly_once {
            return Err(err(
                "exactly-once output takes Append or Update mode (in Complete mode the driver \
                 writes the whole result table each batch, at least once)",
            ));
        }
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = Some(mode);
        Ok(())
    }

    /// Complete mode: the driver writes the whole result table (at least once).
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()> {
        let s = self.settings().map_err(err)?;
        let columns = Columns::of::<T>(s.topic.is_some(), s.include_headers).map_err(err)?;
        let mut client = Client::new(s.client.clone());
        let mut producer = Producer::new(None);
        for row in &rows {
            write_row(&s, &columns, &mut client, &mut producer, row)?;
        }
        producer
            .flush(&mut client)
            .map_err(|e| err(format!("batch {}: {e}", info.batch_id)))
    }

    fn partitioned(&self) -> Option<Arc<dyn PartitionedSink<T>>> {
        if *self.mode.lock().unwrap_or_else(|e| e.into_inner()) == Some(OutputMode::Complete) {
            return None;
        }
        let settings = self.settings().ok()?;
        let columns = Columns::of::<T>(settings.topic.is_some(), settings.include_headers).ok()?;
        Some(Arc::new(Writers {
            inner: Arc::new(Inner {
                settings,
                state: Mutex::new(WritersState::default()),
            }),
            columns,
            _rows: PhantomData,
        }))
    }
}

fn write_row<T: Record>(
    s: &SinkSettings,
    columns: &Columns,
    client: &mut Client,
    producer: &mut Producer,
    row: &T,
) -> Result<()> {
    let (topic, record) = columns.record(row)?;
    let topic = match (&s.topic, topic) {
        (Some(t), _) => t.clone(),
        (None, Some(t)) => t,
        (None, None) => {
            return Err(err(
                "null topic present in the data. Use the topic option for setting a topic.",
            ))
        }
    };
    producer.send(client, &topic, record).map_err(err)
}

/// The sink in one process, shared by its workers (and the driver).
struct Writers<T> {
    inner: Arc<Inner>,
    columns: Columns,
    _rows: PhantomData<fn(&T)>,
}

/// What the workers' writers share.
struct Inner {
    settings: SinkSettings,
    state: Mutex<WritersState>,
}

#[derive(Default)]
struct WritersState {
    /// Each worker's transactional id (exactly once), from `start`.
    ids: Vec<String>,
    /// Producers (with their clients), by worker, kept across batches.
    producers: HashMap<usize, (Producer, Client)>,
    /// The driver's client and log.
    driver: Option<Client>,
    log: Option<TxnLog>,
    /// Transactional ids of earlier runs with other workers (to abort their leftovers).
    earlier_ids: BTreeSet<String>,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, WritersState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn driver_client(&self, st: &mut WritersState) -> Client {
        st.driver
            .take()
            .unwrap_or_else(|| Client::new(self.settings.client.clone()))
    }
}

impl<T: Record> PartitionedSink<T> for Writers<T> {
    fn start(&self, run: &SinkRun<'_>) -> Result<()> {
        let inner = &self.inner;
        let mut st = inner.lock();
        if inner.settings.exactly_once {
            st.ids = run
                .key_groups
                .iter()
                .map(|r| {
                    format!(
                        "{}-{}-kg{}-{}",
                        inner.settings.prefix, run.query_id, r.start, r.end
                    )
                })
                .collect();
        }
        if let (Some(dir), true) = (run.dir, inner.settings.exactly_once) {
            let log = TxnLog::new(dir);
            let used = log.writers().map_err(err)?;
            let current: BTreeSet<String> = st.ids.iter().cloned().collect();
            st.earlier_ids = used.difference(&current).cloned().collect();
            log.set_writers(&used.union(&current).cloned().collect())
                .map_err(err)?;
            st.log = Some(log);
        }
        Ok(())
    }

    fn open(&self, batch_id: u64, worker: usize) -> Result<Box<dyn BatchWriter<T>>> {
        let inner = &self.inner;
        let mut st = inner.lock();
        let (producer, client) = match st.producers.remove(&worker) {
            Some(pc) => pc,
            None => {
                let mut client = Client::new(inner.settings.client.clone());
                let id =
                    if inner.settings.exactly_once {
                        Some(st.ids.get(worker).cloned().ok_or_else(|| {
                            err(format!("no transactional id for worker {worker}"))
                        })?)
                    } else {
                        None
                    };
                let mut producer = Producer::new(id);
                // A transactional id's first use fences the crashed run's producer and aborts
                // its open transaction, even if this worker then writes nothing.
                producer.init(&mut client).map_err(err)?;
                (producer, client)
            }
        };
        drop(st);
        Ok(Box::new(Writer {
            inner: inner.clone(),
            columns: self.columns.clone(),
            batch_id,
            worker,
            producer: Some((producer, client)),
        }))
    }

    fn commit(&self, batch_id: u64, messages: Vec<serde_json::Value>) -> Result<()> {
        let inner = &self.inner;
        if !inner.settings.exactly_once {
            // Every worker's rows were acknowledged before its writer finished.
            return Ok(());
        }
        let mut transactions = Vec::new();
        for m in messages {
            if !m.is_null() {
                transactions.push(serde_json::from_value::<TxnHandle>(m).map_err(err)?);
            }
        }
        let mut st = inner.lock();
        let mut client = inner.driver_client(&mut st);
        let mut entry = Entry {
            transactions,
            committed: false,
        };
        if let Some(log) = &st.log {
            log.write(batch_id, &entry).map_err(err)?;
        }
        let result = commit_all(&mut client, batch_id, &entry.transactions);
        st.driver = Some(client);
        result?;
        if let Some(log) = &st.log {
            entry.committed = true;
            log.write(batch_id, &entry).map_err(err)?;
        }
        Ok(())
    }

    fn last_committed(&self) -> Result<Option<u64>> {
        let inner = &self.inner;
        let mut st = inner.lock();
        let Some(log) = st.log.take() else {
            return Ok(None);
        };
        let mut client = inner.driver_client(&mut st);
        let result = recover(&log, &mut client, &st.earlier_ids);
        st.log = Some(log);
        st.driver = Some(client);
        result
    }
}

/// Commits a batch's transactions; one the broker aborted meanwhile fails the query.
fn commit_all(client: &mut Client, batch_id: u64, transactions: &[TxnHandle]) -> Result<()> {
    for t in transactions {
        match client.end_txn(t, true).map_err(err)? {
            TxnOutcome::Committed => {}
            TxnOutcome::Aborted => {
                return Err(err(format!(
                    "batch {batch_id}: the broker aborted transaction `{}` before it could be \
                     committed (it stayed open longer than kafka.transaction.timeout.ms, or \
                     another run of this query fenced it); its rows are not in the topic",
                    t.transactional_id
                )))
            }
        }
    }
    Ok(())
}

/// After a restart: commits the last batch if a crash interrupted its commit, aborts what
/// writers of earlier runs with other ids left open, and says which batch is the last in Kafka.
fn recover(
    log: &TxnLog,
    client: &mut Client,
    earlier_ids: &BTreeSet<String>,
) -> Result<Option<u64>> {
    let last = match log.last().map_err(err)? {
        None => None,
        Some((batch, entry)) if entry.committed => Some(batch),
        Some((batch, mut entry)) => {
            let mut outcomes = Vec::new();
            for t in &entry.transactions {
                outcomes.push(client.end_txn(t, true).map_err(err)?);
            }
            if outcomes.iter().all(|o| *o == TxnOutcome::Committed) {
                entry.committed = true;
                log.write(batch, &entry).map_err(err)?;
                Some(batch)
            } else if outcomes.iter().all(|o| *o == TxnOutcome::Aborted) {
                // None of it reached readers: the batch runs again.
                log.remove(batch).map_err(err)?;
                log.committed_before(batch).map_err(err)?
            } else {
                return Err(err(format!(
                    "batch {batch} was half committed when the query stopped, and the broker \
                     has since aborted the rest (the restart came after \
                     kafka.transaction.timeout.ms): some of its rows are in the topic and the \
                     others are lost. Restart within the transaction timeout, or raise it"
                )));
            }
        }
    };
    for id in earlier_ids {
        let mut fence = Producer::new(Some(id.clone()));
        fence.init(client).map_err(err)?;
    }
    Ok(last)
}

/// One worker's writer of one batch.
struct Writer {
    inner: Arc<Inner>,
    columns: Columns,
    batch_id: u64,
    worker: usize,
    producer: Option<(Producer, Client)>,
}

impl<T: Record> BatchWriter<T> for Writer {
    fn write(&mut self, rows: &mut dyn Iterator<Item = &T>) -> Result<()> {
        let (producer, client) = self.producer.as_mut().expect("open until finished");
        for row in rows {
            write_row(&self.inner.settings, &self.columns, client, producer, row)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<serde_json::Value> {
        let (mut producer, mut client) = self.producer.take().expect("open until finished");
        producer
            .flush(&mut client)
            .map_err(|e| err(format!("batch {}: {e}", self.batch_id)))?;
        let message = match &producer.transactional_id {
            // A transaction with records: the driver commits it.
            Some(id) if !producer.in_transaction.is_empty() => {
                producer.in_transaction.clear();
                serde_json::to_value(TxnHandle {
                    transactional_id: id.clone(),
                    producer_id: producer.producer_id(),
                    epoch: producer.epoch(),
                })
                .map_err(err)?
            }
            _ => serde_json::Value::Null,
        };
        self.inner
            .lock()
            .producers
            .insert(self.worker, (producer, client));
        Ok(message)
    }
}
