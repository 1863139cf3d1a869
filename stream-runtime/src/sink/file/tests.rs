use super::*;
use crate::source::Files;
use stream_core::Timestamp;

#[derive(crate::Record)]
struct Sale {
    region: String,
    day: Timestamp,
    amount: i64,
    note: Option<String>,
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("file-sink-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sale(region: &str, day: i64, amount: i64) -> Sale {
    Sale {
        region: region.into(),
        day: Timestamp(day),
        amount,
        note: None,
    }
}

/// Writes `rows` as worker `worker`'s part of `batch`, without committing.
fn write(sink: &FileSink<Sale>, batch: u64, worker: usize, rows: &[Sale]) -> serde_json::Value {
    let mut w = sink.open(batch, worker).unwrap();
    w.write(&mut rows.iter()).unwrap();
    w.finish().unwrap()
}

/// Every file under `dir` (relative), but the log's.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with(log::METADATA_DIR) {
                    stack.push(p);
                }
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn each_worker_writes_its_own_files_and_the_driver_logs_them() {
    let dir = Dir::new("workers");
    let sink = FileSink::new(&Files::json::<Sale>(&dir.0));
    assert_eq!(sink.last_committed().unwrap(), None);
    let m0 = write(&sink, 0, 0, &[sale("eu", 0, 1), sale("us", 0, 2)]);
    let m1 = write(&sink, 0, 1, &[sale("eu", 5, 3)]);
    let m2 = write(&sink, 0, 2, &[]);
    sink.commit(0, vec![m0, m1, m2]).unwrap();
    assert_eq!(sink.last_committed().unwrap(), Some(0));
    let written = files(&dir.0);
    assert_eq!(
        written.len(),
        2,
        "no file for a worker without rows: {written:?}"
    );
    for (name, worker) in written.iter().zip(["00000", "00001"]) {
        // part-<worker>-<uuid>-c000.json, as Spark's streaming file sink names them.
        assert!(name.starts_with(&format!("part-{worker}-")), "{name}");
        assert!(name.ends_with("-c000.json") && name.len() == 57, "{name}");
    }
    let log = std::fs::read_to_string(dir.0.join("_spark_metadata/0")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], "v1");
    assert_eq!(lines.len(), 3);
    let absolute = std::path::absolute(&dir.0).unwrap();
    for (line, name) in lines[1..].iter().zip(&written) {
        let e: SinkFileStatus = serde_json::from_str(line).unwrap();
        let path = absolute.join(name);
        assert_eq!(e.path, format!("file://{}", path.display()));
        assert_eq!(e.size, std::fs::metadata(&path).unwrap().len());
        assert!(
            line.ends_with(",\"blockReplication\":1,\"blockSize\":33554432,\"action\":\"add\"}")
        );
    }
    let text = std::fs::read_to_string(dir.0.join(&written[0])).unwrap();
    assert_eq!(
        text,
        "{\"region\":\"eu\",\"day\":\"1970-01-01T00:00:00.000Z\",\"amount\":1}\n\
         {\"region\":\"us\",\"day\":\"1970-01-01T00:00:00.000Z\",\"amount\":2}\n"
    );
    // No marker is left once the batch is logged.
    let pending = dir.0.join("_spark_metadata/.pending");
    assert_eq!(std::fs::read_dir(pending).unwrap().count(), 0);
}

