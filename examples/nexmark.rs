//! The Nexmark benchmark: one command for every query and engine.
//!
//! ```text
//! cargo run --release --example nexmark -- --query Q --events N [-w W] [-n P [-h HOSTS]]
//!     [--engine dsl|baseline] [--event-rate R] [--pace R] [--output FILE]
//!     [--dump-events FILE] [--batch B] [--checkpoint DIR]
//! ```
//!
//! - `Q`: `q0` (bids passed through), `q1` (price in euros, `price * 908 / 1000` in integer
//!   cents), `q2` (`auction, price` where `auction % 123 == 0`) on the Nexmark generator; or
//!   the synthetic-bids workloads of docs/benchmarks.md, `bids-count` (running count per auction,
//!   update output) and `bids-window` (count and max price per 10-second tumbling window and
//!   auction, watermark 1 second, append output).
//! - The join queries (docs/nexmark.md 2.1): `q3` (`name, city, state, id`), `q4` (`category,
//!   avg_price`; `--output` is the final table) and `q9` (the auction's columns `id, item_name,
//!   description, initial_bid, reserve, date_time, expires, seller, category, extra`, then the
//!   winning bid's `price, bidder, bid_date_time`; ties go to the earliest bid, then the
//!   smallest bidder).
//! - The window queries (docs/nexmark.md 2.2): `q5` (`window, auction, num`: per 10 s window
//!   sliding by 2 s, the auctions with the most bids), `q7` (`auction, price, bidder,
//!   date_time, extra`: the bids at the highest price of a 10 s window, its end included), `q8`
//!   (`id, name, window`: people who sold something in the 10 s window they joined) and `q11`
//!   (`bidder, bid_count, window`: bids per 10 s-gap session). Every Nexmark query's watermark
//!   is `date_time` minus 4 s (Flink's DDL); a bounded run ends at the end-of-input watermark,
//!   so every window closes and every auction ends.
//! - `N` events (of all kinds for Nexmark; rows for the synthetic bids), `W` worker threads
//!   per process (the Nexmark generator is split into one sub-generator per worker of all
//!   processes, so the events depend on `P · W` only).
//! - `-n P`: `P` processes (the runtime's flags; README, multi-process runs). Without `-p`,
//!   this is process 0 and it starts processes 1..P-1 itself on this machine (on
//!   `localhost:2101`, ..., or the host file's addresses); with `-p I` every process is started
//!   by hand (several machines). Both engines run on all of them: the dsl as the runtime's
//!   cluster, the baseline as a timely cluster on the same addresses. Process 0 prints the
//!   progress line, dumps the events, and prints the summary line; process `I > 0` writes its
//!   rows to `FILE.I`, which process 0 appends to `FILE` after the run when it started it.
//!   `--pace` is refused (latency is measured in one process).
//! - `--engine dsl` (default): the query as a `stream!` pipeline on the runtime;
//!   `--engine baseline`: the same query written directly against timely and differential.
//! - `--event-rate R`: the Nexmark generator's event-time density (default 10,000 events/s).
//! - `--pace R`: emit `R` events per wall-clock second (open loop) and report the end-to-end
//!   event-time latency of the result rows (docs/nexmark.md 3); unpaced when absent.
//! - `--output FILE`: the result rows as JSON lines. `--dump-events FILE`: the generated
//!   events as JSON lines, in generation order (before the run, not timed).
//! - `--batch B`: events per batch (default 100,000), the same for both engines.
//! - `--checkpoint DIR` (dsl engine): run with a checkpoint in `DIR` (offsets, commits, state
//!   deltas and snapshots), to measure what fault tolerance costs. Use a fresh directory: an
//!   existing checkpoint resumes where it stopped.
//!
//! It prints a progress line on stderr while it runs and, as the last line of stdout, one JSON
//! object: `query`, `engine`, `events`, `workers`, `elapsed_s`, `events_per_s`, `cpu_s`
//! (user + system CPU seconds of the run), `events_per_s_per_core` (events per CPU second),
//! `peak_rss_mb`, and for paced runs `latency_ms` with `p50`, `p99`, `p999` and `max`. On `P > 1`
//! processes it also has `processes`, `process` (the printer's index), `result_rows`,
//! `cpu_s_per_process` and `peak_rss_mb_per_process`: process 0's line covers the processes it
//! started (`cpu_s`, `peak_rss_mb` and `result_rows` are sums over them, and per core means per
//! CPU second of all of them); a process started by hand prints its own figures only.

