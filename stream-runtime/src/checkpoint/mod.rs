//! Checkpoints: what a query needs to restart after a crash and produce exactly the output an
//! uninterrupted run would, in Spark's layout (`docs/fault-tolerance.md`):
//!
//! ```text
//! <checkpoint>/metadata     {"id":"<query id>"}, written once: the id survives restarts
//!             /offsets/N    batch N's sources' end offsets, watermark and timestamp, written
//!                           before batch N runs (the write-ahead log)
//!             /commits/N    {"nextBatchWatermarkMs":..}, written once batch N is in the sink
//!             /sources/I/   source I's own log (the file source's seen files)
//!             /state/       the stateful operators' state, by version (batch + 1)
//! ```
//!
//! On restart, if the last batch logged in `offsets` is committed the next one runs; otherwise
//! it runs again with exactly its logged offsets, watermark and timestamp.

mod changes;
mod fs;
pub(crate) mod log;

use crate::error::{Result, StreamError};
use crate::source::Offset;
use log::{BatchLog, BatchMetadata, CommitEntry, OffsetEntry};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

pub(crate) use changes::{
    check_and_record, OperatorDescription, QueryDescription, SinkDescription, SourceDescription,
};
pub(crate) use fs::{create_dir, sync_dir, write_atomic};

/// A query's checkpoint directory, locked while the query runs.
pub(crate) struct Checkpoint {
    root: PathBuf,
    offsets: BatchLog,
    commits: BatchLog,
    /// The query's id, from `metadata`.
    pub query_id: String,
    /// Held while the query runs (process 0 only).
    _lock: Option<File>,
}

/// Where a restarted query resumes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Recovery {
    /// The next batch to run.
    pub batch: u64,
    /// Each source's end offset after the last committed batch (the next batch's start).
    pub committed: Vec<Option<Offset>>,
    /// The watermark of the next batch, and of the one before it (late rows are judged by it).
    pub watermark: u64,
    /// See `watermark`.
    pub previous_watermark: u64,
    /// A batch logged but not committed: it runs again, exactly.
    pub replay: Option<Replay>,
    /// The frozen settings of the first start.
    pub conf: BTreeMap<String, String>,
}

/// A batch to run again exactly as it was logged.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Replay {
    /// Each source's logged end offset.
    pub ends: Vec<Option<Offset>>,
    /// The batch's logged timestamp.
    pub timestamp_ms: i64,
}

impl Recovery {
    /// The state version to restore: the state after the last committed batch (Spark's state
    /// version = batch id + 1).
    pub fn state_version(&self) -> u64 {
        self.batch
    }
}

impl Checkpoint {
    /// Opens (or creates) the checkpoint at `root` for a query with `sources` sources; with
    /// `lock`, takes the lock only one running query may hold. `conf` is frozen at the first
    /// start: a restart uses the logged values.
    pub fn open(
        root: &Path,
        sources: usize,
        conf: BTreeMap<String, String>,
        lock: bool,
    ) -> Result<(Checkpoint, Recovery)> {
        fs::create_dir(root)?;
        let lock = if lock { Some(fs::lock(root)?) } else { None };
        let query_id = Self::query_id(root, lock.is_some())?;
        let checkpoint = Checkpoint {
            root: root.to_path_buf(),
            offsets: BatchLog::open(root.join("offsets"))?,
            commits: BatchLog::open(root.join("commits"))?,
            query_id,
            _lock: lock,
        };
        let recovery = checkpoint.recover(sources, conf)?;
        Ok((checkpoint, recovery))
    }

