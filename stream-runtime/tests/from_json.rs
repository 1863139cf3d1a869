//! `select(from_json::<T>(col))` in `stream!`: JSON values parsed into records, malformed
//! values by the file source's modes and reported as it reports them.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Bid {
    auction: i64,
    price: i64,
    date_time: Timestamp,
}

fn lines(texts: &[&str]) -> Vec<Line> {
    texts
        .iter()
        .map(|t| Line {
            value: t.to_string(),
        })
        .collect()
}

const INPUT: &[&str] = &[
    r#"{"auction":1,"price":10,"date_time":"2024-01-01T00:00:01Z"}"#,
    r#"{"auction":2,"price":"ten","date_time":"2024-01-01T00:00:02Z"}"#,
    r#"{"auction":3,"price":30,"date_time":"2024-01-01T00:00:03Z"}"#,
    "not json",
];

fn auctions(rows: &[Bid]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = rows.iter().map(|b| (b.auction, b.price)).collect();
    v.sort();
    v
}

#[test]
fn permissive_keeps_malformed_values_aside_and_counts_them() {
    let input = MemoryStream::<Line>::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Line>(input.clone())
            .select(from_json::<Bid>(value))
            .write_stream(sink.clone())
            .start()
    }
    .unwrap();
    input.add_data(lines(INPUT));
    query.process_all_available().unwrap();
    assert_eq!(auctions(&sink.rows()), [(1, 10), (3, 30)]);
    let corrupt = query.corrupt_records();
    assert_eq!(corrupt.len(), 2);
    let raws: Vec<&str> = corrupt.iter().map(|c| c.raw.as_str()).collect();
    assert!(
        raws.contains(&INPUT[1]) && raws.contains(&"not json"),
        "{raws:?}"
    );
    assert!(
        corrupt.iter().any(|c| c.error.contains("invalid type")),
        "{corrupt:?}"
    );
    let progress = query.recent_progress();
    let counted: u64 = progress
        .iter()
        .filter_map(|p| p.sources[0].metrics.get("numCorruptRecords"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 2);
    query.stop().unwrap();
}

#[test]
fn drop_malformed_counts_and_fail_fast_names_the_value() {
    let input = MemoryStream::<Line>::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Line>(input.clone())
            .select(from_json::<Bid>(value, Mode::DropMalformed))
            .write_stream(sink.clone())
            .start()
    }
    .unwrap();
    input.add_data(lines(INPUT));
    query.process_all_available().unwrap();
    assert_eq!(auctions(&sink.rows()), [(1, 10), (3, 30)]);
    let dropped =
        query.last_progress().unwrap().sources[0].metrics["numDroppedMalformedRecords"].clone();
    assert_eq!(dropped, "2");
    assert!(query.corrupt_records().is_empty());
    query.stop().unwrap();

    let input = MemoryStream::<Line>::new();
    let query = stream! {
        read_stream::<Line>(input.clone())
            .select(from_json::<Bid>(value, Mode::FailFast))
            .write_stream(MemorySink::new())
            .start()
    }
    .unwrap();
    input.add_data(lines(&INPUT[..2]));
    let e = query.await_termination().unwrap_err();
    match &e {
        StreamError::Malformed { line, error, .. } => {
            assert_eq!(*line, 2, "the second value of the batch: {e}");
            assert!(error.contains("invalid type"), "{e}");
            assert!(
                error.contains("Mode::DropMalformed"),
                "says how to skip them: {e}"
            );
        }
        other => panic!("expected a malformed-record error, got {other}"),
    }
}

#[test]
fn parsed_rows_feed_a_windowed_aggregation() {
    let input = MemoryStream::<Line>::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Line>(input.clone())
            .select(from_json::<Bid>(value))
            .with_watermark(date_time, "0 seconds")
            .group_by(window(date_time, "10 seconds"))
            .agg(count() as bids, sum(price) as total)
            .write_stream(sink.clone())
            .output_mode(Complete)
            .start()
    }
    .unwrap();
    input.add_data(lines(INPUT));
    query.process_all_available().unwrap();
    let rows = sink.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].bids, rows[0].total), (2, 40));
    query.stop().unwrap();
}
