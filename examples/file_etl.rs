//! A fault-tolerant file-to-file ETL: per-user totals in 10-second event-time windows, from
//! a directory of JSON-lines files to a directory of JSON files, exactly once across crashes.
//!
//! ```text
//! cargo run --release --example file_etl -- --input DIR --output DIR --checkpoint DIR \
//!     [--max-files-per-trigger K] [--available-now] [-w N]
//! ```
//!
//! - Input: JSON-lines files in `--input`, rows `{"user": "u7", "amount": 42, "ts":
//!   "2026-01-01T00:00:05.123Z"}` (`ts` an ISO-8601 UTC timestamp), taken in modification-time
//!   order, at most K files per batch with `--max-files-per-trigger K`. A file must be complete
//!   when it appears (write it elsewhere, or under a name starting with `.`, then rename it); a
//!   malformed row stops the query with an error naming the file and line. A file that
//!   appears after newer ones were read is still read, in a later batch; its rows behind the
//!   watermark by then are late, and dropped, as in Spark.
//! - Query: a 5-second watermark on `ts`; rows counted and `amount` summed per 10-second window
//!   and user; Append mode, so each window is written once, when the watermark passes its end.
//! - Output: Spark's file sink layout in `--output`: part files of JSON lines
//!   `{"window":{"start":"2026-01-01T00:00:00.000Z","end":"2026-01-01T00:00:10.000Z"},"user":"u7","n":3,"total":120}`
//!   and the `_spark_metadata` log of the committed ones, which readers that honour it (Spark's
//!   `spark.read.json(DIR)`, or `Files::json(DIR)` here) read, and only those.
//! - The checkpoint (offsets, commits, the files seen, the windows' state) is in `--checkpoint`.
//!
//! Without `--available-now` the query runs until killed, picking up new files as they come.
//! With it, it processes the files there when it starts and exits 0. Killed at any moment
//! (even `kill -9`) and started again with the same directories, it goes on where it stopped:
//! the output is exactly that of a run that was never interrupted. A restart may change the
//! number of workers (`-w`).

use clap::{ArgAction, Parser};
use std::path::PathBuf;
use std::process::ExitCode;
use stream_runtime::prelude::*;

/// A row of the input files.
#[derive(Record)]
struct Payment {
    user: String,
    amount: i64,
    ts: Timestamp,
}

/// Per-user totals in 10-second windows, from JSON-lines files to JSON files, exactly once.
#[derive(Parser, Debug)]
#[command(
    name = "file_etl",
    disable_help_flag = true,
    after_help = "Engine flags: -w N worker threads (default 1)."
)]
struct Args {
    /// The directory of input JSON-lines files.
    #[arg(long)]
    input: PathBuf,
    /// The output directory (part files and `_spark_metadata`).
    #[arg(long)]
    output: PathBuf,
    /// The checkpoint directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// At most this many new files per batch.
    #[arg(long, value_name = "K")]
    max_files_per_trigger: Option<usize>,
    /// Process the files there at the start, then exit (otherwise run until killed).
    #[arg(long)]
    available_now: bool,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("file_etl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let session = Session::from_args_with_app_flags().map_err(|e| e.to_string())?;
    let args = Args::try_parse_from(
        std::iter::once("file_etl".to_string()).chain(session.app_args().iter().cloned()),
    )
    .map_err(|e| {
        if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp) {
            print!("{e}");
            println!("\n{}", Session::USAGE);
            std::process::exit(0);
        }
        e.to_string()
    })?;
    if args.max_files_per_trigger == Some(0) {
        return Err("--max-files-per-trigger must be at least 1".into());
    }
    let mut input = Files::json(&args.input).mode(Mode::FailFast);
    if let Some(k) = args.max_files_per_trigger {
        input = input.max_files_per_trigger(k);
    }
    let output = Files::json(&args.output);
    let query = stream! {
        read_stream::<Payment>(input)
            .with_watermark(ts, "5 seconds")
            .group_by(window(ts, "10 seconds"), user)
            .agg(count() as n, sum(amount) as total)
            .write_stream(output)
            .output_mode(Append)
            .checkpoint_location(&args.checkpoint)
            .query_name("file_etl")
    };
    let trigger = if args.available_now {
        AvailableNow
    } else {
        Trigger::Default
    };
    // The trigger is the command line's choice: set on the writer that `stream!` returns.
    let query = query.trigger(trigger);
    let query = session.start(query).map_err(|e| e.to_string())?;
    query.await_termination().map_err(|e| e.to_string())
}
