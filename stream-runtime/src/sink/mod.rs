//! Sinks: where each micro-batch's output goes.
//!
//! The engine gathers a batch's output rows on the driver (global worker 0), applies the output
//! mode (append: new rows; update: changed rows; complete: the whole result table), and calls the
//! sink once per batch with the batch id, as Spark's `addBatch(batchId, data)`.

mod console;
pub(crate) mod file;
mod foreach;
mod memory;

pub use console::Console;
pub use foreach::{Foreach, ForeachBatch, Noop};
pub use memory::MemorySink;

use crate::error::Result;
use stream_core::OutputMode;

/// What the sink is told about a batch besides its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    /// The micro-batch id (0-based, consecutive; stable across restarts).
    pub batch_id: u64,
    /// The query's output mode.
    pub mode: OutputMode,
}

/// Writes rows on whichever worker produced them, a run at a time (one call per buffer of
/// output rows, so that a writer pays its own set-up once per run rather than once per row).
pub type RowWriter<T> = std::sync::Arc<dyn Fn(&mut dyn Iterator<Item = &T>) + Send + Sync>;

/// A sink that every worker writes to, and the driver commits (Spark's `DataWriter`, commit
/// message and `commit`): each worker writes its own rows of a batch, the driver commits the
/// batch once every worker has, with what each worker's writer returned. With a commit that
/// happens once per batch id (a batch run again after a crash is skipped), the sink is
/// exactly-once.
pub trait PartitionedSink<T>: Send + Sync + 'static {
    /// Before the first batch: on every worker (`run.dir` is `None`), then on the driver (with
    /// a checkpoint, `run.dir` is the sink's own directory in it), before
    /// [`last_committed`](PartitionedSink::last_committed). Sinks that name per-worker
    /// resources after the query and the workers' key groups (Kafka's transactional ids) learn
    /// them here; the driver may finish what a crash interrupted.
    fn start(&self, run: &SinkRun<'_>) -> Result<()> {
        let _ = run;
        Ok(())
    }
    /// Worker side: a writer for this worker's rows of batch `batch_id` (the worker's global
    /// index is `worker`).
    fn open(&self, batch_id: u64, worker: usize) -> Result<Box<dyn BatchWriter<T>>>;
    /// Driver side: every worker wrote its part of batch `batch_id`; `messages` are what their
    /// writers' `finish` returned. Makes the batch visible, once.
    fn commit(&self, batch_id: u64, messages: Vec<serde_json::Value>) -> Result<()>;
    /// Driver side: the last batch committed, if any. A batch at or before it (one a crash
    /// interrupted after its commit) is neither written nor committed again.
    fn last_committed(&self) -> Result<Option<u64>>;
}

/// What a [`PartitionedSink`] is told before the first batch.
#[derive(Clone, Debug)]
pub struct SinkRun<'a> {
    /// The query's id: from the checkpoint, so the same across restarts.
    pub query_id: &'a str,
    /// The key groups each worker owns, by global worker index (their number is the number of
    /// workers). A key group range names a worker across restarts with the same workers.
    pub key_groups: Vec<std::ops::Range<u32>>,
    /// On the driver with a checkpoint: the sink's directory in it (`<checkpoint>/sink`),
    /// which may not exist yet.
    pub dir: Option<&'a std::path::Path>,
}

/// One worker's writer for one batch of a [`PartitionedSink`].
pub trait BatchWriter<T> {
    /// Writes a run of rows.
    fn write(&mut self, rows: &mut dyn Iterator<Item = &T>) -> Result<()>;
    /// This worker's part of the batch is written: what the driver's commit needs of it (e.g.
    /// the files written), as JSON.
    fn finish(self: Box<Self>) -> Result<serde_json::Value>;
}

/// A destination for the rows of each micro-batch.
pub trait Sink<T>: Send + 'static {
    /// A short description for progress reports, e.g. `ConsoleSink`.
    fn description(&self) -> String;
    /// Where a sink that keeps its own log of batches keeps it (a file sink's directory): such a
    /// sink cannot change, or be swapped in, when a query restarts from its checkpoint, since
    /// its log would not match the checkpoint's batches (Spark's rule for file sinks).
    fn batch_log(&self) -> Option<String> {
        None
    }
    /// Refuses an output mode the sink cannot write (checked when the query starts), e.g. a
    /// file sink only appends.
    fn check_mode(&self, mode: OutputMode) -> Result<()> {
        let _ = mode;
        Ok(())
    }
    /// Driver side, once when the query starts, before its first batch: the id of the query
    /// this sink writes for (stable across restarts from a checkpoint; Spark's
    /// `LogicalWriteInfo.queryId`). A sink may connect to its destination and check it here:
    /// an error fails the query before any batch runs.
    fn start(&mut self, query_id: &str) -> Result<()> {
        let _ = query_id;
        Ok(())
    }
    /// Writes one batch. In complete mode `rows` is the whole result table.
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()>;
    /// A sink that takes rows in no particular order (like Spark's `foreach`) may return a
    /// writer: outside complete mode each worker then passes its own output rows to it, a run
    /// at a time, and nothing is gathered on the driver (`add_batch` is not called).
    fn row_writer(&self) -> Option<RowWriter<T>> {
        None
    }
    /// A sink that every worker writes its own rows to, and that the driver commits per batch
    /// (`add_batch` is not called): the way to exactly-once for sinks that can commit a batch
    /// once (files, transactions).
    fn partitioned(&self) -> Option<std::sync::Arc<dyn PartitionedSink<T>>> {
        None
    }
}
