//! The code `stream!` generates for deduplication runs and drops what Spark's rules say, on 1
//! and 2 workers (expected rows worked out by hand from docs/deduplication.md).

use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    ts: Timestamp,
}

fn click(user: &str, page: &str, ms: i64) -> Click {
    Click {
        user: user.into(),
        page: page.into(),
        ts: Timestamp(ms),
    }
}

/// Feeds `batches` one by one, each fully processed (with its batch without data, if any).
fn feed<T: Record>(
    workers: usize,
    query: DataStreamWriter<T>,
    input: &MemoryStream<Click>,
    batches: Vec<Vec<Click>>,
) {
    let handle = Session::with_workers(workers).start(query).unwrap();
    for batch in batches {
        input.add_data(batch);
        handle.process_all_available().unwrap();
    }
    handle.stop().unwrap();
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[test]
fn drop_duplicates_on_all_columns_keeps_each_distinct_row_once() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = stream! {
            read_stream::<Click>(input.clone())
                .drop_duplicates()
                .write_stream(sink.clone())
        };
        feed(
            workers,
            query,
            &input,
            vec![
                vec![
                    click("a", "p1", 1000),
                    click("a", "p1", 1000),
                    click("a", "p2", 1000),
                ],
                vec![click("a", "p1", 1000), click("b", "p1", 5000)],
            ],
        );
        let got = sorted(
            sink.rows()
                .into_iter()
                .map(|c| (c.user, c.page, c.ts.millis()))
                .collect(),
        );
        let want = vec![
            ("a".to_string(), "p1".to_string(), 1000),
            ("a".to_string(), "p2".to_string(), 1000),
            ("b".to_string(), "p1".to_string(), 5000),
        ];
        assert_eq!(got, want, "{workers} worker(s)");
    }
}

#[test]
fn drop_duplicates_within_watermark_on_a_renamed_event_time() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = stream! {
            read_stream::<Click>(input.clone())
                .with_watermark(ts, "10 seconds")
                .select(user, page, ts as time)
                .drop_duplicates_within_watermark(user)
                .write_stream(sink.clone())
        };
        feed(
            workers,
            query,
            &input,
            vec![
                // a and b are new (of a's two rows, the least); they expire at 11 s and 12 s.
                vec![
                    click("a", "p1", 1000),
                    click("a", "p2", 3000),
                    click("b", "p1", 2000),
                ],
                // A duplicate of a; the watermark becomes 2 s.
                vec![click("a", "p3", 12_000)],
                // c is new; the watermark becomes 20 s: a and b expire.
                vec![click("c", "p1", 30_000)],
                // a is new again; b at 19 s is late (at or below 20 s).
                vec![click("a", "p4", 25_000), click("b", "p1", 19_000)],
            ],
        );
        let got = sorted(
            sink.rows()
                .into_iter()
                .map(|c| (c.user, c.page, c.time.millis()))
                .collect(),
        );
        let want = vec![
            ("a".to_string(), "p1".to_string(), 1000),
            ("a".to_string(), "p4".to_string(), 25_000),
            ("b".to_string(), "p1".to_string(), 2000),
            ("c".to_string(), "p1".to_string(), 30_000),
        ];
        assert_eq!(got, want, "{workers} worker(s)");
    }
}

#[test]
fn an_aggregation_counts_the_deduplicated_rows() {
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = stream! {
            read_stream::<Click>(input.clone())
                .with_watermark(ts, "5 seconds")
                .drop_duplicates(user, ts)
                .group_by(window(ts, "10 seconds"))
                .agg(count() as n)
                .write_stream(sink.clone())
                .output_mode(Append)
        };
        feed(
            workers,
            query,
            &input,
            vec![
                // [0 s, 10 s) gets a and b (a's copies are duplicates); the watermark becomes 7 s.
                vec![
                    click("a", "p1", 1000),
                    click("a", "p2", 1000),
                    click("b", "p1", 2000),
                    click("c", "p1", 12_000),
                ],
                // a at 1 s is late; the watermark becomes 16 s and closes [0 s, 10 s).
                vec![click("a", "p1", 1000), click("d", "p1", 21_000)],
            ],
        );
        let got: Vec<(i64, i64)> = sink
            .rows()
            .into_iter()
            .map(|r| (r.window.start.millis(), r.n))
            .collect();
        assert_eq!(got, [(0, 2)], "{workers} worker(s)");
    }
}
