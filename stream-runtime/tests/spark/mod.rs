//! Spark, through pyspark, as an independent reader of what the file sink writes: runs
//! `scripts/pyspark/read.py` with the Python of `$STREAM_PYSPARK`, or, when that is not set,
//! the one `scripts/pyspark/setup.sh` installs (once per test binary).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long one Spark run may take (a JVM's start, and a few small reads).
const LIMIT: Duration = Duration::from_secs(600);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python that has pyspark.
fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(p) = std::env::var("STREAM_PYSPARK") {
                return p.into();
            }
            let script = repo().join("scripts/pyspark/setup.sh");
            let out = Command::new("bash").arg(&script).output().unwrap();
            assert!(
                out.status.success(),
                "{} failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("STREAM_PYSPARK="))
                .unwrap_or_else(|| panic!("{} printed no STREAM_PYSPARK", script.display()));
            line.trim().into()
        })
        .clone()
}

/// Each directory's rows as Spark reads them (`spark.read.format(format).load(dir)`, rows as
/// `toJSON` gives them), sorted.
pub fn read(dirs: &[(&str, PathBuf)]) -> Vec<(String, Vec<serde_json::Value>)> {
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("scripts/pyspark/read.py"));
    for (format, dir) in dirs {
        cmd.arg(format!("{format}={}", dir.display()));
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("Spark did not finish reading within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Spark failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut result: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(arg) = line.strip_prefix("== ") {
            let format = arg.split_once('=').map_or(arg, |(f, _)| f);
            result.push((format.to_string(), Vec::new()));
        } else if let Some((_, rows)) = result.last_mut() {
            rows.push(serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")));
        }
    }
    for (_, rows) in &mut result {
        rows.sort_by_key(|r| r.to_string());
    }
    assert_eq!(
        result.len(),
        dirs.len(),
        "Spark read every directory:\n{stdout}"
    );
    result
}
