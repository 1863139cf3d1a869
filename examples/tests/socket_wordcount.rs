//! Runs the `socket_wordcount` example against a real TCP server (this test, in `nc -lk`'s
//! place): the counts it prints after each line sent are those of a naive count of the words
//! sent so far. Without a server, the query fails and the program exits with code 1.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

mod common;

/// The child is killed when the test ends, passed or failed.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The tables the console sink prints, one map per batch, from its stdout lines: a table is
/// `Batch: N`, then a border, the header, a border, the rows and a last border.
fn batches(lines: Receiver<String>) -> Receiver<BTreeMap<String, u64>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut table, mut borders) = (BTreeMap::new(), 0);
        for line in lines {
            if line.starts_with("Batch: ") {
                (table, borders) = (BTreeMap::new(), 0);
            } else if line.starts_with('+') {
                borders += 1;
                if borders == 3 && tx.send(std::mem::take(&mut table)).is_err() {
                    return;
                }
            } else if let [_, word, count, _] =
                line.split('|').map(str::trim).collect::<Vec<_>>()[..]
            {
                if let Ok(n) = count.parse() {
                    table.insert(word.to_string(), n);
                }
            }
        }
    });
    rx
}

fn naive(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for w in text.split_whitespace() {
        *counts.entry(w.to_string()).or_default() += 1;
    }
    counts
}

#[test]
fn counts_the_words_sent_over_a_real_socket() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let mut child = Command::new(common::example_binary("socket_wordcount"))
        .args(["--host", "127.0.0.1", "--port", &port, "-w", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _child = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let tables = batches(rx);
    let (mut client, _) = server.accept().unwrap();
    let mut sent = String::new();
    for line in ["the cat sat", "on the mat", "the end  the\tend"] {
        writeln!(client, "{line}").unwrap();
        sent.push_str(line);
        sent.push('\n');
        let want = naive(&sent);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tables.recv_timeout(left) {
                Ok(t) if t == want => break,
                Ok(t) => seen.push(t),
                Err(_) => panic!("no batch printed {want:?} after {line:?}; saw {seen:?}"),
            }
        }
    }
}

#[test]
fn without_a_server_the_query_fails_and_the_program_exits_1() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let out = Command::new(common::example_binary("socket_wordcount"))
        .args(["--host", "127.0.0.1", "--port", &port])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("socket_wordcount: error:") && err.contains("cannot connect"),
        "{err}"
    );
}
