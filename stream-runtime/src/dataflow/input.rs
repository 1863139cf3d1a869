//! Row inputs: how a worker hands the rows it reads for a batch to the dataflow.

use super::{Coll, Row, Scope};
use crate::time::Time;
use differential_dataflow::AsCollection;
use timely::dataflow::InputHandleVec;

/// Bytes per buffer of rows sent into the dataflow. Well under glibc's 128 KiB mmap
/// threshold, so that buffers come from the heap and are reused. (Differential's
/// `InputSession` sends 1,024 rows at a time: for a 104-byte row plus our 16-byte time and the
/// diff that is exactly 128 KiB, so every buffer was a fresh mapping whose pages faulted in
/// again, and the Nexmark q0 DSL run spent a quarter of its time there.)
const BUFFER_BYTES: usize = 64 << 10;

/// The input of one source (or static table) on one worker: rows inserted with weight +1 at
/// the current time, sent in buffers of [`BUFFER_BYTES`].
pub(crate) struct RowInput<T: Row> {
    handle: InputHandleVec<Time, (T, Time, isize)>,
    buffer: Vec<(T, Time, isize)>,
    time: Time,
}

impl<T: Row> RowInput<T> {
    /// A new input in `scope`, at the minimal time, and the collection of its rows.
    pub fn new(scope: Scope<'_>) -> (Self, Coll<'_, T>) {
        use timely::dataflow::operators::vec::Input;
        let (handle, stream) = scope.new_input::<(T, Time, isize)>();
        let input = RowInput {
            handle,
            buffer: Vec::new(),
            time: Time::default(),
        };
        (input, stream.as_collection())
    }

    /// Adds one row at the current time.
    #[inline]
    pub fn insert(&mut self, row: T) {
        if self.buffer.len() == self.buffer.capacity() {
            self.send();
        }
        self.buffer.push((row, self.time, 1));
    }

    /// Sends the buffered rows, and makes room for a full buffer.
    fn send(&mut self) {
        if !self.buffer.is_empty() {
            self.handle.send_batch(&mut self.buffer);
            // `send_batch` may hand back a recycled buffer, in no particular state.
            self.buffer.clear();
        }
        let rows = (BUFFER_BYTES / std::mem::size_of::<(T, Time, isize)>()).max(1);
        self.buffer.reserve(rows);
    }

    /// Sends what is buffered and moves the input to `time`: the dataflow may then complete
    /// every earlier time.
    pub fn advance_to(&mut self, time: Time) {
        self.send();
        self.time = time;
        self.handle.advance_to(time);
    }
}
