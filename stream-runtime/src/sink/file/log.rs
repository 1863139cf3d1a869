//! The file sink's log, `<output>/_spark_metadata/`, in Spark's format (`FileStreamSinkLog`,
//! `CompactibleFileStreamLog`): one file per committed batch, named by its id, holding `v1` and
//! one JSON `SinkFileStatus` per line for each file the batch wrote. Every `compact_interval`
//! batches (Spark's `spark.sql.streaming.fileSink.log.compactInterval`, 10) the batch's file is
//! `N.compact` instead, holding the previous compact file's entries, those of the batches since,
//! and the batch's own, less the entries older than the `retention`. Readers that honour the
//! log (Spark, and our file source) read the latest compact file and the batches after it: a
//! file written by an attempt that never committed is never listed, so never read.

use crate::checkpoint;
use crate::error::{Result, StreamError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The log's directory in the output directory (Spark's `FileStreamSink.metadataDir`).
pub(crate) const METADATA_DIR: &str = "_spark_metadata";

/// Spark's `spark.sql.streaming.fileSink.log.compactInterval`.
pub(crate) const COMPACT_INTERVAL: u64 = 10;

/// Spark's `spark.sql.streaming.minBatchesToRetain`: log files of at least this many batches
/// stay (older ones are removed once a compact file covers them).
const MIN_BATCHES_TO_RETAIN: u64 = 100;

/// Spark's `spark.sql.streaming.fileSink.log.cleanupDelay`: a log file covered by a compact file
/// is removed only once it is this old, so that a reader that listed it still finds it.
pub(crate) const CLEANUP_DELAY: Duration = Duration::from_secs(600);

/// One file of a batch (Spark's `SinkFileStatus`), a line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SinkFileStatus {
    /// The file, as a `file:` URI.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Always false.
    pub is_dir: bool,
    /// Its modification time, epoch milliseconds (what `retention` compares with).
    pub modification_time: i64,
    /// 1 on a local file system (what Hadoop's local file system reports).
    pub block_replication: i32,
    /// 32 MiB on a local file system (idem).
    pub block_size: i64,
    /// `add` (Spark also reads `delete`, which hides an earlier `add` of the path).
    pub action: String,
}

/// The log of one output directory.
pub(crate) struct SinkLog {
    dir: PathBuf,
    /// Entries older than this are left out of compact files (Spark's `retention` option).
    pub retention: Option<Duration>,
    /// See [`CLEANUP_DELAY`].
    pub cleanup_delay: Duration,
}

impl SinkLog {
    /// The log of the output directory `output` (nothing is created yet).
    pub fn new(output: &Path) -> SinkLog {
        SinkLog {
            dir: output.join(METADATA_DIR),
            retention: None,
            cleanup_delay: CLEANUP_DELAY,
        }
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the output directory has a log (Spark's `FileStreamSink.hasMetadata`).
    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    /// The batches logged, in order, with whether each is a compact file.
    fn batches(&self) -> Result<Vec<(u64, bool)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.error(&self.dir, format!("cannot list it: {e}"))),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(&self.dir, format!("cannot list it: {e}")))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let (id, compact) = match name.strip_suffix(".compact") {
                Some(id) => (id, true),
                None => (name, false),
            };
            if let Ok(id) = id.parse::<u64>() {
                out.push((id, compact));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The last committed batch (Spark's `getLatestBatchId`).
    pub fn latest(&self) -> Result<Option<u64>> {
        Ok(self.batches()?.last().map(|(id, _)| *id))
    }

    /// The compact interval: Spark's default, unless compact files written with another one
    /// exist (Spark's rules, SPARK-18187).
    fn compact_interval(&self) -> Result<u64> {
        let compacts: Vec<u64> = self
            .batches()?
            .into_iter()
            .filter(|(_, c)| *c)
            .map(|(id, _)| id)
            .rev()
            .collect();
        Ok(match compacts[..] {
            [latest, previous, ..] => latest - previous,
            [latest] => derive_compact_interval(COMPACT_INTERVAL, latest),
            [] => COMPACT_INTERVAL,
        })
    }

    fn path(&self, batch: u64, compact: bool) -> PathBuf {
        if compact {
            self.dir.join(format!("{batch}.compact"))
        } else {
            self.dir.join(batch.to_string())
        }
    }

    fn error(&self, path: &Path, what: impl std::fmt::Display) -> StreamError {
        StreamError::Sink(format!("file sink log `{}`: {what}", path.display()))
    }

    /// The entries of one log file, or `None` if it does not exist.
    fn read(&self, path: &Path) -> Result<Option<Vec<SinkFileStatus>>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(path, format!("cannot read it: {e}"))),
        };
        let mut lines = text.lines();
        match lines.next() {
            Some("v1") => {}
            Some(v) => {
                return Err(self.error(
                    path,
                    format!("has version `{v}`; this engine reads `v1` (Spark's)"),
                ))
            }
            None => return Err(self.error(path, "is empty (truncated)")),
        }
        let entries = lines
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| {
                    self.error(
                        path,
                        format!("line {} is not a SinkFileStatus ({e})", i + 2),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(entries))
    }

