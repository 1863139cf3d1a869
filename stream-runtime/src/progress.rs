//! Progress reports, one per micro-batch, with Spark's `StreamingQueryProgress` fields.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happened in one micro-batch (Spark's `StreamingQueryProgress`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryProgress {
    /// The query's id (stable across restarts).
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// The query's name, if any.
    pub name: Option<String>,
    /// When the trigger started, ISO-8601 UTC.
    pub timestamp: String,
    /// The batch id.
    pub batch_id: u64,
    /// Wall-clock milliseconds the batch took.
    pub batch_duration: u64,
    /// Rows read in this batch, over all sources.
    pub num_input_rows: u64,
    /// Rows per second arriving since the previous trigger.
    #[serde(skip_serializing_if = "not_finite", default = "nan")]
    pub input_rows_per_second: f64,
    /// Rows per second processed by this trigger.
    #[serde(skip_serializing_if = "not_finite", default = "nan")]
    pub processed_rows_per_second: f64,
    /// Phases of the trigger in milliseconds, in order: `latestOffset` (planning the sources'
    /// ranges), `walCommit` (logging them in the checkpoint), `getBatch` (reading them),
    /// `processing` (running the dataflow until the batch is done), `stateCommit` (writing the
    /// state's delta), `addBatch` (the sink), `commitOffsets` (logging the batch committed);
    /// `triggerExecution` is the whole. Worker phases are the slowest worker's. Spark's keys
    /// where the phase is Spark's; `processing` and `stateCommit` are ours (Spark's lazy
    /// execution counts them in `addBatch`).
    pub duration_ms: BTreeMap<String, u64>,
    /// Event times of the batch (`min`, `max`, `avg`) and the `watermark` it ran under, as
    /// ISO-8601 UTC; empty for queries without a watermark.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub event_time: BTreeMap<String, String>,
    /// One entry per stateful operator.
    pub state_operators: Vec<StateOperatorProgress>,
    /// One entry per source.
    pub sources: Vec<SourceProgress>,
    /// The sink.
    pub sink: SinkProgress,
    /// Whether the query survives a crash: `checkpoint at <dir>`, or, without a checkpoint
    /// location, `none` with why (not in Spark's report, where only a log line says so).
    pub fault_tolerance: String,
}

fn not_finite(x: &f64) -> bool {
    !x.is_finite()
}

/// A rate Spark omitted (NaN or infinite) reads back as NaN.
fn nan() -> f64 {
    f64::NAN
}

/// One stateful operator's part of a batch (Spark's `stateOperators` entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOperatorProgress {
    /// The operator, e.g. `stateStoreSave`.
    pub operator_name: String,
    /// Keys in state after the batch, over all workers.
    pub num_rows_total: u64,
    /// Keys updated by the batch.
    pub num_rows_updated: u64,
    /// Keys evicted by the batch (their window closed).
    pub num_rows_removed: u64,
    /// Input rows dropped as late.
    pub num_rows_dropped_by_watermark: u64,
    /// Estimated memory held by the state, in bytes.
    pub memory_used_bytes: u64,
    /// The operator's own metrics (Spark's `customMetrics`), e.g. deduplication's
    /// `numDroppedDuplicateRows`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_metrics: BTreeMap<String, u64>,
}

/// One source's part of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceProgress {
    /// The source's description.
    pub description: String,
    /// Offset before the batch (JSON), `null` for the first.
    pub start_offset: serde_json::Value,
    /// Offset after the batch (JSON).
    pub end_offset: serde_json::Value,
    /// Rows read from this source.
    pub num_input_rows: u64,
    /// Rows per second arriving since the previous trigger.
    #[serde(skip_serializing_if = "not_finite", default = "nan")]
    pub input_rows_per_second: f64,
    /// Rows per second processed by this trigger.
    #[serde(skip_serializing_if = "not_finite", default = "nan")]
    pub processed_rows_per_second: f64,
    /// Source metrics: malformed records dropped (`numDroppedMalformedRecords`) and kept aside
    /// (`numCorruptRecords`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub metrics: BTreeMap<String, String>,
}

/// The sink's part of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkProgress {
    /// The sink's description.
    pub description: String,
    /// Rows written in this batch.
    pub num_output_rows: i64,
}

impl QueryProgress {
    /// The report as Spark-shaped JSON (pretty-printed like Spark's `prettyJson`).
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("progress serializes")
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Formats epoch milliseconds as `2024-01-01T00:00:00.000Z`.
pub(crate) fn iso_utc(ms: i64) -> String {
    let t = stream_core::Timestamp(ms).to_string();
    let (date, time) = t.split_at(10);
    let time = time.trim();
    let time = if time.len() == 8 {
        format!("{time}.000")
    } else {
        time.to_string()
    };
    format!("{date}T{time}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_shaped_json() {
        let p = QueryProgress {
            id: "a".into(),
            run_id: "b".into(),
            name: Some("q".into()),
            timestamp: iso_utc(1_436_918_400_500),
            batch_id: 3,
            batch_duration: 12,
            num_input_rows: 10,
            input_rows_per_second: f64::INFINITY,
            processed_rows_per_second: 5.0,
            duration_ms: [("triggerExecution".to_string(), 12)].into(),
            event_time: BTreeMap::new(),
            state_operators: vec![],
            sources: vec![],
            sink: SinkProgress {
                description: "MemorySink".into(),
                num_output_rows: 2,
            },
            fault_tolerance: "none".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&p.json()).unwrap();
        assert_eq!(v["batchId"], 3);
        assert_eq!(v["runId"], "b");
        assert_eq!(v["numInputRows"], 10);
        assert_eq!(v["timestamp"], "2015-07-15T00:00:00.500Z");
        assert_eq!(v["durationMs"]["triggerExecution"], 12);
        assert_eq!(v["sink"]["numOutputRows"], 2);
        // Spark omits NaN and infinite rates.
        assert!(v.get("inputRowsPerSecond").is_none());
        assert_eq!(v["processedRowsPerSecond"], 5.0);
    }
}
