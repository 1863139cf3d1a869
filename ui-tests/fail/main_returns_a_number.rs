use stream_runtime::prelude::*;

#[stream::main]
fn main(session: Session) -> u32 {
    let _ = session;
    0
}
