//! The time and size of a state snapshot with 1M keys (docs/performance.md):
//!
//! ```text
//! cargo run --release --example state_snapshot [-- KEYS]
//! ```
//!
//! Writes a delta of every key, nine smaller deltas, folds them into the snapshot of version 10
//! (what the maintenance thread does off the batch's critical path) and restores from it. An
//! example rather than a `cargo bench` target: it builds with the engine's release features, as
//! `nexmark` does, and prints one JSON line.

fn main() {
    let keys: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("state-snapshot-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cost = stream_runtime::__private::bench_state_snapshot(&dir, keys).expect("the bench runs");
    let _ = std::fs::remove_dir_all(&dir);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{{\"keys\":{keys},\"full_delta_ms\":{:.1},\"snapshot_ms\":{:.1},\"snapshot_bytes\":{},\"bytes_per_key\":{:.1},\"restore_ms\":{:.1}}}",
        ms(cost.full_delta),
        ms(cost.snapshot),
        cost.snapshot_bytes,
        cost.snapshot_bytes as f64 / keys as f64,
        ms(cost.restore),
    );
}
