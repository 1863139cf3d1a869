//! Hot paths of the engine, each on its own: row encoding (a result row to JSON through
//! `Record`, serde JSON, bincode as a cluster exchange encodes rows), window assignment
//! (`WindowSpec::windows_of`), partial aggregation (merging accumulators, pre-aggregating a
//! batch by key), and the exchange of rows between timely workers.
//!
//! ```text
//! cargo bench -p stream-runtime --bench hot_paths
//! ```

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use stream_core::{Aggregates, Mergeable};
use stream_runtime::source::nexmark::{Bid, Generators, NexmarkConfig};
use stream_runtime::{Record, Timestamp, WindowSpec};

/// A synthetic bid of docs/benchmarks.md (row `v`).
#[derive(Record)]
struct SynthBid {
    auction: u64,
    bidder: u64,
    price: u64,
    #[event_time]
    date_time: Timestamp,
}

/// A synthetic bid without its time.
#[derive(Record)]
struct SynthKey {
    auction: u64,
    bidder: u64,
    price: u64,
}

fn synth(v: u64) -> SynthBid {
    SynthBid {
        auction: (v * 7) % 1000,
        bidder: (v * 13) % 10_000,
        price: (v * 31) % 10_000,
        date_time: Timestamp(v as i64),
    }
}

fn nexmark_bids(n: usize) -> Vec<Bid> {
    let gens = Generators::new(&NexmarkConfig::default());
    (0..).filter_map(|g| gens.row::<Bid>(g)).take(n).collect()
}

fn row_encoding(c: &mut Criterion) {
    let bids = nexmark_bids(1000);
    let synth: Vec<SynthBid> = (0..1000).map(synth).collect();
    let mut group = c.benchmark_group("row_encoding");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("nexmark_bid_record_to_json", |b| {
        b.iter(|| {
            bids.iter()
                .map(|r| black_box(r.to_json()).len())
                .sum::<usize>()
        })
    });
    group.bench_function("nexmark_bid_serde_json", |b| {
        b.iter(|| {
            bids.iter()
                .map(|r| black_box(serde_json::to_string(r).unwrap()).len())
                .sum::<usize>()
        })
    });
    // Serialization only here; the round trip is timed on a smaller row below.
    group.bench_function("nexmark_bid_bincode_serialize", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for r in &bids {
                buf.clear();
                bincode::serialize_into(&mut buf, r).unwrap();
                n += black_box(&buf).len();
            }
            n
        })
    });
    group.bench_function("synthetic_bid_record_to_json", |b| {
        b.iter(|| {
            synth
                .iter()
                .map(|r| black_box(r.to_json()).len())
                .sum::<usize>()
        })
    });
    group.bench_function("synthetic_bid_bincode_serialize", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for r in &synth {
                buf.clear();
                bincode::serialize_into(&mut buf, r).unwrap();
                n += black_box(&buf).len();
            }
            n
        })
    });
    let keys: Vec<SynthKey> = synth
        .iter()
        .map(|r| SynthKey {
            auction: r.auction,
            bidder: r.bidder,
            price: r.price,
        })
        .collect();
    group.bench_function("timeless_row_bincode_roundtrip", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for r in &keys {
                buf.clear();
                bincode::serialize_into(&mut buf, r).unwrap();
                let back: SynthKey = bincode::deserialize(&buf).unwrap();
                n += black_box(back).price as usize;
            }
            n
        })
    });
    group.finish();
}

fn window_assignment(c: &mut Criterion) {
    const N: i64 = 10_000;
    let mut group = c.benchmark_group("window_assignment");
    group.throughput(Throughput::Elements(N as u64));
    let specs = [
        ("tumbling_10s", WindowSpec::tumbling("10 seconds").unwrap()),
        (
            "sliding_10s_every_5s",
            WindowSpec::sliding("10 seconds", "5 seconds").unwrap(),
        ),
        (
            "sliding_10s_every_1s",
            WindowSpec::sliding("10 seconds", "1 second").unwrap(),
        ),
    ];
    for (name, spec) in specs {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0i64;
                for t in 0..N {
                    for w in spec.windows_of(Timestamp(black_box(t * 997))) {
                        n += w.start.millis();
                    }
                }
                n
            })
        });
    }
    group.finish();
}

