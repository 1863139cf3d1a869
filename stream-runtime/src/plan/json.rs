//! `from_json`: a string or binary column parsed as JSON into rows of a record type (Spark's
//! `from_json(col, schema)` followed by `select("parsed.*")`), as the Kafka source's values are
//! read. Malformed values follow the file source's modes and are reported as its malformed
//! lines are, counted as reads of the source the rows came from. JSON for now: another
//! format (Avro) would be another parse function here.

use super::Dataset;
use crate::error::StreamError;
use crate::metrics::MAX_CORRUPT_PER_BATCH;
use crate::source::{CorruptRecord, Mode};
use std::sync::Arc;
use stream_core::timestamp::{with_text_timestamps, TextTimestamps};
use stream_core::Record;

/// Where a row came from, if its type says ([`RowOrigin`](crate::source::RowOrigin)).
pub type OriginFn<T> = dyn Fn(&T) -> Option<(String, u64)> + Send + Sync;

impl<T: Record> Dataset<T> {
    /// Parses the JSON in column `column` (read by `value`, `None` for NULL) into rows of `U`,
    /// dropping the input row. A value that does not parse (or is NULL) follows `mode`:
    /// fail the query naming where it came from (`origin`: e.g. a Kafka topic, partition and
    /// offset; otherwise the row's position in the worker's batch), drop it and count it, or
    /// keep it aside as a corrupt record (`StreamingQuery::corrupt_records`), counted in the
    /// source's `numDroppedMalformedRecords` / `numCorruptRecords`.
    pub fn from_json<U: Record>(
        self,
        column: &'static str,
        value: impl Fn(&T) -> Option<&[u8]> + Send + Sync + 'static,
        origin: impl Fn(&T) -> Option<(String, u64)> + Send + Sync + 'static,
        mode: Mode,
    ) -> Dataset<U> {
        let source_key = self.meta.sources.first().map(|s| s.key);
        let value = Arc::new(value);
        let origin: Arc<OriginFn<T>> = Arc::new(origin);
        self.then_ctx("from_json", move |rows, ctx| {
            let source = source_key.map(|k| ctx.source(k));
            let slot = ctx.parse_op(source);
            let metrics = ctx.metrics.clone();
            let (value, origin) = (value.clone(), origin.clone());
            let mut position = 0u64;
            rows.flat_map(move |row: T| {
                position += 1;
                let bytes = value(&row);
                let parsed = match bytes {
                    None => Err(format!("the `{column}` column is NULL")),
                    // Spark's JSON parser: a number in a timestamp column is epoch seconds.
                    Some(b) => with_text_timestamps(TextTimestamps::SparkJson, || {
                        serde_json::from_slice::<U>(b)
                    })
                    .map_err(|e| e.to_string()),
                };
                let error = match parsed {
                    Ok(u) => return Some(u),
                    Err(e) => e,
                };
                let (file, line) = origin(&row).unwrap_or_else(|| {
                    (
                        format!("`from_json({column})` row of this worker's batch"),
                        position,
                    )
                });
                let mut m = metrics.borrow_mut();
                let p = &mut m.parses[slot];
                match mode {
                    Mode::FailFast => {
                        p.error.get_or_insert(StreamError::Malformed {
                            file,
                            line,
                            error: format!(
                                "{error} (in `from_json({column})`, mode is fail-fast; pass \
                                 Mode::DropMalformed or Mode::Permissive as its second argument \
                                 to skip or keep such values)"
                            ),
                        });
                    }
                    Mode::DropMalformed => p.stats.dropped_malformed += 1,
                    Mode::Permissive => {
                        p.stats.corrupt_count += 1;
                        if p.stats.corrupt.len() < MAX_CORRUPT_PER_BATCH {
                            let raw = bytes.unwrap_or(b"null");
                            p.stats
                                .corrupt
                                .push(CorruptRecord::new(&file, line, raw, &error));
                        }
                    }
                }
                None
            })
        })
    }
}
