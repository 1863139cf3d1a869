//! Files of a checkpoint: written atomically (a temporary file, fsynced, renamed over the
//! target, and the directory fsynced: no partial file is ever visible, as Spark's
//! `CheckpointFileManager` promises), read with errors that name the file.

use crate::error::{Result, StreamError};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An error about the checkpoint file `path`.
pub(crate) fn error(path: &Path, what: impl std::fmt::Display) -> StreamError {
    StreamError::Checkpoint(format!("checkpoint file `{}`: {what}", path.display()))
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| error(dir, format!("cannot create the directory: {e}")))
}

/// Writes `bytes` to `path` atomically: readers see the old file or the whole new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", temp_suffix()));
    let written = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(error(path, format!("cannot write: {e}")));
    }
    Ok(())
}

/// Makes a rename or a removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads `path`, or `None` if it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(error(path, format!("cannot read: {e}"))),
    }
}

/// Reads `path` as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<Option<String>> {
    match read_if_exists(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| error(path, "is not UTF-8 text (corrupt or truncated)")),
    }
}

/// The files of `dir` whose names are batch numbers, in order (temporary and other files are
/// skipped).
pub(crate) fn numbered(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(error(dir, format!("cannot list: {e}"))),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| error(dir, format!("cannot list: {e}")))?;
        let name = entry.file_name();
        if let Some(n) = name.to_str().and_then(|n| n.parse::<u64>().ok()) {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A lock file held while a query uses its checkpoint: a second query on the same checkpoint
/// fails at start instead of corrupting it.
pub(crate) fn lock(root: &Path) -> Result<File> {
    let path = root.join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| error(&path, format!("cannot open the lock file: {e}")))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StreamError::Checkpoint(format!(
            "the checkpoint `{}` is in use by another running query (Spark: \
             multiStreamingQueriesUsingPathConcurrentlyError); stop it first, or give this query \
             its own checkpoint_location",
            root.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(error(&path, format!("cannot lock the checkpoint: {e}")))
        }
    }
}

/// A suffix unique to this process and call.
fn temp_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
