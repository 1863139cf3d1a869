//! The file sink (Spark's `FileStreamSink`): `Files::json(dir)` (or `csv`, `text`, `parquet`)
//! as a partitioned sink. Every worker writes its rows of a batch to new part files; the driver
//! logs the batch's files in `_spark_metadata/<batch>` (`log`), once; a batch the log has is not
//! written again. `docs/architecture.md` ("The file sink") describes the layout and the
//! guarantees.

mod attempt;
mod csv;
mod json;
pub(crate) mod log;
#[cfg(feature = "parquet")]
mod parquet;
pub(crate) mod text;
mod writer;

use super::{BatchInfo, PartitionedSink, Sink};
use crate::error::{Result, StreamError};
use crate::source::file::format::Format;
use crate::source::FileSource;
use log::{SinkFileStatus, SinkLog};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use stream_core::{DataType, OutputMode, Record, Schema};

/// Milliseconds since the epoch of a file time.
pub(crate) fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Where and how a file sink writes, shared by the driver and every worker of a process.
pub(crate) struct Layout {
    /// The output directory, absolute (its files are logged by absolute URI).
    dir: PathBuf,
    /// Its `_spark_metadata`.
    log_dir: PathBuf,
    format: Format,
    header: bool,
    schema: Schema,
    /// Indices of the partition columns, in `partition_by` order.
    partitions: Vec<usize>,
    /// Indices of the columns the files hold.
    data: Vec<usize>,
}

impl Layout {
    /// A writer of a new part file `file` (at `path`).
    fn part_writer(&self, file: std::fs::File, path: &Path) -> Result<Box<dyn writer::PartWriter>> {
        let fields = self
            .data
            .iter()
            .map(|i| self.schema.fields[*i].clone())
            .collect();
        match self.format {
            #[cfg(feature = "parquet")]
            Format::Parquet => parquet::ParquetPart::create(file, path, fields),
            format => writer::TextPart::create(file, path, format, fields, self.header),
        }
    }
}

/// The file sink of one query in one process.
pub(crate) struct FileSink<T> {
    layout: Arc<Layout>,
    log: SinkLog,
    _rows: PhantomData<fn(T)>,
}

impl<T: Record> FileSink<T> {
    fn new(files: &FileSource<T>) -> Self {
        let schema = T::schema();
        let dir = std::path::absolute(&files.dir).unwrap_or_else(|_| files.dir.clone());
        let partitions: Vec<usize> = files
            .partition_by
            .iter()
            .filter_map(|c| schema.fields.iter().position(|f| f.name == c))
            .collect();
        let data = (0..schema.fields.len())
            .filter(|i| !partitions.contains(i))
            .collect();
        let mut log = SinkLog::new(&dir);
        log.retention = files.retention;
        FileSink {
            layout: Arc::new(Layout {
                log_dir: log.dir().to_path_buf(),
                dir,
                format: files.format,
                header: files.csv.header,
                schema,
                partitions,
                data,
            }),
            log,
            _rows: PhantomData,
        }
    }

