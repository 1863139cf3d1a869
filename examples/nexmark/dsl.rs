//! The `dsl` engine: every query as a `stream!` pipeline on the runtime, with the Nexmark
//! source (or a synthetic-bids source written here) and a sink that counts, writes and times
//! the result rows.

#[path = "windows_dsl.rs"]
mod windows;

use super::common::{Query, Run, SynthBid};
#[path = "joins_dsl.rs"]
mod joins;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use stream_runtime::prelude::*;
use stream_runtime::sink::{BatchInfo, RowWriter, Sink};
use stream_runtime::source::nexmark::{Bid, Nexmark};
use stream_runtime::source::{
    offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split,
};

/// The writer's trigger, and its checkpoint location with `--checkpoint`.
fn configure<T: Record>(
    query: DataStreamWriter<T>,
    trigger: Trigger,
    run: &Run,
) -> DataStreamWriter<T> {
    let query = query.trigger(trigger);
    match &run.checkpoint {
        Some(dir) => query.checkpoint_location(dir),
        None => query,
    }
}

/// Runs the query of `run` on `session` until all its events are processed.
pub fn run(run: &Arc<Run>, session: &Session) -> Result<(), StreamError> {
    // As fast as possible: everything available at start, in batches of `run.batch` events.
    // Paced: a batch every millisecond with whatever became due (the default trigger would
    // sleep 10 ms whenever a batch finds nothing new).
    let trigger = match run.pace {
        None => Trigger::AvailableNow,
        Some(_) => Trigger::ProcessingTime(1),
    };
    let sink = RunSink(run.clone());
    let handle = match run.query {
        Query::Q0 => {
            let bids = Tracked::new(nexmark_bids(run), run);
            let query = stream! {
                read_stream::<Bid>(bids)
                    .write_stream(sink)
                    .query_name("q0")
            };
            session.start(configure(query, trigger, run))?
        }
        Query::Q1 => {
            let bids = Tracked::new(nexmark_bids(run), run);
            let query = stream! {
                read_stream::<Bid>(bids)
                    .select(auction, bidder, price * 908 / 1000 as price, date_time, extra)
                    .write_stream(sink)
                    .query_name("q1")
            };
            session.start(configure(query, trigger, run))?
        }
        Query::Q2 => {
            let bids = Tracked::new(nexmark_bids(run), run);
            let query = stream! {
                read_stream::<Bid>(bids)
                    .filter(auction % 123 == 0)
                    .select(auction, price)
                    .write_stream(sink)
                    .query_name("q2")
            };
            session.start(configure(query, trigger, run))?
        }
        Query::Q3 | Query::Q4 | Query::Q9 => joins::start(run, session, trigger, sink)?,
        Query::BidsCount => {
            let bids = Tracked::new(SynthBids(run.clone()), run);
            let query = stream! {
                read_stream::<SynthBid>(bids)
                    .group_by(auction)
                    .agg(count() as bids)
                    .write_stream(sink)
                    .output_mode(Update)
                    .query_name("bids-count")
            };
            session.start(configure(query, trigger, run))?
        }
        Query::BidsWindow => {
            let bids = Tracked::new(SynthBids(run.clone()), run);
            let query = stream! {
                read_stream::<SynthBid>(bids)
                    .with_watermark(date_time, "1 second")
                    .group_by(window(date_time, "10 seconds"), auction)
                    .agg(count() as bids, max(price) as max_price)
                    .write_stream(sink)
                    .output_mode(Append)
                    .query_name("bids-window")
            };
            session.start(configure(query, trigger, run))?
        }
        Query::Q5 => windows::q5(run, session, trigger)?,
        Query::Q7 => windows::q7(run, session, trigger)?,
        Query::Q8 => windows::q8(run, session, trigger)?,
        Query::Q11 => windows::q11(run, session, trigger)?,
    };
    loop {
        // Events of finished batches, for the progress line and the end of paced runs.
        let processed = handle
            .last_progress()
            .and_then(|p| p.sources.first().map(|s| offset_count(Some(&s.end_offset))))
            .unwrap_or(0);
        run.processed.store(processed, Ordering::Relaxed);
        // `AvailableNow` stops by itself once it has processed what was there at start.
        if handle.await_termination_timeout(Duration::from_millis(20))? {
            return Ok(());
        }
        if run.pace.is_some() && processed >= run.events {
            // Let the batch without new data that closes windows run, then stop.
            handle.process_all_available()?;
            return handle.stop();
        }
    }
}