/// FxHash (rustc's hasher: one multiply-rotate per word), to compare with std's SipHash.
#[derive(Clone, Copy, Default)]
struct BuildFx;

#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::BuildHasher for BuildFx {
    type Hasher = Fx;
    fn build_hasher(&self) -> Fx {
        Fx::default()
    }
}

/// The accumulator of `(count(), max(price))`.
type Acc = (i64, stream_core::agg::Extremum<u64, true>);

fn partial_aggregation(c: &mut Criterion) {
    const N: u64 = 100_000;
    let aggs = (
        stream_core::count(),
        stream_core::max(|r: &SynthBid| r.price),
    );
    let rows: Vec<SynthBid> = (0..N).map(synth).collect();
    let mut group = c.benchmark_group("partial_aggregation");
    group.throughput(Throughput::Elements(N));
    group.bench_function("merge_count_max_into_one", |b| {
        b.iter(|| {
            let mut acc = aggs.init(&rows[0]);
            for r in &rows[1..] {
                acc.merge(&aggs.init(r));
            }
            black_box(acc)
        })
    });
    group.bench_function("pre_aggregate_batch_hashmap_1000_keys", |b| {
        b.iter(|| {
            let mut per_key = HashMap::with_capacity(1024);
            for r in &rows {
                let acc = aggs.init(r);
                per_key
                    .entry(r.auction)
                    .and_modify(|a: &mut _| Mergeable::merge(a, &acc))
                    .or_insert(acc);
            }
            black_box(per_key.len())
        })
    });
    group.bench_function("pre_aggregate_batch_hashmap_fxhash_1000_keys", |b| {
        b.iter(|| {
            let mut per_key: HashMap<u64, Acc, BuildFx> =
                HashMap::with_capacity_and_hasher(1024, BuildFx);
            for r in &rows {
                let acc = aggs.init(r);
                per_key
                    .entry(r.auction)
                    .and_modify(|a| Mergeable::merge(a, &acc))
                    .or_insert(acc);
            }
            black_box(per_key.len())
        })
    });
    group.bench_function("pre_aggregate_batch_sort_1000_keys", |b| {
        b.iter_batched(
            || {
                rows.iter()
                    .map(|r| (r.auction, aggs.init(r)))
                    .collect::<Vec<_>>()
            },
            |mut pairs: Vec<(u64, Acc)>| {
                // As differential's consolidation does: sort by key, merge neighbours.
                pairs.sort_unstable_by_key(|(k, _)| *k);
                let mut out: Vec<(u64, Acc)> = Vec::with_capacity(1024);
                for (k, acc) in pairs {
                    match out.last_mut() {
                        Some((last, a)) if *last == k => a.merge(&acc),
                        _ => out.push((k, acc)),
                    }
                }
                black_box(out.len())
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Rows sent through a timely `exchange` by auction, on one or two worker threads (each
/// worker sends its half); the time includes starting the workers, small against the rows.
fn exchange(c: &mut Criterion) {
    use timely::dataflow::operators::{Exchange, Input, Inspect, Probe};
    use timely::dataflow::ProbeHandle;
    const N: u64 = 200_000;
    let mut group = c.benchmark_group("exchange");
    group.throughput(Throughput::Elements(N));
    group.sample_size(10);
    for workers in [1usize, 2] {
        group.bench_function(format!("synthetic_bids_{workers}_workers"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let guards = timely::execute(timely::Config::process(workers), |worker| {
                        let (index, peers) = (worker.index() as u64, worker.peers() as u64);
                        let probe = ProbeHandle::new();
                        let mut input = worker.dataflow::<u64, _, _>(|scope| {
                            let (input, rows) = scope.new_input::<Vec<SynthBid>>();
                            rows.exchange(|r: &SynthBid| r.auction)
                                .inspect(|r| {
                                    black_box(r);
                                })
                                .probe_with(&probe);
                            input
                        });
                        for v in (index..N).step_by(peers as usize) {
                            input.send(synth(v));
                        }
                        input.advance_to(1);
                        worker.step_while(|| probe.less_than(&1));
                    })
                    .unwrap();
                    guards.join();
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = row_encoding, window_assignment, partial_aggregation, exchange
}
criterion_main!(benches);
