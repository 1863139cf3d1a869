use stream_runtime::prelude::*;

#[stream::main]
async fn main(session: Session) {
    let _ = session;
}
