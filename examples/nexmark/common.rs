//! What both engines share: the queries, the synthetic bids, the result rows, how a run's
//! events are split into batches and worker shares, and what happens to the result rows
//! (counted, written as JSON lines, timed for latency).

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use stream_core::Value;
use stream_runtime::source::nexmark::{Generators, NexmarkConfig};
use stream_runtime::{Record, Timestamp, Window};

/// The queries of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Query {
    /// Nexmark q0: every bid, passed through.
    Q0,
    /// Nexmark q1: bids with the price converted to euros (`price * 908 / 1000`, integer
    /// division in cents).
    Q1,
    /// Nexmark q2: `(auction, price)` of the bids with `auction % 123 == 0`.
    Q2,
    /// Nexmark q3: sellers in OR, ID or CA and their auctions in category 10 (joins.rs).
    Q3,
    /// Nexmark q4: the mean final price of the auctions of each category (joins.rs).
    Q4,
    /// Nexmark q9: every auction with its winning bid (joins.rs).
    Q9,
    /// Synthetic bids, running count per auction (update output).
    BidsCount,
    /// Synthetic bids, count and max(price) per 10-second tumbling window and auction,
    /// watermark 1 second (append output).
    BidsWindow,
    /// Nexmark q5: hot items (10 s windows sliding by 2 s, the auctions with the most bids).
    Q5,
    /// Nexmark q7: the highest bids of each 10 s tumbling window.
    Q7,
    /// Nexmark q8: new people who opened auctions in the same 10 s tumbling window.
    Q8,
    /// Nexmark q11: bids per bidder session (10 s gap).
    Q11,
}

impl Query {
    /// The name on the command line and in the JSON line.
    pub fn name(self) -> &'static str {
        match self {
            Query::Q0 => "q0",
            Query::Q1 => "q1",
            Query::Q2 => "q2",
            Query::Q3 => "q3",
            Query::Q4 => "q4",
            Query::Q9 => "q9",
            Query::BidsCount => "bids-count",
            Query::BidsWindow => "bids-window",
            Query::Q5 => "q5",
            Query::Q7 => "q7",
            Query::Q8 => "q8",
            Query::Q11 => "q11",
        }
    }

    /// Whether the query reads the Nexmark generator (rather than the synthetic bids).
    pub fn is_nexmark(self) -> bool {
        !matches!(self, Query::BidsCount | Query::BidsWindow)
    }
}

/// The q1 conversion: `0.908 * price`, kept in integer cents (truncated), as Beam's integer
/// version of q1 does with its own factor.
#[inline]
pub fn euros(price: u64) -> u64 {
    price * 908 / 1000
}

/// The q2 filter.
pub const Q2_MODULUS: u64 = 123;

/// Q-window: window size, in ms.
pub const WINDOW_MS: i64 = 10_000;
/// Q-window: watermark delay, in ms.
pub const WATERMARK_DELAY_MS: i64 = 1_000;

/// A synthetic bid (docs/benchmarks.md, workload 1): row `v` has `auction = (v*7) % 1000`,
/// `bidder = (v*13) % 10000`, `price = (v*31) % 10000` and event time `v` ms.
#[derive(Record)]
pub struct SynthBid {
    /// `(v*7) % 1000`.
    pub auction: u64,
    /// `(v*13) % 10000`.
    pub bidder: u64,
    /// `(v*31) % 10000`.
    pub price: u64,
    /// `v` milliseconds.
    #[event_time]
    pub date_time: Timestamp,
}

impl SynthBid {
    /// Row `v`.
    #[inline]
    pub fn new(v: u64) -> SynthBid {
        SynthBid {
            auction: (v * 7) % 1000,
            bidder: (v * 13) % 10_000,
            price: (v * 31) % 10_000,
            date_time: Timestamp(v as i64),
        }
    }

    /// Row `v` as a JSON line of `--dump-events` (Nexmark field names, as the generator's).
    pub fn event_json(v: u64) -> String {
        let b = SynthBid::new(v);
        format!(
            "{{\"kind\":\"bid\",\"auction\":{},\"bidder\":{},\"price\":{},\"dateTime\":{}}}",
            b.auction, b.bidder, b.price, v
        )
    }
}

/// The last row `v < before` on auction `auction` (`v ≡ 143·auction mod 1000`, as
/// `7 · 143 ≡ 1 mod 1000`), if any.
pub fn last_row_of_auction(auction: u64, before: u64) -> Option<u64> {
    let residue = (auction * 143) % 1000;
    let top = before.checked_sub(1)?;
    top.checked_sub((top + 1000 - residue) % 1000)
}

