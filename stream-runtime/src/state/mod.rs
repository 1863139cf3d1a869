//! Operator state, one mechanism for every stateful operator: keyed maps partitioned into key
//! groups, written to the checkpoint as a delta of the changed keys per batch, compacted into
//! snapshots off the batch's critical path, restored from the newest snapshot plus its deltas.
//!
//! Keys hash into a fixed number of key groups (128 by default, recorded in the checkpoint at
//! the query's first start, as Flink's max parallelism), and each worker owns a contiguous
//! range of them: state follows its key group, so a query may restart with another number of
//! workers or processes (Spark freezes its shuffle partitions instead).
//!
//! Files (`docs/fault-tolerance.md`): `state/<operator>/<version>.<lo>-<hi>.delta` holds what
//! the worker owning key groups `lo..hi` changed in the batch that made `version` (version =
//! batch + 1, as Spark's); `state/<operator>/<version>.snapshot` holds every key at `version`.
//! Records are MessagePack: self-describing, so that state can be read without the query's
//! types (`stream-state`).

pub(crate) mod bench;
mod files;
mod json;
pub(crate) mod maintenance;
mod store;

pub(crate) use files::{discard_after, list as files, operators, read_version};
pub(crate) use store::{Committer, Store};

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::PathBuf;

/// The default number of key groups.
pub(crate) const DEFAULT_KEY_GROUPS: u32 = 128;

/// The key groups of a query, and which of them a worker owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyGroups {
    /// How many key groups there are (fixed for the life of a checkpoint).
    pub count: u32,
}

impl Default for KeyGroups {
    fn default() -> Self {
        KeyGroups {
            count: DEFAULT_KEY_GROUPS,
        }
    }
}

impl KeyGroups {
    /// The key group of `key`: a hash that stays the same across processes, restarts and
    /// builds (FNV-1a over the key's `Hash` stream), modulo the count.
    pub fn of<K: Hash + ?Sized>(&self, key: &K) -> u32 {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        key.hash(&mut h);
        (h.finish() % u64::from(self.count)) as u32
    }

    /// The worker (of `workers`) that owns key group `group`.
    pub fn worker(&self, group: u32, workers: usize) -> usize {
        (group as usize * workers) / self.count as usize
    }

    /// The worker that owns `key`.
    pub fn route<K: Hash + ?Sized>(&self, key: &K, workers: usize) -> u64 {
        self.worker(self.of(key), workers) as u64
    }

    /// The key groups worker `index` (of `workers`) owns.
    pub fn range(&self, index: usize, workers: usize) -> Range<u32> {
        let count = self.count as usize;
        let lo = (index * count).div_ceil(workers);
        let hi = ((index + 1) * count).div_ceil(workers);
        lo as u32..hi as u32
    }
}

/// FNV-1a, 64 bits: a hash whose value is part of the checkpoint format.
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Where one worker keeps the state of the query's operators.
#[derive(Clone, Debug)]
pub(crate) struct StateCtx {
    /// The checkpoint's `state/` directory.
    pub dir: PathBuf,
    /// The version to restore (the state after the last committed batch).
    pub version: u64,
    pub groups: KeyGroups,
    /// This worker, and how many there are.
    pub worker: usize,
    pub workers: usize,
}

impl StateCtx {
    /// The key groups this worker owns.
    pub fn range(&self) -> Range<u32> {
        self.groups.range(self.worker, self.workers)
    }

    /// The directory of operator `op`'s state.
    pub fn op_dir(&self, op: usize) -> PathBuf {
        self.dir.join(op.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_groups_are_stable_and_ranges_partition_them() {
        let g = KeyGroups { count: 128 };
        // Part of the checkpoint format, so these values must never change: FNV-1a of the
        // bytes `Hash` writes (a u64's 8 bytes little-endian; a str's bytes then 0xff), as
        // computed independently with Python.
        assert_eq!(g.of(&42u64), 111);
        assert_eq!(g.of(&"auction-7"), 83);
        assert_eq!(g.of(&(3u64, "x")), 127);
        for workers in 1..9 {
            let mut all = Vec::new();
            for w in 0..workers {
                let r = g.range(w, workers);
                for group in r.clone() {
                    assert_eq!(
                        g.worker(group, workers),
                        w,
                        "{workers} workers, group {group}"
                    );
                }
                all.extend(r);
            }
            assert_eq!(all, (0..128).collect::<Vec<_>>());
        }
    }
}

#[cfg(test)]
mod store_tests;
