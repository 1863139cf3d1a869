//! The file and rate sources through the crate's public paths only.

use stream_runtime::source::{
    FileSource, Files, IntoSource, Line, Mode, Partition, Rate, RateMicroBatch, RateRow, ReadLimit,
    Source,
};
use stream_runtime::{Record, Timestamp};

#[derive(Record)]
struct Reading {
    sensor: String,
    celsius: f64,
}

#[test]
fn json_directory_through_the_public_api() {
    let dir =
        std::env::temp_dir().join(format!("stream-runtime-sources-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.json"),
        "{\"sensor\":\"s1\",\"celsius\":20.5}\nnot json\n",
    )
    .unwrap();
    let builder: FileSource<Reading> = Files::json(&dir).mode(Mode::Permissive);
    let source = builder.into_source();
    let split = source.plan(None, &ReadLimit::Default).unwrap().unwrap();
    let mut rows = Vec::new();
    let stats = source
        .read(&split, Partition { index: 0, count: 1 }, &mut |r| {
            rows.push(r)
        })
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].sensor.as_str(), rows[0].celsius), ("s1", 20.5));
    assert_eq!((stats.rows, stats.corrupt.len()), (1, 1));
    assert_eq!(
        (stats.corrupt[0].line, stats.corrupt[0].raw.as_str()),
        (2, "not json")
    );
    // The text source's ready-made row type.
    let _: FileSource<Line> = Files::text(std::env::temp_dir());
}

#[test]
fn rate_sources_through_the_public_api() {
    let source = RateMicroBatch::new(2).start_timestamp(100).into_source();
    let split = source.plan(None, &ReadLimit::Default).unwrap().unwrap();
    let mut rows: Vec<RateRow> = Vec::new();
    source
        .read(&split, Partition { index: 0, count: 1 }, &mut |r| {
            rows.push(r)
        })
        .unwrap();
    let got: Vec<(Timestamp, i64)> = rows.iter().map(|r| (r.timestamp, r.value)).collect();
    assert_eq!(got, [(Timestamp(100), 0), (Timestamp(100), 1)]);
    let rate: std::sync::Arc<dyn Source<RateRow>> = Rate::new(10)
        .ramp_up_time(1)
        .num_partitions(2)
        .clock(|| 0)
        .into_source();
    assert_eq!(rate.plan(None, &ReadLimit::Default).unwrap(), None);
}
