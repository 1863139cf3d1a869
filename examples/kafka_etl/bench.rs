//! `kafka_etl bench`: how fast JSON bids are read from a Kafka topic, stage by stage, in one
//! invocation, so that the time of each layer is a difference of measured runs:
//!
//! - `client`: the Kafka client alone, on one thread: every partition fetched and its record
//!   batches decoded (`Client::read_range`), values counted;
//! - `parse`: the same, and every value parsed into a `Bid` as `from_json` parses it;
//! - `read`: the engine's Kafka source into Spark's `noop` sink (rows of `KafkaRow`);
//! - `q1`: the engine, `from_json::<Bid>(value)` then Nexmark q1's projection, `noop` sink;
//! - `window`: the engine, `from_json` then the Q-window aggregation (10-second tumbling windows
//!   per auction, count and max price, append), `noop` sink.
//!
//! Each stage prints one JSON line: events, elapsed and CPU seconds of this process (the broker
//! is another process), events/s, and events/s per core (events per CPU second).

use super::Bid;
use std::time::{Duration, Instant};
use stream_core::timestamp::{with_text_timestamps, TextTimestamps};
use stream_kafka::client::fetch::OnDataLoss;
use stream_kafka::client::{Client, Config, OffsetSpec, TopicPartition};
use stream_kafka::{Kafka, KafkaRow};
use stream_runtime::prelude::*;
use stream_runtime::sink::Noop;

/// The stages, in the order they run.
pub const STAGES: &[&str] = &["client", "parse", "read", "q1", "window"];

/// A stage's figures.
struct Figures {
    events: u64,
    elapsed: Duration,
    cpu: f64,
}

/// Runs `stages` (all when empty) over what `topic` holds, on `session`'s workers.
pub fn bench(
    session: &Session,
    bootstrap: &str,
    topic: &str,
    stages: &[String],
    max_offsets: u64,
) -> Result<(), String> {
    let stages: Vec<&str> = if stages.is_empty() {
        STAGES.to_vec()
    } else {
        stages.iter().map(String::as_str).collect()
    };
    let total = topic_size(bootstrap, topic)?;
    for stage in stages {
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let events = match stage {
            "client" => client(bootstrap, topic, false)?,
            "parse" => client(bootstrap, topic, true)?,
            "read" | "q1" | "window" => {
                engine(session, bootstrap, topic, stage, max_offsets).map_err(|e| e.to_string())?;
                total
            }
            other => {
                return Err(format!(
                    "unknown stage `{other}`: one of {}",
                    STAGES.join(", ")
                ))
            }
        };
        if events != total {
            return Err(format!(
                "stage {stage} read {events} records of the topic's {total}"
            ));
        }
        let f = Figures {
            events,
            elapsed: started.elapsed(),
            cpu: cpu_seconds() - cpu_before,
        };
        let secs = f.elapsed.as_secs_f64();
        println!(
            "{{\"stage\":\"{stage}\",\"workers\":{},\"events\":{},\"elapsed_s\":{secs:.3},\
             \"cpu_s\":{:.2},\"events_per_s\":{:.0},\"events_per_s_per_core\":{:.0}}}",
            session.workers(),
            f.events,
            f.cpu,
            f.events as f64 / secs,
            f.events as f64 / f.cpu.max(0.01),
        );
    }
    Ok(())
}

/// The topic's partitions and their end offsets.
fn partitions(client: &mut Client, topic: &str) -> Result<Vec<(TopicPartition, i64)>, String> {
    let topics = [topic.to_string()];
    let parts = client
        .metadata(Some(&topics))
        .map_err(|e| e.to_string())?
        .remove(topic)
        .ok_or_else(|| format!("no metadata for topic `{topic}`"))?
        .map_err(|e| e.to_string())?;
    let tps: Vec<(String, i32)> = parts
        .iter()
        .map(|p| (topic.to_string(), p.partition))
        .collect();
    let ends = client
        .list_offsets(&tps, OffsetSpec::Latest)
        .map_err(|e| e.to_string())?;
    Ok(tps
        .into_iter()
        .map(|tp| {
            let end = ends[&tp].unwrap_or(0);
            (tp, end)
        })
        .collect())
}

/// Records in the topic (it was filled from offset 0 and never truncated).
fn topic_size(bootstrap: &str, topic: &str) -> Result<u64, String> {
    let mut c = Client::new(Config::new(bootstrap));
    Ok(partitions(&mut c, topic)?
        .iter()
        .map(|(_, end)| *end as u64)
        .sum())
}

/// Reads every record of the topic with the client alone, parsing values if `parse`.
fn client(bootstrap: &str, topic: &str, parse: bool) -> Result<u64, String> {
    let mut c = Client::new(Config::new(bootstrap));
    let mut count = 0u64;
    let mut price_sum = 0u64;
    let mut error = None;
    for (tp, end) in partitions(&mut c, topic)? {
        c.read_range(
            &tp,
            0,
            end,
            OnDataLoss::Fail,
            Duration::from_secs(60),
            &mut |r| {
                count += 1;
                if parse {
                    let value = r.value.as_deref().unwrap_or(b"null");
                    match with_text_timestamps(TextTimestamps::SparkJson, || {
                        serde_json::from_slice::<Bid>(value)
                    }) {
                        Ok(b) => price_sum = price_sum.wrapping_add(b.price),
                        Err(e) => {
                            error.get_or_insert(e.to_string());
                        }
                    }
                }
            },
        )
        .map_err(|e| e.to_string())?;
    }
    if let Some(e) = error {
        return Err(format!("a value did not parse: {e}"));
    }
    std::hint::black_box(price_sum);
    Ok(count)
}

/// Runs one of the engine's stages over the whole topic (`AvailableNow`).
fn engine(
    session: &Session,
    bootstrap: &str,
    topic: &str,
    stage: &str,
    max_offsets: u64,
) -> Result<(), StreamError> {
    let source = Kafka::source()
        .bootstrap_servers(bootstrap)
        .subscribe(topic)
        .starting_offsets("earliest")
        .max_offsets_per_trigger(max_offsets);
    let query = match stage {
        "read" => session.start(stream! {
            read_stream::<KafkaRow>(source)
                .write_stream(Noop)
                .trigger(AvailableNow)
        })?,
        "q1" => session.start(stream! {
            read_stream::<KafkaRow>(source)
                .select(from_json::<Bid>(value, Mode::FailFast))
                .select(auction, bidder, price * 908 / 1000 as price, date_time)
                .write_stream(Noop)
                .trigger(AvailableNow)
        })?,
        _ => session.start(stream! {
            read_stream::<KafkaRow>(source)
                .select(from_json::<Bid>(value, Mode::FailFast))
                .with_watermark(date_time, "1 second")
                .group_by(window(date_time, "10 seconds"), auction)
                .agg(count() as bids, max(price) as max_price)
                .write_stream(Noop)
                .output_mode(Append)
                .trigger(AvailableNow)
        })?,
    };
    query.await_termination()
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, in clock ticks of
/// 1/100 s, Linux's fixed USER_HZ).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}
