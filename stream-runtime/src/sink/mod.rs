//! Sinks: where each micro-batch's output goes.
//!
//! The engine gathers a batch's output rows on the driver (global worker 0), applies the output
//! mode (append: new rows; update: changed rows; complete: the whole result table), and calls the
//! sink once per batch with the batch id, as Spark's `addBatch(batchId, data)`.

mod console;
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

/// A destination for the rows of each micro-batch.
pub trait Sink<T>: Send + 'static {
    /// A short description for progress reports, e.g. `ConsoleSink`.
    fn description(&self) -> String;
    /// Writes one batch. In complete mode `rows` is the whole result table.
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()>;
    /// A sink that takes rows in no particular order (like Spark's `foreach`) may return a
    /// writer: outside complete mode each worker then passes its own output rows to it, a run
    /// at a time, and nothing is gathered on the driver (`add_batch` is not called).
    fn row_writer(&self) -> Option<RowWriter<T>> {
        None
    }
}
