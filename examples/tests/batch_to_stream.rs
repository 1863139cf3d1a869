//! Runs the `batch_to_stream` example binary (built by `cargo test`) over generated sales files
//! on one worker, two workers and two processes on loopback: the batch result and the
//! streaming query's final table are the same, and equal a naive computation made here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

/// The shops' cities, as the example knows them (shop 9 has none).
const CITIES: [(u64, &str); 4] = [(1, "Paris"), (2, "Lyon"), (3, "Paris"), (4, "Nice")];

/// Sales over five files, out of time order; returns the directory and (shop, amount, ms).
fn sales(name: &str) -> (PathBuf, Vec<(u64, i64, i64)>) {
    let dir = std::env::temp_dir().join(format!("b2s-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let start = 1_767_261_600_000i64; // 2026-01-01T10:00:00Z
    let mut all = Vec::new();
    for f in 0..5u64 {
        let mut lines = String::new();
        for i in 0..40u64 {
            let shop = [1, 2, 3, 4, 9][((i * 3 + f) % 5) as usize];
            let amount = ((i * 17 + f * 5) % 50) as i64;
            let secs = ((i * 37 + f * 101) % 300) as i64;
            let at = start + secs * 1000;
            lines.push_str(&format!(
                "{{\"shop\":{shop},\"amount\":{amount},\"at\":\"2026-01-01T10:{:02}:{:02}Z\"}}\n",
                secs / 60,
                secs % 60
            ));
            all.push((shop, amount, at));
        }
        std::fs::write(dir.join(format!("sales-{f}.json")), lines).unwrap();
    }
    (dir, all)
}

/// Revenue per city and minute, sorted by minute then city, as the example prints it.
fn naive(sales: &[(u64, i64, i64)]) -> Vec<String> {
    let mut table: BTreeMap<(i64, &str), (i64, i64)> = BTreeMap::new();
    for &(shop, amount, at) in sales {
        if let Some((_, city)) = CITIES.iter().find(|(id, _)| *id == shop) {
            let e = table.entry((at - at.rem_euclid(60_000), city)).or_default();
            *e = (e.0 + 1, e.1 + amount);
        }
    }
    table
        .into_iter()
        .map(|((minute, city), (n, total))| {
            format!("{{\"city\":\"{city}\",\"minute\":{minute},\"sales\":{n},\"revenue\":{total}}}")
        })
        .collect()
}

/// The two tables the example printed: (batch, stream), each after its header line.
fn tables(out: Output) -> (Vec<String>, Vec<String>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "batch_to_stream failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("batch result"), "{stdout}");
    let batch: Vec<String> = lines
        .by_ref()
        .take_while(|l| !l.starts_with("stream result"))
        .map(String::from)
        .collect();
    assert!(
        stdout.contains("stream result after 5 micro-batches"),
        "{stdout}"
    );
    (batch, lines.map(String::from).collect())
}

#[test]
fn batch_and_stream_agree_on_one_and_two_workers() {
    let (dir, sales) = sales("workers");
    let want = naive(&sales);
    for args in [vec![], vec!["-w", "2"]] {
        let out = Command::new(common::example_binary("batch_to_stream"))
            .arg(&dir)
            .args(&args)
            .output()
            .unwrap();
        let (batch, stream) = tables(out);
        assert_eq!(batch, want, "batch, {args:?}");
        assert_eq!(stream, want, "stream, {args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn batch_and_stream_agree_on_two_processes() {
    let (dir, sales) = sales("processes");
    let (out0, out1) = common::run_two_processes("batch_to_stream", &[dir.clone().into()]);
    assert!(
        out1.status.success(),
        "{}",
        String::from_utf8_lossy(&out1.stderr)
    );
    assert!(out1.stdout.is_empty(), "only process 0 prints");
    let (batch, stream) = tables(out0);
    let want = naive(&sales);
    assert_eq!(batch, want);
    assert_eq!(stream, want);
    let _ = std::fs::remove_dir_all(&dir);
}
