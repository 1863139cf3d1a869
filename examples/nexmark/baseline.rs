//! The `baseline` engine: the same queries written by hand, directly against timely and
//! differential dataflow, in the straightforward way: an input session per worker, a
//! differential collection, one timestamp per batch, `advance_to` + `flush` after each batch,
//! and a probe to wait for it. The reference for the cost of the DSL and its runtime.
//!
//! The sink counts output updates on each worker. Only with `--output` or `--pace` are the
//! updates sent to worker 0, which applies the output mode and hands the rows of every
//! finished batch to [`Run::deliver`], as the runtime's driver does.

#[path = "windows_baseline.rs"]
mod windows;

use super::common::{
    euros, CountRow, Q1Row, Q2Row, Query, Run, SynthBid, WindowRow, Q2_MODULUS, WATERMARK_DELAY_MS,
    WINDOW_MS,
};
#[path = "joins_baseline.rs"]
mod joins;
use super::processes::Processes;
use differential_dataflow::input::InputSession;
use differential_dataflow::operators::count::CountTotal;
use differential_dataflow::VecCollection;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use stream_runtime::source::nexmark::Bid;
use stream_runtime::{Record, Timestamp, Window};
use timely::dataflow::operators::{Exchange, Inspect, Probe};
use timely::dataflow::ProbeHandle;
use timely::worker::Worker;

/// Runs the query of `run` on the workers of `procs` (this process's threads, and on several
/// processes a timely cluster over them) until all its events are processed.
pub fn run(run: &Arc<Run>, procs: &Processes) -> Result<(), String> {
    if run.pace.is_some() {
        // Every worker feeds its share of each millisecond's events on one shared schedule.
        run.start_ms.get_or_init(super::common::wall_ms);
    }
    let shared = run.clone();
    let guards = procs.execute(move |worker| work(worker, &shared))?;
    for result in guards.join() {
        result?;
    }
    Ok(())
}

/// Output updates of one worker: `(row, time, diff)`.
type Updates<D> = Rc<RefCell<Vec<(D, u64, isize)>>>;

/// How many copies of a row an output update at a time makes, by output mode: the new rows
/// (stateless queries, where every update is an insertion), the new version of every changed
/// row (update mode, after consolidation), or the final row of a closed window (carried by
/// the retraction at the window's end).
type Rule<D> = fn(&D, u64, isize) -> isize;

fn append<D>(_: &D, _: u64, diff: isize) -> isize {
    diff.max(0)
}

fn closed_window(row: &WindowRow, time: u64, diff: isize) -> isize {
    if row.window.end.millis() as u64 == time {
        (-diff).max(0)
    } else {
        0
    }
}

fn work(worker: &mut Worker, run: &Arc<Run>) {
    match run.query {
        Query::Q0 => stateless(worker, run, |c| c),
        Query::Q1 => stateless(worker, run, |c| {
            c.map(|b: Bid| Q1Row {
                auction: b.auction,
                bidder: b.bidder,
                price: euros(b.price),
                date_time: b.date_time,
                extra: b.extra,
            })
        }),
        Query::Q2 => stateless(worker, run, |c| {
            c.filter(|b: &Bid| b.auction.is_multiple_of(Q2_MODULUS))
                .map(|b: Bid| Q2Row {
                    auction: b.auction,
                    price: b.price,
                })
        }),
        Query::Q3 => joins::q3(worker, run),
        Query::Q4 => joins::q4(worker, run),
        Query::Q9 => joins::q9(worker, run),
        Query::BidsCount => bids_count(worker, run),
        Query::BidsWindow => bids_window(worker, run),
        Query::Q5 => windows::q5(worker, run),
        Query::Q7 => windows::q7(worker, run),
        Query::Q8 => windows::q8(worker, run),
        Query::Q11 => windows::q11(worker, run),
    }
}

/// Sends the result updates to worker 0 (with `--output` or `--pace`), or counts them here.
fn sink<D: Record>(
    rows: VecCollection<'_, u64, D, isize>,
    run: &Arc<Run>,
    probe: &ProbeHandle<u64>,
) -> Option<Updates<D>> {
    if run.output.is_some() || run.pace.is_some() {
        let gathered: Updates<D> = Rc::new(RefCell::new(Vec::new()));
        let buffer = gathered.clone();
        rows.inner
            .exchange(|_| 0)
            .inspect(move |u: &(D, u64, isize)| buffer.borrow_mut().push(u.clone()))
            .probe_with(probe);
        Some(gathered)
    } else {
        let run = run.clone();
        rows.inner
            .inspect_core(move |event| {
                if let Ok((_, updates)) = event {
                    run.rows.add(updates.len() as u64);
                }
            })
            .probe_with(probe);
        None
    }
}

