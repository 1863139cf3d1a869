//! The rows of the Kafka source, with Spark's schema (`KafkaRecordToRowConverter`).

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use stream_core::record::FieldSchema;
use stream_core::value::{DataType, Field, Value};
use stream_runtime::{Record, Timestamp};

/// One Kafka record, as Spark's Kafka source shows it: `key` and `value` as binary, `topic`,
/// `partition`, `offset`, `timestamp`, `timestamp_type` (0: create time, 1: log append time),
/// and `headers` when the source's `include_headers` is on (`None` otherwise, and for a record
/// without headers, as Spark's NULL).
#[derive(Record)]
pub struct KafkaRow {
    /// The record's key (NULL for none).
    pub key: Option<Vec<u8>>,
    /// The record's value (NULL for a tombstone).
    pub value: Option<Vec<u8>>,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The record's offset in its partition.
    pub offset: i64,
    /// The record's timestamp.
    pub timestamp: Timestamp,
    /// 0 when `timestamp` is the producer's create time, 1 when the broker's log append time.
    pub timestamp_type: i32,
    /// The record's headers (with `include_headers`).
    pub headers: Option<Headers>,
}

impl stream_runtime::source::RowOrigin for KafkaRow {
    fn origin(&self) -> (String, u64) {
        (
            format!("Kafka topic `{}` partition {}", self.topic, self.partition),
            self.offset.max(0) as u64,
        )
    }
}

/// A record's headers: Spark's `array<struct<key: string, value: binary>>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Headers(pub Vec<Header>);

/// One header.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Header {
    /// The header's key.
    pub key: String,
    /// Its value (NULL for none).
    pub value: Option<Vec<u8>>,
}

impl Field for Headers {
    fn data_type() -> DataType {
        DataType::Array(Box::new(DataType::Struct(vec![
            FieldSchema {
                name: "key",
                data_type: DataType::String,
            },
            FieldSchema {
                name: "value",
                data_type: DataType::Nullable(Box::new(DataType::Binary)),
            },
        ])))
    }
    fn to_value(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|h| {
                    Value::Struct(vec![
                        ("key", Value::Str(h.key.clone())),
                        ("value", h.value.to_value()),
                    ])
                })
                .collect(),
        )
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.hash(state)
    }
}
