//! The generator's configuration (docs/nexmark.md 1.1) and its split into sub-generators (1.3).

use crate::error::{Result, StreamError};

/// Base-0 person ids are offset by this (`FIRST_PERSON_ID`).
pub const FIRST_PERSON_ID: u64 = 1000;
/// Base-0 auction ids are offset by this (`FIRST_AUCTION_ID`).
pub const FIRST_AUCTION_ID: u64 = 1000;
/// The first auction category (`FIRST_CATEGORY_ID`).
pub const FIRST_CATEGORY_ID: u64 = 10;
/// Categories are `FIRST_CATEGORY_ID + U[0, NUM_CATEGORIES)`.
pub const NUM_CATEGORIES: i32 = 5;
/// Random people may be up to this many ids past the last one generated (`PERSON_ID_LEAD`).
pub const PERSON_ID_LEAD: u64 = 10;
/// Random auctions may be up to this many ids past the last one generated (`AUCTION_ID_LEAD`).
pub const AUCTION_ID_LEAD: u64 = 10;
/// Hot sellers, auctions and bidders are the first of each block of this many ids.
pub const HOT_BLOCK: u64 = 100;
/// A bid's channel is hot (one of four well-known ones) unless `U[0, HOT_CHANNELS_RATIO) == 0`.
pub const HOT_CHANNELS_RATIO: i32 = 2;
/// The number of non-hot channels (`channel-0` … `channel-9999`).
pub const CHANNELS_NUMBER: i32 = 10_000;
/// Beam's default base time: 2015-07-15T00:00:00Z in epoch milliseconds.
pub const DEFAULT_BASE_TIME: i64 = 1_436_918_400_000;
/// The default number of events: `i64::MAX` (Beam's `Long.MAX_VALUE`), i.e. unbounded in practice.
pub const UNBOUNDED_EVENTS: u64 = i64::MAX as u64;

/// The configuration of one Nexmark generator (docs/nexmark.md 1.1, with this project's canonical
/// choices of 1.4b). `NexmarkConfig::default()` gives the standard defaults.
///
/// A generator's `index`-th event (`index` counts from 0) has event number
/// `first_event_number + index`, adjusted for out-of-order groups, and id
/// `first_event_id + adjusted number`. Everything about an event follows from its id and its
/// number: see [`event`](super::event).
#[derive(Clone, Debug, PartialEq)]
pub struct NexmarkConfig {
    /// The id of event number 0 (default 0; Flink's suite uses 1).
    pub first_event_id: u64,
    /// The event number of the generator's first event (default 0; Flink's suite uses 1).
    pub first_event_number: u64,
    /// The number of events this generator makes (default [`UNBOUNDED_EVENTS`]).
    pub events: u64,
    /// Event-time density in events per second over all `num_generators` timelines (default
    /// 10,000). It does not limit how fast events are made; see `NexmarkSource::pace`.
    pub event_rate: f64,
    /// The number of sub-generators that share the event-time axis, each at
    /// `event_rate / num_generators` (Beam's `numEventGenerators`; default 1). The sources
    /// split the configuration into this many sub-generators.
    pub num_generators: u64,
    /// Event time of event number 0, in epoch milliseconds (default 1436918400000).
    pub base_time: i64,
    /// Persons per `person + auction + bid` proportion events (default 1 of 50).
    pub person_proportion: u64,
    /// Auctions per `person + auction + bid` proportion events (default 3 of 50).
    pub auction_proportion: u64,
    /// Bids per `person + auction + bid` proportion events (default 46 of 50).
    pub bid_proportion: u64,
    /// Target average size of a person in bytes, reached by padding `extra` (default 200).
    pub avg_person_byte_size: u32,
    /// Target average size of an auction in bytes (default 500).
    pub avg_auction_byte_size: u32,
    /// Target average size of a bid in bytes (default 100).
    pub avg_bid_byte_size: u32,
    /// A bid is on the hot auction unless `U[0, ratio) == 0`: P(hot) = 1 − 1/ratio (default 2).
    pub hot_auction_ratio: i32,
    /// An auction's seller is hot unless `U[0, ratio) == 0` (default 4).
    pub hot_sellers_ratio: i32,
    /// A bid's bidder is hot unless `U[0, ratio) == 0` (default 4).
    pub hot_bidders_ratio: i32,
    /// The window of auction ids random bids pick from; also sets auction lifetime (default 100).
    pub num_in_flight_auctions: u64,
    /// The window of person ids random sellers and bidders pick from (default 1000).
    pub num_active_people: u64,
    /// Events are shuffled within groups of this many event numbers (default 1: in order).
    pub out_of_order_group_size: u64,
    /// Beam's window size for the queries that use one, in seconds (default 10; unused here).
    pub window_size_sec: u64,
    /// Beam's window period for the queries that use one, in seconds (default 5; unused here).
    pub window_period_sec: u64,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        NexmarkConfig {
            first_event_id: 0,
            first_event_number: 0,
            events: UNBOUNDED_EVENTS,
            event_rate: 10_000.0,
            num_generators: 1,
            base_time: DEFAULT_BASE_TIME,
            person_proportion: 1,
            auction_proportion: 3,
            bid_proportion: 46,
            avg_person_byte_size: 200,
            avg_auction_byte_size: 500,
            avg_bid_byte_size: 100,
            hot_auction_ratio: 2,
            hot_sellers_ratio: 4,
            hot_bidders_ratio: 4,
            num_in_flight_auctions: 100,
            num_active_people: 1000,
            out_of_order_group_size: 1,
            window_size_sec: 10,
            window_period_sec: 5,
        }
    }
}

