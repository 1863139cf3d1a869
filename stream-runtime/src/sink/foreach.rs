//! `foreach_batch` and `foreach`: user code per batch or per row.

use super::{BatchInfo, RowWriter, Sink};
use crate::error::Result;

/// Calls a function with each batch's id and rows, like Spark's `foreachBatch`. Use the batch
/// id to make writes idempotent.
pub struct ForeachBatch<F>(F);

impl<F> ForeachBatch<F> {
    /// A sink that calls `f(batch_id, rows)` once per batch.
    pub fn new<T>(f: F) -> Self
    where
        F: FnMut(u64, Vec<T>) + Send + 'static,
    {
        ForeachBatch(f)
    }
}

impl<T, F: FnMut(u64, Vec<T>) + Send + 'static> Sink<T> for ForeachBatch<F> {
    fn description(&self) -> String {
        "ForeachBatchSink".into()
    }
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()> {
        (self.0)(info.batch_id, rows);
        Ok(())
    }
}

/// Calls a function with every output row, like Spark's `foreach`: on the worker that
/// produced the row, in no particular order (outside complete mode).
pub struct Foreach<T>(std::sync::Arc<dyn Fn(&T) + Send + Sync>);

impl<T> Foreach<T> {
    /// A sink that calls `f(row)` for every output row.
    pub fn new(f: impl Fn(&T) + Send + Sync + 'static) -> Self {
        Foreach(std::sync::Arc::new(f))
    }
}

impl<T: 'static> Sink<T> for Foreach<T> {
    fn description(&self) -> String {
        "ForeachSink".into()
    }
    fn add_batch(&mut self, _info: BatchInfo, rows: Vec<T>) -> Result<()> {
        rows.iter().for_each(|r| (self.0)(r));
        Ok(())
    }
    fn row_writer(&self) -> Option<RowWriter<T>> {
        let f = self.0.clone();
        Some(std::sync::Arc::new(move |rows| rows.for_each(|r| f(r))))
    }
}

/// Discards every row (Spark's `noop` format), for benchmarks: rows are computed on every
/// worker and dropped there.
#[derive(Clone, Copy, Debug, Default)]
pub struct Noop;

impl<T: 'static> Sink<T> for Noop {
    fn description(&self) -> String {
        "NoopSink".into()
    }
    fn add_batch(&mut self, _info: BatchInfo, _rows: Vec<T>) -> Result<()> {
        Ok(())
    }
    fn row_writer(&self) -> Option<RowWriter<T>> {
        Some(std::sync::Arc::new(|_| {}))
    }
}
