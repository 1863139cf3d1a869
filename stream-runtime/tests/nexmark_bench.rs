//! Generator speed, in ns per event. Run in release mode:
//!
//! ```text
//! cargo test --release -p stream-runtime --test nexmark_bench -- --ignored --nocapture
//! ```

use std::hint::black_box;
use std::time::Instant;
use stream_runtime::source::nexmark::*;

fn time_per_event(what: &str, n: u64, mut f: impl FnMut(u64) -> usize) {
    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        bytes += f(i);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{what:<34} {ns:8.1} ns/event  ({n} events, {bytes} checksum)");
}

#[test]
#[ignore = "a benchmark: run with --release --ignored --nocapture"]
fn generator_ns_per_event() {
    let config = NexmarkConfig::default();
    let n = 5_000_000;
    black_box(event(&config, 0)); // builds the url tables
    time_per_event("event() (all kinds)", n, |i| {
        match black_box(event(&config, i)) {
            Event::Person(p) => p.extra.len(),
            Event::Auction(a) => a.extra.len(),
            Event::Bid(b) => b.extra.len(),
        }
    });
    let gens = Generators::new(&config);
    time_per_event("bids only (row::<Bid>, per event)", n, |i| {
        gens.row::<Bid>(i).map_or(0, |b| black_box(b).extra.len())
    });
    time_per_event("people only (per event)", n, |i| {
        gens.row::<Person>(i)
            .map_or(0, |p| black_box(p).extra.len())
    });
    time_per_event("auctions only (per event)", n, |i| {
        gens.row::<Auction>(i)
            .map_or(0, |a| black_box(a).extra.len())
    });
    let bids_n = n / 50 * 46;
    let mut g = 0;
    time_per_event("per bid", bids_n, |_| {
        while gens.kind(g) != EventKind::Bid {
            g += 1;
        }
        g += 1;
        black_box(gens.row::<Bid>(g - 1).unwrap()).extra.len()
    });
    let mut out = String::new();
    time_per_event("event().write_json()", n / 5, |i| {
        out.clear();
        event(&config, i).write_json(&mut out);
        out.len()
    });
}
