//! The offset log (`offsets/N`, the write-ahead log) and the commit log (`commits/N`), in
//! Spark's format (`OffsetSeqLog`, `CommitLog`): one file per batch, named by the batch id,
//! starting with the version line `v1`.

use super::fs;
use crate::error::Result;
use crate::source::Offset;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A directory of one file per batch.
pub(crate) struct BatchLog {
    dir: PathBuf,
}

impl BatchLog {
    /// The log in `dir` (created if missing).
    pub fn open(dir: PathBuf) -> Result<BatchLog> {
        fs::create_dir(&dir)?;
        Ok(BatchLog { dir })
    }

    fn path(&self, batch: u64) -> PathBuf {
        self.dir.join(batch.to_string())
    }

    /// The highest batch id logged.
    pub fn latest(&self) -> Result<Option<u64>> {
        Ok(fs::numbered(&self.dir)?.last().map(|(n, _)| *n))
    }

    /// The entry of `batch`, if logged.
    pub fn get(&self, batch: u64) -> Result<Option<(PathBuf, String)>> {
        let path = self.path(batch);
        Ok(fs::read_text(&path)?.map(|t| (path, t)))
    }

    /// Logs `batch` (atomically).
    pub fn add(&self, batch: u64, text: &str) -> Result<()> {
        fs::write_atomic(&self.path(batch), text.as_bytes())
    }

    /// Removes the entries below `batch`.
    pub fn purge_below(&self, batch: u64) -> Result<()> {
        for (n, path) in fs::numbered(&self.dir)? {
            if n < batch {
                std::fs::remove_file(&path)
                    .map_err(|e| fs::error(&path, format!("cannot remove: {e}")))?;
            }
        }
        Ok(())
    }
}

/// The version line of both logs.
const VERSION: &str = "v1";

/// What `offsets/N` records besides the offsets (Spark's `OffsetSeqMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchMetadata {
    /// The watermark batch `N` runs under.
    pub batch_watermark_ms: u64,
    /// When batch `N` started (the processing time a re-run uses again).
    pub batch_timestamp_ms: i64,
    /// Settings frozen at the query's first start.
    #[serde(default)]
    pub conf: BTreeMap<String, String>,
}

/// One `offsets/N` entry: the metadata, and each source's end offset (`None`: the source has
/// no offset yet, written `-` as Spark's `SERIALIZED_VOID_OFFSET`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OffsetEntry {
    pub meta: BatchMetadata,
    pub offsets: Vec<Option<Offset>>,
}

impl OffsetEntry {
    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{VERSION}\n{}",
            serde_json::to_string(&self.meta).expect("metadata serializes")
        );
        for o in &self.offsets {
            out.push('\n');
            match o {
                Some(o) => out.push_str(&o.to_string()),
                None => out.push('-'),
            }
        }
        out
    }

    /// Parses the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<OffsetEntry> {
        let mut lines = text.lines();
        version(path, lines.next())?;
        let meta = lines
            .next()
            .ok_or_else(|| fs::error(path, "is truncated: it has no batch metadata"))?;
        let meta: BatchMetadata = serde_json::from_str(meta)
            .map_err(|e| fs::error(path, format!("has unreadable batch metadata ({e})")))?;
        let offsets = lines
            .map(|l| match l.trim() {
                "-" => Ok(None),
                o => serde_json::from_str(o)
                    .map(Some)
                    .map_err(|e| fs::error(path, format!("has an unreadable offset `{o}` ({e})"))),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(OffsetEntry { meta, offsets })
    }
}

/// One `commits/N` entry (Spark's `CommitMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommitEntry {
    /// The watermark of the batch after `N`.
    pub next_batch_watermark_ms: u64,
}

impl CommitEntry {
    /// The file's text.
    pub fn to_text(&self) -> String {
        format!(
            "{VERSION}\n{}",
            serde_json::to_string(self).expect("commit metadata serializes")
        )
    }

    /// Parses the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<CommitEntry> {
        let mut lines = text.lines();
        version(path, lines.next())?;
        let line = lines
            .next()
            .ok_or_else(|| fs::error(path, "is truncated: it has no commit metadata"))?;
        serde_json::from_str(line)
            .map_err(|e| fs::error(path, format!("has unreadable commit metadata ({e})")))
    }
}

fn version(path: &Path, line: Option<&str>) -> Result<()> {
    match line {
        Some(VERSION) => Ok(()),
        Some(v) => Err(fs::error(
            path,
            format!("has version `{v}`, this engine reads `{VERSION}`"),
        )),
        None => Err(fs::error(path, "is empty (truncated)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_in_sparks_format_round_trip() {
        let entry = OffsetEntry {
            meta: BatchMetadata {
                batch_watermark_ms: 5000,
                batch_timestamp_ms: 1_531_991_878_604,
                conf: [("spark.sql.shuffle.partitions".into(), "5".into())].into(),
            },
            offsets: vec![Some(serde_json::json!(1)), None],
        };
        let text = entry.to_text();
        assert_eq!(
            text,
            "v1\n{\"batchWatermarkMs\":5000,\"batchTimestampMs\":1531991878604,\"conf\":\
             {\"spark.sql.shuffle.partitions\":\"5\"}}\n1\n-"
        );
        assert_eq!(OffsetEntry::parse(Path::new("x"), &text).unwrap(), entry);
        // Spark's own fixture parses.
        let spark = "v1\n{\"batchWatermarkMs\":5000,\"batchTimestampMs\":1531991878604,\"conf\":{\"spark.sql.shuffle.partitions\":\"5\",\"spark.sql.streaming.stateStore.providerClass\":\"org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider\"}}\n1";
        let parsed = OffsetEntry::parse(Path::new("offsets/1"), spark).unwrap();
        assert_eq!(parsed.offsets, vec![Some(serde_json::json!(1))]);
        let commit = CommitEntry {
            next_batch_watermark_ms: 7,
        };
        assert_eq!(commit.to_text(), "v1\n{\"nextBatchWatermarkMs\":7}");
        assert_eq!(
            CommitEntry::parse(Path::new("c"), &commit.to_text()).unwrap(),
            commit
        );
    }

    #[test]
    fn corrupt_entries_name_the_file() {
        for text in [
            "",
            "v2\n{}",
            "v1",
            "v1\n{not json",
            "v1\n{\"batchWatermarkMs\":1,\"batchTimestampMs\":2}\n{bad",
        ] {
            let e = OffsetEntry::parse(Path::new("ckpt/offsets/3"), text).unwrap_err();
            assert!(e.to_string().contains("ckpt/offsets/3"), "{e}");
        }
        let e = CommitEntry::parse(Path::new("ckpt/commits/3"), "v1\n").unwrap_err();
        assert!(e.to_string().contains("ckpt/commits/3"), "{e}");
    }
}
