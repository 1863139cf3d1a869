//! The memory sink: a queryable in-memory table, for tests and applications.

use super::{BatchInfo, Sink};
use crate::error::Result;
use std::sync::{Arc, Mutex};
use stream_core::OutputMode;

/// Keeps the query's output in memory. Clone it: one clone goes to `write_stream`, the other
/// reads the table.
///
/// In append and update mode every batch's rows are added to the table (update mode adds the
/// new version of each changed row: a deliberate difference from Spark, whose memory sink has
/// no update mode). In complete mode each batch replaces the table and only the latest batch
/// is kept, as in Spark: memory holds one result table, however many batches ran (use
/// [`ForeachBatch`](super::ForeachBatch) to see every batch of a complete-mode query).
pub struct MemorySink<T> {
    state: Arc<Mutex<State<T>>>,
}

struct State<T> {
    /// The batches kept, in order: all of them in append and update mode, the latest one in
    /// complete mode.
    batches: Vec<(u64, Vec<T>)>,
}

impl<T> Clone for MemorySink<T> {
    fn clone(&self) -> Self {
        MemorySink {
            state: self.state.clone(),
        }
    }
}

impl<T: Clone> Default for MemorySink<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> MemorySink<T> {
    /// An empty table.
    pub fn new() -> Self {
        MemorySink {
            state: Arc::new(Mutex::new(State {
                batches: Vec::new(),
            })),
        }
    }
    /// The table now: every row written in append and update mode, the latest result table in
    /// complete mode.
    pub fn rows(&self) -> Vec<T> {
        let st = self.state.lock().unwrap();
        st.batches
            .iter()
            .flat_map(|(_, rows)| rows.iter().cloned())
            .collect()
    }
    /// The batches the sink keeps, with their batch ids, in order: every batch in append and
    /// update mode, the latest one in complete mode.
    pub fn batches(&self) -> Vec<(u64, Vec<T>)> {
        self.state.lock().unwrap().batches.clone()
    }
}

impl<T: Clone + Send + 'static> Sink<T> for MemorySink<T> {
    fn description(&self) -> String {
        "MemorySink".into()
    }
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()> {
        let mut st = self.state.lock().unwrap();
        if info.mode == OutputMode::Complete {
            st.batches.clear();
        }
        st.batches.push((info.batch_id, rows));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_mode_keeps_the_latest_table_only() {
        let sink = MemorySink::new();
        let mut writer = sink.clone();
        for batch_id in 0..50u64 {
            let info = BatchInfo {
                batch_id,
                mode: OutputMode::Complete,
            };
            writer.add_batch(info, vec![batch_id; 100]).unwrap();
        }
        assert_eq!(sink.batches(), vec![(49, vec![49; 100])]);
        assert_eq!(sink.rows(), vec![49; 100]);
        let sink = MemorySink::new();
        let mut writer = sink.clone();
        for batch_id in 0..3u64 {
            let info = BatchInfo {
                batch_id,
                mode: OutputMode::Append,
            };
            writer.add_batch(info, vec![batch_id]).unwrap();
        }
        assert_eq!(sink.rows(), vec![0, 1, 2]);
        assert_eq!(sink.batches().len(), 3);
    }
}
