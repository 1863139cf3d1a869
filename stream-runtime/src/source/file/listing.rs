//! Which files the file source may read, in reading order: a directory's regular files, or, in a
//! directory a file sink writes (it has a `_spark_metadata` log), the files its log lists
//! (Spark's `MetadataLogFileIndex`); and the partition values a file's directories give it.

use crate::error::{Result, StreamError};
use crate::sink::file::log::SinkLog;
use crate::sink::file::text::{unescape_path_name, uri_path, DEFAULT_PARTITION};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The files of `dir` not in `seen`, with their modification times (epoch ms), oldest first
/// (newest first with `latest_first`), ties broken by path.
pub(super) fn list(
    dir: &Path,
    latest_first: bool,
    seen: &HashSet<String>,
) -> Result<Vec<(String, i64)>> {
    let meta = fs::metadata(dir).map_err(|e| {
        StreamError::Source(format!(
            "file source path `{}` cannot be read: {e}",
            dir.display()
        ))
    })?;
    let log = SinkLog::new(dir);
    let mut found = if meta.is_dir() && log.exists() {
        logged(&log, seen)?
    } else {
        listed(dir, meta, seen)?
    };
    if latest_first {
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    } else {
        found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    }
    Ok(found)
}

/// The files a file sink's log lists: what it committed, nothing else.
fn logged(log: &SinkLog, seen: &HashSet<String>) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for entry in log.all_files()? {
        let name = uri_path(&entry.path)?.to_string_lossy().into_owned();
        if !entry.is_dir && !seen.contains(&name) {
            out.push((name, entry.modification_time));
        }
    }
    Ok(out)
}

/// The regular, non-hidden files directly in `dir` (or `dir` itself, a file).
fn listed(dir: &Path, meta: fs::Metadata, seen: &HashSet<String>) -> Result<Vec<(String, i64)>> {
    let mut found = Vec::new();
    let mut consider = |path: PathBuf, meta: fs::Metadata| {
        let name = path.to_string_lossy().into_owned();
        if meta.is_file() && !seen.contains(&name) {
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let ms = mtime
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            found.push((name, ms));
        }
    };
    if meta.is_file() {
        consider(dir.to_path_buf(), meta);
        return Ok(found);
    }
    let error = |e: std::io::Error| {
        StreamError::Source(format!(
            "cannot list the file source directory `{}`: {e}",
            dir.display()
        ))
    };
    for entry in fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        let hidden = entry.file_name().to_string_lossy().starts_with(['.', '_']);
        if hidden {
            continue;
        }
        // Follows symbolic links; a file deleted meanwhile is simply not listed.
        if let Ok(meta) = fs::metadata(entry.path()) {
            consider(entry.path(), meta);
        }
    }
    Ok(found)
}

/// The partition values of `file` below `dir`: its directories named `col=value`, outermost
/// first, with the value unescaped (`None` for `__HIVE_DEFAULT_PARTITION__`).
pub(crate) fn partition_values(dir: &Path, file: &Path) -> Vec<(String, Option<String>)> {
    let Some(parent) = file.strip_prefix(dir).ok().and_then(Path::parent) else {
        return Vec::new();
    };
    parent
        .components()
        .filter_map(|c| {
            let part = c.as_os_str().to_str()?;
            let (col, value) = part.split_once('=')?;
            let value = (value != DEFAULT_PARTITION).then(|| unescape_path_name(value));
            Some((unescape_path_name(col), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_come_from_the_directories() {
        let dir = Path::new("/out");
        let file = Path::new(
            "/out/p=a%2Fb/t=2026-01-01 00%3A00%3A05.12/k=__HIVE_DEFAULT_PARTITION__/part-0.json",
        );
        assert_eq!(
            partition_values(dir, file),
            [
                ("p".into(), Some("a/b".into())),
                ("t".into(), Some("2026-01-01 00:00:05.12".into())),
                ("k".into(), None)
            ]
        );
        assert!(partition_values(dir, Path::new("/out/part-0.json")).is_empty());
    }
}
