//! Sources: where rows come from, batch by batch, with offsets.
//!
//! A source is planned on the driver (global worker 0), which decides each micro-batch's range
//! of offsets (a [`Split`]) and broadcasts it; then every worker reads its own share of that
//! split. Offsets are JSON, as in Spark's offset log, so the next issues can build exactly-once
//! recovery on them.

pub(crate) mod file;
mod memory;
pub mod nexmark;
mod rate;
mod rows;
mod socket;

pub use file::{FileSource, Files, Line, Mode};
pub use memory::MemoryStream;
pub use rate::{Rate, RateMicroBatch, RateRow};
pub use socket::{Socket, SocketWithTimestamp, TimestampedLine};

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A source offset (JSON, like the entries of Spark's `offsets/` log).
pub type Offset = serde_json::Value;

/// The range of one source read by one micro-batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// End offset of the previous batch (`None` for the first batch of the source).
    pub start: Option<Offset>,
    /// End offset of this batch.
    pub end: Offset,
    /// Whatever workers need to read the range (e.g. the list of files), as JSON.
    pub detail: serde_json::Value,
}

impl Split {
    /// The split of a counting source (offsets are counts, see [`offset_count`]) from `start`
    /// up to the count `to`, with no detail; `None` if it holds nothing.
    pub fn counted(start: Option<&Offset>, to: u64) -> Option<Split> {
        (to > offset_count(start)).then(|| Split {
            start: start.cloned(),
            end: to.into(),
            detail: serde_json::Value::Null,
        })
    }
}

/// How much one batch may read.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadLimit {
    /// Honour the source's own limits (e.g. `max_files_per_trigger`).
    Default,
    /// Everything available now, ignoring limits (`Trigger::Once`).
    All,
    /// Honour the limits, but never read past this offset (`Trigger::AvailableNow`).
    UpTo(Offset),
}

/// Which share of a split a worker reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// This worker's global index.
    pub index: usize,
    /// The number of workers.
    pub count: usize,
}

impl Partition {
    /// This worker's share of the counts `[from, to)`: those `≡ index (mod count)`, so that
    /// workers split a counting source's batch without coordination.
    pub fn share(self, from: u64, to: u64) -> std::iter::StepBy<std::ops::Range<u64>> {
        let count = self.count.max(1) as u64;
        let first = from + (self.index as u64 + count - from % count) % count;
        (first..to.max(first)).step_by(count as usize)
    }
}

/// A record a source could not parse (kept aside in permissive mode).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorruptRecord {
    /// Where it came from (a file path, or the source's description).
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// The raw text, at most [`MAX_RAW_BYTES`] of it (cut on a character boundary and marked
    /// `… [truncated: N bytes in all]`); bytes that are not UTF-8 become U+FFFD.
    pub raw: String,
    /// Why it could not be parsed (at most [`MAX_RAW_BYTES`] of it, likewise).
    pub error: String,
}

/// How much of a corrupt record's raw text (and of its error) is kept, in bytes.
pub const MAX_RAW_BYTES: usize = 1024;

impl CorruptRecord {
    /// A corrupt record, its raw text and error truncated to [`MAX_RAW_BYTES`] (only that much
    /// of `raw` is decoded: a huge line costs no more than a short one).
    pub fn new(file: &str, line: u64, raw: &[u8], error: &str) -> CorruptRecord {
        CorruptRecord {
            file: file.to_string(),
            line,
            raw: truncated_text(raw),
            error: truncated_text(error.as_bytes()),
        }
    }
}

/// `bytes` as text (U+FFFD for bytes that are not UTF-8), cut to [`MAX_RAW_BYTES`] on a
/// character boundary, with a marker if anything was cut.
fn truncated_text(bytes: &[u8]) -> String {
    if bytes.len() <= MAX_RAW_BYTES {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    // Back up over at most three UTF-8 continuation bytes (0b10xxxxxx) so as not to split a
    // character.
    let mut cut = MAX_RAW_BYTES;
    for _ in 0..3 {
        if bytes[cut] & 0xC0 == 0x80 {
            cut -= 1;
        }
    }
    let mut text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    text.push_str(&format!("… [truncated: {} bytes in all]", bytes.len()));
    text
}

/// Where a row came from, for the malformed values `from_json` reports: a name (e.g. `Kafka
/// topic `bids` partition 3`) and a position in it (an offset). Rows of other types are
/// reported by their position in the worker's batch.
pub trait RowOrigin {
    /// The row's origin and its position there.
    fn origin(&self) -> (String, u64);
}

/// What one worker read from one split.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadStats {
    /// Rows emitted.
    pub rows: u64,
    /// Malformed records dropped (drop-malformed mode).
    pub dropped_malformed: u64,
    /// Malformed records kept aside (permissive mode): the first ones only, at most the file
    /// source's [`max_corrupt_records`](FileSource::max_corrupt_records) per read, so that a
    /// file of bad lines does not fill memory. [`corrupt_count`](ReadStats::corrupt_count)
    /// counts them all.
    pub corrupt: Vec<CorruptRecord>,
    /// How many malformed records permissive mode found, all of them, kept in
    /// [`corrupt`](ReadStats::corrupt) or not (what Spark's `numCorruptRecords` reports).
    #[serde(default)]
    pub corrupt_count: u64,
    /// The source's own counts, summed over workers and shown in the source's progress
    /// `metrics` (e.g. the Kafka source's offsets lost to retention).
    #[serde(default)]
    pub metrics: std::collections::BTreeMap<String, u64>,
}

