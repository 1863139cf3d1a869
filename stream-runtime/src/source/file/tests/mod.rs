use super::*;
use crate::source::IntoSource;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "stream-runtime-file-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `name` with `text` and modification time `mtime_secs` after the epoch.
    fn write(&self, name: &str, text: &str, mtime_secs: u64) -> String {
        let path = self.0.join(name);
        fs::write(&path, text).unwrap();
        let f = fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime_secs))
            .unwrap();
        path.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[derive(crate::Record)]
struct Bid {
    auction: u64,
    price: i64,
    note: Option<String>,
}

fn bid(auction: u64, price: i64, note: Option<&str>) -> Bid {
    Bid {
        auction,
        price,
        note: note.map(str::to_string),
    }
}

const ALL: Partition = Partition { index: 0, count: 1 };

/// Plans batches until there is no new data; returns each batch's files and end offset.
fn drain<T: Record>(src: &FileSource<T>, limit: &ReadLimit) -> Vec<(Vec<String>, u64)> {
    let mut out = Vec::new();
    let mut start: Option<Offset> = None;
    while let Some(split) = src.plan(start.as_ref(), limit).unwrap() {
        assert_eq!(split.start, start);
        let files = FileSource::<T>::split_files(&split).unwrap();
        out.push((files, split.end.as_u64().unwrap()));
        start = Some(split.end);
    }
    out
}

fn read_rows<T: Record>(src: &FileSource<T>, split: &Split) -> (Vec<T>, ReadStats) {
    let mut rows = Vec::new();
    let stats = src.read(split, ALL, &mut |r| rows.push(r)).unwrap();
    (rows, stats)
}

/// A split over exactly these files (as the driver would have planned it).
fn split_of<S: AsRef<str>>(files: &[S]) -> Split {
    let files: Vec<&str> = files.iter().map(AsRef::as_ref).collect();
    Split {
        start: None,
        end: (files.len() as u64).into(),
        detail: files.into(),
    }
}

#[test]
fn files_in_modification_time_order_ties_by_path() {
    let dir = TempDir::new("mtime");
    let a = dir.write("a.json", "", 300);
    let b = dir.write("b.json", "", 100);
    let d = dir.write("d.json", "", 200);
    let c = dir.write("c.json", "", 200);
    let src = Files::json::<Bid>(&dir.0).max_files_per_trigger(1);
    let batches = drain(&src, &ReadLimit::Default);
    assert_eq!(
        batches,
        vec![
            (vec![b.clone()], 1),
            (vec![c.clone()], 2),
            (vec![d.clone()], 3),
            (vec![a.clone()], 4)
        ]
    );
    // Newest first; equal times still by path.
    let src = Files::json::<Bid>(&dir.0).latest_first(true);
    assert_eq!(
        drain(&src, &ReadLimit::Default),
        vec![(vec![a, c, d, b], 4)]
    );
}

#[test]
fn max_files_per_trigger_batches_and_read_limits() {
    let dir = TempDir::new("maxfiles");
    let f: Vec<String> = (0..5)
        .map(|i| dir.write(&format!("f{i}.json"), "", 10 + i))
        .collect();
    let src = Files::json::<Bid>(&dir.0).max_files_per_trigger(2);
    assert_eq!(
        drain(&src, &ReadLimit::Default),
        vec![
            (f[0..2].to_vec(), 2),
            (f[2..4].to_vec(), 4),
            (f[4..5].to_vec(), 5)
        ]
    );
    // `All` ignores the cap.
    let src = Files::json::<Bid>(&dir.0).max_files_per_trigger(2);
    assert_eq!(drain(&src, &ReadLimit::All), vec![(f.clone(), 5)]);
    // `UpTo` honours the cap and stops at the offset.
    let src = Files::json::<Bid>(&dir.0).max_files_per_trigger(2);
    assert_eq!(
        drain(&src, &ReadLimit::UpTo(3.into())),
        vec![(f[0..2].to_vec(), 2), (f[2..3].to_vec(), 3)]
    );
    // 0 means 1.
    let src = Files::json::<Bid>(&dir.0).max_files_per_trigger(0);
    assert_eq!(drain(&src, &ReadLimit::Default).len(), 5);
}

