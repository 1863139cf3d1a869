//! The file source: new files of a directory, in JSON lines, CSV, text or Parquet, like Spark's
//! `readStream.json(dir)` / `.csv(dir)` / `.text(dir)` / `.parquet(dir)`. The same builder,
//! [`Files`], makes the file sink (`sink/file/`).

pub(crate) mod format;
mod listing;
mod log;
#[cfg(feature = "parquet")]
mod parquet;

use super::{offset_count, CorruptRecord, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::{Result, StreamError};
use format::{CsvOptions, Format, LineParser, Parsed};
use log::SeenFiles;
use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use stream_core::Record;

/// What the file source does with a record it cannot parse (Spark's `mode` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Stop the query with [`StreamError::Malformed`], naming the file and 1-based line.
    FailFast,
    /// Skip the record; count it in [`ReadStats::dropped_malformed`].
    DropMalformed,
    /// Skip the record from the stream but keep it, with its file, line, raw text and parse
    /// error, in [`ReadStats::corrupt`] (the default, as in Spark). Every one is counted in
    /// [`ReadStats::corrupt_count`]; only the first
    /// [`max_corrupt_records`](FileSource::max_corrupt_records) of a read are kept, each with
    /// at most [`MAX_RAW_BYTES`](super::MAX_RAW_BYTES) of its raw text.
    ///
    /// This differs from Spark on purpose: Spark's permissive mode emits a row with NULL
    /// columns and the raw text in a `_corrupt_record` column. Rows here are typed records,
    /// which have no room for a broken row, so the broken text is reported beside the stream
    /// (in the batch's read statistics) instead of inside it.
    #[default]
    Permissive,
}

/// The one-column record of text files: one row per line, in column `value`.
///
/// Any record type with a `value: String` column works with [`Files::text`] (each line is read
/// as the JSON object `{"value": line}`); this is the ready-made one.
#[derive(crate::Record)]
pub struct Line {
    /// The line, without its line terminator.
    pub value: String,
}

/// Entry points of the file source: `read_stream::<Bid>(Files::json("data/bids"))`.
///
/// The path is a directory whose files are read as they appear (a path naming one regular
/// file reads just that file).
pub struct Files;

impl Files {
    /// JSON lines: each non-empty line is one JSON object, deserialized into `T` (unknown
    /// fields are ignored; missing `Option` fields are `None`). As in Spark's JSON reader, a
    /// `Timestamp` field holds a timestamp string (see
    /// [`Timestamp::parse_iso`](stream_core::Timestamp::parse_iso)) or an integer number of
    /// **seconds** since the epoch (a fractional number is a malformed record).
    pub fn json<T>(dir: impl AsRef<Path>) -> FileSource<T> {
        FileSource::new(dir.as_ref(), Format::Json)
    }

    /// CSV: each non-blank line is one row; fields are matched to `T`'s columns by position
    /// (in schema order), with or without a [`header`](FileSource::header) line (Spark's
    /// default `enforceSchema = true`). Empty fields of `Option` columns are `None`. Inside a
    /// quoted field, `\"` and `""` are quotes (see [`escape`](FileSource::escape)). Records
    /// span one line (Spark's `multiLine = false`). A `Timestamp` field is a timestamp string
    /// (see [`Timestamp::parse_iso`](stream_core::Timestamp::parse_iso)), as in Spark.
    pub fn csv<T>(dir: impl AsRef<Path>) -> FileSource<T> {
        FileSource::new(dir.as_ref(), Format::Csv)
    }

    /// Text: each line (empty ones included, as in Spark) is one row of a one-column record
    /// whose column is `value: String`, such as [`Line`]. Bytes that are not UTF-8 are read as
    /// U+FFFD replacement characters: every line is kept, as in Spark.
    pub fn text<T>(dir: impl AsRef<Path>) -> FileSource<T> {
        FileSource::new(dir.as_ref(), Format::Text)
    }

    /// Parquet (needs the `parquet` feature of `stream-runtime`): each file's rows, read into
    /// `T` by column name (columns `T` lacks are ignored, `Option` columns the file lacks are
    /// `None`). Timestamps are read from Parquet's `TIMESTAMP` (any unit; Spark's `INT96` is
    /// not read), a window or a nested record from a struct column. As a sink, files are
    /// written as Spark writes them: snappy-compressed, timestamps as `TIMESTAMP(MICROS)`
    /// adjusted to UTC.
    #[cfg(feature = "parquet")]
    pub fn parquet<T>(dir: impl AsRef<Path>) -> FileSource<T> {
        FileSource::new(dir.as_ref(), Format::Parquet)
    }
}