#[path = "nexmark/baseline.rs"]
mod baseline;
#[path = "nexmark/common.rs"]
mod common;
#[path = "nexmark/dsl.rs"]
mod dsl;
#[path = "nexmark/joins.rs"]
mod joins;
#[path = "nexmark/processes.rs"]
mod processes;
#[path = "nexmark/windows.rs"]
mod windows;

use clap::{Parser, ValueEnum};
use common::{Query, Run, SynthBid};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use stream_runtime::source::nexmark::{Generators, NexmarkConfig};
use stream_runtime::Session;

/// The engine that runs the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// The query as a `stream!` pipeline.
    Dsl,
    /// The query written by hand on timely / differential.
    Baseline,
}

/// Runs a Nexmark query or a synthetic-bids workload and reports throughput, CPU, memory and
/// (paced) latency as one JSON line on stdout.
#[derive(Parser, Debug)]
struct Args {
    /// The query.
    #[arg(long, value_enum)]
    query: Query,
    /// Events to process (of all kinds for Nexmark queries, rows for bids-*).
    #[arg(long)]
    events: u64,
    /// The engine.
    #[arg(long, value_enum, default_value_t = Engine::Dsl)]
    engine: Engine,
    /// The Nexmark generator's event-time density, events per second.
    #[arg(long, default_value_t = 10_000.0)]
    event_rate: f64,
    /// Emit this many events per wall-clock second and measure latency (unpaced if absent).
    #[arg(long)]
    pace: Option<f64>,
    /// Write the result rows here as JSON lines.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Write the generated events here as JSON lines, in generation order.
    #[arg(long)]
    dump_events: Option<PathBuf>,
    /// Events per batch (the most; a paced batch holds what became due).
    #[arg(long, default_value_t = 100_000)]
    batch: u64,
    /// Checkpoint the query in this directory (dsl engine; use a fresh one per run).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
}

