//! Which columns of the output rows the Kafka sink writes, checked as Spark's `KafkaWriter`
//! checks them, and turning a row into a Kafka record.

use crate::client::produce::OutRecord;
use bytes::Bytes;
use stream_core::value::{DataType, Value};
use stream_runtime::{Record, StreamError};

/// Where the sink's columns are in the row type.
#[derive(Clone, Debug)]
pub(crate) struct Columns {
    value: usize,
    key: Option<usize>,
    topic: Option<usize>,
    partition: Option<usize>,
    headers: Option<usize>,
}

fn unnull(t: &DataType) -> &DataType {
    match t {
        DataType::Nullable(t) => t,
        t => t,
    }
}

fn bytes_like(t: &DataType) -> bool {
    matches!(unnull(t), DataType::String | DataType::Binary)
}

impl Columns {
    /// The columns of `T`, checked (`topic_option`: the sink's `topic` option is set).
    pub fn of<T: Record>(topic_option: bool, include_headers: bool) -> Result<Columns, String> {
        let schema = T::schema();
        let find = |name: &str| schema.fields.iter().position(|f| f.name == name);
        let ty = |i: usize| &schema.fields[i].data_type;
        let value = find("value").ok_or("Required attribute 'value' not found")?;
        if !bytes_like(ty(value)) {
            return Err(format!(
                "value attribute type must be a String or BinaryType (String or Vec<u8>), found {}",
                ty(value)
            ));
        }
        let key = find("key");
        if let Some(k) = key {
            if !bytes_like(ty(k)) {
                return Err(format!(
                    "key attribute type must be a String or BinaryType (String or Vec<u8>), found {}",
                    ty(k)
                ));
            }
        }
        let topic = find("topic");
        match topic {
            Some(t) if unnull(ty(t)) != &DataType::String => {
                return Err(format!("Topic type must be a String, found {}", ty(t)))
            }
            None if !topic_option => {
                return Err(
                    "topic option required when no 'topic' attribute is present. Use \
                            the topic option for setting a topic."
                        .into(),
                )
            }
            _ => {}
        }
        let partition = find("partition");
        if let Some(p) = partition {
            if !matches!(unnull(ty(p)), DataType::Integer(_) | DataType::Unsigned(_)) {
                return Err(format!(
                    "partition attribute type must be an int, found {}",
                    ty(p)
                ));
            }
        }
        let headers = find("headers").filter(|_| include_headers);
        if let Some(h) = headers {
            if !matches!(unnull(ty(h)), DataType::Array(_)) {
                return Err(format!(
                    "headers attribute type must be array<struct<key:string,value:binary>> \
                     (stream_kafka::Headers), found {}",
                    ty(h)
                ));
            }
        }
        Ok(Columns {
            value,
            key,
            topic,
            partition,
            headers,
        })
    }

    /// The record of `row`, and its topic (`None`: the row has no topic column, or NULL).
    pub fn record<T: Record>(&self, row: &T) -> Result<(Option<String>, OutRecord), StreamError> {
        let mut values = row.values();
        let mut take = |i: usize| std::mem::replace(&mut values[i], Value::Null);
        let bytes = |v: Value| match v {
            Value::Str(s) => Some(Bytes::from(s)),
            Value::Bytes(b) => Some(Bytes::from(b)),
            _ => None,
        };
        let value = bytes(take(self.value));
        let key = self.key.and_then(|k| bytes(take(k)));
        let topic = match self.topic.map(&mut take) {
            Some(Value::Str(t)) => Some(t),
            _ => None,
        };
        let partition = match self.partition.map(&mut take) {
            Some(Value::Int(p)) => Some(p as i32),
            Some(Value::UInt(p)) => Some(p as i32),
            _ => None,
        };
        let headers = match self.headers.map(&mut take) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|h| match h {
                    Value::Struct(fields) => {
                        let mut key = None;
                        let mut value = None;
                        for (n, v) in fields {
                            match (n, v) {
                                ("key", Value::Str(k)) => key = Some(k),
                                ("value", v) => value = bytes(v),
                                _ => {}
                            }
                        }
                        key.map(|k| (k, value))
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok((
            topic,
            OutRecord {
                partition,
                key,
                value,
                headers,
            },
        ))
    }
}