/// A streaming source over the files of a directory (Spark's `FileStreamSource`); build it
/// with [`Files::json`], [`Files::csv`] or [`Files::text`] and the option methods.
///
/// Semantics, as in Spark:
/// - Files are taken in modification-time order, oldest first (newest first with
///   [`latest_first`](FileSource::latest_first)); ties are broken by path.
/// - Each file is read exactly once: the source keeps a log of the files it has handed out,
///   and an offset is the number of files in that log (a JSON integer). Files that appear
///   while the query runs are picked up by later batches. Write files atomically (write
///   elsewhere, then rename into the directory): a file is read once, as it is when its batch
///   reads it.
/// - Only regular files directly in the directory are read; names starting with `.` or `_`
///   are ignored (hidden files, `_SUCCESS`, `_temporary`).
/// - A batch reads at most [`max_files_per_trigger`](FileSource::max_files_per_trigger)
///   files (default: all new files); `ReadLimit::All` ignores that cap, `ReadLimit::UpTo`
///   stops at an offset.
/// - Files are read line by line (large files are streamed). Malformed records are handled
///   by the [`Mode`].
/// - With several workers, each reads the files whose position in the batch's file list, modulo
///   the number of workers, is its index.
///
/// Not supported (yet): `maxBytesPerTrigger`, `maxFileAge`, `fileNameOnly`, `cleanSource`,
/// globs, partition directories (`key=value`), multi-line records.
///
/// With a checkpoint the seen-files log is also kept in the checkpoint (`sources/<i>/`), so a
/// restarted query never reads a file twice.
///
/// A directory written by a file sink (it has a `_spark_metadata` log) is read as Spark reads
/// it: only the files the log lists, each batch's files in the order of their modification
/// times; partition directories (`col=value/`) give their column's value to the rows of their
/// files, which do not hold the column. Files of a write that never committed are not read.
///
/// # As a sink
///
/// `.write_stream(Files::json(dir))` (or `csv`, `text`, `parquet`) is Spark's file sink:
/// exactly-once, Append mode only. Every worker writes its rows of a batch to its own new
/// files, `part-<worker>-<uuid>-c000.<ext>`; the driver then logs the batch's files in
/// `<dir>/_spark_metadata/<batch>`, in Spark's format, so that Spark
/// (`spark.read.json(dir)`) and this file source read exactly the committed files. A batch run
/// again after a crash is not written twice. [`partition_by`](FileSource::partition_by) writes
/// Hive-style partition directories, [`retention`](FileSource::retention) bounds the log.
/// Rows are written as Spark's writers write them (see `docs/architecture.md`, "The file sink").
pub struct FileSource<T> {
    pub(crate) dir: PathBuf,
    pub(crate) format: Format,
    mode: Mode,
    max_files_per_trigger: Option<usize>,
    latest_first: bool,
    pub(crate) csv: CsvOptions,
    /// Sink only: the partition columns.
    pub(crate) partition_by: Vec<String>,
    /// Sink only: log entries older than this are dropped when the log is compacted.
    pub(crate) retention: Option<std::time::Duration>,
    max_corrupt_records: usize,
    log: Mutex<SeenFiles>,
    _rows: PhantomData<fn() -> T>,
}

impl<T> FileSource<T> {
    fn new(dir: &Path, format: Format) -> Self {
        FileSource {
            dir: dir.to_path_buf(),
            format,
            mode: Mode::default(),
            max_files_per_trigger: None,
            latest_first: false,
            csv: CsvOptions::default(),
            partition_by: Vec::new(),
            retention: None,
            max_corrupt_records: 1000,
            log: Mutex::default(),
            _rows: PhantomData,
        }
    }

    /// At most `n` new files per batch (Spark's `maxFilesPerTrigger`; at least 1).
    pub fn max_files_per_trigger(mut self, n: usize) -> Self {
        self.max_files_per_trigger = Some(n.max(1));
        self
    }

    /// What to do with malformed records (default [`Mode::Permissive`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Permissive mode: how many corrupt records one read (one worker's share of a batch, or a
    /// static read) keeps in [`ReadStats::corrupt`], the first ones (default 1000; 0 keeps
    /// none). All of them are counted in [`ReadStats::corrupt_count`] whatever the cap.
    pub fn max_corrupt_records(mut self, n: usize) -> Self {
        self.max_corrupt_records = n;
        self
    }

