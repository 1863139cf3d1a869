//! Word count over every text file in a directory.
//!
//! `cargo run --release --example wordcount -- DIR [-w N]` reads the files once
//! (`Trigger::AvailableNow`), counts words (maximal runs of non-whitespace characters, case
//! kept), and prints the final counts to stdout as JSON lines `{"word":"...","count":N}`, one
//! per distinct word, sorted by word. Nothing else goes to stdout. With several processes
//! (`-n 2 -p I -h hosts`), process 0 prints the result.

use std::collections::BTreeMap;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Word {
    word: String,
}

/// Counts the words of the text files in DIR; prints `{"word":..,"count":..}` lines, sorted.
#[stream::main]
fn main(session: Session) -> Result<(), StreamError> {
    let [dir] = session.app_args() else {
        return Err(StreamError::Config(
            "usage: wordcount DIR [-w WORKERS] [-n PROCESSES -p INDEX -h HOSTFILE]".into(),
        ));
    };
    let counts = MemorySink::new();
    let query = stream! {
        read_stream::<Line>(Files::text(dir).mode(Mode::FailFast))
            .flat_map(|line: Line| {
                line.value
                    .split_whitespace()
                    .map(|w| Word { word: w.to_string() })
                    .collect::<Vec<_>>()
            })
            .group_by(word)
            .agg(count() as count)
            .write_stream(counts.clone())
            .output_mode(Update)
            .trigger(AvailableNow)
    };
    session.start(query)?.await_termination()?;
    // Update mode delivers each changed count; the last one per word is final.
    let finals: BTreeMap<String, String> = counts
        .rows()
        .into_iter()
        .map(|row| (row.word.clone(), row.to_json()))
        .collect();
    for json in finals.values() {
        println!("{json}");
    }
    Ok(())
}
