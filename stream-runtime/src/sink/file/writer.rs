//! One worker's files of one batch: a part file per partition directory, created at its first
//! row (noted in the attempt's marker first), synced and described for the log at the end.

use super::attempt::Marker;
use super::log::SinkFileStatus;
use super::text::{cast_timestamp, file_uri, java_double, java_float, partition_dir};
use super::{epoch_ms, Layout, Written};
use crate::error::{Result, StreamError};
use crate::sink::BatchWriter;
use crate::source::file::format::Format;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stream_core::{DataType, FieldSchema, Record, Value};

/// Hadoop's local file system reports these for every file (what Spark logs).
const BLOCK_REPLICATION: i32 = 1;
const BLOCK_SIZE: i64 = 32 * 1024 * 1024;

/// Writes the rows of one part file in a format.
pub(super) trait PartWriter {
    /// Writes one row's values of the file's columns.
    fn write(&mut self, values: &[&Value]) -> Result<()>;
    /// Writes what is buffered and syncs the file to disk.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// One worker's writer of one batch.
pub(super) struct BatchFiles<T> {
    layout: Arc<Layout>,
    worker: usize,
    uuid: String,
    marker: Marker,
    /// The part files by partition directory (`""`: the output directory).
    parts: BTreeMap<String, (PathBuf, Box<dyn PartWriter>)>,
    _rows: PhantomData<fn(&T)>,
}

impl<T: Record> BatchFiles<T> {
    pub(super) fn new(layout: Arc<Layout>, batch: u64, worker: usize) -> Self {
        let uuid = crate::handle::new_id();
        let marker = Marker::new(&layout.log_dir, batch, worker, &uuid);
        BatchFiles {
            layout,
            worker,
            uuid,
            marker,
            parts: BTreeMap::new(),
            _rows: PhantomData,
        }
    }

    /// The part file of partition directory `dir`, created (and noted) at its first row.
    fn part(&mut self, dir: String) -> Result<&mut Box<dyn PartWriter>> {
        if !self.parts.contains_key(&dir) {
            let name = format!(
                "part-{:05}-{}-c000.{}",
                self.worker,
                self.uuid,
                self.layout.format.extension()
            );
            let rel = Path::new(&dir).join(name);
            self.marker.note(&rel)?;
            let path = self.layout.dir.join(&rel);
            let error = |e: std::io::Error| {
                StreamError::Sink(format!(
                    "file sink: cannot create `{}`: {e}",
                    path.display()
                ))
            };
            std::fs::create_dir_all(path.parent().expect("part files are in a directory"))
                .map_err(error)?;
            let file = File::create(&path).map_err(error)?;
            let writer = self.layout.part_writer(file, &path)?;
            self.parts.insert(dir.clone(), (rel, writer));
        }
        Ok(&mut self.parts.get_mut(&dir).expect("inserted above").1)
    }
}

impl<T: Record> BatchWriter<T> for BatchFiles<T> {
    fn write(&mut self, rows: &mut dyn Iterator<Item = &T>) -> Result<()> {
        let layout = self.layout.clone();
        for row in rows {
            let values = row.values();
            let mut dir = String::new();
            for &i in &layout.partitions {
                if !dir.is_empty() {
                    dir.push('/');
                }
                let f = &layout.schema.fields[i];
                dir.push_str(&partition_dir(
                    f.name,
                    cast(&f.data_type, &values[i]).as_deref(),
                ));
            }
            let data: Vec<&Value> = layout.data.iter().map(|i| &values[*i]).collect();
            self.part(dir)?.write(&data)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<serde_json::Value> {
        let mut files = Vec::new();
        let mut dirs = std::collections::BTreeSet::new();
        for (rel, writer) in self.parts.into_values() {
            writer.finish()?;
            let path = self.layout.dir.join(&rel);
            let meta = std::fs::metadata(&path).map_err(|e| {
                StreamError::Sink(format!("file sink: cannot read `{}`: {e}", path.display()))
            })?;
            files.push(SinkFileStatus {
                path: file_uri(&path),
                size: meta.len(),
                is_dir: false,
                modification_time: meta.modified().map(epoch_ms).unwrap_or(0),
                block_replication: BLOCK_REPLICATION,
                block_size: BLOCK_SIZE,
                action: "add".into(),
            });
            dirs.insert(path.parent().map(Path::to_path_buf).unwrap_or_default());
        }
        // The files' names are durable before the driver logs them.
        for dir in dirs {
            crate::checkpoint::sync_dir(&dir).map_err(|e| {
                StreamError::Sink(format!("file sink: cannot sync `{}`: {e}", dir.display()))
            })?;
        }
        let marker = (!files.is_empty()).then(|| self.marker.name());
        Ok(serde_json::to_value(Written { files, marker }).expect("written files serialize"))
    }
}

/// A partition value as Spark casts it to a string (`None` for NULL).
fn cast(data_type: &DataType, v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(x) if is_float32(data_type) => java_float(*x as f32),
        Value::Float(x) => java_double(*x),
        Value::Str(s) => s.clone(),
        Value::Timestamp(t) => cast_timestamp(*t),
        // Refused when the query starts.
        Value::Struct(_) | Value::Bytes(_) | Value::Array(_) => return None,
    })
}

fn is_float32(t: &DataType) -> bool {
    match t {
        DataType::Nullable(inner) => is_float32(inner),
        DataType::Float(name) => *name == "float",
        _ => false,
    }
}

/// A part file of a line format (JSON lines, CSV, text).
pub(super) struct TextPart {
    out: BufWriter<File>,
    path: PathBuf,
    format: Format,
    fields: Vec<FieldSchema>,
    line: String,
}

impl TextPart {
    pub(super) fn create(
        file: File,
        path: &Path,
        format: Format,
        fields: Vec<FieldSchema>,
        header: bool,
    ) -> Result<Box<dyn PartWriter>> {
        let mut part = TextPart {
            out: BufWriter::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
            format,
            fields,
            line: String::new(),
        };
        if header && format == Format::Csv {
            let fields: Vec<&FieldSchema> = part.fields.iter().collect();
            super::csv::write_header(&mut part.line, &fields);
            let line = std::mem::take(&mut part.line);
            part.put(&line)?;
        }
        Ok(Box::new(part))
    }

    fn put(&mut self, text: &str) -> Result<()> {
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| self.error(e))
    }

    fn error(&self, e: std::io::Error) -> StreamError {
        StreamError::Sink(format!(
            "file sink: cannot write `{}`: {e}",
            self.path.display()
        ))
    }
}

impl PartWriter for TextPart {
    fn write(&mut self, values: &[&Value]) -> Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let fields: Vec<&FieldSchema> = self.fields.iter().collect();
        match self.format {
            Format::Csv => super::csv::write_row(&mut line, &fields, values),
            Format::Text => {
                // Spark's text writer: the string, or an empty line for NULL.
                if let Some(Value::Str(s)) = values.first() {
                    line.push_str(s);
                }
                line.push('\n');
            }
            _ => super::json::write_row(&mut line, &fields, values),
        }
        let written = self.put(&line);
        self.line = line;
        written
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.out.flush().map_err(|e| self.error(e))?;
        self.out.get_ref().sync_all().map_err(|e| self.error(e))
    }
}
