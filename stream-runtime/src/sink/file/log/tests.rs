use super::*;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("sink-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn file(n: u64, mtime: i64) -> SinkFileStatus {
    SinkFileStatus {
        path: format!("file:///out/part-{n:05}-c000.json"),
        size: n,
        is_dir: false,
        modification_time: mtime,
        block_replication: 1,
        block_size: 33554432,
        action: "add".into(),
    }
}

fn names(log: &SinkLog) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(log.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort_by_key(|n| n.trim_end_matches(".compact").parse::<u64>().unwrap());
    names
}

/// A `_spark_metadata/0` that Spark 4.3 wrote (recorded with pyspark).
const SPARK_ENTRY: &str = "v1\n{\"path\":\"file:///tmp/sp/stream/out/part-00000-23568fd9-97ec-44c4-85c6-e9faee269f21-c000.json\",\"size\":0,\"isDir\":false,\"modificationTime\":1795805524534,\"blockReplication\":1,\"blockSize\":33554432,\"action\":\"add\"}";

#[test]
fn entries_are_in_sparks_format() {
    let dir = Dir::new("format");
    let log = SinkLog::new(&dir.0);
    std::fs::create_dir_all(log.dir()).unwrap();
    std::fs::write(log.dir().join("0"), SPARK_ENTRY).unwrap();
    let files = log.all_files().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].modification_time, 1795805524534);
    // What we write for the same entry is what Spark wrote, byte for byte.
    std::fs::remove_file(log.dir().join("0")).unwrap();
    log.add(0, &files, 0).unwrap();
    assert_eq!(
        std::fs::read_to_string(log.dir().join("0")).unwrap(),
        SPARK_ENTRY
    );
    assert_eq!(log.latest().unwrap(), Some(0));
}

#[test]
fn every_tenth_batch_compacts_the_log() {
    let dir = Dir::new("compact");
    let log = SinkLog::new(&dir.0);
    for b in 0..25 {
        log.add(b, &[file(b, 0)], 0).unwrap();
    }
    let expected: Vec<String> = (0..25)
        .map(|b| {
            if (b + 1) % 10 == 0 {
                format!("{b}.compact")
            } else {
                b.to_string()
            }
        })
        .collect();
    assert_eq!(names(&log), expected);
    // 19.compact holds batches 0..=19: 9.compact's entries, 10..=18's and its own.
    let compact = std::fs::read_to_string(log.dir().join("19.compact")).unwrap();
    let lines: Vec<&str> = compact.lines().collect();
    assert_eq!(lines[0], "v1");
    assert_eq!(lines.len(), 21);
    let all = log.all_files().unwrap();
    assert_eq!(all, (0..25).map(|b| file(b, 0)).collect::<Vec<_>>());
    assert_eq!(log.latest().unwrap(), Some(24));
    let e = log.add(24, &[], 0).unwrap_err().to_string();
    assert!(
        e.contains("another query writes to this output directory"),
        "{e}"
    );
}

#[test]
fn retention_bounds_the_compact_files() {
    let dir = Dir::new("retention");
    let mut log = SinkLog::new(&dir.0);
    log.retention = Some(Duration::from_secs(5));
    // One file per batch, one batch per second.
    for b in 0..300u64 {
        let now = b as i64 * 1000;
        log.add(b, &[file(b, now)], now).unwrap();
    }
    // 299.compact holds the files of the last 5 seconds: batches 294..=299.
    let compact = std::fs::read_to_string(log.dir().join("299.compact")).unwrap();
    assert_eq!(compact.lines().count(), 1 + 6, "{compact}");
    let all = log.all_files().unwrap();
    assert_eq!(
        all.iter().map(|f| f.size).collect::<Vec<_>>(),
        (294..300).collect::<Vec<_>>()
    );
    // Without retention, the compact file keeps everything.
    let dir = Dir::new("no-retention");
    let log = SinkLog::new(&dir.0);
    for b in 0..30u64 {
        log.add(b, &[file(b, b as i64 * 1000)], b as i64 * 1000)
            .unwrap();
    }
    assert_eq!(log.all_files().unwrap().len(), 30);
}

#[test]
fn old_log_files_are_deleted_as_spark_does() {
    let dir = Dir::new("delete");
    let mut log = SinkLog::new(&dir.0);
    log.cleanup_delay = Duration::ZERO;
    let now = epoch_now() + 1000;
    for b in 0..130 {
        log.add(b, &[file(b, 0)], now).unwrap();
    }
    // After batch 129, 100 batches are kept from batch 30 on: the compact file before them,
    // 29.compact, stays, and everything before it goes.
    let kept = names(&log);
    assert_eq!(kept[0], "29.compact");
    assert_eq!(kept.len(), 101);
    assert_eq!(log.all_files().unwrap().len(), 130);
    // With Spark's delay, files younger than 10 minutes stay.
    let dir = Dir::new("delay");
    let log = SinkLog::new(&dir.0);
    for b in 0..130 {
        log.add(b, &[file(b, 0)], epoch_now()).unwrap();
    }
    assert_eq!(names(&log).len(), 130);
}

fn epoch_now() -> i64 {
    crate::sink::file::epoch_ms(std::time::SystemTime::now())
}

#[test]
fn compact_intervals_derive_as_sparks() {
    assert_eq!(derive_compact_interval(10, 9), 10);
    assert_eq!(derive_compact_interval(10, 4), 5);
    assert_eq!(derive_compact_interval(5, 11), 6);
    assert_eq!(derive_compact_interval(2, 9), 2);
    assert_eq!(derive_compact_interval(4, 5), 6);
    assert_eq!(derive_compact_interval(3, 12), 13);
    // A log Spark compacted every 3 batches goes on every 3 batches.
    let dir = Dir::new("interval");
    let log = SinkLog::new(&dir.0);
    std::fs::create_dir_all(log.dir()).unwrap();
    for (name, n) in [("2.compact", 2), ("3", 3), ("4", 4)] {
        let text = format!("v1\n{}", serde_json::to_string(&file(n, 0)).unwrap());
        std::fs::write(log.dir().join(name), text).unwrap();
    }
    assert_eq!(log.compact_interval().unwrap(), 3);
    log.add(5, &[file(5, 0)], 0).unwrap();
    assert!(log.dir().join("5.compact").is_file());
    assert_eq!(log.all_files().unwrap().len(), 4);
}

#[test]
fn a_delete_entry_hides_the_file_and_corrupt_files_are_named() {
    let dir = Dir::new("corrupt");
    let log = SinkLog::new(&dir.0);
    log.add(0, &[file(0, 0), file(1, 0)], 0).unwrap();
    let mut gone = file(1, 0);
    gone.action = "delete".into();
    log.add(1, &[gone], 0).unwrap();
    assert_eq!(log.all_files().unwrap(), [file(0, 0)]);
    std::fs::write(log.dir().join("2"), "v1\n{not json").unwrap();
    let e = log.all_files().unwrap_err().to_string();
    assert!(
        e.contains("_spark_metadata/2") && e.contains("line 2"),
        "{e}"
    );
    std::fs::write(log.dir().join("2"), "v9\n").unwrap();
    let e = log.all_files().unwrap_err().to_string();
    assert!(e.contains("version `v9`"), "{e}");
}
