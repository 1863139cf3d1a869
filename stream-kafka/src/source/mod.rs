//! The Kafka source (Spark's `KafkaMicroBatchStream`): the driver plans each batch's offset
//! range per partition (its end is the batch's offset in the offset log, as Spark's JSON), every
//! worker reads its share of the partitions.

use crate::client::fetch::OnDataLoss;
use crate::client::{Client, Config, OffsetSpec, TopicPartition};
use crate::offsets::{self, PartitionOffsets};
use crate::options::Options;
use crate::row::{Header, Headers, KafkaRow};
use kafka_protocol::error::ResponseError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use stream_runtime::source::{Offset, Partition, ReadLimit, ReadStats, Source, Split};
use stream_runtime::{Result, StreamError, Timestamp};

mod settings;

use settings::{Settings, SourceSettings, Starting, Strategy};

/// The builder of a Kafka source: `Kafka::source()`. Options take Spark's names, in snake case
/// as methods or in any case through [`option`](KafkaSourceBuilder::option).
#[derive(Clone, Debug, Default)]
pub struct KafkaSourceBuilder {
    options: Options,
}

macro_rules! string_options {
    ($($(#[$doc:meta])* $method:ident => $key:literal;)*) => {$(
        $(#[$doc])*
        pub fn $method(self, value: impl std::fmt::Display) -> Self {
            self.option($key, &value.to_string())
        }
    )*};
}

impl KafkaSourceBuilder {
    /// Sets an option by Spark's name (`startingOffsets`, `maxOffsetsPerTrigger`, ...; case and
    /// underscores do not matter), or a `kafka.*` option handed to the client.
    pub fn option(mut self, key: &str, value: &str) -> Self {
        self.options.set(key, value);
        self
    }

    string_options! {
        /// `kafka.bootstrap.servers`: `host:port,...` (required).
        bootstrap_servers => "kafka.bootstrap.servers";
        /// `subscribe`: a comma-separated list of topics.
        subscribe => "subscribe";
        /// `subscribePattern`: a regular expression; every topic it matches whole is read, and
        /// topics created later that match are picked up.
        subscribe_pattern => "subscribePattern";
        /// `assign`: exact partitions, as JSON: `{"topicA":[0,1],"topicB":[2,4]}`.
        assign => "assign";
        /// `startingOffsets`: `earliest`, `latest` (the default) or JSON per partition
        /// (`{"topicA":{"0":23,"1":-1}}`, -2 for earliest and -1 for latest). Only for a new
        /// query: a restarted one resumes from its checkpoint.
        starting_offsets => "startingOffsets";
        /// `startingTimestamp`: start every partition at its first record with a timestamp at
        /// or after this time (epoch ms). Takes precedence over the other starting options.
        starting_timestamp => "startingTimestamp";
        /// `startingOffsetsByTimestamp`: as `starting_timestamp`, per partition, as JSON.
        starting_offsets_by_timestamp => "startingOffsetsByTimestamp";
        /// `startingOffsetsByTimestampStrategy`: `error` (default) when a partition has no
        /// record that late, or `latest` to start it at its end.
        starting_offsets_by_timestamp_strategy => "startingOffsetsByTimestampStrategy";
        /// `maxOffsetsPerTrigger`: at most this many offsets per batch, split over partitions in
        /// proportion to what each has waiting.
        max_offsets_per_trigger => "maxOffsetsPerTrigger";
        /// `minOffsetsPerTrigger`: wait for this many new offsets before a batch, unless
        /// `max_trigger_delay` passed since the last one.
        min_offsets_per_trigger => "minOffsetsPerTrigger";
        /// `maxTriggerDelay` (`15m`): see `min_offsets_per_trigger`.
        max_trigger_delay => "maxTriggerDelay";
        /// `failOnDataLoss` (true): fail when offsets planned are gone (retention, a deleted
        /// topic); when false, skip them and count them in the progress metric
        /// `numOffsetsLost`.
        fail_on_data_loss => "failOnDataLoss";
        /// `includeHeaders` (false): fill `headers`.
        include_headers => "includeHeaders";
    }

    /// The source.
    pub fn build(self) -> KafkaSource {
        KafkaSource {
            settings: Settings::from(&self.options),
            state: Mutex::new(DriverState::default()),
            clients: Mutex::new(Vec::new()),
        }
    }
}

impl stream_runtime::source::IntoSource<KafkaRow> for KafkaSourceBuilder {
    fn into_source(self) -> std::sync::Arc<dyn Source<KafkaRow>> {
        std::sync::Arc::new(self.build())
    }
}

/// The driver's state.
#[derive(Default)]
struct DriverState {
    client: Option<Client>,
    /// `sources/<i>/` of the checkpoint.
    dir: Option<PathBuf>,
    /// The initial offsets, once decided (kept in `dir/0`, as Spark does).
    initial: Option<PartitionOffsets>,
    /// When the last batch was triggered (for `minOffsetsPerTrigger`; 0: never).
    last_trigger: Option<Instant>,
}

/// The Kafka source: rows of type [`KafkaRow`].
pub struct KafkaSource {
    settings: Settings,
    state: Mutex<DriverState>,
    /// Clients of the workers of this process, reused across batches.
    clients: Mutex<Vec<Client>>,
}

fn err(e: impl std::fmt::Display) -> StreamError {
    StreamError::Source(e.to_string())
}

impl KafkaSource {
    fn settings(&self) -> Result<&SourceSettings> {
        self.settings
            .as_ref()
            .map_err(|e| StreamError::Source(format!("Kafka source: {e}")))
    }

    /// The partitions the source reads now.
    fn partitions(&self, s: &SourceSettings, client: &mut Client) -> Result<Vec<TopicPartition>> {
        let missing = |t: &str, e: ResponseError| {
            err(if e == ResponseError::UnknownTopicOrPartition {
                format!(
                    "Kafka topic `{t}` does not exist (bootstrap servers {}); create it or fix \
                     the source's topics",
                    client_name(&s.client)
                )
            } else {
                format!("Kafka topic `{t}`: {e}")
            })
        };
        match &s.strategy {
            Strategy::Subscribe(topics) => {
                let meta = client.metadata(Some(topics)).map_err(err)?;
                let mut out = Vec::new();
                for t in topics {
                    match meta.get(t) {
                        Some(Ok(parts)) => {
                            out.extend(parts.iter().map(|p| (t.clone(), p.partition)))
                        }
                        Some(Err(e)) => return Err(missing(t, *e)),
                        None => return Err(missing(t, ResponseError::UnknownTopicOrPartition)),
                    }
                }
                Ok(out)
            }
            Strategy::Pattern(re) => {
                let meta = client.metadata(None).map_err(err)?;
                Ok(meta
                    .iter()
                    .filter(|(t, _)| !t.starts_with("__") && re.is_match(t))
                    .filter_map(|(t, parts)| parts.as_ref().ok().map(|ps| (t, ps)))
                    .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), p.partition)))
                    .collect())
            }
            Strategy::Assign(tps) => {
                let topics: Vec<String> = tps.iter().map(|(t, _)| t.clone()).collect();
                let meta = client.metadata(Some(&topics)).map_err(err)?;
                for (t, p) in tps {
                    match meta.get(t) {
                        Some(Ok(parts)) if parts.iter().any(|x| x.partition == *p) => {}
                        Some(Ok(_)) => {
                            return Err(err(format!("Kafka topic `{t}` has no partition {p}")))
                        }
                        Some(Err(e)) => return Err(missing(t, *e)),
                        None => return Err(missing(t, ResponseError::UnknownTopicOrPartition)),
                    }
                }
                Ok(tps.clone())
            }
        }
    }

    /// The offsets a new query starts at (Spark's `getOrCreateInitialPartitionOffsets`).
    fn initial_offsets(
        &self,
        s: &SourceSettings,
        st: &mut DriverState,
    ) -> Result<PartitionOffsets> {
        if let Some(i) = &st.initial {
            return Ok(i.clone());
        }
        let client = st.client.as_mut().expect("a driver client");
        let parts = self.partitions(s, client)?;
        let list = |client: &mut Client, at| client.list_offsets(&parts, at).map_err(err);
        let resolved: PartitionOffsets = match &s.starting {
            Starting::Earliest => flatten(list(client, OffsetSpec::Earliest)?, 0),
            Starting::Latest => flatten(list(client, OffsetSpec::Latest)?, 0),
            Starting::Offsets(given) => {
                check_all_given(
                    given,
                    &parts,
                    "startingOffsets",
                    "Use -1 for latest, -2 for earliest.",
                )?;
                let earliest = flatten(list(client, OffsetSpec::Earliest)?, 0);
                let latest = flatten(list(client, OffsetSpec::Latest)?, 0);
                given
                    .iter()
                    .map(|(tp, o)| {
                        let at = match o {
                            -2 => earliest[tp],
                            -1 => latest[tp],
                            o => *o,
                        };
                        (tp.clone(), at)
                    })
                    .collect()
            }
            Starting::Timestamp(ts) => {
                let by_time = list(client, OffsetSpec::Timestamp(*ts))?;
                self.by_timestamp(s, client, &parts, by_time, |_| *ts)?
            }
            Starting::Timestamps(given) => {
                check_all_given(given, &parts, "startingOffsetsByTimestamp", "")?;
                let mut by_time = std::collections::BTreeMap::new();
                for (tp, ts) in given {
                    let one = client
                        .list_offsets(std::slice::from_ref(tp), OffsetSpec::Timestamp(*ts))
                        .map_err(err)?;
                    by_time.extend(one);
                }
                self.by_timestamp(s, client, &parts, by_time, |tp| given[tp])?
            }
        };
        if let Some(dir) = &st.dir {
            write_initial(dir, &resolved)?;
        }
        st.initial = Some(resolved.clone());
        Ok(resolved)
    }

    /// Offsets found by timestamp; a partition with no record that late follows the strategy.
    fn by_timestamp(
        &self,
        s: &SourceSettings,
        client: &mut Client,
        parts: &[TopicPartition],
        found: std::collections::BTreeMap<TopicPartition, Option<i64>>,
        ts: impl Fn(&TopicPartition) -> i64,
    ) -> Result<PartitionOffsets> {
        let latest = flatten(
            client
                .list_offsets(parts, OffsetSpec::Latest)
                .map_err(err)?,
            0,
        );
        found
            .into_iter()
            .map(|(tp, o)| match o {
                Some(o) => Ok((tp, o)),
                None if s.latest_when_no_match => Ok((tp.clone(), latest[&tp])),
                None => Err(err(format!(
                    "No offset matched from request of topic-partition {}-{} and timestamp {}.",
                    tp.0,
                    tp.1,
                    ts(&tp)
                ))),
            })
            .collect()
    }

    fn client(&self) -> Result<Client> {
        let s = self.settings()?;
        let pooled = self.clients.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Ok(pooled.unwrap_or_else(|| Client::new(s.client.clone())))
    }
}

