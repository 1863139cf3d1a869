//! The restart protocol of Spark's `MicroBatchExecution.populateStartOffsets`, hand-worked.

use super::log::BatchMetadata;
use super::*;
use serde_json::json;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn meta(watermark: u64, timestamp: i64) -> BatchMetadata {
    BatchMetadata {
        batch_watermark_ms: watermark,
        batch_timestamp_ms: timestamp,
        conf: [("stream.keyGroups".to_string(), "128".to_string())].into(),
    }
}

fn open(dir: &Dir) -> (Checkpoint, Recovery) {
    Checkpoint::open(&dir.0, 2, BTreeMap::new(), true).unwrap()
}

#[test]
fn a_fresh_checkpoint_starts_at_batch_zero_with_a_new_id() {
    let dir = Dir::new("fresh");
    let (c, r) = open(&dir);
    assert_eq!(r.batch, 0);
    assert_eq!(r.committed, vec![None, None]);
    assert!(r.replay.is_none());
    let id = c.query_id.clone();
    drop(c);
    // The id is stable across restarts.
    let (c, _) = open(&dir);
    assert_eq!(c.query_id, id);
    let text = std::fs::read_to_string(dir.0.join("metadata")).unwrap();
    assert_eq!(text, format!("{{\"id\":\"{id}\"}}"));
}

#[test]
fn a_committed_batch_resumes_with_the_next() {
    let dir = Dir::new("committed");
    let (c, _) = open(&dir);
    c.log_offsets(0, meta(0, 100), vec![Some(json!(3)), None])
        .unwrap();
    c.commit(0, 5_000, 100).unwrap();
    c.log_offsets(1, meta(5_000, 200), vec![Some(json!(5)), Some(json!(1))])
        .unwrap();
    c.commit(1, 9_000, 100).unwrap();
    drop(c);
    let (_, r) = open(&dir);
    assert_eq!(r.batch, 2);
    assert_eq!(r.committed, vec![Some(json!(5)), Some(json!(1))]);
    assert_eq!((r.watermark, r.previous_watermark), (9_000, 5_000));
    assert!(r.replay.is_none());
    assert_eq!(r.conf["stream.keyGroups"], "128");
}

#[test]
fn an_uncommitted_batch_runs_again_with_its_logged_offsets() {
    let dir = Dir::new("uncommitted");
    let (c, _) = open(&dir);
    c.log_offsets(0, meta(0, 100), vec![Some(json!(3)), None])
        .unwrap();
    c.commit(0, 5_000, 100).unwrap();
    c.log_offsets(1, meta(5_000, 200), vec![Some(json!(5)), Some(json!(1))])
        .unwrap();
    drop(c);
    let (_, r) = open(&dir);
    assert_eq!(r.batch, 1);
    assert_eq!(r.committed, vec![Some(json!(3)), None]);
    assert_eq!((r.watermark, r.previous_watermark), (5_000, 0));
    assert_eq!(
        r.replay,
        Some(Replay {
            ends: vec![Some(json!(5)), Some(json!(1))],
            timestamp_ms: 200
        })
    );
    // The very first batch, logged and not committed.
    let dir = Dir::new("first");
    let (c, _) = open(&dir);
    c.log_offsets(0, meta(0, 100), vec![Some(json!(3)), None])
        .unwrap();
    drop(c);
    let (_, r) = open(&dir);
    assert_eq!((r.batch, r.committed.clone()), (0, vec![None, None]));
    assert!(r.replay.is_some());
}

#[test]
fn a_missing_or_corrupt_entry_is_an_error_naming_it() {
    let dir = Dir::new("corrupt");
    let (c, _) = open(&dir);
    c.log_offsets(0, meta(0, 100), vec![None, None]).unwrap();
    c.commit(0, 0, 100).unwrap();
    c.log_offsets(1, meta(0, 100), vec![None, None]).unwrap();
    drop(c);
    std::fs::write(dir.0.join("offsets/1"), "v1\n{\"batchWatermarkMs\":").unwrap();
    let e = Checkpoint::open(&dir.0, 2, BTreeMap::new(), true)
        .err()
        .unwrap();
    assert!(e.to_string().contains("offsets/1"), "{e}");
    // Batch 1 uncommitted needs batch 0's offsets.
    std::fs::write(
        dir.0.join("offsets/1"),
        OffsetEntry {
            meta: meta(0, 1),
            offsets: vec![None, None],
        }
        .to_text(),
    )
    .unwrap();
    std::fs::remove_file(dir.0.join("offsets/0")).unwrap();
    std::fs::remove_file(dir.0.join("commits/0")).unwrap();
    let e = Checkpoint::open(&dir.0, 2, BTreeMap::new(), true)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("offset log for batch 0 does not exist"),
        "{e}"
    );
    // Another number of sources.
    let e = Checkpoint::open(&dir.0, 3, BTreeMap::new(), true)
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("number of sources cannot change"),
        "{e}"
    );
    std::fs::write(dir.0.join("metadata"), "{").unwrap();
    let e = Checkpoint::open(&dir.0, 2, BTreeMap::new(), true)
        .err()
        .unwrap();
    assert!(e.to_string().contains("metadata"), "{e}");
}

#[test]
fn a_second_query_on_a_checkpoint_in_use_is_refused() {
    let dir = Dir::new("locked");
    let (first, _) = open(&dir);
    let e = Checkpoint::open(&dir.0, 2, BTreeMap::new(), true)
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("in use by another running query"),
        "{e}"
    );
    drop(first);
    assert!(Checkpoint::open(&dir.0, 2, BTreeMap::new(), true).is_ok());
}

#[test]
fn old_entries_are_purged_beyond_retention() {
    let dir = Dir::new("retention");
    let (c, _) = open(&dir);
    for b in 0..10 {
        c.log_offsets(b, meta(0, 1), vec![None, None]).unwrap();
        c.commit(b, 0, 3).unwrap();
    }
    let left: Vec<u64> = fs::numbered(&dir.0.join("offsets"))
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(left, [7, 8, 9]);
}
