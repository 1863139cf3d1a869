//! Batch is the oracle for streaming (issue 13): for random pipelines over random inputs split
//! into random micro-batches, on 1 and 2 workers, the final result of the streaming query
//! equals the batch query's result over all the input, and both equal a naive computation.
//!
//! - Complete mode: the last result table. Update mode: the last version of each group, for
//!   pipelines whose groups stay apart after the aggregation (only `v` projections after it; a
//!   filter there would leave a group's stale version in the table, in Spark too). Append
//!   mode: every row emitted, after an end-of-input watermark closes everything (a last
//!   micro-batch holding one row far in the future, which a filter right after the watermark
//!   removes).
//! - Inputs without late rows must match exactly; inputs with late rows must match the naive
//!   computation that drops, at the first aggregation, the rows a stream judges late (the
//!   previous batch's watermark): late rows only ever cause drops.
//!
//! Pipelines are built at run time through the builder API (`pipeline.rs`): random sequences
//! of operators of every family, with random parameters. `stream!` pipelines are fixed at
//! compile time; the macro expands to these same builder calls, and its batch pipelines are
//! run by `ui-tests/tests/expansion_runs.rs`.
//!
//! Cases: `STREAM_PROPTEST_CASES` (default 40 per property); seed: `STREAM_PROPTEST_SEED` (by
//! default a fixed one, or a random one when only the number of cases is given: the long
//! mode). A failure prints the seed and the smallest failing case found.

mod input;
mod naive;
mod pipeline;

use input::Input;
use pipeline::{build, Op, Pipeline, Proj, R};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::collections::BTreeMap;
use stream_core::rules::check_output_mode;
use stream_runtime::prelude::*;
use stream_runtime::Timestamp;

/// The key of the end-of-input row.
const SENTINEL: i64 = i64::MIN;

/// How far past the input the end-of-input row is: beyond every window, session and delay.
const END_OF_INPUT_MS: i64 = 100_000_000;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not `{value}`")),
    )
}

/// Runs `test` on `cases` random values of `strategy`, seeded; a failure panics with the seed
/// and the smallest failing value found.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let cases = env_u64("STREAM_PROPTEST_CASES");
    let seed = env_u64("STREAM_PROPTEST_SEED").unwrap_or_else(|| match cases {
        // Long mode: new cases every run.
        Some(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(13, |d| d.as_nanos() as u64),
        None => 13,
    });
    let cases = cases.unwrap_or(40) as u32;
    eprintln!("{name}: seed {seed}, {cases} cases (STREAM_PROPTEST_SEED, STREAM_PROPTEST_CASES)");
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(i as u64)
                .to_le_bytes(),
        );
    }
    let config = Config {
        cases,
        failure_persistence: None,
        // Every case runs several queries: shrink for at most two minutes.
        max_shrink_iters: 200,
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let started = std::time::Instant::now();
    if let Err(e) = runner.run(&strategy, test) {
        panic!(
            "{name} failed with seed {seed} (rerun: STREAM_PROPTEST_SEED={seed} \
             STREAM_PROPTEST_CASES={cases}): {e}"
        );
    }
    eprintln!("{name}: {cases} cases passed in {:.1?}", started.elapsed());
}

/// A pipeline and an input for it, with rows at most `lateness(delay)` ms late.
fn case(lateness: fn(i64) -> i64) -> impl Strategy<Value = (Pipeline, Input)> {
    pipeline::pipeline().prop_flat_map(move |p| {
        let late = lateness(p.delay);
        (Just(p), input::input(late))
    })
}

/// The source, its watermark, and the filter that removes the end-of-input row.
fn source(p: &Pipeline, rows: Dataset<R>) -> Dataset<R> {
    rows.with_watermark_on("ts", |r: &R| r.ts, &format!("{} ms", p.delay))
        .filter(|r: &R| r.k != SENTINEL)
}

/// The batch query's result, sorted (as `order_by` says, for a `TopN`).
fn batch(p: &Pipeline, input: &Input, workers: usize) -> Result<Vec<R>, StreamError> {
    let data = build(source(p, read(input.rows.clone())), &p.ops, &input.table);
    let mut rows = Session::with_workers(workers).collect(data)?;
    if !matches!(p.ops.last(), Some(Op::TopN(_))) {
        rows.sort();
    }
    Ok(rows)
}

/// The output modes a stream of `p` may run in (Spark's rules).
fn modes(p: &Pipeline, input: &Input) -> Vec<OutputMode> {
    let data = build(
        source(p, read_stream(MemoryStream::new())),
        &p.ops,
        &input.table,
    );
    [OutputMode::Append, OutputMode::Update, OutputMode::Complete]
        .into_iter()
        .filter(|m| check_output_mode(data.plan_shape(), *m).is_ok())
        .collect()
}

/// Whether update mode's output makes a table: by group (`k`, `w`) after one aggregation
/// followed by `v` projections only, or every row of a pipeline without aggregation.
fn update_makes_a_table(p: &Pipeline) -> bool {
    if p.branch_aggregates() {
        return false;
    }
    p.aggregations() == 0
        || (p.aggregations() == 1
            && p.after_last_aggregation()
                .iter()
                .all(|o| matches!(o, Op::Map(proj) if proj.keeps_groups())))
}

