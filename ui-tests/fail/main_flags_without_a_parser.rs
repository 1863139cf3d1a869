use stream_runtime::prelude::*;

struct Args {
    limit: u64,
}

#[stream::main]
fn main(session: Session, args: Args) {
    let _ = (session, args.limit);
}
