//! State maintenance, off the batch's critical path: a thread of process 0 that, every
//! [`MIN_DELTAS_FOR_SNAPSHOT`] committed versions, folds each operator's newest snapshot and
//! the deltas after it into a snapshot of the new version, then deletes the files no version
//! within the retention needs (Spark's `doMaintenance`: `minDeltasForSnapshot` = 10,
//! `minBatchesToRetain` = 100).
//!
//! The fold works on the files' bytes: a record's key is compared by its encoding, and keys and
//! values are copied as they are, so it needs no types and loses nothing.

use super::files::{self, StateFile};
use crate::checkpoint;
use crate::crash::{self, Point};
use crate::error::{Result, StreamError};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Deltas after a snapshot before the next one (Spark's `minDeltasForSnapshot`).
pub(crate) const MIN_DELTAS_FOR_SNAPSHOT: u64 = 10;

/// The maintenance thread of a query's state.
pub(crate) struct Maintenance {
    versions: Option<mpsc::Sender<u64>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Maintenance {
    /// The query ended: a snapshot under way is finished, not left half written.
    fn drop(&mut self) {
        self.versions.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Maintenance {
    /// Starts maintaining the state in `dir` (with `groups` key groups), keeping `retain`
    /// versions recoverable. Failures are reported on standard error: maintenance only saves
    /// space and restart time, and the next round tries again.
    pub fn start(dir: PathBuf, groups: u32, retain: u64) -> Maintenance {
        let (versions, rx) = mpsc::channel::<u64>();
        let thread = std::thread::Builder::new()
            .name("state-maintenance".into())
            .spawn(move || {
                let mut last_snapshot = 0;
                while let Ok(mut version) = rx.recv() {
                    // Only the newest version matters.
                    while let Ok(v) = rx.try_recv() {
                        version = v;
                    }
                    if version < last_snapshot + MIN_DELTAS_FOR_SNAPSHOT {
                        continue;
                    }
                    match maintain(&dir, groups, version, retain) {
                        Ok(()) => last_snapshot = version,
                        Err(e) => eprintln!("state maintenance: {e}"),
                    }
                }
            })
            .expect("spawning the state maintenance thread");
        Maintenance {
            versions: Some(versions),
            thread: Some(thread),
        }
    }

    /// Version `version` is committed.
    pub fn committed(&self, version: u64) {
        if let Some(v) = &self.versions {
            let _ = v.send(version);
        }
    }
}

/// Snapshots every operator at `version` and drops what no version from
/// `version - retain + 1` on needs.
pub(crate) fn maintain(dir: &Path, groups: u32, version: u64, retain: u64) -> Result<()> {
    for (op, _) in files::operators(dir)? {
        let op_dir = dir.join(op.to_string());
        snapshot(&op_dir, groups, version)?;
        let keep_from = version.saturating_sub(retain).saturating_add(1).max(1);
        retire(&op_dir, keep_from)?;
    }
    Ok(())
}

/// Writes `<version>.snapshot`: the newest snapshot and the deltas after it, folded.
pub(crate) fn snapshot(op_dir: &Path, groups: u32, version: u64) -> Result<()> {
    // key bytes -> (group, value bytes)
    let mut state: BTreeMap<Vec<u8>, (u32, Vec<u8>)> = BTreeMap::new();
    for file in files::files_for(op_dir, version, &(0..groups))? {
        for (group, key, value) in raw_records(&file.path)? {
            match value {
                Some(value) => state.insert(key, (group, value)),
                None => state.remove(&key),
            };
        }
    }
    let mut bytes = Vec::new();
    for (key, (group, value)) in &state {
        rmp::encode::write_array_len(&mut bytes, 3).expect("writing to a vector");
        rmp::encode::write_uint(&mut bytes, u64::from(*group)).expect("writing to a vector");
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(value);
    }
    if crash::is_armed(Point::DuringSnapshot, version) {
        // What a crash in the middle of the atomic write leaves: half a temporary file.
        let tmp = op_dir.join(format!(".{version}.snapshot.crashed.tmp"));
        let _ = std::fs::write(tmp, &bytes[..bytes.len() / 2]);
        crash::crash(Point::DuringSnapshot, version);
    }
    checkpoint::write_atomic(&op_dir.join(format!("{version}.snapshot")), &bytes)
}

/// Deletes the files that no version from `keep_from` on needs: snapshots older than the
/// newest one at or before `keep_from`, and the deltas up to it.
fn retire(op_dir: &Path, keep_from: u64) -> Result<()> {
    remove_stale_temp_files(op_dir);
    let all = files::list(op_dir)?;
    let Some(base) = all
        .iter()
        .filter(|f| f.groups.is_none() && f.version <= keep_from)
        .map(|f| f.version)
        .max()
    else {
        return Ok(());
    };
    for StateFile {
        version,
        groups,
        path,
    } in all
    {
        let old = match groups {
            None => version < base,
            Some(_) => version <= base,
        };
        if old {
            std::fs::remove_file(&path).map_err(|e| {
                StreamError::Checkpoint(format!("cannot remove `{}`: {e}", path.display()))
            })?;
        }
    }
    Ok(())
}

/// Removes what crashed atomic writes left: temporary files (`.<name>.<suffix>.tmp`) not
/// touched for an hour (a live writer renames its own within moments).
fn remove_stale_temp_files(op_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(op_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if name.starts_with('.') && name.ends_with(".tmp") && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A record as `(key group, key bytes, value bytes)`; no value for a removed key.
pub(crate) type RawRecord = (u32, Vec<u8>, Option<Vec<u8>>);

/// A file's records.
pub(crate) fn raw_records(path: &Path) -> Result<Vec<RawRecord>> {
    let corrupt = |at: u64, e: &dyn std::fmt::Display| {
        StreamError::Checkpoint(format!(
            "state file `{}`: unreadable record at byte {at} ({e}): corrupt or truncated",
            path.display()
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| corrupt(0, &e))?;
    let mut cursor = std::io::Cursor::new(&bytes[..]);
    let mut out = Vec::new();
    while (cursor.position() as usize) < bytes.len() {
        let at = cursor.position();
        let len = rmp::decode::read_array_len(&mut cursor).map_err(|e| corrupt(at, &e))?;
        if len != 2 && len != 3 {
            return Err(corrupt(
                at,
                &format!("a record of {len} fields, not 2 or 3"),
            ));
        }
        let group: u32 = rmp::decode::read_int(&mut cursor).map_err(|e| corrupt(at, &e))?;
        let skip = |cursor: &mut std::io::Cursor<&[u8]>| -> Result<Vec<u8>> {
            let from = cursor.position() as usize;
            let mut de = rmp_serde::Deserializer::new(&mut *cursor);
            IgnoredAny::deserialize(&mut de).map_err(|e| corrupt(from as u64, &e))?;
            Ok(bytes[from..cursor.position() as usize].to_vec())
        };
        let key = skip(&mut cursor)?;
        let value = if len == 3 {
            Some(skip(&mut cursor)?)
        } else {
            None
        };
        out.push((group, key, value));
    }
    Ok(out)
}
