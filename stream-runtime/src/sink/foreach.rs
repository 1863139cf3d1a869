//! `foreach_batch` and `foreach`: user code per batch or per row.

use super::{BatchInfo, Sink};
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

/// Calls a function with every output row, like Spark's `foreach`.
pub struct Foreach<F>(F);

impl<F> Foreach<F> {
    /// A sink that calls `f(row)` for every output row.
    pub fn new<T>(f: F) -> Self
    where
        F: FnMut(T) + Send + 'static,
    {
        Foreach(f)
    }
}

impl<T, F: FnMut(T) + Send + 'static> Sink<T> for Foreach<F> {
    fn description(&self) -> String {
        "ForeachSink".into()
    }
    fn add_batch(&mut self, _info: BatchInfo, rows: Vec<T>) -> Result<()> {
        rows.into_iter().for_each(&mut self.0);
        Ok(())
    }
}
