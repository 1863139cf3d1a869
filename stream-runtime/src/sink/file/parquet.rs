//! Part files in Parquet, as Spark writes them: snappy-compressed, timestamps as
//! `TIMESTAMP(MICROS)` adjusted to UTC, windows and nested records as groups (structs),
//! nullable columns `OPTIONAL` and the others `REQUIRED`.

use super::writer::PartWriter;
use crate::error::{Result, StreamError};
use arrow_array::builder::{
    BooleanBuilder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder,
    Int8Builder, StringBuilder, TimestampMicrosecondBuilder, UInt16Builder, UInt32Builder,
    UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch, StructArray};
use arrow_schema::{DataType as Arrow, Field, Fields, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stream_core::{DataType, FieldSchema, Value};

/// Rows buffered before they are written as a record batch.
const BATCH_ROWS: usize = 8192;

/// The Arrow type a column is written as (and read from).
pub(crate) fn arrow_type(t: &DataType) -> Arrow {
    match t {
        DataType::Nullable(inner) => arrow_type(inner),
        DataType::Boolean => Arrow::Boolean,
        DataType::Integer("tinyint") => Arrow::Int8,
        DataType::Integer("smallint") => Arrow::Int16,
        DataType::Integer("int") => Arrow::Int32,
        DataType::Integer(_) => Arrow::Int64,
        DataType::Unsigned("tinyint unsigned") => Arrow::UInt8,
        DataType::Unsigned("smallint unsigned") => Arrow::UInt16,
        DataType::Unsigned("int unsigned") => Arrow::UInt32,
        DataType::Unsigned(_) => Arrow::UInt64,
        DataType::Float("float") => Arrow::Float32,
        DataType::Float(_) => Arrow::Float64,
        DataType::String => Arrow::Utf8,
        DataType::Timestamp => Arrow::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::Window => Arrow::Struct(window_fields()),
        DataType::Struct(fields) => Arrow::Struct(arrow_fields(fields)),
        // Refused when the query starts (`is_binary_or_array`).
        DataType::Binary | DataType::Array(_) => Arrow::Null,
    }
}

fn window_fields() -> Fields {
    let ts = DataType::Timestamp;
    Fields::from(vec![
        Field::new("start", arrow_type(&ts), true),
        Field::new("end", arrow_type(&ts), true),
    ])
}

fn arrow_fields(fields: &[FieldSchema]) -> Fields {
    fields
        .iter()
        .map(|f| {
            let nullable = matches!(f.data_type, DataType::Nullable(_));
            Field::new(f.name, arrow_type(&f.data_type), nullable)
        })
        .collect()
}

/// A part file being written.
pub(super) struct ParquetPart {
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    fields: Vec<FieldSchema>,
    rows: Vec<Vec<Value>>,
    path: PathBuf,
}

impl ParquetPart {
    pub(super) fn create(
        file: File,
        path: &Path,
        fields: Vec<FieldSchema>,
    ) -> Result<Box<dyn PartWriter>> {
        let schema = Arc::new(Schema::new(arrow_fields(&fields)));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| error(path, e))?;
        Ok(Box::new(ParquetPart {
            writer,
            schema,
            fields,
            rows: Vec::new(),
            path: path.to_path_buf(),
        }))
    }

    /// Writes the buffered rows as one record batch.
    fn flush_rows(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let columns: Vec<ArrayRef> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| column(&f.data_type, &mut rows.iter().map(|r| &r[i])))
            .collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| error(&self.path, e))?;
        self.writer.write(&batch).map_err(|e| error(&self.path, e))
    }
}

impl PartWriter for ParquetPart {
    fn write(&mut self, values: &[&Value]) -> Result<()> {
        self.rows
            .push(values.iter().map(|v| (*v).clone()).collect());
        if self.rows.len() >= BATCH_ROWS {
            self.flush_rows()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_rows()?;
        self.writer.finish().map_err(|e| error(&self.path, e))?;
        self.writer
            .inner()
            .sync_all()
            .map_err(|e| error(&self.path, e))
    }
}

fn error(path: &Path, e: impl std::fmt::Display) -> StreamError {
    StreamError::Sink(format!(
        "file sink: cannot write the Parquet file `{}`: {e}",
        path.display()
    ))
}

/// The Arrow array of one column's values.
fn column(t: &DataType, values: &mut dyn Iterator<Item = &Value>) -> ArrayRef {
    macro_rules! build {
        ($builder:ty, $pat:pat => $v:expr) => {{
            let mut b = <$builder>::new();
            for v in values {
                match v {
                    $pat => b.append_value($v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }};
    }
    match arrow_type(t) {
        Arrow::Boolean => build!(BooleanBuilder, Value::Bool(x) => *x),
        Arrow::Int8 => build!(Int8Builder, Value::Int(x) => *x as i8),
        Arrow::Int16 => build!(Int16Builder, Value::Int(x) => *x as i16),
        Arrow::Int32 => build!(Int32Builder, Value::Int(x) => *x as i32),
        Arrow::Int64 => build!(Int64Builder, Value::Int(x) => *x),
        Arrow::UInt8 => build!(UInt8Builder, Value::UInt(x) => *x as u8),
        Arrow::UInt16 => build!(UInt16Builder, Value::UInt(x) => *x as u16),
        Arrow::UInt32 => build!(UInt32Builder, Value::UInt(x) => *x as u32),
        Arrow::UInt64 => build!(UInt64Builder, Value::UInt(x) => *x),
        Arrow::Float32 => build!(Float32Builder, Value::Float(x) => *x as f32),
        Arrow::Float64 => build!(Float64Builder, Value::Float(x) => *x),
        Arrow::Utf8 => build!(StringBuilder, Value::Str(s) => s),
        Arrow::Timestamp(..) => {
            let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
            for v in values {
                match v {
                    Value::Timestamp(t) => b.append_value(t.millis().saturating_mul(1000)),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Arrow::Struct(fields) => {
            let values: Vec<&Value> = values.collect();
            let members: Vec<(String, DataType)> = match t {
                DataType::Nullable(inner) => members(inner),
                t => members(t),
            };
            let children: Vec<ArrayRef> = members
                .iter()
                .map(|(name, member_type)| {
                    let mut of = values.iter().map(|v| match v {
                        Value::Struct(m) => m
                            .iter()
                            .find(|(n, _)| n == name)
                            .map_or(&Value::Null, |(_, v)| v),
                        _ => &Value::Null,
                    });
                    column(member_type, &mut of)
                })
                .collect();
            let nulls = values
                .iter()
                .map(|v| matches!(v, Value::Struct(_)))
                .collect::<Vec<bool>>();
            Arc::new(StructArray::new(fields, children, Some(nulls.into())))
        }
        other => unreachable!("no column is written as {other}"),
    }
}

/// The members of a struct column, with their types.
fn members(t: &DataType) -> Vec<(String, DataType)> {
    match t {
        DataType::Window => vec![
            ("start".into(), DataType::Timestamp),
            ("end".into(), DataType::Timestamp),
        ],
        DataType::Struct(fields) => fields
            .iter()
            .map(|f| (f.name.to_string(), f.data_type.clone()))
            .collect(),
        _ => Vec::new(),
    }
}