    /// Logs batch `batch` with the files it wrote (Spark's `add`): a compact file every
    /// `compact_interval` batches, then the removal of log files no longer needed. `now_ms` is
    /// the wall clock (retention and the cleanup delay compare with it).
    pub fn add(&self, batch: u64, files: &[SinkFileStatus], now_ms: i64) -> Result<()> {
        checkpoint::create_dir(&self.dir)?;
        let interval = self.compact_interval()?;
        let compact = (batch + 1).is_multiple_of(interval);
        let path = self.path(batch, compact);
        if path.exists() || self.path(batch, !compact).exists() {
            // Spark's `multiStreamingQueriesUsingPathConcurrentlyError`.
            return Err(self.error(
                &path,
                format!(
                    "batch {batch} is already logged: another query writes to this output \
                     directory (give each query its own directory)"
                ),
            ));
        }
        let mut entries = Vec::new();
        if compact {
            // The previous compact file and the batches after it (Spark's
            // `getValidBatchesBeforeCompactionBatch`).
            for id in batch.saturating_sub(interval)..batch {
                let p = self.path(id, (id + 1).is_multiple_of(interval));
                let logged = self.read(&p)?.ok_or_else(|| {
                    self.error(
                        &p,
                        format!(
                            "does not exist, and compacting batch {batch} needs it \
                             (compact interval {interval})"
                        ),
                    )
                })?;
                entries.extend(logged);
            }
        }
        entries.extend(files.iter().cloned());
        if compact {
            entries.retain(|e| self.retained(e, now_ms));
        }
        let mut text = String::from("v1");
        for e in &entries {
            text.push('\n');
            text.push_str(&serde_json::to_string(e).expect("log entries serialize"));
        }
        checkpoint::write_atomic(&path, text.as_bytes())?;
        self.delete_expired(batch, interval, now_ms)
    }

    /// Spark's `shouldRetain`: an entry is kept while its file is younger than the retention.
    fn retained(&self, e: &SinkFileStatus, now_ms: i64) -> bool {
        self.retention
            .is_none_or(|r| now_ms.saturating_sub(e.modification_time) <= r.as_millis() as i64)
    }

    /// Spark's `deleteExpiredLog`: once `MIN_BATCHES_TO_RETAIN` batches are logged after a
    /// compact file, the log files before that compact file are removed, if they are older
    /// than the cleanup delay.
    fn delete_expired(&self, current: u64, interval: u64, now_ms: i64) -> Result<()> {
        let Some(min_batch) = (current + 1).checked_sub(MIN_BATCHES_TO_RETAIN) else {
            return Ok(());
        };
        if interval > min_batch {
            return Ok(());
        }
        let min_compaction = min_batch - (min_batch % interval) - 1;
        let expired = now_ms - self.cleanup_delay.as_millis() as i64;
        for (id, compact) in self.batches()? {
            if id >= min_compaction {
                break;
            }
            let path = self.path(id, compact);
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(crate::sink::file::epoch_ms);
            if modified.is_ok_and(|m| m <= expired) {
                std::fs::remove_file(&path)
                    .map_err(|e| self.error(&path, format!("cannot remove it: {e}")))?;
            }
        }
        Ok(())
    }

    /// Every file the log lists (Spark's `allFiles`): the latest compact file's entries and
    /// those of the batches after it, less the paths a `delete` entry removed.
    pub fn all_files(&self) -> Result<Vec<SinkFileStatus>> {
        // A compaction that removes old log files while we read them: read again, from the
        // newer compact file (Spark retries the same way).
        let mut attempt = 0;
        loop {
            match self.try_all_files() {
                Err(_) if attempt < 2 => attempt += 1,
                done => return done,
            }
        }
    }

    fn try_all_files(&self) -> Result<Vec<SinkFileStatus>> {
        let batches = self.batches()?;
        let Some(&(latest, _)) = batches.last() else {
            return Ok(Vec::new());
        };
        let start = batches
            .iter()
            .rev()
            .find(|(_, compact)| *compact)
            .map_or(0, |(id, _)| *id);
        let mut entries = Vec::new();
        for id in start..=latest {
            let compact = id == start && batches.contains(&(id, true));
            let path = self.path(id, compact);
            let logged = self.read(&path)?.ok_or_else(|| {
                self.error(
                    &path,
                    format!("does not exist, and the log runs from batch {start} to {latest}"),
                )
            })?;
            entries.extend(logged);
        }
        let deleted: HashSet<String> = entries
            .iter()
            .filter(|e| e.action == "delete")
            .map(|e| e.path.clone())
            .collect();
        entries.retain(|e| e.action == "add" && !deleted.contains(&e.path));
        Ok(entries)
    }
}

/// Spark's `deriveCompactInterval`: a compact interval that the only compact file so far,
/// `latest`, agrees with, as close to `default` as possible.
fn derive_compact_interval(default: u64, latest: u64) -> u64 {
    let n = latest + 1;
    if n <= default {
        n
    } else if default < n / 2 {
        (default..=n / 2)
            .find(|i| n.is_multiple_of(*i))
            .unwrap_or(n)
    } else {
        n
    }
}

#[cfg(test)]
mod tests;
