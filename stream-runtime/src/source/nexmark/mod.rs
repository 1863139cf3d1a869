//! Nexmark: the standard streaming benchmark's deterministic event generator and its sources
//! (docs/nexmark.md section 1, with this project's canonical choices of 1.4b).
//!
//! - [`NexmarkConfig`]: the generator's knobs (defaults as in Beam / Flink: 1 person, 3
//!   auctions and 46 bids per 50 events, 10,000 events per second of event time, base time
//!   2015-07-15T00:00:00Z, first event id and number 0).
//! - [`event`]`(config, index)`: the `index`-th event, computed on its own from a fresh
//!   `java.util.Random` seeded with `splitmix64(eventId)`, with Flink's field layout (bids
//!   carry `channel` and `url`) and a single +1000 bidder offset.
//! - [`NexmarkConfig::split`] and [`Generators`]: `P` sub-generators on one event-time axis,
//!   each computing its share without coordination.
//! - [`Nexmark::bids`], [`Nexmark::people`], [`Nexmark::auctions`]: typed streaming sources.
//!
//! ```
//! use stream_runtime::source::nexmark::{event, Event, NexmarkConfig};
//! let config = NexmarkConfig::default();
//! let Event::Person(p) = event(&config, 0) else { unreachable!() };
//! assert_eq!(p.id, 1000);
//! assert_eq!(p.date_time.millis(), 1_436_918_400_000);
//! ```

mod config;
mod generator;
mod model;
mod random;
mod source;

pub use config::{
    NexmarkConfig, AUCTION_ID_LEAD, CHANNELS_NUMBER, DEFAULT_BASE_TIME, FIRST_AUCTION_ID,
    FIRST_CATEGORY_ID, FIRST_PERSON_ID, HOT_BLOCK, HOT_CHANNELS_RATIO, NUM_CATEGORIES,
    PERSON_ID_LEAD, UNBOUNDED_EVENTS,
};
pub use generator::{
    adjusted_number, channel_url, emit_offset_ms, event, event_id, event_kind, event_number,
    hot_url, kind_of_id, timestamp_ms, watermark_ms, Generators, NexmarkRow, HOT_CHANNELS,
};
pub use model::{Auction, Bid, Event, EventKind, Person};
pub use random::{random_for, splitmix64, JavaRandom};
pub use source::{Nexmark, NexmarkSource, DEFAULT_EVENTS_PER_BATCH};
