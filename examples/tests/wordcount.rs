//! Runs the `wordcount` example binary (built by `cargo test`) on generated files with one
//! worker, two workers, and two processes on loopback, and compares its stdout with a naive
//! count computed here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

/// Writes the corpus into a directory of its own per test (`name`): the tests of this file run
/// in parallel in one process, so the process id alone does not keep them apart.
fn corpus(name: &str) -> (PathBuf, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("wordcount-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let words = [
        "the",
        "The",
        "quick",
        "brown",
        "fox",
        "ünïcode",
        "a-b",
        "x\u{3000}y",
    ];
    let mut texts = Vec::new();
    for f in 0..6 {
        let mut text = String::new();
        for i in 0..200 {
            let w = words[(i * 7 + f * 3) % words.len()];
            let sep = [" ", "\t", "\n", "  ", "\r\n"][(i + f) % 5];
            text.push_str(w);
            text.push_str(sep);
        }
        std::fs::write(dir.join(format!("part-{f}.txt")), &text).unwrap();
        texts.push(text);
    }
    (dir, texts)
}

/// The expected output, computed naively: maximal runs of non-whitespace characters, counted,
/// one `{"word":..,"count":..}` line per word, sorted by word.
fn expected(texts: &[String]) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for t in texts {
        for w in t.split(char::is_whitespace).filter(|w| !w.is_empty()) {
            *counts.entry(w).or_default() += 1;
        }
    }
    counts
        .iter()
        .map(|(w, n)| {
            format!(
                "{{\"word\":{},\"count\":{n}}}\n",
                serde_json::to_string(w).unwrap()
            )
        })
        .collect()
}

fn check(out: Output, texts: &[String]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "wordcount failed: {stderr}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected(texts));
}

#[test]
fn one_and_two_workers_match_a_naive_count() {
    let (dir, texts) = corpus("workers");
    for args in [vec![], vec!["-w", "2"]] {
        let out = Command::new(common::example_binary("wordcount"))
            .arg(&dir)
            .args(&args)
            .output()
            .unwrap();
        check(out, &texts);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_processes_on_loopback_match_a_naive_count() {
    let (dir, texts) = corpus("processes");
    let (out0, out1) = common::run_two_processes("wordcount", &[dir.clone().into()]);
    assert!(out1.stdout.is_empty(), "only process 0 prints");
    check(out0, &texts);
    let _ = std::fs::remove_dir_all(&dir);
}