#[stream_runtime::main]
fn main(session: Session, args: Args) -> Result<(), String> {
    // The benchmark draws its own progress line, which counts the baseline engine's events too.
    let session = session.console_progress(false);
    if session.processes() > 1 && args.pace.is_some() {
        return Err("--pace measures latency in one process: use -w for more workers".into());
    }
    if args.checkpoint.is_some() && args.engine == Engine::Baseline {
        return Err("--checkpoint is for the dsl engine: the baseline has no checkpoints".into());
    }
    if args.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    if let Some(p) = args.pace {
        if !(p.is_finite() && p > 0.0) {
            return Err("--pace must be a positive number of events per second".into());
        }
    }
    let mut procs = processes::Processes::start(&session)?;
    let workers = session.workers();
    let config = NexmarkConfig {
        events: args.events,
        event_rate: args.event_rate,
        num_generators: procs.total_workers() as u64,
        ..NexmarkConfig::default()
    };
    config.validate().map_err(|e| e.to_string())?;
    let gens = Generators::new(&config);
    if let (Some(path), 0) = (&args.dump_events, procs.index) {
        dump_events(path, args.query, &gens, args.events)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let output = match &args.output {
        None => None,
        Some(path) => {
            let path = procs.output_path(path);
            Some(Mutex::new(BufWriter::new(File::create(&path).map_err(
                |e| format!("cannot create {}: {e}", path.display()),
            )?)))
        }
    };
    let run = Arc::new(Run {
        query: args.query,
        events: args.events,
        batch: args.batch,
        pace: args.pace,
        config,
        gens,
        output,
        processed: AtomicU64::new(0),
        rows: Default::default(),
        start_ms: OnceLock::new(),
        batch_end: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
        checkpoint: args.checkpoint.clone(),
    });

    let done = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let progress =
        (procs.index == 0).then(|| spawn_progress(run.clone(), args.engine, done.clone(), started));
    let result = match args.engine {
        Engine::Dsl => dsl::run(&run, &session).map_err(|e| e.to_string()),
        Engine::Baseline => baseline::run(&run, &procs),
    };
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    done.store(true, Ordering::Relaxed);
    if let Some(progress) = progress {
        let _ = progress.join();
    }
    result?;
    if let Some(out) = &run.output {
        out.lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush()
            .map_err(|e| format!("cannot write the output: {e}"))?;
    }
    let others = procs.finish(args.output.as_deref())?;
    if let (Some(path), 0) = (&args.output, procs.index) {
        joins::final_table(args.query, path)
            .map_err(|e| format!("cannot write the output: {e}"))?;
    }
    let rows = run.rows.total() + others.iter().map(|r| r.rows).sum::<u64>();
    let (cpu_all, rss_all, processes_json) =
        processes::summary(&procs, cpu, peak_rss_mb(), rows, &others);
    if procs.index == 0 {
        eprintln!(
            "nexmark: {} {}: {} events in {elapsed:.3} s, {rows} result rows{}",
            args.query.name(),
            engine_name(args.engine),
            args.events,
            if args.engine == Engine::Baseline && run.output.is_none() && run.pace.is_none() {
                " (output updates, counted on every worker)"
            } else {
                ""
            },
        );
    }

    let per_s = |n: f64, s: f64| if s > 0.0 { n / s } else { 0.0 };
    let mut json = format!(
        "{{\"query\":\"{}\",\"engine\":\"{}\",\"events\":{},\"workers\":{},\"elapsed_s\":{:.3},\
         \"events_per_s\":{:.0},\"cpu_s\":{:.3},\"events_per_s_per_core\":{:.0},\"peak_rss_mb\":{:.1}",
        args.query.name(),
        engine_name(args.engine),
        args.events,
        workers,
        elapsed,
        per_s(args.events as f64, elapsed),
        cpu_all,
        per_s(args.events as f64, cpu_all),
        rss_all,
    );
    json.push_str(&processes_json);
    if args.pace.is_some() {
        let mut lat = std::mem::take(&mut *run.latencies.lock().unwrap_or_else(|e| e.into_inner()));
        lat.sort_by(f64::total_cmp);
        let pct = |q: f64| -> String {
            if lat.is_empty() {
                return "null".into();
            }
            let rank = ((q * lat.len() as f64).ceil() as usize).clamp(1, lat.len());
            format!("{:.3}", lat[rank - 1])
        };
        json.push_str(&format!(
            ",\"latency_ms\":{{\"p50\":{},\"p99\":{},\"p999\":{},\"max\":{}}}",
            pct(0.5),
            pct(0.99),
            pct(0.999),
            pct(1.0)
        ));
    }
    json.push('}');
    println!("{json}");
    Ok(())
}

fn engine_name(e: Engine) -> &'static str {
    match e {
        Engine::Dsl => "dsl",
        Engine::Baseline => "baseline",
    }
}

/// Writes the run's events as JSON lines in generation order: the Nexmark generator's events
/// (`Event::to_json`), or the synthetic bids.
fn dump_events(
    path: &PathBuf,
    query: Query,
    gens: &Generators,
    events: u64,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut line = String::new();
    for g in 0..events {
        line.clear();
        if query.is_nexmark() {
            gens.event(g).write_json(&mut line);
        } else {
            line.push_str(&SynthBid::event_json(g));
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Prints the live progress line on stderr until `done`: in place on a terminal, otherwise
/// one line a second.
fn spawn_progress(
    run: Arc<Run>,
    engine: Engine,
    done: Arc<AtomicBool>,
    started: Instant,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let terminal = std::io::stderr().is_terminal();
        let tick = Duration::from_millis(if terminal { 250 } else { 1000 });
        let mut next = started + tick;
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
            if Instant::now() < next {
                continue;
            }
            next += tick;
            let n = run.processed.load(Ordering::Relaxed);
            let secs = started.elapsed().as_secs_f64();
            let line = format!(
                "[{} {}] {n}/{} events ({:.0}%), {:.2}M events/s, {secs:.1} s",
                run.query.name(),
                engine_name(engine),
                run.events,
                100.0 * n as f64 / run.events.max(1) as f64,
                n as f64 / secs / 1e6,
            );
            if terminal {
                eprint!("\r{line}   ");
            } else {
                eprintln!("{line}");
            }
        }
        if terminal {
            eprintln!();
        }
    })
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, in clock ticks of
/// 1/100 s, Linux's fixed USER_HZ).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// Peak resident set size in MiB (`VmHWM` of `/proc/self/status`).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
