//! Reading a checkpoint without running its query, as Spark's `state-metadata` and
//! `statestore` data sources do: which stateful operators it holds, and an operator's state
//! after a batch, as rows. The `stream-state` command prints the same as JSON lines.
//!
//! ```no_run
//! use stream_runtime::inspect;
//! let ckpt = std::path::Path::new("checkpoints/my-query");
//! for op in inspect::operators(ckpt)? {
//!     println!("{} {} (batches {:?} to {:?})", op.operator_id, op.operator_name, op.min_batch_id, op.max_batch_id);
//!     for row in inspect::state(ckpt, op.operator_id, None)? {
//!         println!("{} => {}", row.key, row.value);
//!     }
//! }
//! # Ok::<(), stream_runtime::StreamError>(())
//! ```

use crate::checkpoint::log::BatchLog;
use crate::error::{Result, StreamError};
use crate::state;
use serde::Serialize;
use std::path::Path;

/// A stateful operator of a checkpoint (Spark's `state-metadata` row).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorInfo {
    /// The operator's number among the query's stateful operators.
    pub operator_id: usize,
    /// What it is, e.g. `window aggregation`.
    pub operator_name: String,
    /// How many key groups its state is partitioned into.
    pub num_key_groups: u32,
    /// The first and last batch whose state can be read.
    pub min_batch_id: Option<u64>,
    /// See `min_batch_id`.
    pub max_batch_id: Option<u64>,
}

/// One key of an operator's state (Spark's `statestore` row, with the key group in place of
/// the partition).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRow {
    /// The key.
    pub key: serde_json::Value,
    /// Its value: for an aggregation, the row count and the aggregates' partial state, and when
    /// the key expires (the eviction time of its window's end).
    pub value: serde_json::Value,
    /// The key group the key belongs to.
    pub key_group: u32,
}

/// The stateful operators of the checkpoint at `checkpoint`.
pub fn operators(checkpoint: &Path) -> Result<Vec<OperatorInfo>> {
    let last = last_committed(checkpoint)?;
    let dir = checkpoint.join("state");
    let mut out = Vec::new();
    for (op, meta) in state::operators(&dir)? {
        let versions: Vec<u64> = state::files(&dir.join(op.to_string()))?
            .iter()
            .map(|f| f.version)
            .collect();
        // The oldest readable version: the oldest snapshot if deltas before it were retired.
        let min = versions.iter().min().copied();
        out.push(OperatorInfo {
            operator_id: op,
            operator_name: meta["operatorName"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            num_key_groups: meta["keyGroups"].as_u64().unwrap_or(0) as u32,
            min_batch_id: min.and_then(|v| v.checked_sub(1)),
            max_batch_id: last,
        });
    }
    Ok(out)
}

/// The state of operator `operator` after batch `batch_id` (default: the last committed one).
pub fn state(checkpoint: &Path, operator: usize, batch_id: Option<u64>) -> Result<Vec<StateRow>> {
    let Some(batch) = batch_id.or(last_committed(checkpoint)?) else {
        return Ok(Vec::new());
    };
    let info = operators(checkpoint)?
        .into_iter()
        .find(|o| o.operator_id == operator)
        .ok_or_else(|| {
            StreamError::Checkpoint(format!(
                "the checkpoint `{}` has no state of operator {operator}",
                checkpoint.display()
            ))
        })?;
    let dir = checkpoint.join("state").join(operator.to_string());
    Ok(state::read_version(&dir, batch + 1, info.num_key_groups)?
        .into_iter()
        .map(|(key_group, key, value)| StateRow {
            key,
            value,
            key_group,
        })
        .collect())
}

/// The last committed batch of the checkpoint.
fn last_committed(checkpoint: &Path) -> Result<Option<u64>> {
    if !checkpoint.join("metadata").is_file() {
        return Err(StreamError::Checkpoint(format!(
            "`{}` is not a checkpoint (it has no `metadata` file)",
            checkpoint.display()
        )));
    }
    BatchLog::open(checkpoint.join("commits"))?.latest()
}