/// The run's Nexmark bids: all workers' generators, paced if asked, with the run's batch size.
fn nexmark_bids(run: &Arc<Run>) -> impl Source<Bid> {
    let source = Nexmark::bids(run.config.clone()).events_per_batch(run.batch);
    match run.pace {
        None => source,
        Some(pace) => {
            let r = run.clone();
            // The source starts its schedule at its first reading of the clock: remember it,
            // to know when each event was due.
            source.pace(pace).clock(move || {
                let now = super::common::wall_ms().floor();
                r.start_ms.get_or_init(|| now);
                now as i64
            })
        }
    }
}

/// A source that records the end offset of every batch it plans, so that the sink knows
/// which events a batch covered.
struct Tracked<S> {
    inner: S,
    run: Arc<Run>,
}

impl<S> Tracked<S> {
    fn new(inner: S, run: &Arc<Run>) -> Self {
        Tracked {
            inner,
            run: run.clone(),
        }
    }
}

impl<T, S: Source<T>> Source<T> for Tracked<S> {
    fn description(&self) -> String {
        self.inner.description()
    }
    fn plan(
        &self,
        start: Option<&Offset>,
        limit: &ReadLimit,
    ) -> stream_runtime::Result<Option<Split>> {
        let split = self.inner.plan(start, limit)?;
        if let (Some(s), false) = (&split, matches!(limit, ReadLimit::All)) {
            self.run
                .batch_end
                .store(offset_count(Some(&s.end)), Ordering::Relaxed);
        }
        Ok(split)
    }
    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(T),
    ) -> stream_runtime::Result<ReadStats> {
        self.inner.read(split, part, emit)
    }
    fn is_bounded(&self) -> bool {
        self.inner.is_bounded()
    }
}

/// The synthetic bids `0..run.events` (docs/benchmarks.md), in batches of `run.batch` rows; worker
/// `i` of `n` makes the rows `v ≡ i mod n`. Paced, row `v` is due `v / pace` seconds after the
/// first plan.
struct SynthBids(Arc<Run>);

impl Source<SynthBid> for SynthBids {
    fn description(&self) -> String {
        format!("SyntheticBids[rows={}]", self.0.events)
    }

    fn plan(
        &self,
        start: Option<&Offset>,
        limit: &ReadLimit,
    ) -> stream_runtime::Result<Option<Split>> {
        let run = &self.0;
        let from = offset_count(start);
        let available = match run.pace {
            None => run.events,
            Some(_) => {
                let now = super::common::wall_ms().floor();
                let start = *run.start_ms.get_or_init(|| now);
                run.due(now - start)
            }
        };
        let to = match limit {
            ReadLimit::All => available,
            ReadLimit::Default => available.min(from + run.batch),
            ReadLimit::UpTo(cap) => available.min(from + run.batch).min(offset_count(Some(cap))),
        };
        Ok(Split::counted(start, to))
    }

    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(SynthBid),
    ) -> stream_runtime::Result<ReadStats> {
        let from = offset_count(split.start.as_ref());
        let to = offset_count(Some(&split.end));
        let mut rows = 0;
        for v in part.share(from, to) {
            emit(SynthBid::new(v));
            rows += 1;
        }
        Ok(ReadStats {
            rows,
            ..ReadStats::default()
        })
    }

    fn is_bounded(&self) -> bool {
        true
    }
}

/// The sink of every query: a row-at-a-time sink, so that every worker hands its own result
/// rows to [`Run::deliver_row`] and nothing is gathered on the driver (the fastest sink the
/// runtime has, as Spark's `noop` format is for its benchmarks).
struct RunSink(Arc<Run>);

impl<T: Record> Sink<T> for RunSink {
    fn description(&self) -> String {
        "NexmarkBenchSink".into()
    }
    fn add_batch(&mut self, _info: BatchInfo, rows: Vec<T>) -> stream_runtime::Result<()> {
        // Only in complete mode, which no query here uses.
        let end = self.0.batch_end.load(Ordering::Relaxed);
        self.0.deliver(&rows, end);
        Ok(())
    }
    fn row_writer(&self) -> Option<RowWriter<T>> {
        Some(Arc::new(self.0.row_writer::<T>()))
    }
}
