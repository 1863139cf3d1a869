//! Kafka offsets as Spark writes them in the offset log (`JsonUtils.partitionOffsets`):
//! `{"topic":{"partition":offset,..},..}`, and Spark's rate limit over partitions.

use crate::client::TopicPartition;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An offset per partition.
pub type PartitionOffsets = BTreeMap<TopicPartition, i64>;

/// Spark's example of the form, used in its parse errors.
const EXPECTED: &str = r#"Expected e.g. {"topicA":{"0":23,"1":-1},"topicB":{"0":-2}}"#;

/// `offsets` as Spark's JSON.
pub fn to_json(offsets: &PartitionOffsets) -> Value {
    let mut topics = Map::new();
    for ((topic, partition), offset) in offsets {
        let entry = topics
            .entry(topic.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(partition.to_string(), Value::from(*offset));
        }
    }
    Value::Object(topics)
}

/// Parses Spark's per-partition JSON (offsets, or timestamps for `startingOffsetsByTimestamp`).
pub fn from_json(json: &Value) -> Result<PartitionOffsets, String> {
    let bad = || format!("{EXPECTED}, got {json}");
    let Value::Object(topics) = json else {
        return Err(bad());
    };
    let mut out = BTreeMap::new();
    for (topic, parts) in topics {
        let Value::Object(parts) = parts else {
            return Err(bad());
        };
        for (p, offset) in parts {
            let p: i32 = p.parse().map_err(|_| bad())?;
            let offset = offset.as_i64().ok_or_else(bad)?;
            out.insert((topic.clone(), p), offset);
        }
    }
    Ok(out)
}

/// Parses the option text of per-partition JSON.
pub fn parse(text: &str) -> Result<PartitionOffsets, String> {
    let json: Value =
        serde_json::from_str(text.trim()).map_err(|_| format!("{EXPECTED}, got {text}"))?;
    from_json(&json)
}

/// Parses `assign`'s JSON, `{"topicA":[0,1],"topicB":[2,4]}` (Spark's `JsonUtils.partitions`).
pub fn parse_partitions(text: &str) -> Result<Vec<TopicPartition>, String> {
    let bad = || format!(r#"Expected e.g. {{"topicA":[0,1],"topicB":[0,1]}}, got {text}"#);
    let json: Value = serde_json::from_str(text.trim()).map_err(|_| bad())?;
    let Value::Object(topics) = json else {
        return Err(bad());
    };
    let mut out = Vec::new();
    for (topic, parts) in topics {
        let Value::Array(parts) = parts else {
            return Err(bad());
        };
        for p in parts {
            let p = p
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(bad)?;
            out.push((topic.clone(), p));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Spark's `rateLimit` (`KafkaMicroBatchStream`): `limit` offsets split over the partitions in
/// proportion to what each has waiting between `from` and `until`; a partition with a share
/// below one offset still gets one, so that small partitions are not starved.
pub fn rate_limit(
    limit: u64,
    from: &PartitionOffsets,
    until: &PartitionOffsets,
) -> PartitionOffsets {
    let sizes: BTreeMap<&TopicPartition, i64> = until
        .iter()
        .filter_map(|(tp, end)| {
            let begin = from.get(tp)?;
            (end - begin > 0).then_some((tp, end - begin))
        })
        .collect();
    let total: f64 = sizes.values().map(|s| *s as f64).sum();
    if total < 1.0 {
        return until.clone();
    }
    until
        .iter()
        .map(|(tp, end)| {
            let limited = match sizes.get(tp) {
                Some(size) => {
                    let begin = from[tp];
                    let prorate = limit as f64 * (*size as f64 / total);
                    let share = if prorate < 1.0 {
                        prorate.ceil()
                    } else {
                        prorate.floor()
                    } as i64;
                    (*end).min(begin.saturating_add(share))
                }
                None => *end,
            };
            (tp.clone(), limited)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        (t.to_string(), p)
    }

    #[test]
    fn offsets_round_trip_through_sparks_json() {
        let text = r#"{"topicA":{"0":23,"1":-1},"topicB":{"0":-2}}"#;
        let offsets = parse(text).unwrap();
        assert_eq!(offsets[&tp("topicA", 0)], 23);
        assert_eq!(offsets[&tp("topicA", 1)], -1);
        assert_eq!(offsets[&tp("topicB", 0)], -2);
        assert_eq!(
            to_json(&offsets),
            serde_json::from_str::<Value>(text).unwrap()
        );
        let err = parse(r#"{"topicA":[0]}"#).unwrap_err();
        assert!(err.starts_with(EXPECTED), "{err}");
        assert_eq!(
            parse_partitions(r#"{"b":[2,4],"a":[1]}"#).unwrap(),
            vec![tp("a", 1), tp("b", 2), tp("b", 4)]
        );
        assert!(parse_partitions("b").is_err());
    }

    #[test]
    fn rate_limit_splits_in_proportion_and_never_starves_a_partition() {
        // Hand-worked: 100 waiting on p0, 300 on p1, 1 on p2, nothing on p3; limit 40:
        // p0 gets floor(40*100/401) = 9, p1 floor(40*300/401) = 29, p2 ceil(0.0997) = 1.
        let from: PartitionOffsets = [
            (tp("t", 0), 0),
            (tp("t", 1), 1000),
            (tp("t", 2), 5),
            (tp("t", 3), 7),
        ]
        .into();
        let until: PartitionOffsets = [
            (tp("t", 0), 100),
            (tp("t", 1), 1300),
            (tp("t", 2), 6),
            (tp("t", 3), 7),
        ]
        .into();
        let limited = rate_limit(40, &from, &until);
        assert_eq!(limited[&tp("t", 0)], 9);
        assert_eq!(limited[&tp("t", 1)], 1029);
        assert_eq!(limited[&tp("t", 2)], 6);
        assert_eq!(limited[&tp("t", 3)], 7);
        // A limit above what waits reads everything.
        assert_eq!(rate_limit(10_000, &from, &until), until);
    }
}
