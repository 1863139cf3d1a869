//! What a state snapshot costs, for `examples/state_snapshot.rs` (not a timed test): a store of
//! `keys` keys written as one delta, nine more versions each touching 1% of the keys, then the
//! maintenance's snapshot of version 10, and a restore from it.

use super::{maintenance, KeyGroups, StateCtx, Store};
use crate::error::Result;
use crate::state::Committer;
use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

/// The measurements of [`snapshot`].
#[derive(Clone, Debug)]
pub struct SnapshotCost {
    /// Writing the delta that holds every key.
    pub full_delta: Duration,
    /// Folding the deltas into the snapshot of version 10.
    pub snapshot: Duration,
    /// The snapshot's size in bytes.
    pub snapshot_bytes: u64,
    /// Restoring every key from the snapshot.
    pub restore: Duration,
}

/// Measures a snapshot of an aggregation-like state (key: `u64`; value: a count, a sum and an
/// expiry) of `keys` keys, in `dir` (which must be empty or absent).
pub fn snapshot(dir: &Path, keys: u64) -> Result<SnapshotCost> {
    let ctx = StateCtx {
        dir: dir.to_path_buf(),
        version: 0,
        groups: KeyGroups::default(),
        worker: 0,
        workers: 1,
    };
    type Value = (i64, i64, Option<u64>);
    let store = RefCell::new(Store::<u64, Value>::open(Some(&ctx), 0, "aggregation")?);
    {
        let mut s = store.borrow_mut();
        for k in 0..keys {
            s.map.insert(k, (1, k as i64, Some(k)));
            s.changed(&k);
        }
    }
    let started = Instant::now();
    store.commit(1)?;
    let full_delta = started.elapsed();
    for version in 2..=maintenance::MIN_DELTAS_FOR_SNAPSHOT {
        let mut s = store.borrow_mut();
        for k in (version..keys).step_by(100) {
            s.map.entry(k).and_modify(|v| v.0 += 1);
            s.changed(&k);
        }
        drop(s);
        store.commit(version)?;
    }
    let version = maintenance::MIN_DELTAS_FOR_SNAPSHOT;
    let op_dir = ctx.op_dir(0);
    let started = Instant::now();
    maintenance::snapshot(&op_dir, ctx.groups.count, version)?;
    let snapshot = started.elapsed();
    let snapshot_bytes = std::fs::metadata(op_dir.join(format!("{version}.snapshot")))
        .map(|m| m.len())
        .unwrap_or(0);
    let started = Instant::now();
    let restored = Store::<u64, Value>::open(Some(&StateCtx { version, ..ctx }), 0, "aggregation")?;
    let restore = started.elapsed();
    assert_eq!(restored.map.len() as u64, keys, "every key restored");
    Ok(SnapshotCost {
        full_delta,
        snapshot,
        snapshot_bytes,
        restore,
    })
}
