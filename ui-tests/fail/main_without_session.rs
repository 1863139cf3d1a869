use stream_runtime::prelude::*;

#[stream::main]
fn main() {}