fn client_name(c: &Config) -> String {
    c.bootstrap.join(",")
}

/// Offsets as numbers (`None`, no answer, as `default`).
fn flatten(
    offsets: std::collections::BTreeMap<TopicPartition, Option<i64>>,
    default: i64,
) -> PartitionOffsets {
    offsets
        .into_iter()
        .map(|(tp, o)| (tp, o.unwrap_or(default)))
        .collect()
}

/// Spark requires specific starting offsets to name every partition read.
fn check_all_given(
    given: &PartitionOffsets,
    parts: &[TopicPartition],
    option: &str,
    hint: &str,
) -> Result<()> {
    let assigned: std::collections::BTreeSet<&TopicPartition> = parts.iter().collect();
    let specified: std::collections::BTreeSet<&TopicPartition> = given.keys().collect();
    if assigned != specified {
        let show = |s: &std::collections::BTreeSet<&TopicPartition>| {
            s.iter()
                .map(|(t, p)| format!("{t}-{p}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(err(format!(
            "If {option} contains specific offsets, you must specify all TopicPartitions. {hint} \
             Specified: {} Assigned: {}",
            show(&specified),
            show(&assigned)
        )));
    }
    Ok(())
}

/// Spark's initial-offsets file (`KafkaSourceInitialOffsetWriter`): a zero byte, `v1`, the JSON.
fn write_initial(dir: &Path, offsets: &PartitionOffsets) -> Result<()> {
    let mut text = vec![0u8];
    text.extend_from_slice(b"v1\n");
    text.extend_from_slice(offsets::to_json(offsets).to_string().as_bytes());
    crate::fs::write_atomic(&dir.join("0"), &text).map_err(err)
}

