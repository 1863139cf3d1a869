//! Apache Kafka for Structured Streaming for Rust.

pub mod client;
mod fs;
mod offsets;
mod options;
mod row;
mod sink;
mod source;

pub use row::{Header, Headers, KafkaRow};
pub use sink::KafkaSink;
pub use source::{KafkaSource, KafkaSourceBuilder};

/// Kafka's entry points, as Spark's `format("kafka")`: [`Kafka::source`] and `Kafka::sink`.
pub struct Kafka;

impl Kafka {
    /// A Kafka source (`spark.readStream.format("kafka")`), with Spark's options.
    pub fn source() -> KafkaSourceBuilder {
        KafkaSourceBuilder::default()
    }

    /// A Kafka sink (`writeStream.format("kafka")`), at least once unless
    /// [`exactly_once`](KafkaSink::exactly_once).
    pub fn sink() -> KafkaSink {
        KafkaSink::default()
    }
}

/// The bootstrap address of a Kafka broker for tests and examples: `$STREAM_KAFKA_BOOTSTRAP`
/// if set, else the broker `scripts/kafka/start.sh` starts (or finds running), once per process.
/// Panics, saying why, when no broker can be started: tests that need Kafka never skip silently.
pub fn test_broker() -> String {
    static BOOTSTRAP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| {
            if let Ok(b) = std::env::var("STREAM_KAFKA_BOOTSTRAP") {
                if !b.trim().is_empty() {
                    return b.trim().to_string();
                }
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka/start.sh");
            let out = std::process::Command::new("bash")
                .arg(script)
                .stderr(std::process::Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
            let stdout = String::from_utf8_lossy(&out.stdout);
            let address = stdout.lines().last().unwrap_or("").trim().to_string();
            assert!(
                out.status.success() && !address.is_empty(),
                "the Kafka broker could not be started by {script} ({}); the Kafka tests need \
                 it: run the script by hand to see why, or set STREAM_KAFKA_BOOTSTRAP",
                out.status
            );
            address
        })
        .clone()
}
