use stream_runtime::prelude::*;

#[stream::main(workers = 2)]
fn main(session: Session) {
    let _ = session;
}
