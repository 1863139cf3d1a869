//! Kafka in, Kafka and files out, exactly once: JSON Nexmark bids read from a topic, counted
//! per 2-second window and auction, the closed windows written to another topic in Kafka
//! transactions and/or as JSON files by the transactional file sink. Killed at any moment and
//! restarted on the same checkpoint, it writes exactly what an uninterrupted run writes
//! (readers with `isolation.level=read_committed` see each row once; readers of the file sink's
//! `_spark_metadata` log see each row once).
//!
//! ```text
//! scripts/kafka/start.sh     # a broker on 127.0.0.1:19092
//! cargo run --release --example kafka_etl -- fill --bootstrap 127.0.0.1:19092 --topic bids --events 200000
//! cargo run --release --example kafka_etl -- run --bootstrap 127.0.0.1:19092 --input bids \
//!     --output bid-windows [--output-dir /tmp/bid-windows] --checkpoint /tmp/kafka-etl [-w 2]
//! cargo run --release --example kafka_etl -- bench --bootstrap 127.0.0.1:19092 --topic bids [-w 2]
//! ```
//!
//! `fill` creates the topic (4 partitions) and writes the bids of the first `N` Nexmark events
//! as JSON, bid `i` to partition `i % 4`. `run` processes what the input topic holds
//! (`Trigger::AvailableNow`, at most `--max-offsets-per-trigger` offsets a batch) and stops; run
//! again, it resumes from its checkpoint. Output rows: key `auction`, value
//! `{"window_start":..,"window_end":..,"auction":..,"bids":..,"volume":..}` (epoch ms) in topic
//! `--output`; the same objects as JSON lines in directory `--output-dir` (one query per sink,
//! checkpointed in `<checkpoint>/kafka` and `<checkpoint>/files`).
//! `bench` measures reading the topic layer by layer (see `kafka_etl/bench.rs` and
//! `docs/performance.md`).

use clap::{Parser, Subcommand};
use stream_kafka::client::produce::{OutRecord, Producer};
use stream_kafka::client::{Client, Config};
use stream_kafka::{Kafka, KafkaRow};
use stream_runtime::prelude::*;
use stream_runtime::source::nexmark::{event, Event, NexmarkConfig};

#[path = "kafka_etl/bench.rs"]
mod bench;

/// A bid as the topic holds it (Nexmark's bid, without its padding).
#[derive(Record)]
struct Bid {
    auction: u64,
    bidder: u64,
    price: u64,
    channel: String,
    date_time: Timestamp,
}

/// A closed window, as the file sink writes it (the Kafka value's fields as columns).
#[derive(Record)]
struct WindowRow {
    window_start: i64,
    window_end: i64,
    auction: u64,
    bids: i64,
    volume: u64,
}

/// An output row: Kafka's key and value columns.
#[derive(Record)]
struct Out {
    key: String,
    value: String,
}

#[derive(Parser)]
#[command(name = "kafka_etl", after_help = Session::USAGE)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the input topic and writes JSON bids to it.
    Fill {
        #[arg(long)]
        bootstrap: String,
        #[arg(long)]
        topic: String,
        /// Nexmark events to generate (their bids are written, ~92% of them).
        #[arg(long)]
        events: u64,
        #[arg(long, default_value_t = 4)]
        partitions: i32,
    },
    /// Runs the query over what the input topic holds, then stops.
    Run {
        #[arg(long)]
        bootstrap: String,
        #[arg(long)]
        input: String,
        /// The output topic (written in Kafka transactions).
        #[arg(long, required_unless_present = "output_dir")]
        output: Option<String>,
        /// The output directory (JSON files, by the transactional file sink).
        #[arg(long)]
        output_dir: Option<std::path::PathBuf>,
        #[arg(long)]
        checkpoint: std::path::PathBuf,
        #[arg(long, default_value_t = 5000)]
        max_offsets_per_trigger: u64,
    },
    /// Measures reading the topic stage by stage: the client, + JSON parsing, the engine's
    /// source, q1, the windowed aggregation (`kafka_etl/bench.rs`).
    Bench {
        #[arg(long)]
        bootstrap: String,
        #[arg(long)]
        topic: String,
        /// Stages to run (client, parse, read, q1, window); all by default.
        #[arg(long = "stage")]
        stages: Vec<String>,
        #[arg(long, default_value_t = 500_000)]
        max_offsets_per_trigger: u64,
    },
}

/// A bid as JSON, its time as Spark's `to_json` writes timestamps.
fn bid_json(b: &stream_runtime::source::nexmark::Bid) -> String {
    serde_json::json!({
        "auction": b.auction,
        "bidder": b.bidder,
        "price": b.price,
        "channel": b.channel,
        "date_time": iso(b.date_time.millis()),
    })
    .to_string()
}

