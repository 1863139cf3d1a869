use stream_runtime::prelude::*;

#[stream::main]
struct App;
