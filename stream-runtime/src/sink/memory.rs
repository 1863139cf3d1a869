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
/// no update mode); in complete mode each batch replaces the table.
pub struct MemorySink<T> {
    state: Arc<Mutex<State<T>>>,
}

struct State<T> {
    table: Vec<T>,
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
                table: Vec::new(),
                batches: Vec::new(),
            })),
        }
    }
    /// The table now.
    pub fn rows(&self) -> Vec<T> {
        self.state.lock().unwrap().table.clone()
    }
    /// Every batch the sink received, with its batch id, in order.
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
            st.table = rows.clone();
        } else {
            st.table.extend(rows.iter().cloned());
        }
        st.batches.push((info.batch_id, rows));
        Ok(())
    }
}
