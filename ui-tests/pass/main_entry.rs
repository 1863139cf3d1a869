//! `#[stream::main]` with a doc comment, returning a `Result`.
use stream_runtime::prelude::*;

/// Counts rows of a rate source for a moment.
#[stream::main]
fn main(session: Session) -> Result<(), StreamError> {
    let query = read_stream(RateMicroBatch::new(3)).write_stream(Noop);
    let q = session.start(query.trigger(Once))?;
    q.await_termination()
}
