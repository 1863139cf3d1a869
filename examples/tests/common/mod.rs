//! Helpers shared by the example tests: finding the example binaries `cargo test` built, and
//! running one as a two-process cluster on loopback.

use std::ffi::OsString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The example binary `name`: `target/<profile>/deps/<test>-<hash>` ->
/// `target/<profile>/examples/<name>`.
pub fn example_binary(name: &str) -> PathBuf {
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

/// Runs example `name` with `args` as processes 0 and 1 of a cluster on two free loopback
/// ports; returns their outputs (process 0's first).
#[allow(dead_code)] // not every test binary runs a cluster
pub fn run_two_processes(name: &str, args: &[OsString]) -> (Output, Output) {
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    // Unique per call: tests of one binary run in parallel in one process.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let hosts = std::env::temp_dir().join(format!("{name}-hosts-{}-{call}", std::process::id()));
    std::fs::write(
        &hosts,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", ports[0], ports[1]),
    )
    .unwrap();
    let spawn = |p: &str| {
        Command::new(example_binary(name))
            .args(args)
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
    (out0, out1)
}
