//! The exactly-once sink's log on the driver, in the checkpoint's `sink/` directory:
//!
//! ```text
//! sink/txn/<batch>   {"transactions":[{"transactional_id":..,"producer_id":..,"epoch":..}],
//!                     "committed":false|true}
//! sink/writers       every transactional id a run of this query has used
//! ```
//!
//! A batch's transactions are logged before the driver commits any of them and marked
//! committed after the last: a restart finds a batch logged but not marked, and commits its
//! transactions (those already committed answer that they are). The writers' ids let a restart
//! with other workers (other key-group ranges, other ids) abort what the crashed run left open.

use crate::client::txn::TxnHandle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One batch's transactions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub transactions: Vec<TxnHandle>,
    pub committed: bool,
}

/// How many batches' entries stay (as the checkpoint keeps 100 batches of logs).
const RETAINED: u64 = 100;

pub(crate) struct TxnLog {
    dir: PathBuf,
}

fn fail(path: &Path, e: impl std::fmt::Display) -> String {
    format!("the Kafka sink's log {}: {e}", path.display())
}

impl TxnLog {
    pub fn new(dir: &Path) -> TxnLog {
        TxnLog {
            dir: dir.to_path_buf(),
        }
    }

    fn batch_path(&self, batch: u64) -> PathBuf {
        self.dir.join("txn").join(batch.to_string())
    }

    /// Logs batch `batch`'s transactions, committed or about to be.
    pub fn write(&self, batch: u64, entry: &Entry) -> Result<(), String> {
        let json = serde_json::to_vec(entry).map_err(|e| fail(&self.batch_path(batch), e))?;
        crate::fs::write_atomic(&self.batch_path(batch), &json)?;
        if entry.committed && batch >= RETAINED {
            let _ = std::fs::remove_file(self.batch_path(batch - RETAINED));
        }
        Ok(())
    }

    /// The last batch logged, with its entry.
    pub fn last(&self) -> Result<Option<(u64, Entry)>, String> {
        let dir = self.dir.join("txn");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(&dir, e)),
        };
        let last = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .max();
        let Some(batch) = last else { return Ok(None) };
        let path = self.batch_path(batch);
        let bytes = std::fs::read(&path).map_err(|e| fail(&path, e))?;
        let entry = serde_json::from_slice(&bytes).map_err(|e| fail(&path, e))?;
        Ok(Some((batch, entry)))
    }

    /// The last batch marked committed at or before `batch`.
    pub fn committed_before(&self, batch: u64) -> Result<Option<u64>, String> {
        for b in (0..batch).rev().take(RETAINED as usize) {
            let path = self.batch_path(b);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let e: Entry = serde_json::from_slice(&bytes).map_err(|e| fail(&path, e))?;
                    if e.committed {
                        return Ok(Some(b));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(&path, e)),
            }
        }
        Ok(None)
    }

    /// Forgets batch `batch` (its transactions were all aborted: it did not happen).
    pub fn remove(&self, batch: u64) -> Result<(), String> {
        let path = self.batch_path(batch);
        std::fs::remove_file(&path).map_err(|e| fail(&path, e))
    }

    /// The transactional ids runs of this query have used.
    pub fn writers(&self) -> Result<BTreeSet<String>, String> {
        let path = self.dir.join("writers");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| fail(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
            Err(e) => Err(fail(&path, e)),
        }
    }

    pub fn set_writers(&self, ids: &BTreeSet<String>) -> Result<(), String> {
        let path = self.dir.join("writers");
        let json = serde_json::to_vec(ids).map_err(|e| fail(&path, e))?;
        crate::fs::write_atomic(&path, &json)
    }
}
