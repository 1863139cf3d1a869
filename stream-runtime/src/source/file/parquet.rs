//! Reading Parquet files: each row, by column name, into the record type (through JSON, which
//! every record deserializes from); partition values join the file's columns.

use super::format::partition_json;
use crate::error::{Result, StreamError};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType as Arrow, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value as J};
use stream_core::Record;

/// One row read: the row, or its JSON form and why it is not a `T`.
pub(super) type RowResult<T> = std::result::Result<T, (String, String)>;

/// Reads the rows of the Parquet file `path`, whose directories give `partitions`, passing
/// each (with its 1-based row number) to `on_row`.
pub(super) fn read_file<T: Record>(
    path: &str,
    partitions: Vec<(String, Option<String>)>,
    on_row: &mut dyn FnMut(u64, RowResult<T>) -> Result<()>,
) -> Result<()> {
    let error = |e: &dyn std::fmt::Display| {
        StreamError::Source(format!("cannot read Parquet file `{path}`: {e}"))
    };
    let file = std::fs::File::open(path).map_err(|e| error(&e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| error(&e))?;
    let names = T::schema().names();
    let partitions = partition_json::<T>(partitions);
    let mut row_no = 0;
    for batch in reader {
        let batch: RecordBatch = batch.map_err(|e| error(&e))?;
        let schema = batch.schema();
        for r in 0..batch.num_rows() {
            row_no += 1;
            let mut row = Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                row.insert(field.name().clone(), value(column.as_ref(), r));
            }
            for (i, v) in &partitions {
                row.insert(names[*i].to_string(), v.clone());
            }
            let row = J::Object(row);
            let parsed = serde_json::from_value::<T>(row.clone())
                .map_err(|e| (row.to_string(), e.to_string()));
            on_row(row_no, parsed)?;
        }
    }
    Ok(())
}

/// Row `r` of `column` as JSON: timestamps as epoch milliseconds (what a `Timestamp`
/// deserializes from), structs as objects, NULL as `null`.
fn value(column: &dyn Array, r: usize) -> J {
    if column.is_null(r) {
        return J::Null;
    }
    macro_rules! num {
        ($t:ty) => {
            J::from(column.as_primitive::<$t>().value(r))
        };
    }
    match column.data_type() {
        Arrow::Boolean => J::Bool(column.as_boolean().value(r)),
        Arrow::Int8 => num!(Int8Type),
        Arrow::Int16 => num!(Int16Type),
        Arrow::Int32 => num!(Int32Type),
        Arrow::Int64 => num!(Int64Type),
        Arrow::UInt8 => num!(UInt8Type),
        Arrow::UInt16 => num!(UInt16Type),
        Arrow::UInt32 => num!(UInt32Type),
        Arrow::UInt64 => num!(UInt64Type),
        Arrow::Float32 => num!(Float32Type),
        Arrow::Float64 => num!(Float64Type),
        Arrow::Utf8 => J::from(column.as_string::<i32>().value(r)),
        Arrow::LargeUtf8 => J::from(column.as_string::<i64>().value(r)),
        Arrow::Timestamp(unit, _) => J::from(match unit {
            TimeUnit::Second => column.as_primitive::<TimestampSecondType>().value(r) * 1000,
            TimeUnit::Millisecond => column.as_primitive::<TimestampMillisecondType>().value(r),
            TimeUnit::Microsecond => column
                .as_primitive::<TimestampMicrosecondType>()
                .value(r)
                .div_euclid(1000),
            TimeUnit::Nanosecond => column
                .as_primitive::<TimestampNanosecondType>()
                .value(r)
                .div_euclid(1_000_000),
        }),
        Arrow::Struct(fields) => {
            let s = column.as_struct();
            let members = fields
                .iter()
                .zip(s.columns())
                .map(|(f, c)| (f.name().clone(), value(c.as_ref(), r)))
                .collect();
            J::Object(members)
        }
        other => J::String(format!("<unsupported Parquet type {other}>")),
    }
}
