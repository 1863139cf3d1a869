//! Word count over the lines a TCP server sends: Spark's `structured_network_wordcount`.
//!
//! In one terminal, `nc -lk 9999`; in another,
//! `cargo run --release --example socket_wordcount` (or `-- --host H --port P`). Type lines
//! into `nc`: every batch prints the running count of every word (complete output mode) as a
//! table. The socket source is for demos only: it is not fault-tolerant.

use clap::Parser;
use stream_runtime::prelude::*;

/// Counts the words of the lines a TCP server sends (feed it with `nc -lk 9999`).
#[derive(Parser)]
struct Args {
    /// The server's host.
    #[arg(long, default_value = "localhost")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9999)]
    port: u16,
}

#[derive(Record)]
struct Word {
    word: String,
}

#[stream::main]
fn main(session: Session, args: Args) -> Result<(), StreamError> {
    let query = stream! {
        read_stream::<Line>(Socket::new(&args.host, args.port))
            .flat_map(|line: Line| {
                line.value
                    .split_whitespace()
                    .map(|w| Word { word: w.to_string() })
                    .collect::<Vec<_>>()
            })
            .group_by(word)
            .agg(count() as count)
            .write_stream(Console::new())
            .output_mode(Complete)
            .query_name("socket_wordcount")
    };
    session.start(query)?.await_termination()
}
