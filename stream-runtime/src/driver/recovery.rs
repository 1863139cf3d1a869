//! The driver's side of a checkpoint: resuming where the last run stopped, running an
//! interrupted batch again exactly, logging each batch's offsets before it runs (the
//! write-ahead log) and committing it once the sink has it (Spark's `MicroBatchExecution`).

use super::plan::Driver;
use super::BatchPlan;
use super::QueryRun;
use crate::checkpoint::log::BatchMetadata;
use crate::checkpoint::Replay;
use crate::crash::{self, Point};
use crate::source::Split;
use crate::state::{self, maintenance::Maintenance};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use stream_core::Record;

/// How many batches of logs stay recoverable (Spark's `minBatchesToRetain`).
pub(crate) const MIN_BATCHES_TO_RETAIN: u64 = 100;

impl<T: Record> Driver<'_, T> {
    /// Starts where the checkpoint says: the next batch, the committed offsets, the watermarks,
    /// and the sources' own logs; a batch logged but not committed runs first.
    pub(super) fn recover(&mut self, run: &QueryRun) {
        let Some(checkpoint) = &self.checkpoint else {
            return;
        };
        let recovery = &run.recovery;
        // State a batch wrote but never committed: the batch runs again and writes it anew.
        if let Err(e) = state::discard_after(&checkpoint.state_dir(), recovery.state_version()) {
            self.shared.fail(e);
            return;
        }
        self.maintenance = Some(Maintenance::start(
            checkpoint.state_dir(),
            run.groups.count,
            MIN_BATCHES_TO_RETAIN,
        ));
        for (i, s) in self.def.sources.iter().enumerate() {
            if let Err(e) = s.source.restore(&checkpoint.source_dir(i)) {
                self.shared.fail(e);
                return;
            }
        }
        self.batch = recovery.batch;
        self.offsets = recovery.committed.clone();
        self.watermark.restore(recovery.watermark);
        self.previous_watermark = recovery.previous_watermark;
        self.replay = recovery.replay.clone();
        // The last batch committed asked for a batch without data (its watermark moved): run it
        // first, as a run never stopped would have. Spark forgets the request across a restart
        // and waits for new data; we differ on purpose (docs/architecture.md, "Deliberate
        // differences").
        self.no_data_batch = self.replay.is_none()
            && self.wants_no_data_batch(recovery.watermark, recovery.previous_watermark);
    }

    /// The plan of the interrupted batch, exactly as logged: the same source ranges, watermark
    /// and timestamp.
    pub(super) fn replay_plan(&mut self, replay: Replay) -> BatchPlan {
        self.begin_trigger(Instant::now());
        self.batch_timestamp_ms = replay.timestamp_ms;
        self.wal_commit_ms = 0;
        let mut splits = Vec::new();
        for (i, s) in self.def.sources.iter().enumerate() {
            let (start, end) = (self.offsets[i].as_ref(), replay.ends[i].as_ref());
            match end {
                Some(end) if Some(end) != start => match s.source.replan(start, end) {
                    Ok(split) => splits.push((i, split)),
                    Err(e) => {
                        self.shared.fail(e);
                        return BatchPlan::stop();
                    }
                },
                _ => {}
            }
        }
        self.set_status("Running the batch a crash interrupted again", true, true);
        self.batch_plan(splits)
    }

    /// The plan of a new batch reading `splits`, logged first (the write-ahead log): a crash
    /// from here on runs it again exactly.
    pub(super) fn start_batch(&mut self, splits: Vec<(usize, Split)>) -> BatchPlan {
        self.batch_timestamp_ms = epoch_ms(self.trigger_wall);
        self.wal_commit_ms = 0;
        if let Some(checkpoint) = &self.checkpoint {
            let started = Instant::now();
            let mut ends = self.offsets.clone();
            for (i, split) in &splits {
                ends[*i] = Some(split.end.clone());
            }
            let meta = BatchMetadata {
                batch_watermark_ms: self.watermark.current(),
                batch_timestamp_ms: self.batch_timestamp_ms,
                conf: self.conf.clone(),
            };
            if let Err(e) = checkpoint.log_offsets(self.batch, meta, ends) {
                self.shared.fail(e);
                return BatchPlan::stop();
            }
            self.wal_commit_ms = started.elapsed().as_millis() as u64;
            crash::point(Point::AfterOffsets, self.batch);
        }
        self.batch_plan(splits)
    }

    /// Logs that the current batch is in the sink, with the next batch's watermark. False if
    /// the log could not be written (the query has failed).
    pub(super) fn commit_batch(&mut self, next_watermark: u64) -> bool {
        let Some(checkpoint) = &self.checkpoint else {
            return true;
        };
        match checkpoint.commit(self.batch, next_watermark, MIN_BATCHES_TO_RETAIN) {
            Ok(()) => {
                crash::point(Point::AfterCommit, self.batch);
                if let Some(m) = &self.maintenance {
                    m.committed(self.batch + 1);
                }
                true
            }
            Err(e) => {
                self.shared.fail(e);
                false
            }
        }
    }
}

/// Milliseconds since the epoch.
pub(super) fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
