//! The Prometheus metrics of a session's active queries: Spark's gauges (`MetricsReporter`,
//! read from the last progress report), in Prometheus' naming, labelled by the query's name
//! (or id, without a name), and beyond Spark the last batch's duration by phase and a counter of
//! rows dropped by the watermark. A query's series go when it ends, as Spark removes its
//! metrics source.

use crate::QueryProgress;
use prometheus::core::Collector;
use prometheus::{CounterVec, Encoder, GaugeVec, Opts, Registry, TextEncoder};

/// Spark's gauges (`inputRate-total`, ...) and the names they have here.
pub const SPARK_GAUGES: [(&str, &str, &str); 6] = [
    (
        "inputRate-total",
        "spark_streaming_input_rate_total",
        "Rows per second arriving, over all sources (Spark's inputRate-total)",
    ),
    (
        "processingRate-total",
        "spark_streaming_processing_rate_total",
        "Rows per second processed, over all sources (Spark's processingRate-total)",
    ),
    (
        "latency",
        "spark_streaming_latency",
        "Milliseconds the last batch took, durationMs.triggerExecution (Spark's latency)",
    ),
    (
        "eventTime-watermark",
        "spark_streaming_event_time_watermark",
        "The watermark the last batch ran under, milliseconds since the epoch (Spark's eventTime-watermark)",
    ),
    (
        "states-rowsTotal",
        "spark_streaming_states_rows_total",
        "Rows held in state, over all stateful operators (Spark's states-rowsTotal)",
    ),
    (
        "states-usedBytes",
        "spark_streaming_states_used_bytes",
        "Bytes of memory held by state, over all stateful operators (Spark's states-usedBytes)",
    ),
];

/// The label of a query: its name, or its id.
pub fn label(name: Option<&str>, id: &str) -> String {
    name.unwrap_or(id).to_string()
}

/// The registry and its metrics; clones share them.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    gauges: Vec<GaugeVec>,
    phases: GaugeVec,
    dropped: CounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let gauges: Vec<GaugeVec> = SPARK_GAUGES
            .iter()
            .map(|(_, name, help)| {
                let g = GaugeVec::new(Opts::new(*name, *help), &["query"]).expect("valid gauge");
                registry.register(Box::new(g.clone())).expect("new name");
                g
            })
            .collect();
        let phases = GaugeVec::new(
            Opts::new(
                "spark_streaming_batch_duration_ms",
                "Milliseconds the last batch spent in each phase (durationMs: latestOffset, \
                 walCommit, getBatch, processing, stateCommit, addBatch, commitOffsets, \
                 triggerExecution)",
            ),
            &["query", "phase"],
        )
        .expect("valid gauge");
        registry
            .register(Box::new(phases.clone()))
            .expect("new name");
        let dropped = CounterVec::new(
            Opts::new(
                "spark_streaming_rows_dropped_by_watermark_total",
                "Input rows dropped as late by stateful operators since the query started \
                 (numRowsDroppedByWatermark, summed)",
            ),
            &["query"],
        )
        .expect("valid counter");
        registry
            .register(Box::new(dropped.clone()))
            .expect("new name");
        Metrics {
            registry,
            gauges,
            phases,
            dropped,
        }
    }
}

impl Metrics {
    /// Updates a query's metrics from its new progress report.
    pub fn progress(&self, p: &QueryProgress) {
        let query = label(p.name.as_deref(), &p.id);
        let states = |f: fn(&crate::progress::StateOperatorProgress) -> u64| {
            p.state_operators.iter().map(f).sum::<u64>() as f64
        };
        let watermark = p
            .event_time
            .get("watermark")
            .and_then(|w| crate::Timestamp::parse_iso(w))
            .map_or(0.0, |t| t.0 as f64);
        let values = [
            p.input_rows_per_second,
            p.processed_rows_per_second,
            p.duration_ms
                .get("triggerExecution")
                .copied()
                .unwrap_or(p.batch_duration) as f64,
            watermark,
            states(|s| s.num_rows_total),
            states(|s| s.memory_used_bytes),
        ];
        for (g, v) in self.gauges.iter().zip(values) {
            g.with_label_values(&[query.as_str()]).set(v);
        }
        for (phase, ms) in &p.duration_ms {
            self.phases
                .with_label_values(&[query.as_str(), phase.as_str()])
                .set(*ms as f64);
        }
        let dropped = states(|s| s.num_rows_dropped_by_watermark);
        self.dropped
            .with_label_values(&[query.as_str()])
            .inc_by(dropped);
    }

    /// Forgets a query's series.
    pub fn remove(&self, query: &str) {
        for g in &self.gauges {
            let _ = g.remove_label_values(&[query]);
        }
        let _ = self.dropped.remove_label_values(&[query]);
        let phases: Vec<String> = self
            .phases
            .collect()
            .iter()
            .flat_map(|family| family.get_metric())
            .filter(|m| m.get_label().iter().any(|l| l.value() == query))
            .filter_map(|m| {
                m.get_label()
                    .iter()
                    .find(|l| l.name() == "phase")
                    .map(|l| l.value().to_string())
            })
            .collect();
        for phase in phases {
            let _ = self.phases.remove_label_values(&[query, phase.as_str()]);
        }
    }

    /// The metrics in Prometheus' text format, and its content type.
    pub fn render(&self) -> (String, String) {
        let encoder = TextEncoder::new();
        let mut out = Vec::new();
        encoder
            .encode(&self.registry.gather(), &mut out)
            .expect("metrics encode");
        (
            String::from_utf8(out).expect("the text format is UTF-8"),
            encoder.format_type().to_string(),
        )
    }
}
