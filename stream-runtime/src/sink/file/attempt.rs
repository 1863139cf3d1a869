//! Which files each attempt at a batch wrote, so that the files of an attempt that never
//! committed (a crash, a failed batch) can be removed when the query starts again.
//!
//! Before a worker creates a data file, it notes the file in its attempt's marker,
//! `_spark_metadata/.pending/<batch>-<worker>-<uuid>` (fsynced first: a file is never on disk
//! without its note). The driver removes a batch's markers once the batch is logged. When the
//! query starts, a marker left behind is either of a batch the log does not have, or of one
//! whose files the log does not list (another attempt committed it): its files are removed.
//! Otherwise its attempt committed, and only the marker goes. Hidden names keep the markers
//! out of every reader's way: Spark's log ignores names that are not batch numbers.

use super::log::{SinkFileStatus, SinkLog};
use crate::checkpoint;
use crate::error::{Result, StreamError};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The markers' directory in the log's.
const PENDING: &str = ".pending";

/// One attempt's marker, written as the attempt creates files.
pub(crate) struct Marker {
    path: PathBuf,
    file: Option<File>,
}

impl Marker {
    /// The marker of worker `worker`'s attempt `uuid` at batch `batch` (created with its first
    /// note).
    pub fn new(log_dir: &Path, batch: u64, worker: usize, uuid: &str) -> Marker {
        Marker {
            path: log_dir
                .join(PENDING)
                .join(format!("{batch}-{worker}-{uuid}")),
            file: None,
        }
    }

    /// The marker's file name (what the driver removes once the batch is logged).
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Notes `file` (relative to the output directory), durably, before it is created.
    pub fn note(&mut self, file: &Path) -> Result<()> {
        let error = |e: std::io::Error| {
            StreamError::Sink(format!(
                "file sink: cannot write the attempt marker `{}`: {e}",
                self.path.display()
            ))
        };
        if self.file.is_none() {
            let dir = self.path.parent().expect("markers are in a directory");
            checkpoint::create_dir(dir)?;
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(error)?;
            checkpoint::sync_dir(dir).map_err(error)?;
            self.file = Some(f);
        }
        let f = self.file.as_mut().expect("opened above");
        writeln!(f, "{}", file.to_string_lossy()).map_err(error)?;
        f.sync_data().map_err(error)
    }
}

/// Removes the markers `names` of a logged batch (their files are in the log). A marker that
/// cannot be removed is left for the next start, which finds its files logged.
pub(crate) fn forget(log: &SinkLog, names: &[String]) {
    for name in names {
        let _ = fs::remove_file(log.dir().join(PENDING).join(name));
    }
}

/// When the query starts: removes the files of every attempt that left a marker and did not
/// commit, then the markers. Returns how many files were removed.
pub(crate) fn clean_up(log: &SinkLog, output: &Path) -> Result<usize> {
    let dir = log.dir().join(PENDING);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(StreamError::Sink(format!(
                "file sink: cannot list `{}`: {e}",
                dir.display()
            )))
        }
    };
    let latest = log.latest()?;
    let mut logged: Option<Vec<SinkFileStatus>> = None;
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut parts = name.splitn(3, '-');
        let (Some(batch), Some(_worker), Some(uuid)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(batch) = batch.parse::<u64>() else {
            continue;
        };
        let committed = if latest.is_some_and(|l| batch <= l) {
            if logged.is_none() {
                logged = Some(log.all_files()?);
            }
            let files = logged.as_deref().unwrap_or_default();
            files.iter().any(|f| f.path.contains(uuid))
        } else {
            false
        };
        if !committed {
            let text = fs::read_to_string(entry.path()).unwrap_or_default();
            for file in text.lines().filter(|l| !l.is_empty()) {
                match fs::remove_file(output.join(file)) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(StreamError::Sink(format!(
                            "file sink: cannot remove `{}`, written by an attempt at batch \
                             {batch} that did not commit: {e}",
                            output.join(file).display()
                        )))
                    }
                }
            }
        }
        let _ = fs::remove_file(entry.path());
    }
    Ok(removed)
}