    /// Sink only: writes each row into the directory of its values of `columns`,
    /// `col=value/` (nested in the order given), without those columns in the file, as Spark's
    /// `partitionBy`. Values are written as Spark casts them to strings (a timestamp as
    /// `2026-01-01 00:00:05.12` in UTC), with Hive's escaping (`:` as `%3A`); NULL or an empty
    /// string is `__HIVE_DEFAULT_PARTITION__`. Partition columns must be columns of the rows,
    /// not structs, and not all of them.
    pub fn partition_by(mut self, columns: &[&str]) -> Self {
        self.partition_by = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Sink only: leaves the entries of files older than `retention` (by their modification
    /// time) out of the log's compact files, so that the log does not grow forever (Spark 3.1+'s
    /// `retention` option of the file sink). Readers that honour the log then no longer see those
    /// files; the files themselves stay on disk, as with Spark. Without it, every compact file
    /// holds every file ever written.
    pub fn retention(mut self, retention: std::time::Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// CSV only: whether the first line of each file is a header (default `false`). As with
    /// Spark's default `enforceSchema = true`, the header line is skipped and its names are not
    /// used: fields are matched to the record's columns by position either way. A header whose
    /// names or number of columns differ from the record's is reported with a warning on
    /// standard error (Spark logs one), and the rows are read by position all the same. As a
    /// sink, every file starts with a header line of the column names.
    pub fn header(mut self, header: bool) -> Self {
        self.csv.header = header;
        self
    }

    /// CSV only: the field delimiter (default `b','`; Spark's `sep`).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.csv.delimiter = delimiter;
        self
    }

    /// CSV only: the character that escapes a quote inside a quoted field (Spark's `escape`,
    /// default `b'\\'`): `"say \"hi\""` reads as `say "hi"`, and the escape doubled is one
    /// escape character. `""` inside quotes is a quote as well. `0` escapes nothing (Spark's
    /// `escape` set to the empty string).
    pub fn escape(mut self, escape: u8) -> Self {
        self.csv.escape = escape;
        self
    }

    /// Take the newest files first (Spark's `latestFirst`; default `false`). Useful with
    /// [`max_files_per_trigger`](FileSource::max_files_per_trigger) to favour fresh data
    /// over a backlog.
    pub fn latest_first(mut self, latest_first: bool) -> Self {
        self.latest_first = latest_first;
        self
    }

    /// The directory (or file) this source reads.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The files not yet in `seen`, in reading order, with their modification times (epoch
    /// ms).
    fn list_new(&self, seen: &HashSet<String>) -> Result<Vec<(String, i64)>> {
        listing::list(&self.dir, self.latest_first, seen)
    }

    /// The files of `split` (its `detail`).
    fn split_files(split: &Split) -> Result<Vec<String>> {
        serde_json::from_value(split.detail.clone()).map_err(|e| {
            StreamError::Source(format!(
                "file source split detail is not a list of paths ({e}): {}",
                split.detail
            ))
        })
    }
}

impl<T: Record> FileSource<T> {
    /// Reads one file, passing rows to `emit` and malformed records to the mode's handling.
    fn read_file(&self, path: &str, stats: &mut ReadStats, emit: &mut dyn FnMut(T)) -> Result<()> {
        let io_error = |e: std::io::Error| {
            StreamError::Source(format!("cannot read file source file `{path}`: {e}"))
        };
        let partitions = listing::partition_values(&self.dir, Path::new(path));
        #[cfg(feature = "parquet")]
        if self.format == Format::Parquet {
            // A Parquet row is reported by its number, and its text is the row as JSON.
            return parquet::read_file::<T>(path, partitions, &mut |row_no, row| {
                let (parsed, raw) = match row {
                    Ok(row) => (Parsed::Row(row), String::new()),
                    Err((raw, error)) => (Parsed::Malformed(error), raw),
                };
                self.take(parsed, path, row_no, raw.as_bytes(), stats, emit)
            });
        }
        let file = fs::File::open(path).map_err(io_error)?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut parser =
            LineParser::new::<T>(self.format, self.csv).with_partitions::<T>(partitions);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf).map_err(io_error)? == 0 {
                return Ok(());
            }
            line_no += 1;
            let mut line = buf.as_slice();
            if let Some(l) = line.strip_suffix(b"\n") {
                line = l;
            }
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            let parsed = parser.parse::<T>(line);
            if let Some(warning) = parser.take_header_warning() {
                // Spark logs this and reads the file by position all the same.
                eprintln!("warning: {warning}; CSV file: {path}");
            }
            self.take(parsed, path, line_no, line, stats, emit)?;
        }
    }