/// q1's result row: Flink's `auction, bidder, 0.908 * price as price, dateTime, extra`.
#[derive(Record)]
pub struct Q1Row {
    /// The auction.
    pub auction: u64,
    /// The bidder.
    pub bidder: u64,
    /// [`euros`] of the price.
    pub price: u64,
    /// The bid's event time.
    pub date_time: Timestamp,
    /// The bid's padding.
    pub extra: String,
}

/// q2's result row.
#[derive(Record)]
pub struct Q2Row {
    /// The auction (a multiple of 123).
    pub auction: u64,
    /// The price.
    pub price: u64,
}

/// Q-count's result row: the new count of an auction.
#[derive(Record)]
pub struct CountRow {
    /// The auction.
    pub auction: u64,
    /// Bids on it so far.
    pub bids: i64,
}

/// Q-window's result row: a closed window's count and max price of an auction.
#[derive(Record)]
pub struct WindowRow {
    /// The window.
    pub window: Window,
    /// The auction.
    pub auction: u64,
    /// Bids in the window.
    pub bids: i64,
    /// The highest price in the window.
    pub max_price: u64,
}

/// Everything a run is told, and what it collects.
pub struct Run {
    /// The query.
    pub query: Query,
    /// Events to process (of all kinds, for Nexmark).
    pub events: u64,
    /// Events per batch (the most; paced batches are smaller).
    pub batch: u64,
    /// Wall-clock events per second, when paced.
    pub pace: Option<f64>,
    /// The Nexmark generator configuration (`num_generators` = workers of all processes).
    pub config: NexmarkConfig,
    /// The Nexmark events (for pacing).
    pub gens: Generators,
    /// Where result rows go, if anywhere.
    pub output: Option<Mutex<BufWriter<File>>>,
    /// Events processed so far (whole batches), for the progress line.
    pub processed: AtomicU64,
    /// Result rows so far.
    pub rows: RowCount,
    /// Wall clock (ms since the epoch) when a paced source started.
    pub start_ms: OnceLock<f64>,
    /// The end offset of the batch being processed (paced runs).
    pub batch_end: AtomicU64,
    /// End-to-end event-time latencies (ms) of result rows past the warm-up.
    pub latencies: Mutex<Vec<f64>>,
    /// The query's checkpoint location (`--checkpoint`), if any.
    pub checkpoint: Option<std::path::PathBuf>,
}

/// The wall clock in ms since the epoch, with sub-ms precision.
pub fn wall_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

impl Run {
    /// The events of the run as `[lo, hi)` batches of at most `batch` events (unpaced).
    pub fn batches(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        (0..self.events.div_ceil(self.batch))
            .map(|n| (n * self.batch, ((n + 1) * self.batch).min(self.events)))
    }

    /// When event (global index) `g` is due in a paced run, in ms after the start.
    pub fn scheduled_offset_ms(&self, g: u64) -> f64 {
        let pace = self.pace.unwrap_or(f64::INFINITY);
        if self.query.is_nexmark() {
            self.gens.emit_offset_ms(g) as f64 * self.config.event_rate / pace
        } else {
            g as f64 * 1000.0 / pace
        }
    }

    /// How many events are due `elapsed_ms` after the start of a paced run.
    pub fn due(&self, elapsed_ms: f64) -> u64 {
        let (mut lo, mut hi) = (0, self.events);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.scheduled_offset_ms(mid) <= elapsed_ms {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Takes a batch's result rows, gathered in one place (the baseline's worker 0): see
    /// [`Run::deliver_row`].
    pub fn deliver<T: Record>(&self, rows: &[T], batch_end: u64) {
        let cols = Columns::of::<T>();
        for r in rows {
            self.deliver_row(r, &cols, batch_end);
        }
    }

    /// A row writer for the runtime's per-worker sinks: [`Run::deliver_row`] on whichever
    /// worker produced the rows, with the end offset of the batch being processed (or, when
    /// nothing is written or timed, just the count of each run of rows).
    pub fn row_writer<T: Record>(
        self: &Arc<Self>,
    ) -> impl Fn(&mut dyn Iterator<Item = &T>) + Send + Sync + 'static {
        let cols = Columns::of::<T>();
        let run = self.clone();
        move |rows| {
            if run.output.is_none() && run.pace.is_none() {
                // Counting only, as the baseline does.
                run.rows.add(rows.count() as u64);
                return;
            }
            let batch_end = run.batch_end.load(Ordering::Relaxed);
            rows.for_each(|row| run.deliver_row(row, &cols, batch_end));
        }
    }

