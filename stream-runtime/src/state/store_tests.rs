//! Stores written as deltas, folded into snapshots, retired beyond retention, and restored on
//! another number of workers: always the same state as a plain map kept alongside.

use super::maintenance::{maintain, MIN_DELTAS_FOR_SNAPSHOT};
use super::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ctx(dir: &Dir, version: u64, worker: usize, workers: usize) -> StateCtx {
    StateCtx {
        dir: dir.0.clone(),
        version,
        groups: KeyGroups { count: 16 },
        worker,
        workers,
    }
}

/// The state of every worker's store at `version`, merged.
fn restored(dir: &Dir, version: u64, workers: usize) -> BTreeMap<u64, String> {
    let mut all = BTreeMap::new();
    for w in 0..workers {
        let store: Store<u64, String> =
            Store::open(Some(&ctx(dir, version, w, workers)), 0, "test").unwrap();
        for (k, v) in store.map {
            let group = KeyGroups { count: 16 }.of(&k);
            assert!(
                ctx(dir, version, w, workers).range().contains(&group),
                "worker {w} of {workers} got key {k} of another key group"
            );
            assert!(all.insert(k, v).is_none(), "key {k} restored twice");
        }
    }
    all
}

#[test]
fn deltas_snapshots_and_retention_restore_the_state_on_any_number_of_workers() {
    let dir = Dir(std::env::temp_dir().join(format!("state-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    let mut expected: BTreeMap<u64, String> = BTreeMap::new();
    let mut history = vec![expected.clone()];
    // Two workers write versions 1..=30: each batch sets some keys and removes others.
    let stores: Vec<RefCell<Store<u64, String>>> = (0..2)
        .map(|w| RefCell::new(Store::open(Some(&ctx(&dir, 0, w, 2)), 0, "test").unwrap()))
        .collect();
    for version in 1..=30u64 {
        for key in 0..40u64 {
            let w = KeyGroups { count: 16 }.worker(KeyGroups { count: 16 }.of(&key), 2);
            let mut store = stores[w].borrow_mut();
            if (key + version) % 7 == 0 {
                store.map.remove(&key);
                expected.remove(&key);
                store.changed(&key);
            } else if (key * version) % 5 == 1 {
                let v = format!("{key}@{version}");
                store.map.insert(key, v.clone());
                expected.insert(key, v);
                store.changed(&key);
            }
        }
        for s in &stores {
            s.commit(version).unwrap();
        }
        history.push(expected.clone());
        if version % MIN_DELTAS_FOR_SNAPSHOT == 0 {
            maintain(&dir.0, 16, version, 12).unwrap();
        }
    }
    // Every version still within retention restores exactly, on 1, 2 or 3 workers.
    for version in [19, 20, 25, 30] {
        for workers in [1, 2, 3] {
            assert_eq!(
                restored(&dir, version, workers),
                history[version as usize],
                "version {version}, {workers} workers"
            );
        }
    }
    // Snapshots were written, and files older than retention removed.
    let files = files::list(&dir.0.join("0")).unwrap();
    assert!(files.iter().any(|f| f.groups.is_none() && f.version == 30));
    assert!(files.iter().all(|f| f.version >= 10), "{files:?}");
    // The untyped reader agrees.
    let untyped = read_version(&dir.0.join("0"), 30, 16).unwrap();
    let untyped: BTreeMap<u64, String> = untyped
        .into_iter()
        .map(|(_, k, v)| (k.as_u64().unwrap(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(untyped, history[30]);
}

#[test]
fn a_value_that_encodes_as_nil_is_kept_not_taken_for_a_removal() {
    // Deduplication keeps `Option<i64>` values (`None`: never expires); `()` is another such
    // value. MessagePack writes both as `nil`.
    let dir = Dir(std::env::temp_dir().join(format!("state-nil-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    let store: RefCell<Store<u64, Option<i64>>> =
        RefCell::new(Store::open(Some(&ctx(&dir, 0, 0, 1)), 0, "test").unwrap());
    for (key, value) in [(1, None), (2, Some(5)), (3, None)] {
        store.borrow_mut().map.insert(key, value);
        store.borrow_mut().changed(&key);
    }
    store.commit(1).unwrap();
    store.borrow_mut().map.remove(&3);
    store.borrow_mut().changed(&3);
    store.commit(2).unwrap();
    let want: BTreeMap<u64, Option<i64>> = [(1, None), (2, Some(5))].into();
    let restore = |version| -> BTreeMap<u64, Option<i64>> {
        let s: Store<u64, Option<i64>> =
            Store::open(Some(&ctx(&dir, version, 0, 1)), 0, "test").unwrap();
        s.map.into_iter().collect()
    };
    assert_eq!(restore(2), want);
    // Folded into a snapshot, the same.
    maintain(&dir.0, 16, 2, 100).unwrap();
    assert!(dir.0.join("0/2.snapshot").exists());
    assert_eq!(restore(2), want);
}
