//! How a worker's output rows leave the dataflow: gathered to the driver (which applies the
//! output mode and calls the sink), written by every worker through the sink's row writer, or
//! written by every worker to its writer of the current batch of a partitioned sink, which the
//! driver then commits.

use crate::dataflow::{self, Coll};
use crate::error::{Result, StreamError};
use crate::plan::QueryDef;
use crate::sink::BatchWriter;
use crate::time::Time;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use stream_core::Record;
use timely::dataflow::ProbeHandle;

/// One worker's end of a query's output.
pub(super) struct Output<T: 'static> {
    /// The updates gathered for the driver (worker 0; empty for sinks written by workers).
    pub gathered: Rc<RefCell<Vec<(T, Time, isize)>>>,
    /// Rows written by this worker in the current batch.
    pub written: Rc<Cell<u64>>,
    /// Set once the query stops: closing the inputs releases scheduled retractions, which are
    /// not output.
    pub stopped: Rc<Cell<bool>>,
    /// This worker's writer of the current batch (partitioned sinks), and its first error.
    pub batch: Rc<BatchSlot<T>>,
    /// Tells when a batch's output is complete on this worker.
    pub probe: ProbeHandle<Time>,
}

/// The writer of the current batch, and the first error it met.
pub(super) struct BatchSlot<T> {
    writer: RefCell<Option<Box<dyn BatchWriter<T>>>>,
    error: RefCell<Option<StreamError>>,
}

impl<T: Record> Output<T> {
    /// Connects `rows` to the query's sink on this worker.
    pub fn build(rows: Coll<'_, T>, def: &QueryDef<T>) -> Output<T> {
        let out = Output {
            gathered: Rc::default(),
            written: Rc::default(),
            stopped: Rc::default(),
            batch: Rc::new(BatchSlot {
                writer: RefCell::new(None),
                error: RefCell::new(None),
            }),
            probe: ProbeHandle::new(),
        };
        let (written, stopped) = (out.written.clone(), out.stopped.clone());
        if def.partitioned.is_some() {
            let slot = out.batch.clone();
            let write = move |rows: &mut dyn Iterator<Item = &T>| {
                if let Some(w) = slot.writer.borrow_mut().as_mut() {
                    if let Err(e) = w.write(rows) {
                        slot.error.borrow_mut().get_or_insert(e);
                    }
                }
            };
            dataflow::write_each(rows, write, written, stopped, &out.probe);
        } else if let Some(writer) = &def.writer {
            let writer = writer.clone();
            let write = move |rows: &mut dyn Iterator<Item = &T>| writer(rows);
            dataflow::write_each(rows, write, written, stopped, &out.probe);
        } else {
            dataflow::gather(rows, out.gathered.clone(), &out.probe);
        }
        out
    }

    /// Opens this worker's writer of batch `batch` (partitioned sinks; `skip`: the sink has
    /// this batch already, from before a crash).
    pub fn begin_batch(
        &self,
        def: &QueryDef<T>,
        batch: u64,
        worker: usize,
        skip: bool,
    ) -> Result<()> {
        let Some(sink) = &def.partitioned else {
            return Ok(());
        };
        *self.batch.writer.borrow_mut() = if skip {
            None
        } else {
            Some(sink.open(batch, worker)?)
        };
        Ok(())
    }

    /// Closes this worker's writer of the batch: its commit message, if it wrote the batch.
    pub fn end_batch(&self) -> Result<Option<serde_json::Value>> {
        if let Some(e) = self.batch.error.borrow_mut().take() {
            self.batch.writer.borrow_mut().take();
            return Err(e);
        }
        match self.batch.writer.borrow_mut().take() {
            Some(w) => w.finish().map(Some),
            None => Ok(None),
        }
    }
}