fn read_initial(dir: &Path) -> Result<Option<PartitionOffsets>> {
    let path = dir.join("0");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(format!("cannot read {}: {e}", path.display()))),
    };
    let text = String::from_utf8_lossy(bytes.strip_prefix(&[0]).unwrap_or(&bytes)).into_owned();
    let json = text.strip_prefix("v1\n").ok_or_else(|| {
        err(format!(
            "{}: not Spark's initial offsets (v1)",
            path.display()
        ))
    })?;
    offsets::parse(json)
        .map(Some)
        .map_err(|e| err(format!("{}: {e}", path.display())))
}

impl Source<KafkaRow> for KafkaSource {
    fn description(&self) -> String {
        match &self.settings {
            Ok(s) => match &s.strategy {
                Strategy::Subscribe(t) => format!("KafkaV2[Subscribe[{}]]", t.join(",")),
                Strategy::Pattern(p) => format!("KafkaV2[SubscribePattern[{}]]", p.as_str()),
                Strategy::Assign(tps) => format!(
                    "KafkaV2[Assign[{}]]",
                    tps.iter()
                        .map(|(t, p)| format!("{t}-{p}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            Err(_) => "KafkaV2[invalid options]".into(),
        }
    }

    /// What the source reads (its subscription, as the description says it): a restarted
    /// query may not change it (Spark's guide: "changes to subscribed topic/files is not
    /// allowed as the results are unpredictable"); rate limits and starting offsets may change.
    fn identity(&self) -> String {
        self.description()
    }

    fn restore(&self, dir: &Path) -> Result<()> {
        self.settings()?;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.initial = read_initial(dir)?;
        st.dir = Some(dir.to_path_buf());
        Ok(())
    }

    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        let s = self.settings()?;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.client
            .get_or_insert_with(|| Client::new(s.client.clone()));
        let end_offsets = offsets::from_json(end).map_err(err)?;
        let from = self.batch_starts(s, &mut st, start, &end_offsets)?;
        Ok(split(start, &from, &end_offsets))
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        let s = self.settings()?;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.client
            .get_or_insert_with(|| Client::new(s.client.clone()));
        let parts = self.partitions(s, st.client.as_mut().expect("set above"))?;
        let client = st.client.as_mut().expect("set above");
        let mut latest = flatten(
            client
                .list_offsets(&parts, OffsetSpec::Latest)
                .map_err(err)?,
            0,
        );
        let current: PartitionOffsets = latest.clone();
        let mut from = self.batch_starts(s, &mut st, start, &current)?;
        // Partitions that were read before and are gone now (a deleted topic).
        if let Some(start) = start {
            let before = offsets::from_json(start).map_err(err)?;
            let gone: Vec<String> = before
                .keys()
                .filter(|tp| !latest.contains_key(tp))
                .map(|(t, p)| format!("{t}-{p}"))
                .collect();
            if !gone.is_empty() && s.on_loss == OnDataLoss::Fail {
                return Err(err(format!(
                    "Kafka partitions {} were read before and no longer exist (a topic deleted?). {}",
                    gone.join(", "),
                    crate::client::fetch::FAIL_ON_DATA_LOSS_TRUE
                )));
            }
        }
        let mut end = match limit {
            ReadLimit::All => latest,
            ReadLimit::UpTo(target) => {
                let target = offsets::from_json(target).map_err(err)?;
                latest.retain(|tp, _| target.contains_key(tp));
                for (tp, o) in latest.iter_mut() {
                    *o = (*o).min(target[tp]);
                }
                latest
            }
            ReadLimit::Default => latest,
        };
        if !matches!(limit, ReadLimit::All) {
            let waiting: i64 = end
                .iter()
                .map(|(tp, e)| (e - from.get(tp).copied().unwrap_or(*e)).max(0))
                .sum();
            if let Some(min) = s.min_offsets {
                let due = st
                    .last_trigger
                    .is_none_or(|t| t.elapsed() >= s.max_trigger_delay);
                if !due && (waiting as u64) < min {
                    return Ok(None);
                }
            }
            if let Some(max) = s.max_offsets {
                end = offsets::rate_limit(max, &from, &end);
            }
        }
        // A partition whose log now ends before where the query is (a topic deleted and
        // created again): its records since are new, the ones in between are lost.
        for (tp, e) in end.iter_mut() {
            let Some(f) = from.get_mut(tp) else { continue };
            if *e < *f {
                let message = format!(
                    "Kafka topic `{}` partition {}: the offset went back from {f} to {e}; some data may have been missed",
                    tp.0, tp.1
                );
                if s.on_loss == OnDataLoss::Fail {
                    return Err(err(format!(
                        "{message}. {}",
                        crate::client::fetch::FAIL_ON_DATA_LOSS_TRUE
                    )));
                }
                eprintln!("warning: {message} (failOnDataLoss is false)");
                *f = 0;
            }
        }
        if end.iter().all(|(tp, e)| from.get(tp) == Some(e)) {
            return Ok(None);
        }
        st.last_trigger = Some(Instant::now());
        Ok(Some(split(start, &from, &end)))
    }

    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(KafkaRow),
    ) -> Result<ReadStats> {
        let s = self.settings()?;
        let from = offsets::from_json(&split.detail).map_err(err)?;
        let end = offsets::from_json(&split.end).map_err(err)?;
        let mut stats = ReadStats::default();
        let mut client = self.client()?;
        let mut lost = 0u64;
        let include_headers = s.include_headers;
        let result = (|| -> Result<()> {
            for (i, (tp, until)) in end.iter().enumerate() {
                if i % part.count.max(1) != part.index {
                    continue;
                }
                let start = from.get(tp).copied().unwrap_or(*until);
                if start >= *until {
                    continue;
                }
                let topic = tp.0.clone();
                let read = client
                    .read_range(tp, start, *until, s.on_loss, s.poll_timeout, &mut |r| {
                        emit(KafkaRow {
                            key: r.key.as_ref().map(|k| k.to_vec()),
                            value: r.value.as_ref().map(|v| v.to_vec()),
                            topic: topic.clone(),
                            partition: tp.1,
                            offset: r.offset,
                            timestamp: Timestamp::from_millis(r.timestamp),
                            timestamp_type: r.timestamp_type as i32,
                            headers: (include_headers && !r.headers.is_empty()).then(|| {
                                Headers(
                                    r.headers
                                        .iter()
                                        .map(|(k, v)| Header {
                                            key: k.to_string(),
                                            value: v.as_ref().map(|v| v.to_vec()),
                                        })
                                        .collect(),
                                )
                            }),
                        })
                    })
                    .map_err(err)?;
                stats.rows += read.records;
                lost += read.offsets_lost;
            }
            Ok(())
        })();
        if result.is_ok() {
            self.clients
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(client);
        }
        result?;
        if lost > 0 {
            eprintln!(
                "warning: Kafka source {}: {lost} offsets planned for this batch were no longer \
                 available and were skipped (failOnDataLoss is false)",
                self.description()
            );
            stats.metrics.insert("numOffsetsLost".into(), lost);
        }
        Ok(stats)
    }
}

impl KafkaSource {
    /// Each partition's first offset of a batch: the previous batch's end, the initial offsets
    /// for the first batch, and the log start for a partition seen for the first time (Spark:
    /// "Newly discovered partitions during a query will start at earliest").
    fn batch_starts(
        &self,
        s: &SourceSettings,
        st: &mut DriverState,
        start: Option<&Offset>,
        end: &PartitionOffsets,
    ) -> Result<PartitionOffsets> {
        let mut from = match start {
            Some(o) => offsets::from_json(o).map_err(err)?,
            None => self.initial_offsets(s, st)?,
        };
        let new: Vec<TopicPartition> = end
            .keys()
            .filter(|tp| !from.contains_key(tp))
            .cloned()
            .collect();
        if !new.is_empty() {
            let client = st.client.as_mut().expect("a driver client");
            let earliest = client
                .list_offsets(&new, OffsetSpec::Earliest)
                .map_err(err)?;
            from.extend(flatten(earliest, 0));
        }
        Ok(from)
    }
}

/// A batch's split: its end offsets, and every partition's first offset as the detail.
fn split(start: Option<&Offset>, from: &PartitionOffsets, end: &PartitionOffsets) -> Split {
    Split {
        start: start.cloned(),
        end: offsets::to_json(end),
        detail: offsets::to_json(from),
    }
}
