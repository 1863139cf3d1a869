//! Crash points, for the fault-tolerance tests (Spark tests the same way with its
//! `FailureInjectionCheckpointFileManager`): with `STREAM_CRASH_AT=<point>[@<n>]` in its
//! environment, a process aborts, as `kill -9` would (no unwinding, no clean-up), when it
//! reaches `point` (in batch `n`, or any batch). Points, in a batch's order:
//!
//! - `after-offsets`: the batch's offsets are logged, nothing ran yet;
//! - `after-sink-files`: a worker wrote its part of the batch to a partitioned sink (the file
//!   sink's part files), which the driver has not committed;
//! - `before-sink-commit`: the driver is about to commit the batch to the sink;
//! - `after-sink-commit`: the sink has the batch, the checkpoint does not know yet;
//! - `after-commit`: `commits/<n>` is written;
//! - `during-snapshot`: a state snapshot of version `n` is half written.
//!
//! Without the variable every point costs one load of a cached `None`.

use std::sync::OnceLock;

/// A place where a test may crash the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Point {
    AfterOffsets,
    AfterSinkFiles,
    BeforeSinkCommit,
    AfterSinkCommit,
    AfterCommit,
    DuringSnapshot,
}

impl Point {
    const ALL: [(Point, &'static str); 6] = [
        (Point::AfterOffsets, "after-offsets"),
        (Point::AfterSinkFiles, "after-sink-files"),
        (Point::BeforeSinkCommit, "before-sink-commit"),
        (Point::AfterSinkCommit, "after-sink-commit"),
        (Point::AfterCommit, "after-commit"),
        (Point::DuringSnapshot, "during-snapshot"),
    ];
}

/// The armed point and batch, from the environment.
fn armed() -> Option<(Point, Option<u64>)> {
    static ARMED: OnceLock<Option<(Point, Option<u64>)>> = OnceLock::new();
    *ARMED.get_or_init(|| {
        let spec = std::env::var("STREAM_CRASH_AT").ok()?;
        let (name, n) = match spec.split_once('@') {
            Some((name, n)) => (name, Some(n)),
            None => (spec.as_str(), None),
        };
        let Some(point) = Point::ALL.iter().find(|(_, s)| *s == name).map(|(p, _)| *p) else {
            let names: Vec<&str> = Point::ALL.iter().map(|(_, s)| *s).collect();
            panic!("STREAM_CRASH_AT: unknown crash point `{name}`; the points are {names:?}");
        };
        let n = n.map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("STREAM_CRASH_AT: `{n}` is not a batch number"))
        });
        Some((point, n))
    })
}

/// Whether the process should crash at `point` of batch (or version) `n`.
pub(crate) fn is_armed(point: Point, n: u64) -> bool {
    armed().is_some_and(|(p, at)| p == point && at.is_none_or(|at| at == n))
}

/// Aborts the process if a test armed `point` for batch `n`.
pub(crate) fn point(point: Point, n: u64) {
    if is_armed(point, n) {
        crash(point, n);
    }
}

/// Aborts the process, saying where.
pub(crate) fn crash(point: Point, n: u64) -> ! {
    let name = Point::ALL
        .iter()
        .find(|(p, _)| *p == point)
        .map(|(_, s)| *s);
    eprintln!(
        "STREAM_CRASH_AT: crashing at {} of {n}",
        name.unwrap_or("?")
    );
    std::process::abort()
}
