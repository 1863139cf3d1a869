//! Stream-static enrichment: a stream of orders joined with a static customer table read from a
//! CSV file, then revenue per state.
//!
//! Run: `cargo run --release --example enrich`. The example writes its own small data set (a
//! customers CSV and three order files) into a temporary folder, reads the orders with
//! `Trigger::AvailableNow` one file per batch, prints each batch's result table, and exits.
//! Orders of unknown customers are dropped by the inner join; the static table is read once.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Customer {
    id: u64,
    name: String,
    state: String,
}

#[derive(Record)]
struct Order {
    order: u64,
    customer: u64,
    amount: i64,
}

fn write_data() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("enrich-example-{}", std::process::id()));
    let orders = dir.join("orders");
    std::fs::create_dir_all(&orders)?;
    std::fs::write(
        dir.join("customers.csv"),
        "id,name,state\n1,Ada,CA\n2,Grace,NY\n3,Alan,CA\n4,Edsger,TX\n",
    )?;
    // One file per batch; customer 9 is unknown.
    let batches = [
        [(100, 1, 30), (101, 2, 12), (102, 9, 99)],
        [(103, 3, 7), (104, 1, 5), (105, 4, 40)],
        [(106, 2, 8), (107, 2, 2), (108, 9, 1)],
    ];
    for (i, batch) in batches.iter().enumerate() {
        let lines: String = batch
            .iter()
            .map(|(o, c, a)| format!("{{\"order\":{o},\"customer\":{c},\"amount\":{a}}}\n"))
            .collect();
        let path = orders.join(format!("orders-{i}.jsonl"));
        std::fs::write(&path, lines)?;
        // Files are read in modification-time order.
        let when = std::time::SystemTime::now() - std::time::Duration::from_secs(60 - i as u64);
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(when)?;
    }
    Ok(dir)
}

/// Joins a stream of orders with a static customer table, then sums revenue per state.
#[stream::main]
fn main(session: Session) -> Result<(), StreamError> {
    let dir = write_data()
        .map_err(|e| StreamError::Source(format!("cannot write the example data: {e}")))?;
    let (orders_dir, customers_csv) = (dir.join("orders"), dir.join("customers.csv"));
    let query = stream! {
        let customers = read_static::<Customer>(Files::csv(&customers_csv).header(true));
        read_stream::<Order>(Files::json(&orders_dir).max_files_per_trigger(1))
            .join(customers, customer == id)
            .group_by(customers.state as state)
            .agg(count() as orders, sum(amount) as revenue)
            .order_by(revenue.desc())
            .write_stream(Console::new())
            .output_mode(Complete)
            .trigger(AvailableNow)
            .query_name("enrich")
    };
    let query = session.start(query)?;
    query.await_termination()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