/// A streaming source of rows of type `T`.
pub trait Source<T>: Send + Sync + 'static {
    /// A short description for progress reports, e.g. `FileStreamSource[data/bids]`.
    fn description(&self) -> String;

    /// What the source reads, without its rate limits, which a restarted query may not change
    /// (its logged offsets would mean something else): by default its kind, the description
    /// up to its parameters (`RateStream`); a file source adds its directory.
    fn identity(&self) -> String {
        let d = self.description();
        d.split('[').next().unwrap_or(&d).to_string()
    }

    /// Driver side, with a checkpoint, once before the first plan: the source's own log lives
    /// in `dir` (`sources/<i>/` of the checkpoint); it restores what it kept there and keeps it
    /// there from now on. Sources without a log of their own need nothing.
    fn restore(&self, dir: &std::path::Path) -> Result<()> {
        let _ = dir;
        Ok(())
    }

    /// Driver side, after a crash: the split of a batch that was planned and logged but not
    /// committed, exactly between the logged offsets `start` and `end`, so that the batch runs
    /// again with the same rows. The default suits sources whose offsets are counts.
    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        Ok(Split {
            start: start.cloned(),
            end: end.clone(),
            detail: serde_json::Value::Null,
        })
    }

    /// Driver side: the split of the next batch, starting after `start` (the end offset of the
    /// previous batch, `None` at first), or `None` when there is no new data.
    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>>;

    /// Worker side: read this worker's share of `split`, passing each row to `emit`.
    /// Errors name the file and line (fail-fast mode).
    fn read(&self, split: &Split, part: Partition, emit: &mut dyn FnMut(T)) -> Result<ReadStats>;

    /// Driver side: every batch up to and including the one that ended at `end` is committed
    /// (its output is in the sink), so the source may discard what lies before `end` (Spark's
    /// `Source.commit`). The default keeps everything.
    fn commit(&self, end: &Offset) {
        let _ = end;
    }

    /// Whether the source ever ends by itself (it does not, for every built-in source; used by
    /// `Trigger::AvailableNow` to know it can stop).
    fn is_bounded(&self) -> bool {
        false
    }

    /// Whether a batch query ([`read`](crate::plan::read)) can read this source: it reads
    /// everything the source holds when the query starts, in one split (`ReadLimit::All`),
    /// which is fine for sources of data at rest (files, rows in memory). A source that makes
    /// rows without end refuses, saying how to bound it.
    fn check_bounded(&self) -> Result<()> {
        Ok(())
    }
}

/// Anything `read_stream` accepts: a source, or a builder of one.
pub trait IntoSource<T> {
    /// The source.
    fn into_source(self) -> Arc<dyn Source<T>>;
}

impl<T, S: Source<T>> IntoSource<T> for S {
    fn into_source(self) -> Arc<dyn Source<T>> {
        Arc::new(self)
    }
}

/// An offset as a count (most built-in sources count rows, files or batches).
pub fn offset_count(offset: Option<&Offset>) -> u64 {
    offset.and_then(|o| o.as_u64()).unwrap_or(0)
}

#[cfg(test)]
mod share_tests {
    use super::*;

    #[test]
    fn worker_shares_partition_the_range_and_counted_splits_skip_empty_ones() {
        for count in 1..5 {
            let mut all: Vec<u64> = (0..count)
                .flat_map(|index| Partition { index, count }.share(5, 17))
                .collect();
            all.sort();
            assert_eq!(all, (5..17).collect::<Vec<_>>());
            assert!(Partition { index: 0, count }
                .share(5, 17)
                .all(|v| (v as usize).is_multiple_of(count)));
        }
        assert_eq!(Partition { index: 1, count: 2 }.share(9, 9).count(), 0);
        assert_eq!(Split::counted(Some(&4u64.into()), 4), None);
        let split = Split::counted(Some(&4u64.into()), 6).unwrap();
        assert_eq!(
            (
                offset_count(split.start.as_ref()),
                offset_count(Some(&split.end))
            ),
            (4, 6)
        );
    }
}
