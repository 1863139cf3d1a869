//! The source's options, checked as Spark's `KafkaSourceProvider` checks them: where to read,
//! where a new query starts, the per-trigger limits, what to do on data loss.

use crate::client::fetch::{OnDataLoss, DEFAULT_POLL_TIMEOUT};
use crate::client::{Config, TopicPartition};
use crate::offsets::{self, PartitionOffsets};
use crate::options::{parse_duration, Options, SOURCE_FORBIDDEN};
use std::time::Duration;

/// Where the source reads.
#[derive(Clone, Debug)]
pub(super) enum Strategy {
    Subscribe(Vec<String>),
    Pattern(regex::Regex),
    Assign(Vec<TopicPartition>),
}

/// Where a new query starts.
#[derive(Clone, Debug)]
pub(super) enum Starting {
    Earliest,
    Latest,
    Offsets(PartitionOffsets),
    Timestamp(i64),
    Timestamps(PartitionOffsets),
}

#[derive(Clone, Debug)]
pub(super) struct SourceSettings {
    pub(super) strategy: Strategy,
    pub(super) starting: Starting,
    pub(super) latest_when_no_match: bool,
    pub(super) max_offsets: Option<u64>,
    pub(super) min_offsets: Option<u64>,
    pub(super) max_trigger_delay: Duration,
    pub(super) on_loss: OnDataLoss,
    pub(super) include_headers: bool,
    pub(super) poll_timeout: Duration,
    pub(super) client: Config,
}

/// The settings, or what is wrong with the options (reported when the query starts).
pub(super) type Settings = std::result::Result<SourceSettings, String>;

const KNOWN: &[&str] = &[
    "subscribe",
    "subscribepattern",
    "assign",
    "startingoffsets",
    "startingtimestamp",
    "startingoffsetsbytimestamp",
    "startingoffsetsbytimestampstrategy",
    "maxoffsetspertrigger",
    "minoffsetspertrigger",
    "maxtriggerdelay",
    "failondataloss",
    "includeheaders",
    "kafkaconsumer.polltimeoutms",
    "groupidprefix",
];

impl From<&Options> for Settings {
    fn from(o: &Options) -> Settings {
        for (key, what) in [
            ("endingoffsets", "ending offset"),
            ("endingoffsetsbytimestamp", "ending timestamp"),
            ("endingtimestamp", "ending timestamp"),
        ] {
            if o.get(key).is_some() {
                return Err(format!("{what} not valid in streaming queries"));
            }
        }
        o.check_known("source", KNOWN)?;
        let keys = ["assign", "subscribe", "subscribepattern"];
        let given: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| o.get(k).is_some())
            .collect();
        if given.len() != 1 {
            return Err(format!(
                "{} of the following options must be specified for Kafka source: assign, \
                 subscribe, subscribe_pattern (subscribePattern). See the docs for more details.",
                if given.is_empty() { "One" } else { "Only one" }
            ));
        }
        let value = o.get(given[0]).unwrap_or_default();
        let strategy = match given[0] {
            "assign" => {
                if !value.starts_with('{') {
                    return Err(format!(
                        "No topicpartitions to assign as specified value for option 'assign' is \
                         '{value}'"
                    ));
                }
                Strategy::Assign(offsets::parse_partitions(value)?)
            }
            "subscribe" => {
                let topics: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
                if topics.is_empty() {
                    return Err(format!(
                        "No topics to subscribe to as specified value for option 'subscribe' is \
                         '{value}'"
                    ));
                }
                Strategy::Subscribe(topics)
            }
            _ => {
                if value.is_empty() {
                    return Err(format!(
                        "Pattern to subscribe is empty as specified value for option \
                         'subscribePattern' is '{value}'"
                    ));
                }
                // Java's `Pattern.matcher(topic).matches()`: the whole name.
                let re = regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("option `subscribePattern`: {e}"))?;
                Strategy::Pattern(re)
            }
        };
        let starting = if let Some(ts) = o.get("startingtimestamp") {
            Starting::Timestamp(
                ts.parse()
                    .map_err(|_| format!("Expected a single long value, got {ts}"))?,
            )
        } else if let Some(json) = o.get("startingoffsetsbytimestamp") {
            Starting::Timestamps(offsets::parse(json)?)
        } else {
            match o.get("startingoffsets").map(str::to_lowercase).as_deref() {
                None | Some("latest") => Starting::Latest,
                Some("earliest") => Starting::Earliest,
                Some(_) => Starting::Offsets(offsets::parse(
                    o.get("startingoffsets").unwrap_or_default(),
                )?),
            }
        };
        let latest_when_no_match = match o
            .get("startingoffsetsbytimestampstrategy")
            .map(str::to_lowercase)
            .as_deref()
        {
            None | Some("error") => false,
            Some("latest") => true,
            Some(v) => {
                return Err(format!(
                    "option `startingOffsetsByTimestampStrategy`: expected error or latest, got \
                     `{v}`"
                ))
            }
        };
        let max_offsets = o.parse::<u64>("maxoffsetspertrigger", "a positive number")?;
        let min_offsets = o.parse::<u64>("minoffsetspertrigger", "a positive number")?;
        if let (Some(min), Some(max)) = (min_offsets, max_offsets) {
            if min > max {
                return Err(format!(
                    "The value of minOffsetPerTrigger({min}) is higher than the \
                     maxOffsetsPerTrigger({max})."
                ));
            }
        }
        let max_trigger_delay = parse_duration(o.get("maxtriggerdelay").unwrap_or("15m"))
            .map_err(|e| format!("option `maxTriggerDelay`: {e}"))?;
        let poll_timeout = o
            .parse::<u64>("kafkaconsumer.polltimeoutms", "milliseconds")?
            .map_or(DEFAULT_POLL_TIMEOUT, Duration::from_millis);
        Ok(SourceSettings {
            strategy,
            starting,
            latest_when_no_match,
            max_offsets,
            min_offsets,
            max_trigger_delay,
            on_loss: if o.bool("failondataloss", true)? {
                OnDataLoss::Fail
            } else {
                OnDataLoss::Skip
            },
            include_headers: o.bool("includeheaders", false)?,
            poll_timeout,
            client: o.client(SOURCE_FORBIDDEN)?,
        })
    }
}