    /// Emits a row, or handles a malformed record (line `line_no` of `path`, text `raw`) as
    /// the mode says.
    fn take(
        &self,
        parsed: Parsed<T>,
        path: &str,
        line_no: u64,
        raw: &[u8],
        stats: &mut ReadStats,
        emit: &mut dyn FnMut(T),
    ) -> Result<()> {
        match parsed {
            Parsed::Row(row) => {
                stats.rows += 1;
                emit(row);
            }
            Parsed::Skip => {}
            Parsed::Malformed(error) => match self.mode {
                Mode::FailFast => {
                    return Err(StreamError::Malformed {
                        file: path.to_string(),
                        line: line_no,
                        error: format!(
                            "{error} (mode is fail-fast; use .mode(Mode::DropMalformed) or \
                             .mode(Mode::Permissive) to skip or keep such records)"
                        ),
                    })
                }
                Mode::DropMalformed => stats.dropped_malformed += 1,
                Mode::Permissive => {
                    stats.corrupt_count += 1;
                    if stats.corrupt.len() < self.max_corrupt_records {
                        stats
                            .corrupt
                            .push(CorruptRecord::new(path, line_no, raw, &error));
                    }
                }
            },
        }
        Ok(())
    }

    /// Reads every file now in the directory (in reading order), without touching the
    /// seen-files log: a static read, e.g. for a stream-static join's table.
    pub fn read_all(&self) -> Result<(Vec<T>, ReadStats)> {
        self.check_record()?;
        let mut rows = Vec::new();
        let mut stats = ReadStats::default();
        for (file, _) in self.list_new(&HashSet::new())? {
            self.read_file(&file, &mut stats, &mut |row| rows.push(row))?;
        }
        Ok((rows, stats))
    }

    /// Checks that `T` fits the format (text needs a `value` column).
    fn check_record(&self) -> Result<()> {
        if self.format == Format::Text && T::schema().field("value").is_none() {
            return Err(StreamError::Config(format!(
                "the text source `{}` reads each line into a column `value: String`, but the \
                 record type has columns {:?}; use `Line` or add a `value: String` column",
                self.dir.display(),
                T::schema().names()
            )));
        }
        Ok(())
    }
}

impl<T: Record> Source<T> for FileSource<T> {
    fn description(&self) -> String {
        format!("FileStreamSource[{}]", self.dir.display())
    }
    fn identity(&self) -> String {
        self.description()
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        self.check_record()?;
        let from = offset_count(start) as usize;
        let max = self.max_files_per_trigger.unwrap_or(usize::MAX);
        let cap = match limit {
            ReadLimit::All => usize::MAX,
            ReadLimit::Default => max,
            ReadLimit::UpTo(end) => {
                max.min((offset_count(Some(end)) as usize).saturating_sub(from))
            }
        };
        if cap == 0 {
            return Ok(None);
        }
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if from > log.files.len() {
            return Err(StreamError::Source(format!(
                "file source `{}` was asked to resume after file {from}, but its seen-files log \
                 holds only {} files (without a checkpoint the log is kept in memory only)",
                self.dir.display(),
                log.files.len()
            )));
        }
        // Files already handed out after `from` (a re-planned batch, a batch planned before a
        // crash but never logged, or a batch after an `All` plan under `UpTo`), then new
        // files, up to the cap.
        let mut batch: Vec<String> = log.files[from..].iter().take(cap).cloned().collect();
        if batch.len() < cap {
            let mut new = self.list_new(&log.seen)?;
            new.truncate(cap - batch.len());
            batch.extend(new.iter().map(|(f, _)| f.clone()));
            log.add(new)?;
        }
        if batch.is_empty() {
            return Ok(None);
        }
        Ok(Some(Split {
            start: start.cloned(),
            end: ((from + batch.len()) as u64).into(),
            detail: batch.into(),
        }))
    }

    fn restore(&self, dir: &Path) -> Result<()> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .restore(dir)
    }

    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let (from, to) = (
            offset_count(start) as usize,
            offset_count(Some(end)) as usize,
        );
        if to > log.files.len() || from > to {
            return Err(StreamError::Checkpoint(format!(
                "file source `{}`: the batch to run again read files {from}..{to}, but the \
                 source's log holds {} files",
                self.dir.display(),
                log.files.len()
            )));
        }
        Ok(Split {
            start: start.cloned(),
            end: end.clone(),
            detail: log.files[from..to].to_vec().into(),
        })
    }

    fn read(&self, split: &Split, part: Partition, emit: &mut dyn FnMut(T)) -> Result<ReadStats> {
        let mut stats = ReadStats::default();
        let count = part.count.max(1);
        for (i, file) in Self::split_files(split)?.iter().enumerate() {
            if i % count == part.index {
                self.read_file(file, &mut stats, emit)?;
            }
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests;
