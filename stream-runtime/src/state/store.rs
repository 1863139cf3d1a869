//! The keyed map of one stateful operator on one worker, and what changed in it since the
//! batch before: with a checkpoint, each batch's changes are written as that batch's delta.

use super::{files, StateCtx};
use crate::error::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;

/// Keys and values of state, hashed with foldhash (the engine's own rows, not attacker input).
pub(crate) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The state of one operator on one worker.
pub(crate) struct Store<K, V> {
    /// The state: operators read and change it directly, and report each changed key with
    /// [`Store::changed`].
    pub map: Map<K, V>,
    /// With a checkpoint: where, and the keys changed since the last commit (a key may repeat).
    checkpoint: Option<(StateCtx, usize, Vec<K>)>,
}

impl<K, V> Store<K, V>
where
    K: Hash + Eq + Clone + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// The state of operator `op` (its number among the query's stateful operators): empty
    /// without a checkpoint, else restored at the checkpoint's version for this worker's key
    /// groups. `kind` names what the operator is, to refuse a checkpoint of another query.
    pub fn open(ctx: Option<&StateCtx>, op: usize, kind: &str) -> Result<Store<K, V>> {
        let Some(ctx) = ctx else {
            return Ok(Store {
                map: Map::default(),
                checkpoint: None,
            });
        };
        files::check_operator(ctx, op, kind)?;
        let map = files::restore(ctx, op)?;
        Ok(Store {
            map,
            checkpoint: Some((ctx.clone(), op, Vec::new())),
        })
    }

    /// Records that `key`'s entry changed (was set or removed).
    #[inline]
    pub fn changed(&mut self, key: &K) {
        if let Some((_, _, dirty)) = &mut self.checkpoint {
            dirty.push(key.clone());
        }
    }
}

/// Writes a store's changes as the delta of a version.
pub(crate) trait Committer {
    /// Writes what changed since the last commit as the delta of `version` (every worker
    /// writes one per version, empty or not, so that a version's deltas cover every key group).
    fn commit(&self, version: u64) -> Result<()>;
}

impl<K, V> Committer for RefCell<Store<K, V>>
where
    K: Hash + Eq + Clone + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    fn commit(&self, version: u64) -> Result<()> {
        let mut store = self.borrow_mut();
        let Store { map, checkpoint } = &mut *store;
        let Some((ctx, op, dirty)) = checkpoint else {
            return Ok(());
        };
        // A key changed twice in a batch is written twice, with its final value both times:
        // restore applies records in order, and deduplicating cost more than the repeats
        // (a key changes at most once per time of the batch).
        let records: Vec<(u32, K, Option<&V>)> = dirty
            .drain(..)
            .map(|key| {
                let value = map.get(&key);
                (ctx.groups.of(&key), key, value)
            })
            .collect();
        files::write_delta(ctx, *op, version, &records)
    }
}
