//! The Nexmark sources: one typed stream per event kind.

use super::config::{NexmarkConfig, UNBOUNDED_EVENTS};
use super::generator::{Generators, NexmarkRow};
use super::model::{Auction, Bid, Person};
use crate::error::{Result, StreamError};
use crate::source::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

/// Entry points of the Nexmark sources: `read_stream::<Bid>(Nexmark::bids(config))`.
pub struct Nexmark;

impl Nexmark {
    /// The bids of the generator `config` (persons and auctions are skipped, not generated).
    pub fn bids(config: NexmarkConfig) -> NexmarkSource<Bid> {
        NexmarkSource::new(config)
    }

    /// The persons of the generator `config`.
    pub fn people(config: NexmarkConfig) -> NexmarkSource<Person> {
        NexmarkSource::new(config)
    }

    /// The auctions of the generator `config`.
    pub fn auctions(config: NexmarkConfig) -> NexmarkSource<Auction> {
        NexmarkSource::new(config)
    }
}

/// A clock: milliseconds since the Unix epoch.
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The default number of events per micro-batch.
pub const DEFAULT_EVENTS_PER_BATCH: u64 = 100_000;

/// A source of the `T` rows (persons, auctions or bids) of a Nexmark generator; build it with
/// [`Nexmark::bids`], [`Nexmark::people`] or [`Nexmark::auctions`].
///
/// The source reads the events of [`Generators::new`]`(config)`: with `num_generators = P > 1`
/// the configuration is split into `P` sub-generators on one event-time axis (docs/nexmark.md 1.3),
/// so the events depend on `P` but never on the number of workers.
///
/// - Offsets count events of all kinds (a JSON integer): a batch covers the next
///   [`events_per_batch`](NexmarkSource::events_per_batch) events, up to `config.events`.
///   `ReadLimit::All` takes every available event (all of them unless paced; so give
///   `Trigger::Once` and `Trigger::AvailableNow` a finite `events` or a pace),
///   `ReadLimit::UpTo(o)` stops at `o`.
/// - Worker `i` of `n` reads the events whose global index is `i` modulo `n`, so together the
///   workers read every event of the split exactly once.
/// - Unpaced (the default), events are available as fast as they are read. With
///   [`pace`](NexmarkSource::pace) they are made available on a wall-clock schedule.
pub struct NexmarkSource<T> {
    config: NexmarkConfig,
    gens: Generators,
    events_per_batch: u64,
    pace: Option<f64>,
    clock: Clock,
    /// The wall clock (ms) and offset of the first paced plan.
    started: Mutex<Option<(i64, u64)>>,
    _row: PhantomData<fn() -> T>,
}

impl<T: NexmarkRow> NexmarkSource<T> {
    fn new(config: NexmarkConfig) -> Self {
        NexmarkSource {
            gens: Generators::new(&config),
            config,
            events_per_batch: DEFAULT_EVENTS_PER_BATCH,
            pace: None,
            clock: Arc::new(system_clock),
            started: Mutex::new(None),
            _row: PhantomData,
        }
    }

    /// Events (of all kinds) per micro-batch (default 100,000; at least 1).
    pub fn events_per_batch(mut self, n: u64) -> Self {
        self.events_per_batch = n.max(1);
        self
    }

    /// Rate-limits the source to `events_per_second` events of all kinds (docs/nexmark.md 1.3): the
    /// event at global index `g` is available from
    /// `start + (emit_offset_ms(g) − emit_offset_ms(g₀)) · event_rate / events_per_second`,
    /// where `start` is the wall clock of the first plan and `g₀` its start offset. With
    /// `events_per_second == config.event_rate` this is Nexmark's
    /// `wallclockBase + ts(eventNumber) − baseTime`: event time and wall clock advance together.
    pub fn pace(mut self, events_per_second: f64) -> Self {
        self.pace = Some(events_per_second);
        self
    }

    /// Replaces the wall clock (milliseconds since the epoch) used by `pace`, e.g. by a fake
    /// one in tests.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The generator's configuration.
    pub fn config(&self) -> &NexmarkConfig {
        &self.config
    }

    /// The merged sub-generators this source reads.
    pub fn generators(&self) -> &Generators {
        &self.gens
    }

    /// The number of events available now, counting from offset 0 (all of them unless paced).
    fn available(&self, from: u64) -> Result<u64> {
        let total = self.gens.len();
        let Some(eps) = self.pace else {
            return Ok(total);
        };
        if !(eps.is_finite() && eps > 0.0) {
            return Err(StreamError::Config(
                "nexmark: pace must be a positive number of events per second".into(),
            ));
        }
        let now = (self.clock)();
        let (start_ms, start_offset) = *self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert((now, from));
        if start_offset >= total {
            return Ok(total);
        }
        // Event-time ms (relative to the start event) that have elapsed by now.
        let scale = self.config.event_rate / eps;
        let elapsed = (now - start_ms).max(0) as f64 / scale;
        let base = self.gens.emit_offset_ms(start_offset);
        let due = |g: u64| ((self.gens.emit_offset_ms(g) - base) as f64) <= elapsed;
        // The first index not due yet (the offsets are non-decreasing in the index).
        let (mut lo, mut hi) = (start_offset, total);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if due(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

impl<T: NexmarkRow> Source<T> for NexmarkSource<T> {
    fn description(&self) -> String {
        let kind = match T::KIND {
            super::EventKind::Person => "people",
            super::EventKind::Auction => "auctions",
            super::EventKind::Bid => "bids",
        };
        let events = if self.config.events >= UNBOUNDED_EVENTS {
            "unbounded".to_string()
        } else {
            self.config.events.to_string()
        };
        format!(
            "Nexmark[{kind}, events={events}, generators={}]",
            self.config.num_generators
        )
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        self.config.validate()?;
        let from = offset_count(start);
        let available = self.available(from)?;
        let to = match limit {
            ReadLimit::All => {
                if self.pace.is_none() && self.config.events >= UNBOUNDED_EVENTS {
                    return Err(StreamError::Config(
                        "nexmark: reading everything at once (Trigger::Once or \
                         Trigger::AvailableNow) needs a finite `events` or a pace"
                            .into(),
                    ));
                }
                available
            }
            ReadLimit::Default => available.min(from.saturating_add(self.events_per_batch)),
            ReadLimit::UpTo(cap) => available
                .min(from.saturating_add(self.events_per_batch))
                .min(offset_count(Some(cap))),
        };
        Ok(Split::counted(start, to))
    }

    fn read(&self, split: &Split, part: Partition, emit: &mut dyn FnMut(T)) -> Result<ReadStats> {
        let from = offset_count(split.start.as_ref());
        let to = offset_count(Some(&split.end)).min(self.gens.len());
        let mut stats = ReadStats::default();
        for g in part.share(from, to) {
            if let Some(row) = self.gens.row::<T>(g) {
                stats.rows += 1;
                emit(row);
            }
        }
        Ok(stats)
    }

    fn is_bounded(&self) -> bool {
        self.config.events < UNBOUNDED_EVENTS
    }

    fn check_bounded(&self) -> Result<()> {
        if self.is_bounded() {
            return Ok(());
        }
        Err(StreamError::Config(
            "nexmark: the generator makes events without end: a batch query (read) needs a \
             finite number of events, NexmarkConfig::with_events(n)"
                .into(),
        ))
    }
}
