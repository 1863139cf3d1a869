//! Feeding a query step by step, as the tests of the stateful operators do.

use stream_runtime::prelude::*;

/// Starts `query` on `session`; for each step adds its rows to `input` and waits for them
/// (`process_all_available`); returns what the sink got in each step, as `row` shows it, each
/// step's rows sorted.
pub fn run_steps<I, O, R>(
    session: Session,
    input: &MemoryStream<I>,
    query: DataStreamWriter<O>,
    sink: &MemorySink<O>,
    steps: &[Vec<I>],
    row: impl Fn(&O) -> R,
) -> Vec<Vec<R>>
where
    I: Clone + Send + 'static,
    O: Record + Clone,
    R: Ord,
{
    let q = session.start(query).unwrap();
    let mut seen = 0;
    let mut out = Vec::new();
    for step in steps {
        input.add_data(step.clone());
        q.process_all_available().unwrap();
        let rows = sink.rows();
        let mut new: Vec<R> = rows[seen..].iter().map(&row).collect();
        seen = rows.len();
        new.sort();
        out.push(new);
    }
    q.stop().unwrap();
    out
}