    /// Spark's checks when a file sink starts: columns to partition by exist, are not all the
    /// columns and are not structs; the format can hold the other columns.
    fn check(&self, files: &FileSource<T>) -> Result<()> {
        let layout = &self.layout;
        let config = |m: String| Err(StreamError::Config(m));
        for c in &files.partition_by {
            let Some(f) = layout.schema.field(c) else {
                return config(format!(
                    "the file sink `{}` partitions by `{c}`, which is not a column of the rows \
                     (columns: {})",
                    layout.dir.display(),
                    layout.schema.names().join(", ")
                ));
            };
            if is_struct(&f.data_type) {
                return config(format!(
                    "the file sink `{}` cannot partition by `{c}`, a struct of type {} (Spark \
                     partitions by atomic columns only); partition by one of its members \
                     selected as a column",
                    layout.dir.display(),
                    f.data_type
                ));
            }
        }
        if layout.data.is_empty() {
            return config(format!(
                "the file sink `{}` partitions by every column: the files would hold none \
                 (Spark: \"Cannot use all columns for partition columns\")",
                layout.dir.display()
            ));
        }
        let data: Vec<_> = layout
            .data
            .iter()
            .map(|i| &layout.schema.fields[*i])
            .collect();
        // Kafka's binary and array columns: not written by the file sinks yet (Spark's JSON
        // writes binary as base64 and arrays as JSON arrays; its CSV refuses both).
        if let Some(f) = data.iter().find(|f| is_binary_or_array(&f.data_type)) {
            return config(format!(
                "the file sink `{}` cannot write the column `{}` of type {} yet; convert it \
                 first (e.g. `from_json` or a `map` to a `String` column)",
                layout.dir.display(),
                f.name,
                f.data_type
            ));
        }
        match layout.format {
            Format::Csv => {
                for f in &data {
                    csv::check_column(f).map_err(StreamError::Config)?;
                }
            }
            Format::Text => {
                let string = |t: &DataType| match t {
                    DataType::Nullable(inner) => **inner == DataType::String,
                    t => *t == DataType::String,
                };
                if data.len() != 1 || !string(&data[0].data_type) {
                    return config(format!(
                        "the text file sink `{}` writes one string column per line, and the \
                         rows have {} (Spark's text data source supports only a single string \
                         column); select one `String` column, or use `Files::json`",
                        layout.dir.display(),
                        data.iter()
                            .map(|f| format!("`{}`: {}", f.name, f.data_type))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn is_binary_or_array(t: &DataType) -> bool {
    match t {
        DataType::Nullable(inner) => is_binary_or_array(inner),
        DataType::Binary | DataType::Array(_) => true,
        DataType::Struct(fields) => fields.iter().any(|f| is_binary_or_array(&f.data_type)),
        _ => false,
    }
}

fn is_struct(t: &DataType) -> bool {
    match t {
        DataType::Nullable(inner) => is_struct(inner),
        DataType::Window | DataType::Struct(_) => true,
        _ => false,
    }
}

/// What a worker's writer returns for a batch: the files it wrote and its attempt's marker.
#[derive(serde::Serialize, serde::Deserialize)]
struct Written {
    files: Vec<SinkFileStatus>,
    marker: Option<String>,
}

impl<T: Record> PartitionedSink<T> for FileSink<T> {
    fn open(&self, batch_id: u64, worker: usize) -> Result<Box<dyn super::BatchWriter<T>>> {
        Ok(Box::new(writer::BatchFiles::new(
            self.layout.clone(),
            batch_id,
            worker,
        )))
    }

    fn commit(&self, batch_id: u64, messages: Vec<serde_json::Value>) -> Result<()> {
        let mut files = Vec::new();
        let mut markers = Vec::new();
        for m in messages {
            let w: Written = serde_json::from_value(m).map_err(|e| {
                StreamError::Sink(format!("file sink: a worker's files are unreadable ({e})"))
            })?;
            files.extend(w.files);
            markers.extend(w.marker);
        }
        self.log
            .add(batch_id, &files, epoch_ms(SystemTime::now()))?;
        attempt::forget(&self.log, &markers);
        Ok(())
    }

    /// Called once, when the query starts: also removes the files of attempts that never
    /// committed (see `attempt`), before any worker writes.
    fn last_committed(&self) -> Result<Option<u64>> {
        let removed = attempt::clean_up(&self.log, &self.layout.dir)?;
        if removed > 0 {
            eprintln!(
                "file sink `{}`: removed {removed} files written by attempts that did not commit",
                self.layout.dir.display()
            );
        }
        self.log.latest()
    }
}

impl<T: Record> Sink<T> for FileSource<T> {
    fn description(&self) -> String {
        format!("FileSink[{}]", self.dir.display())
    }

    /// The output directory (absolute): its `_spark_metadata` log numbers batches as the
    /// checkpoint does, so a restarted query may not write elsewhere (Spark's rule).
    fn batch_log(&self) -> Option<String> {
        let dir = std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone());
        Some(dir.display().to_string())
    }

    /// The file sink appends files: Append mode only, as Spark's. Also Spark's checks of the
    /// partition columns and of what the format can hold.
    fn check_mode(&self, mode: OutputMode) -> Result<()> {
        if mode != OutputMode::Append {
            return Err(StreamError::Analysis(format!(
                "the file sink (`{}`) supports Append mode only, as Spark's (\"Data source {} \
                 does not support {} output mode\"); write in Append mode, or use ForeachBatch \
                 to write each batch's {} rows yourself",
                self.dir.display(),
                self.format.name(),
                mode.name(),
                mode.name()
            )));
        }
        FileSink::new(self).check(self)
    }

    /// Writes a batch as one worker would (the driver normally has every worker write its own
    /// rows through [`Sink::partitioned`]).
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()> {
        let sink = FileSink::new(self);
        if sink.last_committed()?.is_some_and(|c| c >= info.batch_id) {
            return Ok(());
        }
        let mut w = sink.open(info.batch_id, 0)?;
        w.write(&mut rows.iter())?;
        let message = w.finish()?;
        sink.commit(info.batch_id, vec![message])
    }

    fn partitioned(&self) -> Option<Arc<dyn PartitionedSink<T>>> {
        Some(Arc::new(FileSink::new(self)))
    }
}

#[cfg(test)]
mod tests;
