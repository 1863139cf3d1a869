//! Options as Spark names them: case-insensitive (`startingOffsets`, `startingoffsets`), also in
//! snake case (`starting_offsets`), and `kafka.*` keys handed to the client. Spark's forbidden
//! Kafka keys are refused with Spark's messages.

use crate::client::Config;
use std::collections::BTreeMap;
use std::time::Duration;

/// The options of a source or sink, keyed by normalised name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// Non-`kafka.*` options: lower case, underscores removed.
    own: BTreeMap<String, (String, String)>,
    /// `kafka.*` options, without the prefix, as given.
    kafka: BTreeMap<String, String>,
}

impl Options {
    pub fn set(&mut self, key: &str, value: &str) {
        match key.strip_prefix("kafka.") {
            Some(k) => {
                self.kafka.insert(k.to_string(), value.to_string());
            }
            None => {
                let norm = key.to_lowercase().replace('_', "");
                self.own.insert(norm, (key.to_string(), value.to_string()));
            }
        }
    }

    /// The value of option `norm` (normalised name).
    pub fn get(&self, norm: &str) -> Option<&str> {
        self.own.get(norm).map(|(_, v)| v.trim())
    }

    /// Refuses options other than `known` (normalised names): a typo is an error, not a silent
    /// default.
    pub fn check_known(&self, what: &str, known: &[&str]) -> Result<(), String> {
        for (norm, (given, _)) in &self.own {
            if !known.contains(&norm.as_str()) {
                return Err(format!(
                    "unknown Kafka {what} option `{given}`; the options are {}, and `kafka.*` \
                     options for the client",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    pub fn parse<T: std::str::FromStr>(&self, norm: &str, what: &str) -> Result<Option<T>, String> {
        match self.get(norm) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("option `{}`: expected {what}, got `{v}`", self.given(norm))),
        }
    }

    pub fn bool(&self, norm: &str, default: bool) -> Result<bool, String> {
        match self.get(norm).map(str::to_lowercase).as_deref() {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(format!(
                "option `{}`: expected true or false, got `{v}`",
                self.given(norm)
            )),
        }
    }

    fn given<'a>(&'a self, norm: &'a str) -> &'a str {
        self.own.get(norm).map_or(norm, |(g, _)| g.as_str())
    }

    /// The client's settings from the `kafka.*` options; `forbidden` lists the keys Spark
    /// refuses here, with Spark's message.
    pub fn client(&self, forbidden: &[(&str, &str)]) -> Result<Config, String> {
        for (key, message) in forbidden {
            if self.kafka.contains_key(*key) {
                return Err(message.to_string());
            }
        }
        let Some(bootstrap) = self.kafka.get("bootstrap.servers") else {
            return Err(
                "Option 'kafka.bootstrap.servers' must be specified for configuring \
                        Kafka consumer"
                    .into(),
            );
        };
        let mut config = Config::new(bootstrap);
        if config.bootstrap.is_empty() {
            return Err("option `kafka.bootstrap.servers` is empty".into());
        }
        let ms = |k: &str, v: &str| -> Result<Duration, String> {
            v.trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("option `kafka.{k}`: expected milliseconds, got `{v}`"))
        };
        let int = |k: &str, v: &str| -> Result<i64, String> {
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("option `kafka.{k}`: expected a number, got `{v}`"))
        };
        for (k, v) in &self.kafka {
            match k.as_str() {
                "bootstrap.servers" => {}
                "client.id" => config.client_id = v.clone(),
                "request.timeout.ms" => config.request_timeout = ms(k, v)?,
                "default.api.timeout.ms" => config.retry_timeout = ms(k, v)?,
                "fetch.max.wait.ms" => config.fetch_max_wait = ms(k, v)?,
                "transaction.timeout.ms" => config.transaction_timeout = ms(k, v)?,
                "fetch.max.bytes" => config.fetch_max_bytes = int(k, v)? as i32,
                "max.partition.fetch.bytes" => config.partition_fetch_bytes = int(k, v)? as i32,
                "batch.size" => config.batch_size = int(k, v)?.max(1) as usize,
                "isolation.level" => {
                    config.read_committed = match v.trim() {
                        "read_committed" => true,
                        "read_uncommitted" => false,
                        _ => {
                            return Err(format!(
                                "option `kafka.isolation.level`: expected read_committed or \
                                 read_uncommitted, got `{v}`"
                            ))
                        }
                    }
                }
                "acks" => {
                    config.acks = match v.trim() {
                        "all" | "-1" => -1,
                        "1" => 1,
                        "0" => 0,
                        _ => {
                            return Err(format!(
                                "option `kafka.acks`: expected all, -1, 1 or 0, got `{v}`"
                            ))
                        }
                    }
                }
                "security.protocol" if v.trim().eq_ignore_ascii_case("PLAINTEXT") => {}
                k if k == "security.protocol"
                    || k.starts_with("sasl.")
                    || k.starts_with("ssl.") =>
                {
                    return Err(format!(
                        "option `kafka.{k}`: this client connects in plain text only (no TLS or \
                         SASL yet); see docs/kafka.md"
                    ))
                }
                "group.id" => eprintln!(
                    "warning: option `kafka.group.id` is ignored: this Kafka source uses no \
                     consumer group; its offsets live in the query's checkpoint"
                ),
                other => eprintln!(
                    "warning: option `kafka.{other}` is not used by this Kafka client (it applies \
                     bootstrap.servers, client.id, request.timeout.ms, default.api.timeout.ms, \
                     isolation.level, fetch.max.bytes, max.partition.fetch.bytes, \
                     fetch.max.wait.ms, acks, batch.size, transaction.timeout.ms)"
                ),
            }
        }
        Ok(config)
    }
}

/// Kafka keys Spark's source refuses, with Spark's messages (`KafkaSourceProvider`).
pub(crate) const SOURCE_FORBIDDEN: &[(&str, &str)] = &[
    (
        "auto.offset.reset",
        "Kafka option 'auto.offset.reset' is not supported. Instead set the source option \
         'startingoffsets' to 'earliest' or 'latest' to specify where to start. Structured \
         Streaming manages which offsets are consumed internally, rather than relying on the \
         kafkaConsumer to do it. This will ensure that no data is missed when new \
         topics/partitions are dynamically subscribed. Note that 'startingoffsets' only applies \
         when a new Streaming query is started, and that resuming will always pick up from where \
         the query left off. See the docs for more details.",
    ),
    (
        "key.deserializer",
        "Kafka option 'key.deserializer' is not supported as keys are deserialized as byte \
         arrays with ByteArrayDeserializer. Use DataFrame operations to explicitly deserialize \
         the keys.",
    ),
    (
        "value.deserializer",
        "Kafka option 'value.deserializer' is not supported as values are deserialized as byte \
         arrays with ByteArrayDeserializer. Use DataFrame operations to explicitly deserialize \
         the values.",
    ),
    (
        "enable.auto.commit",
        "Kafka option 'enable.auto.commit' is not supported",
    ),
    (
        "interceptor.classes",
        "Kafka option 'interceptor.classes' is not supported",
    ),
];

/// Kafka keys Spark's sink refuses, with Spark's messages.
pub(crate) const SINK_FORBIDDEN: &[(&str, &str)] = &[
    (
        "key.serializer",
        "Kafka option 'key.serializer' is not supported as keys are serialized with \
         ByteArraySerializer. Use DataFrame operations to explicitly serialize the keys into \
         either strings or byte arrays.",
    ),
    (
        "value.serializer",
        "Kafka option 'value.serializer' is not supported as value are serialized with \
         ByteArraySerializer. Use DataFrame operations to explicitly serialize the values into \
         either strings or byte arrays.",
    ),
    (
        "transactional.id",
        "Kafka option 'transactional.id' is not supported: in exactly-once mode each worker's \
         transactional id is made from the option `transactionalIdPrefix`, the query id and the \
         worker's key groups",
    ),
];

/// Parses a duration such as Spark's `maxTriggerDelay` (`15m`, `30s`, `500ms`, `1h`; a bare
/// number is milliseconds).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim().to_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a duration such as `15m` or `30s`, got `{text}`"))?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "s" => n * 1000,
        "m" | "min" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => {
            return Err(format!(
                "expected a duration such as `15m` or `30s`, got `{text}`"
            ))
        }
    };
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_snake_case_works_too() {
        let mut o = Options::default();
        o.set("startingOffsets", "earliest");
        o.set("max_offsets_per_trigger", "10");
        o.set("kafka.bootstrap.servers", "h:1");
        assert_eq!(o.get("startingoffsets"), Some("earliest"));
        assert_eq!(
            o.parse::<u64>("maxoffsetspertrigger", "n").unwrap(),
            Some(10)
        );
        assert!(o
            .check_known("source", &["startingoffsets", "maxoffsetspertrigger"])
            .is_ok());
        let err = o.check_known("source", &["startingoffsets"]).unwrap_err();
        assert!(err.contains("`max_offsets_per_trigger`"), "{err}");
        assert_eq!(o.client(SOURCE_FORBIDDEN).unwrap().bootstrap, vec!["h:1"]);
        o.set("kafka.auto.offset.reset", "earliest");
        let err = o.client(SOURCE_FORBIDDEN).unwrap_err();
        assert!(
            err.starts_with("Kafka option 'auto.offset.reset' is not supported"),
            "{err}"
        );
        let mut none = Options::default();
        none.set("subscribe", "t");
        assert!(none
            .client(&[])
            .unwrap_err()
            .contains("kafka.bootstrap.servers"));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
    }
}