    /// The query id in `metadata`, creating it on first start (`create`).
    fn query_id(root: &Path, create: bool) -> Result<String> {
        let path = root.join("metadata");
        if let Some(text) = fs::read_text(&path)? {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| fs::error(&path, format!("is not JSON ({e}): {text}")))?;
            return v["id"]
                .as_str()
                .map(String::from)
                .ok_or_else(|| fs::error(&path, format!("has no query `id`: {text}")));
        }
        if !create {
            return Err(fs::error(
                &path,
                "does not exist yet (process 0 creates it)",
            ));
        }
        let id = crate::handle::new_id();
        fs::write_atomic(
            &path,
            serde_json::json!({ "id": id }).to_string().as_bytes(),
        )?;
        Ok(id)
    }

    /// Spark's `populateStartOffsets`.
    fn recover(&self, sources: usize, conf: BTreeMap<String, String>) -> Result<Recovery> {
        let Some(last) = self.offsets.latest()? else {
            return Ok(Recovery {
                committed: vec![None; sources],
                conf,
                ..Recovery::default()
            });
        };
        let entry = |n: u64| -> Result<OffsetEntry> {
            let (path, text) = self.offsets.get(n)?.ok_or_else(|| {
                StreamError::Checkpoint(format!(
                    "the offset log for batch {n} does not exist in `{}`, which is needed to \
                     restart from the latest batch {last}; the checkpoint is incomplete",
                    self.root.join("offsets").display()
                ))
            })?;
            let e = OffsetEntry::parse(&path, &text)?;
            if e.offsets.len() != sources {
                return Err(StreamError::Checkpoint(format!(
                    "`{}` has offsets of {} sources, and the query has {sources}: the number of \
                     sources cannot change across restarts (Spark refuses it too)",
                    path.display(),
                    e.offsets.len()
                )));
            }
            Ok(e)
        };
        let last_entry = entry(last)?;
        let committed = match self.commits.latest()? {
            Some(c) if c >= last => {
                let (path, text) = self.commits.get(last)?.expect("listed");
                Some(CommitEntry::parse(&path, &text)?)
            }
            Some(c) if c + 1 < last => {
                eprintln!(
                    "checkpoint `{}`: the last committed batch {c} does not trail the last \
                     logged batch {last} by one; running batch {last} again",
                    self.root.display()
                );
                None
            }
            _ => None,
        };
        let conf = if last_entry.meta.conf.is_empty() {
            conf
        } else {
            last_entry.meta.conf.clone()
        };
        Ok(match committed {
            Some(commit) => Recovery {
                batch: last + 1,
                committed: last_entry.offsets,
                watermark: commit
                    .next_batch_watermark_ms
                    .max(last_entry.meta.batch_watermark_ms),
                previous_watermark: last_entry.meta.batch_watermark_ms,
                replay: None,
                conf,
            },
            None => {
                let previous = if last == 0 {
                    None
                } else {
                    Some(entry(last - 1)?)
                };
                Recovery {
                    batch: last,
                    committed: previous
                        .as_ref()
                        .map_or(vec![None; sources], |p| p.offsets.clone()),
                    watermark: last_entry.meta.batch_watermark_ms,
                    previous_watermark: previous.map_or(0, |p| p.meta.batch_watermark_ms),
                    replay: Some(Replay {
                        ends: last_entry.offsets,
                        timestamp_ms: last_entry.meta.batch_timestamp_ms,
                    }),
                    conf,
                }
            }
        })
    }

    /// Logs batch `batch`'s offsets before it runs (the write-ahead log).
    pub fn log_offsets(
        &self,
        batch: u64,
        meta: BatchMetadata,
        offsets: Vec<Option<Offset>>,
    ) -> Result<()> {
        self.offsets
            .add(batch, &OffsetEntry { meta, offsets }.to_text())
    }

    /// Logs that batch `batch` is in the sink, and drops the log entries and state versions
    /// older than `retain` batches.
    pub fn commit(&self, batch: u64, next_watermark: u64, retain: u64) -> Result<()> {
        self.commits.add(
            batch,
            &CommitEntry {
                next_batch_watermark_ms: next_watermark,
            }
            .to_text(),
        )?;
        if let Some(below) = (batch + 1).checked_sub(retain) {
            self.offsets.purge_below(below)?;
            self.commits.purge_below(below)?;
        }
        Ok(())
    }

    /// The checkpoint's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where source `index` keeps what it needs to replay (e.g. the file source's seen files).
    pub fn source_dir(&self, index: usize) -> PathBuf {
        self.root.join("sources").join(index.to_string())
    }

    /// The directory of a partitioned sink's own log (e.g. the Kafka sink's transactions).
    pub fn sink_dir(&self) -> PathBuf {
        self.root.join("sink")
    }

    /// The directory of the operators' state.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }
}

#[cfg(test)]
mod tests;
