//! One pipeline, batch or stream (Spark's "unified API"): revenue per city and minute over the
//! sales files of a directory, written once as a function of its input, run first as a batch
//! job over the files, then as a streaming job over the same directory.
//!
//! `cargo run --example batch_to_stream -- DIR [-w N]` prints the batch result, then the
//! streaming query's final result table (it reads the directory one file per micro-batch with
//! `Trigger::AvailableNow`, in Complete mode), each as JSON lines after a header line; the two
//! tables are the same. Without `DIR` it writes a small data set into a temporary directory
//! first. The files hold JSON lines `{"shop":1,"amount":30,"at":"2026-01-01T10:00:05Z"}`.

use std::path::PathBuf;
use std::process::ExitCode;
use stream_runtime::prelude::*;

#[derive(Record)]
struct Sale {
    shop: u64,
    amount: i64,
    at: Timestamp,
}

#[derive(Record)]
struct Shop {
    id: u64,
    city: String,
}

fn shops() -> Vec<Shop> {
    [(1, "Paris"), (2, "Lyon"), (3, "Paris"), (4, "Nice")]
        .into_iter()
        .map(|(id, city)| Shop {
            id,
            city: city.into(),
        })
        .collect()
}

/// The pipeline, written once: the same code for a batch input (`read`) and a stream
/// (`read_stream`). The watermark matters to the stream only (a batch query ignores it; in
/// Complete mode the stream drops no row either).
fn revenue_per_city(sales: Dataset<Sale>) -> Dataset<impl Record> {
    stream! {
        let shops = read::<Shop>(shops());
        sales
            .with_watermark(at, "1 minute")
            .join(shops, shop == id)
            .group_by(window(at, "1 minute"), shops.city)
            .agg(count() as sales, sum(amount) as revenue)
            .select(city, window.start as minute, sales, revenue)
            .order_by(minute, city)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("batch_to_stream: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), StreamError> {
    let session = Session::from_args()?;
    let (dir, sample) = match session.app_args() {
        [dir] => (PathBuf::from(dir), false),
        [] => (
            write_sample().map_err(|e| StreamError::Config(format!("sample data: {e}")))?,
            true,
        ),
        _ => {
            return Err(StreamError::Config(
                "usage: batch_to_stream [DIR] [-w WORKERS] [-n PROCESSES -p INDEX -h HOSTFILE]"
                    .into(),
            ))
        }
    };
    let driver = session.process_index() == 0;

    // 1. A batch job: every file of the directory, read once.
    let batch = session.collect(revenue_per_city(read(Files::json(&dir))))?;
    if driver {
        println!("batch result ({} rows):", batch.len());
        for row in &batch {
            println!("{}", row.to_json());
        }
    }

    // 2. The same pipeline as a streaming job over the same directory: one file per micro-batch
    // until every file present is read (new files would be read by a query that keeps running,
    // with a ProcessingTime trigger).
    let table = MemorySink::new();
    let source = Files::json(&dir).max_files_per_trigger(1);
    let query = revenue_per_city(read_stream(source))
        .write_stream(table.clone())
        .output_mode(Complete)
        .trigger(AvailableNow);
    session.start(query)?.await_termination()?;
    if driver {
        let last = table.batches().last().map_or(0, |(id, _)| id + 1);
        let rows = table.rows();
        println!(
            "stream result after {last} micro-batches ({} rows):",
            rows.len()
        );
        for row in &rows {
            println!("{}", row.to_json());
        }
    }
    if sample {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Three files of sales in a temporary directory; shop 9 has no city (the join drops it).
fn write_sample() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("batch-to-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let files = [
        [
            (1, 30, "10:00:05"),
            (2, 12, "10:00:40"),
            (9, 99, "10:00:41"),
        ],
        [(3, 7, "10:01:02"), (1, 5, "10:00:59"), (4, 40, "10:01:30")],
        [(2, 8, "10:02:10"), (2, 2, "10:01:10"), (1, 1, "10:02:59")],
    ];
    for (i, file) in files.iter().enumerate() {
        let lines: String = file
            .iter()
            .map(|(shop, amount, time)| {
                format!("{{\"shop\":{shop},\"amount\":{amount},\"at\":\"2026-01-01T{time}Z\"}}\n")
            })
            .collect();
        std::fs::write(dir.join(format!("sales-{i}.json")), lines)?;
    }
    Ok(dir)
}
