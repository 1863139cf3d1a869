//! Runs the quickstart (built by `cargo test`) on one worker and on two processes on loopback:
//! the windows it prints must be the same (rows with timestamps cross processes in binary form).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        bin.exists(),
        "{} not built (cargo test builds examples)",
        bin.display()
    );
    bin
}

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
    let single = Command::new(example_binary("quickstart")).output().unwrap();
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

    let ports: Vec<u16> = (0..2)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    let hosts = std::env::temp_dir().join(format!("quickstart-hosts-{}", std::process::id()));
    std::fs::write(
        &hosts,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", ports[0], ports[1]),
    )
    .unwrap();
    let spawn = |p: &str| {
        Command::new(example_binary("quickstart"))
            .args(["-n", "2", "-p", p, "-h"])
            .arg(&hosts)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let p1 = spawn("1");
    let p0 = spawn("0");
    let out0 = p0.wait_with_output().unwrap();
    let out1 = p1.wait_with_output().unwrap();
    let _ = std::fs::remove_file(&hosts);
    assert!(
        out0.status.success(),
        "process 0: {}",
        String::from_utf8_lossy(&out0.stderr)
    );
    assert!(
        out1.status.success(),
        "process 1: {}",
        String::from_utf8_lossy(&out1.stderr)
    );
    assert_eq!(first_ten_batches(&out0.stdout), expected);
}