#[test]
fn files_of_an_attempt_that_did_not_commit_are_removed_at_the_next_start() {
    let dir = Dir::new("orphans");
    let sink = FileSink::new(&Files::csv::<Sale>(&dir.0).partition_by(&["region"]));
    sink.last_committed().unwrap();
    let m = write(&sink, 0, 0, &[sale("eu", 0, 1)]);
    sink.commit(0, vec![m]).unwrap();
    let committed = files(&dir.0);
    // Batch 1's attempt wrote files on two workers, then the process died.
    write(&sink, 1, 0, &[sale("eu", 0, 7), sale("us", 0, 8)]);
    write(&sink, 1, 1, &[sale("asia", 0, 9)]);
    assert_eq!(files(&dir.0).len(), 4);
    // A batch logged before the crash whose markers were not removed keeps its files.
    let m = write(&sink, 2, 0, &[sale("eu", 0, 10)]);
    let logged: Written = serde_json::from_value(m).unwrap();
    // (batch 2 can only be logged once batch 1 is: log batch 1 empty, as a re-run would.)
    sink.log.add(1, &[], 0).unwrap();
    sink.log.add(2, &logged.files, 0).unwrap();
    let restarted = FileSink::new(&Files::csv::<Sale>(&dir.0).partition_by(&["region"]));
    assert_eq!(restarted.last_committed().unwrap(), Some(2));
    let mut expected = committed;
    expected.extend(
        logged
            .files
            .iter()
            .map(|f| f.path.rsplit_once("/region=").unwrap().1)
            .map(|p| format!("region={p}")),
    );
    expected.sort();
    assert_eq!(files(&dir.0), expected);
    let pending = dir.0.join("_spark_metadata/.pending");
    assert_eq!(std::fs::read_dir(pending).unwrap().count(), 0);
}

#[test]
fn partition_columns_become_directories_and_leave_the_files() {
    let dir = Dir::new("partitions");
    let sink = FileSink::new(&Files::json::<Sale>(&dir.0).partition_by(&["region", "day"]));
    let mut odd = sale("a/b", 1_767_225_605_120, 4);
    odd.note = Some("n".into());
    let m = write(&sink, 0, 0, &[sale("eu", 0, 1), sale("", 0, 2), odd]);
    sink.commit(0, vec![m]).unwrap();
    let written = files(&dir.0);
    let dirs: Vec<&str> = written
        .iter()
        .map(|f| f.rsplit_once('/').unwrap().0)
        .collect();
    assert_eq!(
        dirs,
        [
            "region=__HIVE_DEFAULT_PARTITION__/day=1970-01-01 00%3A00%3A00",
            "region=a%2Fb/day=2026-01-01 00%3A00%3A05.12",
            "region=eu/day=1970-01-01 00%3A00%3A00"
        ]
    );
    let text = std::fs::read_to_string(dir.0.join(&written[1])).unwrap();
    assert_eq!(text, "{\"amount\":4,\"note\":\"n\"}\n");
}

#[test]
fn the_sink_refuses_what_spark_refuses() {
    let refused = |files: FileSource<Sale>, mode: OutputMode| {
        Sink::<Sale>::check_mode(&files, mode)
            .unwrap_err()
            .to_string()
    };
    let e = refused(Files::json("out"), OutputMode::Complete);
    assert!(e.contains("supports Append mode only"), "{e}");
    let e = refused(Files::json("out"), OutputMode::Update);
    assert!(e.contains("Update"), "{e}");
    let e = refused(
        Files::json("out").partition_by(&["nope"]),
        OutputMode::Append,
    );
    assert!(e.contains("`nope`, which is not a column"), "{e}");
    let e = refused(
        Files::json("out").partition_by(&["region", "day", "amount", "note"]),
        OutputMode::Append,
    );
    assert!(e.contains("every column"), "{e}");
    let e = refused(Files::text("out"), OutputMode::Append);
    assert!(e.contains("one string column"), "{e}");
    assert!(Sink::<Sale>::check_mode(&Files::csv("out"), OutputMode::Append).is_ok());
    #[derive(crate::Record)]
    struct Counted {
        window: stream_core::Window,
        n: i64,
    }
    let e = Sink::<Counted>::check_mode(&Files::csv("out"), OutputMode::Append)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot write the column `window`"), "{e}");
    let e = Sink::<Counted>::check_mode(
        &Files::json("out").partition_by(&["window"]),
        OutputMode::Append,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("cannot partition by `window`"), "{e}");
}
