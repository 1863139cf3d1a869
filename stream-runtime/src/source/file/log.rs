//! The file source's seen-files log: every file handed to a batch, in order, so that an offset
//! `n` means "the first `n` files". With a checkpoint it is also kept in the source's
//! directory (`sources/<i>/`), one entry per planned batch named by its end offset, written
//! before the batch's offsets are logged: a restarted query never reads a file twice and never
//! loses one that was planned but not committed (Spark's `FileStreamSourceLog`).

use crate::checkpoint;
use crate::error::{Result, StreamError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The files handed out so far, in order.
#[derive(Default)]
pub(super) struct SeenFiles {
    pub files: Vec<String>,
    pub seen: HashSet<String>,
    /// Where the log is kept, with a checkpoint.
    dir: Option<PathBuf>,
}

/// One file of a log entry.
#[derive(Serialize, Deserialize)]
struct Entry {
    /// The file's path.
    path: String,
    /// Its modification time when it was planned, epoch milliseconds.
    timestamp: i64,
}

impl SeenFiles {
    /// Loads the log kept in `dir` (a restart), and keeps writing it there.
    pub fn restore(&mut self, dir: &Path) -> Result<()> {
        checkpoint::create_dir(dir)?;
        let mut entries: Vec<(u64, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir)
            .map_err(|e| StreamError::Checkpoint(format!("cannot list `{}`: {e}", dir.display())))?
        {
            let entry = entry.map_err(|e| {
                StreamError::Checkpoint(format!("cannot list `{}`: {e}", dir.display()))
            })?;
            if let Some(n) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                entries.push((n, entry.path()));
            }
        }
        entries.sort();
        self.files.clear();
        self.seen.clear();
        for (end, path) in entries {
            let corrupt = |why: String| {
                StreamError::Checkpoint(format!("file source log `{}`: {why}", path.display()))
            };
            let text = std::fs::read_to_string(&path).map_err(|e| corrupt(e.to_string()))?;
            let mut lines = text.lines();
            if lines.next() != Some("v1") {
                return Err(corrupt(
                    "does not start with `v1` (corrupt or truncated)".into(),
                ));
            }
            for line in lines {
                let e: Entry = serde_json::from_str(line)
                    .map_err(|e| corrupt(format!("unreadable line `{line}` ({e})")))?;
                self.seen.insert(e.path.clone());
                self.files.push(e.path);
            }
            if self.files.len() as u64 != end {
                return Err(corrupt(format!(
                    "ends the log at file {} but is named {end} (an entry is missing)",
                    self.files.len()
                )));
            }
        }
        self.dir = Some(dir.to_path_buf());
        Ok(())
    }

    /// Adds `new` files after the ones seen; with a checkpoint, logs them first.
    pub fn add(&mut self, new: Vec<(String, i64)>) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        if let Some(dir) = &self.dir {
            let end = self.files.len() + new.len();
            let mut text = String::from("v1");
            for (path, timestamp) in &new {
                text.push('\n');
                text.push_str(
                    &serde_json::to_string(&Entry {
                        path: path.clone(),
                        timestamp: *timestamp,
                    })
                    .expect("log entries serialize"),
                );
            }
            checkpoint::write_atomic(&dir.join(end.to_string()), text.as_bytes())?;
        }
        for (path, _) in new {
            self.seen.insert(path.clone());
            self.files.push(path);
        }
        Ok(())
    }
}
