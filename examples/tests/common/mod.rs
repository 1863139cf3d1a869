//! Helpers shared by the example tests: finding the example binaries `cargo test` built,
//! running one as a two-process cluster on loopback, and reading what a file sink committed.

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

/// Writes a host file of two free loopback ports at `path` (for `-n 2 -h path`); returns the
/// path.
#[allow(dead_code)] // not every test binary runs a cluster
pub fn loopback_host_file(path: &Path) -> PathBuf {
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    std::fs::write(
        path,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", ports[0], ports[1]),
    )
    .unwrap();
    path.to_path_buf()
}

/// Runs example `name` with `args` as processes 0 and 1 of a cluster on two free loopback
/// ports; returns their outputs (process 0's first).
#[allow(dead_code)] // not every test binary runs a cluster
pub fn run_two_processes(name: &str, args: &[OsString]) -> (Output, Output) {
    // Unique per call: tests of one binary run in parallel in one process.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let hosts = std::env::temp_dir().join(format!("{name}-hosts-{}-{call}", std::process::id()));
    loopback_host_file(&hosts);
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

/// The files `out/_spark_metadata` lists, by Spark's rules: the latest `N.compact` (if any)
/// and the batches after it, each log file `v1` and then one JSON file status per line.
/// Also the number of batches logged.
#[allow(dead_code)] // not every test binary reads a file sink
pub fn listed(out: &Path) -> (Vec<PathBuf>, u64) {
    let log = out.join("_spark_metadata");
    let mut ids: Vec<(u64, bool)> = std::fs::read_dir(&log)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            match name.strip_suffix(".compact") {
                Some(id) => Some((id.parse().ok()?, true)),
                None => Some((name.parse().ok()?, false)),
            }
        })
        .collect();
    ids.sort();
    let Some(&(latest, _)) = ids.last() else {
        return (Vec::new(), 0);
    };
    let start = ids.iter().rev().find(|(_, c)| *c).map_or(0, |(id, _)| *id);
    let mut files = Vec::new();
    for id in start..=latest {
        let name = if ids.contains(&(id, true)) {
            format!("{id}.compact")
        } else {
            id.to_string()
        };
        let text = std::fs::read_to_string(log.join(&name)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("v1"), "{name}");
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["action"], "add", "{line}");
            let uri = v["path"].as_str().unwrap();
            files.push(PathBuf::from(uri.strip_prefix("file://").unwrap()));
        }
    }
    (files, latest + 1)
}

/// The lines of the files the log lists, sorted.
#[allow(dead_code)]
pub fn logged_lines(files: &[PathBuf]) -> Vec<String> {
    let mut lines: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines().map(String::from).collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    lines
}

/// The output's lines (of the files the log lists), sorted, and the number of batches; every
/// part file in the directory is listed, once.
#[allow(dead_code)]
pub fn output_lines(out: &Path) -> (Vec<String>, u64) {
    let (files, batches) = listed(out);
    let mut on_disk: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    on_disk.sort();
    let mut logged = files.clone();
    logged.sort();
    assert_eq!(
        on_disk, logged,
        "the part files are those the log lists, once each"
    );
    (logged_lines(&files), batches)
}