/// q0, q1, q2: Nexmark bids through `query`.
fn stateless<D: Record>(
    worker: &mut Worker,
    run: &Arc<Run>,
    query: impl for<'a> FnOnce(VecCollection<'a, u64, Bid, isize>) -> VecCollection<'a, u64, D, isize>,
) {
    let probe = ProbeHandle::new();
    let mut input = InputSession::<u64, Bid, isize>::new();
    let gathered = worker.dataflow::<u64, _, _>(|scope| {
        let bids = input.to_collection(scope);
        sink(query(bids), run, &probe)
    });
    let mut out = Gather::new(gathered, append);
    let (index, peers) = (worker.index() as u64, worker.peers() as u64);
    for (n, (lo, hi)) in schedule(run).enumerate() {
        let n = n as u64;
        input.advance_to(n);
        for g in share(lo, hi, index, peers) {
            if let Some(bid) = run.gens.row::<Bid>(g) {
                input.insert(bid);
            }
        }
        input.advance_to(n + 1);
        input.flush();
        worker.step_or_park_while(None, || probe.less_than(&(n + 1)));
        out.finished(run, n + 1, hi, index);
    }
}

/// Q-count: a running count per auction.
fn bids_count(worker: &mut Worker, run: &Arc<Run>) {
    let probe = ProbeHandle::new();
    let mut input = InputSession::<u64, SynthBid, isize>::new();
    let gathered = worker.dataflow::<u64, _, _>(|scope| {
        let counts = input
            .to_collection(scope)
            .map(|b| b.auction)
            .count_total()
            .map(|(auction, bids)| CountRow {
                auction,
                bids: bids as i64,
            });
        sink(counts, run, &probe)
    });
    let mut out = Gather::new(gathered, append);
    let (index, peers) = (worker.index() as u64, worker.peers() as u64);
    for (n, (lo, hi)) in schedule(run).enumerate() {
        let n = n as u64;
        input.advance_to(n);
        for v in share(lo, hi, index, peers) {
            input.insert(SynthBid::new(v));
        }
        input.advance_to(n + 1);
        input.flush();
        worker.step_or_park_while(None, || probe.less_than(&(n + 1)));
        out.finished(run, n + 1, hi, index);
    }
}

/// Q-window, naively: every raw row is arranged and reduced per (window, auction); a row is
/// inserted at the batch's time (the watermark in force, in ms) and retracted at its window's
/// end, so the window's final value is retracted when the watermark reaches the end, and its
/// state leaves the arrangement then. Rows whose window the watermark has passed are late
/// and dropped. The watermark after a batch is its latest event time minus the delay (known
/// to every worker from the batch's range), and never decreases.
fn bids_window(worker: &mut Worker, run: &Arc<Run>) {
    let probe = ProbeHandle::new();
    let mut input = InputSession::<u64, SynthBid, isize>::new();
    let gathered = worker.dataflow::<u64, _, _>(|scope| {
        let windows = input
            .to_collection(scope)
            .map(|b| {
                let t = b.date_time.millis();
                ((t - t.rem_euclid(WINDOW_MS), b.auction), b.price)
            })
            .reduce(|_key, prices: &[(&u64, isize)], out| {
                let bids: isize = prices.iter().map(|(_, n)| n).sum();
                // Values come sorted: the last is the max.
                let top = *prices[prices.len() - 1].0;
                out.push(((bids as i64, top), 1));
            })
            .map(|((start, auction), (bids, max_price))| WindowRow {
                window: Window {
                    start: Timestamp(start),
                    end: Timestamp(start + WINDOW_MS),
                },
                auction,
                bids,
                max_price,
            });
        sink(windows, run, &probe)
    });
    let mut out = Gather::new(gathered, closed_window);
    let (index, peers) = (worker.index() as u64, worker.peers() as u64);
    let mut watermark: u64 = 0;
    for (lo, hi) in schedule(run) {
        input.advance_to(watermark);
        for v in share(lo, hi, index, peers) {
            let row = SynthBid::new(v);
            let t = row.date_time.millis();
            let end = (t - t.rem_euclid(WINDOW_MS) + WINDOW_MS) as u64;
            if end <= watermark {
                continue; // late
            }
            input.update_at(row.clone(), end, -1);
            input.insert(row);
        }
        if hi > lo {
            let latest = (hi - 1) as i64;
            watermark = watermark.max((latest - WATERMARK_DELAY_MS).max(0) as u64);
        }
        input.advance_to(watermark);
        input.flush();
        worker.step_or_park_while(None, || probe.less_than(&watermark));
        out.finished(run, watermark, hi, index);
    }
    // Unpaced, the input ends: as the runtime's last batch at the end-of-input watermark,
    // every window closes. Paced (a live stream, stopped after its last batch), the last
    // watermark closes the windows that end at it, too (as the runtime's batch without new
    // data does), and later windows stay open.
    let last = match run.pace {
        None => stream_runtime::END_OF_INPUT_WATERMARK_MS + 1,
        Some(_) => watermark + 1,
    };
    input.advance_to(last);
    input.flush();
    worker.step_or_park_while(None, || probe.less_than(&last));
    out.finished(run, last, run.events, index);
    out.discard();
}

