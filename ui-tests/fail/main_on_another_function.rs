use stream_runtime::prelude::*;

#[stream::main]
fn run(session: Session) {
    let _ = session;
}
