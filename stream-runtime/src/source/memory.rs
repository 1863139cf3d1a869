//! `MemoryStream`: rows pushed in by the application or a test, like Spark's `MemoryStream`.

use super::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::{Result, StreamError};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// An in-memory source. Clone it, hand one clone to `read_stream`, and push rows with
/// [`add_data`](MemoryStream::add_data) while the query runs. Each `add_data` call is read by
/// one micro-batch (or several calls by one, if they arrive before the next batch starts).
///
/// The rows live in this process: they are read by worker 0 and then exchanged as the query
/// needs, so the source works for any number of workers and processes. Rows every query
/// reading the stream has committed are discarded (Spark's `MemoryStream.commit`), so memory
/// holds only what is yet to be finished. Every clone counts as a reader: a clone kept only to
/// add data holds every row while it lives.
pub struct MemoryStream<T> {
    chunks: Arc<Mutex<Chunks<T>>>,
    id: usize,
    /// This clone's committed offset, once a query reads through it.
    reader: OnceLock<Arc<AtomicU64>>,
}

impl<T> Clone for MemoryStream<T> {
    /// Another handle on the same rows, and a reader of its own: rows are discarded only once
    /// every live clone has committed them (a clone that a query reads commits as the query
    /// does; one kept to add data never does, and keeps every row while it lives).
    fn clone(&self) -> Self {
        let reader = OnceLock::new();
        let mut chunks = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        let _ = reader.set(register(&mut chunks));
        drop(chunks);
        MemoryStream {
            chunks: self.chunks.clone(),
            id: self.id,
            reader,
        }
    }
}

/// A new reader slot, at the first row still held.
fn register<T>(chunks: &mut Chunks<T>) -> Arc<AtomicU64> {
    let slot = Arc::new(AtomicU64::new(chunks.base));
    chunks.readers.push(Arc::downgrade(&slot));
    slot
}

/// The `add_data` calls not yet committed by every reader.
struct Chunks<T> {
    /// The offset of `kept[0]`: how many chunks were discarded.
    base: u64,
    kept: VecDeque<Vec<T>>,
    /// Every query reading the stream: its committed offset (gone when the query is dropped).
    readers: Vec<Weak<AtomicU64>>,
}

impl<T> Chunks<T> {
    /// The offset after the last chunk.
    fn end(&self) -> u64 {
        self.base + self.kept.len() as u64
    }

    /// Discards the chunks every live reader has committed.
    fn trim(&mut self) {
        self.readers.retain(|r| r.strong_count() > 0);
        let committed = self
            .readers
            .iter()
            .filter_map(Weak::upgrade)
            .map(|r| r.load(Ordering::SeqCst))
            .min()
            .unwrap_or(self.base)
            .min(self.end());
        while self.base < committed {
            self.kept.pop_front();
            self.base += 1;
        }
    }
}

impl<T: Clone + Send + 'static> Default for MemoryStream<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> MemoryStream<T> {
    /// An empty stream.
    pub fn new() -> Self {
        use std::sync::atomic::AtomicUsize;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        MemoryStream {
            chunks: Arc::new(Mutex::new(Chunks {
                base: 0,
                kept: VecDeque::new(),
                readers: Vec::new(),
            })),
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            reader: OnceLock::new(),
        }
    }

    /// Appends rows; returns the offset after them.
    pub fn add_data(&self, rows: impl IntoIterator<Item = T>) -> u64 {
        let mut chunks = self.lock();
        chunks.kept.push_back(rows.into_iter().collect());
        chunks.end()
    }

    /// How many rows the stream holds: added, and not yet committed by every query reading it.
    pub fn buffered_rows(&self) -> usize {
        self.lock().kept.iter().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Chunks<T>> {
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This handle's reader slot (the original handle registers when a query first reads it).
    fn reader(&self, chunks: &mut Chunks<T>) -> Arc<AtomicU64> {
        self.reader.get_or_init(|| register(chunks)).clone()
    }
}

impl<T: Clone + Send + Sync + 'static> Source<T> for MemoryStream<T> {
    fn description(&self) -> String {
        format!("MemoryStream[{}]", self.id)
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        let mut chunks = self.lock();
        self.reader(&mut chunks);
        let mut to = chunks.end();
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
        let chunks = self.lock();
        let (from, to) = (
            offset_count(split.start.as_ref()),
            offset_count(Some(&split.end)),
        );
        if from < chunks.base || to > chunks.end() {
            return Err(StreamError::Source(format!(
                "{} was asked for offsets {from}..{to}, but holds {}..{} (earlier ones were \
                 committed and discarded)",
                self.description(),
                chunks.base,
                chunks.end()
            )));
        }
        let range = (from - chunks.base) as usize..(to - chunks.base) as usize;
        for row in chunks.kept.range(range).flatten() {
            stats.rows += 1;
            emit(row.clone());
        }
        Ok(stats)
    }

    fn commit(&self, end: &Offset) {
        let mut chunks = self.lock();
        let slot = self.reader(&mut chunks);
        slot.fetch_max(offset_count(Some(end)), Ordering::SeqCst);
        chunks.trim();
    }
}