/// The stream's final result over the input's micro-batches, then the end-of-input row.
fn stream(
    p: &Pipeline,
    input: &Input,
    mode: OutputMode,
    workers: usize,
) -> Result<Vec<R>, StreamError> {
    let memory = MemoryStream::new();
    let data = build(source(p, read_stream(memory.clone())), &p.ops, &input.table);
    let sink = MemorySink::new();
    let query =
        Session::with_workers(workers).start(data.write_stream(sink.clone()).output_mode(mode))?;
    let run = || {
        for batch in input.batches() {
            memory.add_data(batch.to_vec());
            query.process_all_available()?;
        }
        let end = input.max_ts() + p.delay + END_OF_INPUT_MS;
        memory.add_data([R::new(SENTINEL, 0, end)]);
        query.process_all_available()
    };
    let ran = run();
    query.stop()?;
    ran?;
    let mut rows = match mode {
        // The memory sink keeps the last table in complete mode, every row otherwise.
        OutputMode::Complete | OutputMode::Append => sink.rows(),
        OutputMode::Update if p.aggregations() == 0 => sink.rows(),
        OutputMode::Update => {
            let mut table: BTreeMap<(i64, i64), R> = BTreeMap::new();
            for (_, rows) in sink.batches() {
                for r in rows {
                    table.insert((r.k, r.w), r);
                }
            }
            table.into_values().collect()
        }
    };
    if !matches!(p.ops.last(), Some(Op::TopN(_))) {
        rows.sort();
    }
    Ok(rows)
}

fn fail(what: &str, got: &[R], want: &[R]) -> TestCaseError {
    TestCaseError::fail(format!("{what}:\n  got  {got:?}\n  want {want:?}"))
}

fn engine(e: StreamError) -> TestCaseError {
    TestCaseError::fail(format!("the query failed: {e}"))
}

#[test]
fn streaming_equals_batch_on_inputs_without_late_rows() {
    check(
        "streaming_equals_batch_on_inputs_without_late_rows",
        case(|delay| delay - 1),
        |(p, input)| {
            let want = naive::result(&p, &input.rows, None, &input.table);
            for workers in [1, 2] {
                let got = batch(&p, &input, workers).map_err(engine)?;
                if got != want {
                    return Err(fail(
                        &format!("batch on {workers} workers vs naive"),
                        &got,
                        &want,
                    ));
                }
            }
            for mode in modes(&p, &input) {
                if mode == OutputMode::Update && !update_makes_a_table(&p) {
                    continue;
                }
                for workers in [1, 2] {
                    let got = stream(&p, &input, mode, workers).map_err(engine)?;
                    if got != want {
                        let what = format!("stream in {mode:?} mode on {workers} workers vs batch");
                        return Err(fail(&what, &got, &want));
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn late_rows_only_ever_cause_drops() {
    check(
        "late_rows_only_ever_cause_drops",
        case(|delay| delay + 3000),
        |(p, input)| {
            // A late row may open a new session beside one already closed and forgotten (in
            // Spark too): that is no drop, so sessions are compared on timely inputs only.
            if p.session_first() {
                return Ok(());
            }
            let judges = input.judges(p.delay);
            for mode in modes(&p, &input) {
                if mode == OutputMode::Update && !update_makes_a_table(&p) {
                    continue;
                }
                // Complete mode drops nothing; the others drop what is late.
                let dropping = (mode != OutputMode::Complete).then_some(judges.as_slice());
                let want = naive::result(&p, &input.rows, dropping, &input.table);
                let workers = 1 + (input.rows.len() % 2);
                let got = stream(&p, &input, mode, workers).map_err(engine)?;
                if got != want {
                    let what = format!("stream in {mode:?} mode on {workers} workers vs the batch result less late rows");
                    return Err(fail(&what, &got, &want));
                }
            }
            Ok(())
        },
    );
}

#[test]
fn the_naive_computation_is_right_on_a_hand_worked_case() {
    // Tumbling 2 s windows by k mod 2, then a filter on the count: worked by hand.
    let p = Pipeline {
        delay: 0,
        ops: vec![
            Op::Agg(pipeline::Grouping::Window {
                size: 2000,
                slide: 2000,
                m: 2,
            }),
            Op::Filter(pipeline::Pred::CountAtLeast(2)),
            Op::Map(Proj::V(2, 1)),
        ],
    };
    let rows = vec![
        R::new(0, 5, 100),
        R::new(2, 7, 1999),
        R::new(1, 1, 500),
        R::new(0, 3, 2000),
    ];
    let got = naive::result(&p, &rows, None, &[]);
    // Window [0, 2000) of key 0: rows 5 and 7 (c = 2, v = 12 -> 25); the others alone.
    let want = vec![R {
        k: 0,
        v: 25,
        ts: Timestamp(1999),
        n: 2,
        c: 2,
        lo: 5,
        hi: 7,
        w: 0,
    }];
    assert_eq!(got, want);
    // Judged by watermark 2000, the window [0, 2000) is late: nothing is left.
    assert!(naive::result(&p, &rows, Some(&[2000; 4]), &[]).is_empty());
}
