//! `MemoryStream`: rows pushed in by the application or a test, like Spark's `MemoryStream`.

use super::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::Result;
use std::sync::{Arc, Mutex};

/// An in-memory source. Clone it, hand one clone to `read_stream`, and push rows with
/// [`add_data`](MemoryStream::add_data) while the query runs. Each `add_data` call is read by
/// one micro-batch (or several calls by one, if they arrive before the next batch starts).
///
/// The rows live in this process: they are read by worker 0 and then exchanged as the query
/// needs, so the source works for any number of workers and processes.
#[derive(Clone)]
pub struct MemoryStream<T> {
    chunks: Arc<Mutex<Vec<Vec<T>>>>,
    id: usize,
}

impl<T: Clone + Send + 'static> Default for MemoryStream<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> MemoryStream<T> {
    /// An empty stream.
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        MemoryStream {
            chunks: Arc::default(),
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Appends rows; returns the offset after them.
    pub fn add_data(&self, rows: impl IntoIterator<Item = T>) -> u64 {
        let mut chunks = self.chunks.lock().unwrap();
        chunks.push(rows.into_iter().collect());
        chunks.len() as u64
    }
}

impl<T: Clone + Send + Sync + 'static> Source<T> for MemoryStream<T> {
    fn description(&self) -> String {
        format!("MemoryStream[{}]", self.id)
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        let mut to = self.chunks.lock().unwrap().len() as u64;
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
        }
        Ok(Split::counted(start, to))
    }

    fn read(&self, split: &Split, part: Partition, emit: &mut dyn FnMut(T)) -> Result<ReadStats> {
        let mut stats = ReadStats::default();
        if part.index != 0 {
            return Ok(stats);
        }
        let chunks = self.chunks.lock().unwrap();
        let (from, to) = (
            offset_count(split.start.as_ref()) as usize,
            offset_count(Some(&split.end)) as usize,
        );
        for row in chunks[from..to].iter().flatten() {
            stats.rows += 1;
            emit(row.clone());
        }
        Ok(stats)
    }
}
