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
    // A newcomer sees windows close: from batch 3 on, each batch prints a window (two rows).
    let window_rows = expected.matches("|{1970-01-01").count();
    assert_eq!(window_rows, 2 * 7, "{expected}");
    assert!(
        expected.contains("no-data batch"),
        "the output explains them"
    );
    assert!(
        // Second 0 holds values 0..=99: the even ones are 50 rows summing to 2450, the last 98.
        expected.contains("|{1970-01-01 00:00:00, 1970-01-01 00:00:01}|0     |50  |2450 |98  |"),
        "{expected}"
    );

    let (out0, _) = common::run_two_processes("quickstart", &[]);
    assert_eq!(first_ten_batches(&out0.stdout), expected);
}

#[test]
fn engine_flags_are_checked_and_help_prints_them() {
    let run = |args: &[&str]| {
        Command::new(common::example_binary("quickstart"))
            .args(args)
            .output()
            .unwrap()
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("-w, --workers N") && text.contains("--hostfile"),
        "{text}"
    );
    for bad in [&["--bogus"][..], &["-w", "0"]] {
        let out = run(bad);
        assert!(!out.status.success(), "{bad:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("unknown flag `--bogus`") || err.contains("at least one worker"),
            "{bad:?}: {err}"
        );
    }
}