impl NexmarkConfig {
    /// The default configuration with `events` events.
    pub fn with_events(events: u64) -> Self {
        NexmarkConfig {
            events,
            ..Self::default()
        }
    }

    /// `person + auction + bid` proportions (T, default 50).
    #[inline]
    pub fn total_proportion(&self) -> u64 {
        self.person_proportion + self.auction_proportion + self.bid_proportion
    }

    /// Microseconds of event time between two consecutive events of this generator (Flink's
    /// `1e6 / rate · numEventGenerators`, a double).
    #[inline]
    pub fn inter_event_delay_us(&self) -> f64 {
        1e6 / self.event_rate * self.num_generators as f64
    }

    /// Checks the knobs: positive rate, proportions, ratios, group size and generator count.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(StreamError::Config(format!("nexmark: {what}")));
        if !(self.event_rate.is_finite() && self.event_rate > 0.0) {
            return bad("event_rate must be a positive number of events per second");
        }
        if self.num_generators == 0 {
            return bad("num_generators must be at least 1");
        }
        if self.person_proportion == 0 || self.auction_proportion == 0 {
            return bad("person_proportion and auction_proportion must be at least 1");
        }
        if self.hot_auction_ratio < 1 || self.hot_sellers_ratio < 1 || self.hot_bidders_ratio < 1 {
            return bad("hot ratios must be at least 1");
        }
        if self.out_of_order_group_size == 0 {
            return bad("out_of_order_group_size must be at least 1");
        }
        let id_room = self.first_event_id.checked_add(self.first_event_number);
        if id_room.and_then(|r| r.checked_add(self.events)).is_none() {
            return bad("first_event_id + first_event_number + events overflows u64");
        }
        Ok(())
    }

    /// Splits this generator into `p` sub-generators (docs/nexmark.md 1.3): sub-generator `i` gets
    /// `first_event_id + i·(events/p)` and `events/p` events (the last one the remainder), the
    /// same `first_event_number`, and `num_generators = p`, so all `p` share one event-time axis,
    /// each at `event_rate / p`. `split(1)` is `[self]` with `num_generators = 1`.
    ///
    /// The sub-generators' event ids partition `[first_event_id, first_event_id + events)`,
    /// and an event's fields depend only on its id except for the time fields (`dateTime`, and
    /// an auction's `expires`), which depend on its number within its sub-generator and on `p`.
    pub fn split(&self, p: u64) -> Vec<NexmarkConfig> {
        assert!(p > 0, "split into at least one sub-generator");
        let each = self.events / p;
        (0..p)
            .map(|i| NexmarkConfig {
                first_event_id: self.first_event_id + i * each,
                events: if i == p - 1 {
                    self.events - each * (p - 1)
                } else {
                    each
                },
                num_generators: p,
                ..self.clone()
            })
            .collect()
    }
}
