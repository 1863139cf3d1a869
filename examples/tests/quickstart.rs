//! Runs the quickstart (built by `cargo test`) on one worker and on two processes on loopback:
//! the windows it prints must be the same (rows with timestamps cross processes in binary form).

use std::process::Command;

mod common;

/// The printed batches 0 to 9 (the run may start one more before it stops).
fn first_ten_batches(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let end = ["Batch: 10\n", "Last progress report"]
        .iter()
        .filter_map(|m| text.find(m))
        .min()
        .unwrap_or(text.len());
    text[..end].to_string()
}

#[test]
fn one_worker_and_two_processes_print_the_same_windows() {
    let single = Command::new(common::example_binary("quickstart"))
        .output()
        .unwrap();
    assert!(
        single.status.success(),
        "{}",
        String::from_utf8_lossy(&single.stderr)
    );
    let expected = first_ten_batches(&single.stdout);
    assert!(expected.contains("Batch: 9"), "{expected}");
    assert!(
        expected.contains("|{1970-01-01 00:00:00, 1970-01-01 00:00:03}|0     |150 |"),
        "{expected}"
    );

    let (out0, _) = common::run_two_processes("quickstart", &[]);
    assert_eq!(first_ten_batches(&out0.stdout), expected);
}