#[test]
fn available_now_replays_the_logged_files() {
    // The engine learns the end with `All`, then runs capped batches up to it: files that
    // arrive meanwhile wait for later batches.
    let dir = TempDir::new("availnow");
    let f0 = dir.write("f0.json", "", 10);
    let f1 = dir.write("f1.json", "", 20);
    let f2 = dir.write("f2.json", "", 30);
    let src = Files::json::<Bid>(&dir.0).max_files_per_trigger(2);
    let target = src.plan(None, &ReadLimit::All).unwrap().unwrap().end;
    assert_eq!(target, serde_json::json!(3));
    let late = dir.write("f3.json", "", 5); // older mtime, but arrives later
    let upto = ReadLimit::UpTo(target);
    let b1 = src.plan(None, &upto).unwrap().unwrap();
    assert_eq!(b1.detail, serde_json::json!([f0, f1]));
    let b2 = src.plan(Some(&b1.end), &upto).unwrap().unwrap();
    assert_eq!(b2.detail, serde_json::json!([f2]));
    assert_eq!(src.plan(Some(&b2.end), &upto).unwrap(), None);
    let b3 = src
        .plan(Some(&b2.end), &ReadLimit::Default)
        .unwrap()
        .unwrap();
    assert_eq!((b3.detail, b3.end), (serde_json::json!([late]), 4.into()));
    // An offset beyond the log is an error, not a silent re-read.
    let err = src.plan(Some(&9.into()), &ReadLimit::Default).unwrap_err();
    assert!(err.to_string().contains("only 4 files"), "{err}");
}

#[test]
fn new_files_are_picked_up_by_later_batches() {
    let dir = TempDir::new("newfiles");
    let src = Files::json::<Bid>(&dir.0);
    assert_eq!(src.plan(None, &ReadLimit::Default).unwrap(), None);
    let a = dir.write("a.json", "{\"auction\":1,\"price\":10}\n", 100);
    let s1 = src.plan(None, &ReadLimit::Default).unwrap().unwrap();
    assert_eq!((s1.start.clone(), s1.end.clone()), (None, 1.into()));
    assert_eq!(s1.detail, serde_json::json!([a]));
    assert_eq!(src.plan(Some(&s1.end), &ReadLimit::Default).unwrap(), None);
    // A new file, even one with an older modification time, is read once, by the next batch.
    let b = dir.write("b.json", "{\"auction\":2,\"price\":20}\n", 50);
    let s2 = src
        .plan(Some(&s1.end), &ReadLimit::Default)
        .unwrap()
        .unwrap();
    assert_eq!(
        (s2.start.clone(), s2.end.clone()),
        (Some(1.into()), 2.into())
    );
    assert_eq!(s2.detail, serde_json::json!([b]));
    assert_eq!(read_rows(&src, &s2).0, vec![bid(2, 20, None)]);
    assert_eq!(src.plan(Some(&s2.end), &ReadLimit::Default).unwrap(), None);
}

#[test]
fn hidden_files_and_subdirectories_are_ignored() {
    let dir = TempDir::new("hidden");
    let ok = dir.write("part-0.json", "", 1);
    dir.write(".part-1.json.crc", "", 1);
    dir.write("_SUCCESS", "", 1);
    fs::create_dir(dir.0.join("sub")).unwrap();
    fs::write(dir.0.join("sub").join("x.json"), "").unwrap();
    let src = Files::json::<Bid>(&dir.0);
    assert_eq!(drain(&src, &ReadLimit::Default), vec![(vec![ok], 1)]);
}

#[test]
fn missing_directory_is_an_error_naming_it() {
    let dir = TempDir::new("missing");
    let missing = dir.0.join("no-such-dir");
    let src = Files::csv::<Bid>(&missing);
    let err = src.plan(None, &ReadLimit::Default).unwrap_err();
    assert!(matches!(err, StreamError::Source(_)));
    assert!(
        err.to_string().contains(&*missing.to_string_lossy()),
        "{err}"
    );
}

#[test]
fn a_single_file_path_reads_that_file() {
    let dir = TempDir::new("single");
    let f = dir.write("people.csv", "1,5,x\n", 1);
    dir.write("other.csv", "2,6,y\n", 1);
    let src = Files::csv::<Bid>(&f);
    assert_eq!(drain(&src, &ReadLimit::Default), vec![(vec![f.clone()], 1)]);
    let (rows, _) = Files::csv::<Bid>(&f).read_all().unwrap();
    assert_eq!(rows, vec![bid(1, 5, Some("x"))]);
}

#[test]
fn json_lines() {
    let dir = TempDir::new("json");
    let text = "{\"auction\":1,\"price\":-5,\"note\":\"hi\"}\n\
                \n   \n\
                {\"price\":7,\"extra\":[1,2],\"auction\":2}\r\n\
                {\"auction\":3,\"price\":0,\"note\":null}";
    let f = dir.write("a.json", text, 1);
    let src = Files::json::<Bid>(&dir.0).mode(Mode::FailFast);
    let (rows, stats) = read_rows(&src, &split_of(&[&f]));
    assert_eq!(
        rows,
        vec![bid(1, -5, Some("hi")), bid(2, 7, None), bid(3, 0, None)]
    );
    assert_eq!(
        stats,
        ReadStats {
            rows: 3,
            ..ReadStats::default()
        }
    );
}

