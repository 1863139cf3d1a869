//! `#[stream::main]` as the examples use it: `--help` shows the application's flags and the
//! engine's, bad flags exit with code 2 and a message, and a failed query exits with code 1
//! and its error on stderr.

use std::process::{Command, Output};

mod common;

fn run(example: &str, args: &[&str]) -> Output {
    Command::new(common::example_binary(example))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_shows_the_applications_flags_and_the_engines() {
    // nexmark: `main(session: Session, args: Args)` with a clap parser.
    let help = run("nexmark", &["--help"]);
    let out = text(&help.stdout);
    assert_eq!(help.status.code(), Some(0), "{out}");
    for want in [
        "--query <QUERY>",
        "--events <EVENTS>",
        "-w, --workers N",
        "--hostfile",
    ] {
        assert!(out.contains(want), "`{want}` missing from:\n{out}");
    }
    // wordcount: `main(session: Session)`, whose doc comment is the help's first line.
    let help = run("wordcount", &["--help"]);
    let out = text(&help.stdout);
    assert_eq!(help.status.code(), Some(0), "{out}");
    assert!(out.starts_with("Counts the words"), "{out}");
    assert!(out.contains("-w, --workers N"), "{out}");
}

#[test]
fn bad_flags_exit_with_code_2_and_say_why() {
    let out = run("nexmark", &["--query", "bogus", "--events", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'bogus' for '--query <QUERY>'"),
        "{}",
        text(&out.stderr)
    );
    let out = run("wordcount", &["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("wordcount: configuration error: unknown flag `--bogus`"),
        "{}",
        text(&out.stderr)
    );
    // An engine flag with a bad value, in an application with flags of its own.
    let out = run("nexmark", &["-w", "0", "--query", "q0", "--events", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("at least one worker"));
}

#[test]
fn a_failed_query_exits_with_code_1_and_its_error() {
    let missing = std::env::temp_dir().join(format!("entry-test-missing-{}", std::process::id()));
    let out = run("wordcount", &[missing.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("wordcount: error: ") && err.contains(missing.to_str().unwrap()),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
