//! Nexmark generator speed (formerly the ignored timing test `tests/nexmark_bench.rs`):
//! nanoseconds per event for every kind, per kind-filtered source row, per bid, and for the
//! JSON of `--dump-events`.
//!
//! ```text
//! cargo bench -p stream-runtime --bench generator
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use stream_runtime::source::nexmark::*;

/// Events per iteration: enough to cover many 50-event kind cycles and hot-id blocks.
const EVENTS: u64 = 10_000;

fn generator(c: &mut Criterion) {
    let config = NexmarkConfig::default();
    black_box(event(&config, 0)); // builds the url tables outside the measurement
    let gens = Generators::new(&config);
    let mut group = c.benchmark_group("nexmark_generator");
    group.throughput(Throughput::Elements(EVENTS));

    let mut base = 0u64;
    let mut next_range = move || {
        // Walk forward so that later (larger) ids are measured too.
        base = (base + EVENTS) % 50_000_000;
        base..base + EVENTS
    };
    group.bench_function("event_all_kinds", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for i in next_range() {
                bytes += match black_box(event(&config, i)) {
                    Event::Person(p) => p.extra.len(),
                    Event::Auction(a) => a.extra.len(),
                    Event::Bid(b) => b.extra.len(),
                };
            }
            bytes
        })
    });
    group.bench_function("bids_source_rows_per_event", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for g in next_range() {
                bytes += gens.row::<Bid>(g).map_or(0, |b| black_box(b).extra.len());
            }
            bytes
        })
    });
    group.bench_function("people_source_rows_per_event", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for g in next_range() {
                bytes += gens
                    .row::<Person>(g)
                    .map_or(0, |p| black_box(p).extra.len());
            }
            bytes
        })
    });
    group.bench_function("auctions_source_rows_per_event", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for g in next_range() {
                bytes += gens
                    .row::<Auction>(g)
                    .map_or(0, |a| black_box(a).extra.len());
            }
            bytes
        })
    });
    group.bench_function("event_write_json", |b| {
        let mut out = String::new();
        b.iter(|| {
            let mut bytes = 0;
            for i in next_range() {
                out.clear();
                event(&config, i).write_json(&mut out);
                bytes += out.len();
            }
            bytes
        })
    });
    group.finish();

    // Per bid: only bid indexes, found by kind (46 of every 50 events).
    let bid_indexes: Vec<u64> = (0..EVENTS * 50 / 46 + 50)
        .filter(|g| gens.kind(*g) == EventKind::Bid)
        .take(EVENTS as usize)
        .collect();
    let mut group = c.benchmark_group("nexmark_generator");
    group.throughput(Throughput::Elements(bid_indexes.len() as u64));
    group.bench_function("per_bid", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for g in &bid_indexes {
                bytes += black_box(gens.row::<Bid>(*g).unwrap()).extra.len();
            }
            bytes
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = generator
}
criterion_main!(benches);