/// The batches of a run, as `[lo, hi)` event ranges: fixed-size batches as fast as possible,
/// or, paced, one batch per millisecond of the schedule with the events due in it (the caller
/// waits for it to be due). Every worker computes the same sequence.
fn schedule(run: &Run) -> Box<dyn Iterator<Item = (u64, u64)> + '_> {
    let Some(_) = run.pace else {
        return Box::new(run.batches());
    };
    let start = *run.start_ms.get().expect("paced runs set their start");
    let mut lo = 0;
    let mut ms = 0u64;
    Box::new(std::iter::from_fn(move || {
        while lo < run.events {
            let hi = run.due(ms as f64).min(lo + run.batch);
            let due_at = start + ms as f64;
            ms += 1;
            if hi == lo {
                continue;
            }
            let wait = due_at - super::common::wall_ms();
            if wait > 0.0 {
                std::thread::sleep(Duration::from_secs_f64(wait / 1000.0));
            }
            let batch = (lo, hi);
            lo = hi;
            return Some(batch);
        }
        None
    }))
}

/// The global indexes of `[lo, hi)` that worker `index` of `peers` reads (`g ≡ index mod
/// peers`, as the runtime's sources split a batch).
fn share(lo: u64, hi: u64, index: u64, peers: u64) -> impl Iterator<Item = u64> {
    let first = lo + (index + peers - lo % peers) % peers;
    (first..hi).step_by(peers as usize)
}

/// Worker 0's view of the gathered output updates.
struct Gather<D> {
    updates: Option<Updates<D>>,
    rule: Rule<D>,
}

impl<D: Record> Gather<D> {
    fn new(updates: Option<Updates<D>>, rule: Rule<D>) -> Self {
        Gather { updates, rule }
    }

    /// Every update before `frontier` is final: apply the output mode per time and deliver
    /// the rows; `batch_end` is the end offset of the batch just finished.
    fn finished(&mut self, run: &Run, frontier: u64, batch_end: u64, index: u64) {
        if index == 0 {
            run.processed.store(batch_end, Ordering::Relaxed);
        }
        let Some(updates) = &self.updates else {
            return;
        };
        let mut done: Vec<(D, u64, isize)> = Vec::new();
        updates.borrow_mut().retain(|u| {
            if u.1 < frontier {
                done.push(u.clone());
                false
            } else {
                true
            }
        });
        done.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let mut rows = Vec::new();
        let mut i = 0;
        while i < done.len() {
            // One time, one row: the sum of its diffs.
            let (mut j, mut diff) = (i, 0);
            while j < done.len() && done[j].1 == done[i].1 && done[j].0 == done[i].0 {
                diff += done[j].2;
                j += 1;
            }
            let (row, time) = (&done[i].0, done[i].1);
            let copies = (self.rule)(row, time, diff);
            rows.extend(std::iter::repeat_n(row.clone(), copies as usize));
            i = j;
        }
        run.deliver(&rows, batch_end);
    }

    /// Forgets the updates not yet final (windows the watermark never closed).
    fn discard(&mut self) {
        if let Some(updates) = &self.updates {
            updates.borrow_mut().clear();
        }
        self.updates = None;
    }
}
