//! The window queries' result rows and constants (q5, q7, q8, q11), shared by both engines.

use stream_runtime::{Record, Timestamp, Window};

/// The source watermark of every window query: `dateTime - 4 s` (Flink's DDL).
pub const DELAY_MS: i64 = 4_000;
/// The windows' size: 10 s (q5's hop, q7's and q8's tumble, q11's session gap).
pub const SIZE_MS: i64 = 10_000;
/// q5's slide: windows start at multiples of 2 s from epoch 0.
pub const SLIDE_MS: i64 = 2_000;

/// The window `[start, start + SIZE_MS)`.
pub fn window(start: i64) -> Window {
    Window {
        start: Timestamp(start),
        end: Timestamp(start + SIZE_MS),
    }
}

/// The start of the tumbling window of `t` (ms).
pub fn tumble_start(t: i64) -> i64 {
    t - t.rem_euclid(SIZE_MS)
}

/// The starts of q5's hopping windows that hold `t`: `s ≡ 0 mod SLIDE_MS`, `s <= t < s + SIZE_MS`.
pub fn hop_starts(t: i64) -> impl Iterator<Item = i64> {
    let last = t - t.rem_euclid(SLIDE_MS);
    (0..SIZE_MS / SLIDE_MS).map(move |i| last - i * SLIDE_MS)
}

/// q5's result row: an auction with the most bids of a window.
#[derive(Record)]
pub struct Q5Row {
    /// The hopping window.
    pub window: Window,
    /// The auction.
    pub auction: u64,
    /// Its bids in the window (the window's maximum).
    pub num: i64,
}

/// q7's result row: a bid whose price is the highest of a tumbling window.
#[derive(Record)]
pub struct Q7Row {
    /// The auction.
    pub auction: u64,
    /// The price (the window's maximum).
    pub price: u64,
    /// The bidder.
    pub bidder: u64,
    /// The bid's event time.
    pub date_time: Timestamp,
    /// The bid's padding.
    pub extra: String,
}

/// q8's result row: a person who opened an auction in the window where they registered.
#[derive(Record)]
pub struct Q8Row {
    /// The person's id (the auctions' seller).
    pub id: u64,
    /// The person's name.
    pub name: String,
    /// The tumbling window.
    pub window: Window,
}

/// q11's result row: a bidder's session.
#[derive(Record)]
pub struct Q11Row {
    /// The bidder.
    pub bidder: u64,
    /// Bids in the session.
    pub bid_count: i64,
    /// The session: first bid to last bid + 10 s.
    pub window: Window,
}
