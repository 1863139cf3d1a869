use stream_runtime::prelude::*;

#[stream::main]
fn main(workers: usize) {
    let _ = workers;
}