const MIXED: &str = "{\"auction\":1,\"price\":1}\n\
                     {\"auction\":2,\"price\":\n\
                     {\"auction\":3,\"price\":3}\n\
                     {\"auction\":\"four\",\"price\":4}\n";

#[test]
fn fail_fast_names_file_and_line() {
    let dir = TempDir::new("failfast");
    let f = dir.write("bad.json", MIXED, 1);
    let src = Files::json::<Bid>(&dir.0).mode(Mode::FailFast);
    let err = src.read(&split_of(&[&f]), ALL, &mut |_| {}).unwrap_err();
    match &err {
        StreamError::Malformed { file, line, .. } => assert_eq!((file, *line), (&f, 2)),
        other => panic!("expected Malformed, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&format!("{f}:2")), "{text}");
}

#[test]
fn drop_malformed_counts_and_skips() {
    let dir = TempDir::new("dropmal");
    let f = dir.write("bad.json", MIXED, 1);
    let src = Files::json::<Bid>(&dir.0).mode(Mode::DropMalformed);
    let (rows, stats) = read_rows(&src, &split_of(&[&f]));
    assert_eq!(rows, vec![bid(1, 1, None), bid(3, 3, None)]);
    assert_eq!((stats.rows, stats.dropped_malformed), (2, 2));
    assert!(stats.corrupt.is_empty());
    assert_eq!(stats.corrupt_count, 0);
}

#[test]
fn permissive_keeps_corrupt_records_aside() {
    let dir = TempDir::new("permissive");
    let f = dir.write("bad.json", MIXED, 1);
    let src = Files::json::<Bid>(&dir.0); // permissive is the default
    let (rows, stats) = read_rows(&src, &split_of(&[&f]));
    assert_eq!(rows, vec![bid(1, 1, None), bid(3, 3, None)]);
    assert_eq!((stats.rows, stats.dropped_malformed), (2, 0));
    assert_eq!(stats.corrupt_count, 2);
    let where_: Vec<(&str, u64, &str)> = stats
        .corrupt
        .iter()
        .map(|c| (c.file.as_str(), c.line, c.raw.as_str()))
        .collect();
    assert_eq!(
        where_,
        vec![
            (f.as_str(), 2, "{\"auction\":2,\"price\":"),
            (f.as_str(), 4, "{\"auction\":\"four\",\"price\":4}")
        ]
    );
    assert!(stats.corrupt.iter().all(|c| !c.error.is_empty()));
}

#[test]
fn csv_by_position() {
    let dir = TempDir::new("csvpos");
    let f = dir.write(
        "a.csv",
        "1,10,first\n\n2,-3,\n3,4,\"with, comma\"\r\n4,x,bad\n5,6\n",
        1,
    );
    let src = Files::csv::<Bid>(&dir.0);
    let (rows, stats) = read_rows(&src, &split_of(&[&f]));
    assert_eq!(
        rows,
        vec![
            bid(1, 10, Some("first")),
            bid(2, -3, None),
            bid(3, 4, Some("with, comma"))
        ]
    );
    let bad: Vec<(u64, &str)> = stats
        .corrupt
        .iter()
        .map(|c| (c.line, c.raw.as_str()))
        .collect();
    assert_eq!(bad, vec![(5, "4,x,bad"), (6, "5,6")]);
    assert!(
        stats.corrupt[0].error.contains("price"),
        "{:?}",
        stats.corrupt
    );
    assert!(
        stats.corrupt[1].error.contains("expected 3 fields"),
        "{:?}",
        stats.corrupt
    );
}

#[test]
fn csv_with_header_skips_each_files_header() {
    let dir = TempDir::new("csvhdr");
    // The header's names are not used (Spark's `enforceSchema = true`): by position.
    let f1 = dir.write("a.csv", "price;extra;auction\n1;7;\n2;8;zz\n", 1);
    // Each file has its own header.
    let f2 = dir.write("b.csv", "auction;price;note\n3;9;hello\n", 2);
    let src = Files::csv::<Bid>(&dir.0).header(true).delimiter(b';');
    let split = src.plan(None, &ReadLimit::Default).unwrap().unwrap();
    assert_eq!(split.detail, serde_json::json!([f1, f2]));
    let (rows, stats) = read_rows(&src, &split);
    assert_eq!(
        rows,
        vec![
            bid(1, 7, None),
            bid(2, 8, Some("zz")),
            bid(3, 9, Some("hello"))
        ]
    );
    assert_eq!(stats.rows, 3);
    // Without `header(true)` the header line is a malformed row.
    let src = Files::csv::<Bid>(&dir.0)
        .delimiter(b';')
        .mode(Mode::FailFast);
    let err = src.read(&split, ALL, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, StreamError::Malformed { line: 1, .. }),
        "{err}"
    );
}

#[test]
fn text_lines() {
    let dir = TempDir::new("text");
    let f = dir.write(
        "a.txt",
        "hello world\n\nlast, with \"quotes\"\r\nno newline",
        1,
    );
    let src = Files::text::<Line>(&dir.0);
    let (rows, stats) = read_rows(&src, &split_of(&[&f]));
    let values: Vec<&str> = rows.iter().map(|l| l.value.as_str()).collect();
    assert_eq!(
        values,
        ["hello world", "", "last, with \"quotes\"", "no newline"]
    );
    assert_eq!(stats.rows, 4);

    // Any record with a `value: String` column works.
    #[derive(crate::Record)]
    struct Sentence {
        value: String,
    }
    let (rows, _) = read_rows(&Files::text::<Sentence>(&dir.0), &split_of(&[&f]));
    assert_eq!(rows[0].value, "hello world");

    // Others are refused when planning, with the reason.
    let err = Files::text::<Bid>(&dir.0)
        .plan(None, &ReadLimit::Default)
        .unwrap_err();
    assert!(err.to_string().contains("value: String"), "{err}");
}

#[test]
fn workers_read_disjoint_files_covering_the_batch() {
    let dir = TempDir::new("parts");
    let mut expected = Vec::new();
    for i in 0..5u64 {
        let mut text = String::new();
        for j in 0..3 {
            let row = bid(i, j, None);
            text.push_str(&format!("{{\"auction\":{i},\"price\":{j}}}\n"));
            expected.push(row);
        }
        dir.write(&format!("f{i}.json"), &text, 100 - i); // reverse name order
    }
    let src = Files::json::<Bid>(&dir.0);
    let split = src.plan(None, &ReadLimit::Default).unwrap().unwrap();
    let files = FileSource::<Bid>::split_files(&split).unwrap();
    let mut union = Vec::new();
    let mut per_worker = Vec::new();
    for index in 0..2 {
        let mut rows = Vec::new();
        let stats = src
            .read(&split, Partition { index, count: 2 }, &mut |r| rows.push(r))
            .unwrap();
        assert_eq!(stats.rows, rows.len() as u64);
        let auctions: HashSet<u64> = rows.iter().map(|b| b.auction).collect();
        per_worker.push(auctions);
        union.extend(rows);
    }
    // Worker 0 reads positions 0, 2, 4 of the list; worker 1 positions 1, 3.
    let auction_of = |path: &String| -> u64 {
        path.trim_end_matches(".json")
            .rsplit('f')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let w0: HashSet<u64> = [0, 2, 4].iter().map(|&i| auction_of(&files[i])).collect();
    let w1: HashSet<u64> = [1, 3].iter().map(|&i| auction_of(&files[i])).collect();
    assert_eq!(per_worker, vec![w0, w1]);
    assert!(per_worker[0].is_disjoint(&per_worker[1]));
    union.sort();
    expected.sort();
    assert_eq!(union, expected);
}

#[test]
fn read_all_reads_every_file_now() {
    let dir = TempDir::new("readall");
    dir.write("b.csv", "2,20,\n", 2);
    dir.write("a.csv", "1,10,x\n", 1);
    let src = Files::csv::<Bid>(&dir.0);
    let (rows, stats) = src.read_all().unwrap();
    assert_eq!(rows, vec![bid(1, 10, Some("x")), bid(2, 20, None)]);
    assert_eq!(stats.rows, 2);
    // The streaming log is untouched.
    assert_eq!(drain(&src, &ReadLimit::Default).len(), 1);
}

#[test]
fn builder_is_a_source_of_the_requested_type() {
    fn read_stream<T: Record>(source: impl IntoSource<T>) -> Arc<dyn Source<T>> {
        source.into_source()
    }
    let dir = TempDir::new("into");
    let path = dir.path("x");
    let src = read_stream::<Bid>(Files::json(&path).max_files_per_trigger(10));
    assert_eq!(src.description(), format!("FileStreamSource[{path}]"));
    let _lines = read_stream::<Line>(Files::text(&path));
}

mod spark_formats;