/// Epoch milliseconds as `2015-07-15T00:00:01.234Z` (from the console's `2015-07-15 00:00:01.234`).
fn iso(ms: i64) -> String {
    let t = Timestamp(ms).to_string();
    let (date, time) = t.split_at(10);
    format!("{date}T{}Z", time.trim())
}

fn fill(bootstrap: &str, topic: &str, events: u64, partitions: i32) -> Result<(), String> {
    let mut client = Client::new(Config::new(bootstrap));
    client
        .create_topic(topic, partitions, &[])
        .map_err(|e| e.to_string())?;
    let mut producer = Producer::new(None);
    let config = NexmarkConfig::default();
    let mut written = 0u64;
    for i in 0..events {
        if let Event::Bid(b) = event(&config, i) {
            let record = OutRecord {
                partition: Some((written % partitions as u64) as i32),
                value: Some(bid_json(&b).into()),
                ..OutRecord::default()
            };
            producer
                .send(&mut client, topic, record)
                .map_err(|e| e.to_string())?;
            written += 1;
        }
    }
    producer.flush(&mut client).map_err(|e| e.to_string())?;
    eprintln!("kafka_etl: wrote {written} bids to `{topic}`");
    Ok(())
}

/// Where `run` writes.
struct Outputs<'a> {
    topic: Option<&'a str>,
    dir: Option<&'a std::path::Path>,
}

fn run(
    session: &Session,
    bootstrap: &str,
    input: &str,
    outputs: Outputs,
    checkpoint: &std::path::Path,
    max_offsets: u64,
) -> Result<(), StreamError> {
    let source = Kafka::source()
        .bootstrap_servers(bootstrap)
        .subscribe(input)
        .starting_offsets("earliest")
        .max_offsets_per_trigger(max_offsets);
    let mut queries = Vec::new();
    if let Some(output) = outputs.topic {
        let mut admin = Client::new(Config::new(bootstrap));
        admin
            .create_topic(output, 4, &[])
            .map_err(|e| StreamError::Sink(e.to_string()))?;
        let sink = Kafka::sink()
            .bootstrap_servers(bootstrap)
            .topic(output)
            .exactly_once(true);
        let source = source.clone();
        let writer = stream! {
            read_stream::<KafkaRow>(source)
                .select(from_json::<Bid>(value, Mode::FailFast))
                .with_watermark(date_time, "1 second")
                .group_by(window(date_time, "2 seconds"), auction)
                .agg(count() as bids, sum(price) as volume)
                .map(|r| Out {
                    key: r.auction.to_string(),
                    value: serde_json::json!({
                        "window_start": r.window.start.millis(),
                        "window_end": r.window.end.millis(),
                        "auction": r.auction,
                        "bids": r.bids,
                        "volume": r.volume,
                    })
                    .to_string(),
                })
                .write_stream(sink)
                .output_mode(Append)
                .trigger(AvailableNow)
        };
        queries.push(session.start(writer.checkpoint_location(checkpoint.join("kafka")))?);
    }
    if let Some(dir) = outputs.dir {
        let writer = stream! {
            read_stream::<KafkaRow>(source)
                .select(from_json::<Bid>(value, Mode::FailFast))
                .with_watermark(date_time, "1 second")
                .group_by(window(date_time, "2 seconds"), auction)
                .agg(count() as bids, sum(price) as volume)
                .map(|r| WindowRow {
                    window_start: r.window.start.millis(),
                    window_end: r.window.end.millis(),
                    auction: r.auction,
                    bids: r.bids,
                    volume: r.volume,
                })
                .write_stream(Files::json(dir))
                .output_mode(Append)
                .trigger(AvailableNow)
        };
        queries.push(session.start(writer.checkpoint_location(checkpoint.join("files")))?);
    }
    queries.iter().try_for_each(|q| q.await_termination())
}

fn main() -> std::process::ExitCode {
    let session = match Session::from_args_with_app_flags() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kafka_etl: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let args = Args::parse_from(
        std::iter::once("kafka_etl".to_string()).chain(session.app_args().iter().cloned()),
    );
    let result = match args.command {
        Command::Bench {
            bootstrap,
            topic,
            stages,
            max_offsets_per_trigger,
        } => bench::bench(
            &session,
            &bootstrap,
            &topic,
            &stages,
            max_offsets_per_trigger,
        ),
        Command::Fill {
            bootstrap,
            topic,
            events,
            partitions,
        } => fill(&bootstrap, &topic, events, partitions),
        Command::Run {
            bootstrap,
            input,
            output,
            output_dir,
            checkpoint,
            max_offsets_per_trigger,
        } => run(
            &session,
            &bootstrap,
            &input,
            Outputs {
                topic: output.as_deref(),
                dir: output_dir.as_deref(),
            },
            &checkpoint,
            max_offsets_per_trigger,
        )
        .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kafka_etl: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