    /// Takes one result row: counts it, writes it to `--output`, and in paced runs records
    /// its latency (now minus when the latest input that contributed to it was due), unless
    /// that input was due in the first 10% of the run (warm-up). `batch_end` is the end
    /// offset of the batch that produced it.
    pub fn deliver_row<T: Record>(&self, row: &T, cols: &Columns, batch_end: u64) {
        self.rows.add(1);
        if let Some(out) = &self.output {
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            // A failed write shows when the file is flushed at the end.
            let _ = writeln!(out, "{}", row.to_json());
        }
        if self.pace.is_some() {
            let now = wall_ms();
            let start = *self.start_ms.get().unwrap_or(&now);
            let warm_up = 0.1 * self.scheduled_offset_ms(self.events.saturating_sub(1));
            let offset = self.latest_input_offset_ms(&row.values(), cols, batch_end);
            if offset >= warm_up {
                self.latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(now - (start + offset));
            }
        }
    }

    /// When the latest input that contributed to a result row was due (ms after the start):
    /// the bid itself for q0 and q1 (from its `date_time`), the batch's last event for q2
    /// (whose rows carry no time: a lower bound), the auction's last row in the batch for
    /// Q-count, and the window's last row of the auction for Q-window (docs/nexmark.md 3).
    fn latest_input_offset_ms(&self, values: &[Value], cols: &Columns, batch_end: u64) -> f64 {
        let last_of_batch = self.scheduled_offset_ms(batch_end.saturating_sub(1));
        let col = |i: Option<usize>| i.and_then(|i| values.get(i));
        let auction = match col(cols.auction) {
            Some(Value::UInt(a)) => Some(*a),
            _ => None,
        };
        match self.query {
            Query::Q0 | Query::Q1 => match col(cols.date_time) {
                Some(Value::Timestamp(t)) => {
                    (t.millis() - self.config.base_time) as f64 * self.config.event_rate
                        / self.pace.unwrap_or(f64::INFINITY)
                }
                _ => last_of_batch,
            },
            Query::Q2 | Query::Q3 | Query::Q4 | Query::Q9 => last_of_batch,
            Query::Q5 | Query::Q7 | Query::Q8 | Query::Q11 => last_of_batch,
            Query::BidsCount => auction
                .and_then(|a| last_row_of_auction(a, batch_end))
                .map_or(last_of_batch, |v| self.scheduled_offset_ms(v)),
            Query::BidsWindow => {
                let end = match col(cols.window) {
                    Some(Value::Struct(fields)) => fields.iter().find_map(|(k, v)| match v {
                        Value::Timestamp(t) if *k == "end" => Some(t.millis().max(0) as u64),
                        _ => None,
                    }),
                    _ => None,
                };
                match (auction, end) {
                    (Some(a), Some(end)) => last_row_of_auction(a, end.min(self.events))
                        .map_or(last_of_batch, |v| self.scheduled_offset_ms(v)),
                    _ => last_of_batch,
                }
            }
        }
    }
}

/// Where the columns that tell a result row's latest input are, in a row type's schema.
pub struct Columns {
    date_time: Option<usize>,
    auction: Option<usize>,
    window: Option<usize>,
}

impl Columns {
    /// The columns of `T`.
    pub fn of<T: Record>() -> Columns {
        let names = T::schema().names();
        let find = |name: &str| names.iter().position(|n| *n == name);
        Columns {
            date_time: find("date_time"),
            auction: find("auction"),
            window: find("window"),
        }
    }
}

/// A count of result rows, kept per thread (no contention between workers) and summed.
#[derive(Default)]
pub struct RowCount {
    counters: Mutex<Vec<Arc<Counter>>>,
}

/// One thread's count, alone on its cache lines: counters allocated one after the other would
/// share a line, and every row would move it between the cores.
#[derive(Default)]
#[repr(align(128))]
struct Counter(AtomicU64);

thread_local! {
    static THREAD_ROWS: RefCell<Option<Arc<Counter>>> = const { RefCell::new(None) };
}

impl RowCount {
    /// Adds `n` rows (the process has one `RowCount`: the run's).
    pub fn add(&self, n: u64) {
        THREAD_ROWS.with(|mine| {
            let mut mine = mine.borrow_mut();
            let counter = mine.get_or_insert_with(|| {
                let c = Arc::new(Counter::default());
                self.counters
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(c.clone());
                c
            });
            counter.0.fetch_add(n, Ordering::Relaxed);
        });
    }

    /// The rows counted so far, over all threads.
    pub fn total(&self) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_row_of_auction_inverts_the_formula() {
        for before in [1, 7, 999, 1000, 1001, 54_321] {
            for a in [0, 1, 7, 500, 999] {
                let naive = (0..before).rev().find(|v| SynthBid::new(*v).auction == a);
                assert_eq!(last_row_of_auction(a, before), naive, "{a} {before}");
            }
        }
        assert_eq!(last_row_of_auction(3, 0), None);
    }
}
