//! `stream-state`: prints a checkpoint's stateful operators, or one operator's state, as JSON
//! lines (like Spark's `state-metadata` and `statestore` readers).
//!
//! ```text
//! stream-state CHECKPOINT                      the operators, one JSON object per line
//! stream-state CHECKPOINT OPERATOR [BATCH]     the operator's state after BATCH (default: the
//!                                              last committed batch), one key per line
//! ```

use std::path::Path;
use std::process::ExitCode;
use stream_runtime::inspect;

const USAGE: &str = "usage: stream-state CHECKPOINT [OPERATOR [BATCH]]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") || args.is_empty() || args.len() > 3 {
        eprintln!("{USAGE}");
        return if args.iter().any(|a| a == "--help" || a == "-h") {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    let number = |s: &str, what: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("{what} must be a number, not `{s}`\n{USAGE}"))
    };
    let checkpoint = Path::new(&args[0]);
    let printed = (|| -> Result<(), String> {
        match args.get(1) {
            None => {
                for op in inspect::operators(checkpoint).map_err(|e| e.to_string())? {
                    println!("{}", serde_json::to_string(&op).expect("serializes"));
                }
            }
            Some(op) => {
                let op = number(op, "OPERATOR")? as usize;
                let batch = args.get(2).map(|b| number(b, "BATCH")).transpose()?;
                for row in inspect::state(checkpoint, op, batch).map_err(|e| e.to_string())? {
                    println!("{}", serde_json::to_string(&row).expect("serializes"));
                }
            }
        }
        Ok(())
    })();
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stream-state: {e}");
            ExitCode::FAILURE
        }
    }
}
